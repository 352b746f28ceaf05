"""engine.render.fit: tables that fit a width without cutting a cell, and ``--columns``.

Every case renders with rich at the width the fitter returns and reads the text back: each cell
must appear whole on its row's line, and no line may be wider than asked (unless one column alone is).
"""

from __future__ import annotations

import re

import pytest
from rich.text import Text

from engine.render.fit import FitColumn, Printout, fit_table, plain_text, resolve_columns, shorten_names

NAMES = ["relative_momentum_total_return", "buy & hold US (relative_momentum_price_only)", "x"]
HEADERS = ["Total ret", "CAGR", "Sharpe 95% CI", "Turnover/yr", "Max DD", "PSR"]
CELLS = [
    ["3092.8%", "15.5%", "[0.31, 1.11]", "0.00", "-54.5%", "0.31"],
    ["520.4%", "7.9%", "[-0.22, 0.92]", "12.01", "-35.8%", "0.09"],
    ["-1.0%", "-0.1%", "–", "–", "-0.5%", "–"],
]


def render(width: int | None) -> tuple[str, list[str]]:
    columns = [FitColumn(f"c{j}", h) for j, h in enumerate(HEADERS)]
    cells = [[Text(c) for c in row] for row in CELLS]
    fitted = fit_table("T", "Name", columns, NAMES, cells, width=width, sections=[2])
    return plain_text(Printout(list(fitted.tables), fitted.width, wrap=width is not None)), fitted.legend


@pytest.mark.parametrize("width", [None, 30, 45, 60, 80, 100, 160])
def test_every_cell_is_printed_whole_on_its_rows_lines(width: int | None) -> None:
    text, legend = render(width)
    shown = {m.group(2): m.group(1) for m in (re.match(r"(\[\d+\]) (.+)", line) for line in legend) if m}
    for name, row in zip(NAMES, CELLS, strict=True):
        marker = shown.get(name)
        cells: list[str] = []
        for line in text.splitlines():
            parts = re.split(r"\s{2,}", line.strip())
            if parts[0] == name or (marker and parts[0].endswith(marker) and name.startswith(parts[0][: -len(marker)])):
                cells += parts[1:]
        assert cells == row, (width, name, cells)
    if width is not None:
        assert max(len(line.rstrip()) for line in text.splitlines()) <= width


def test_piped_keeps_full_names_and_one_line_headers() -> None:
    text, legend = render(None)
    assert legend == []
    header = text.splitlines()[1]
    assert header.split("  ")[0] == "Name"
    assert "Turnover/yr" in header and "Sharpe 95% CI" in header


def test_narrow_widths_shorten_names_with_a_legend() -> None:
    _, legend = render(60)
    assert legend == ["[1] relative_momentum_total_return", "[2] buy & hold US (relative_momentum_price_only)"]


def test_shortened_names_stay_distinct() -> None:
    short, legend = shorten_names(["abcdefghij_1", "abcdefghij_2", "ab"], 8)
    assert short == ["abcde[1]", "abcde[2]", "ab"]
    assert legend == ["[1] abcdefghij_1", "[2] abcdefghij_2"]


def test_resolve_columns_default_all_list_and_errors() -> None:
    valid = ["kind", "cagr", "sharpe", "currency"]
    assert resolve_columns(None, valid, ["sharpe", "psr"]) == ["sharpe"]
    assert resolve_columns("all", valid, [], ["kind", "cagr", "sharpe"]) == ["kind", "cagr", "sharpe"]
    assert resolve_columns("sharpe,cagr", valid, []) == ["sharpe", "cagr"]
    with pytest.raises(ValueError, match="'sharpe' is named twice in 'sharpe,cagr,sharpe'; name each column once"):
        resolve_columns("sharpe,cagr,sharpe", valid, [])  # a typo for another column, most likely: not dropped
    with pytest.raises(
        ValueError, match=r"unknown column 'nope' \(valid: all on its own, or a list of kind, cagr, sharpe, currency\)"
    ):
        resolve_columns("cagr,nope", valid, [])
    with pytest.raises(ValueError, match=r"--columns: no column in ',' \(valid: all on its own"):
        resolve_columns(",", valid, [])
