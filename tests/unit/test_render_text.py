"""Table cells and labels: a value that rounds to zero shows no minus sign; a year the window covers only in
part is starred and its dates named."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pandas as pd
import pytest
from rich.console import Console

from engine.render.sweep_text import sweep_cell
from engine.render.tables import compare_chosen, year_printout
from engine.render.tearsheet_text import pct
from engine.render.text import (
    caption_lines,
    dated_after,
    format_value,
    part_years_note,
    spa_sentence,
    weights_cell,
    year_label,
)


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (-0.004, "num", "0.00"),
        (-0.006, "num", "-0.01"),
        (-0.0004, "pct", "0.0%"),
        (-0.0006, "pct", "-0.1%"),
        (-0.4, "money", "0"),
        (-1234.4, "money", "-1,234"),
        (-0.0, "num", "0.00"),
    ],
)
def test_format_value_drops_the_sign_of_a_rounded_zero(value: float, kind: str, shown: str) -> None:
    assert format_value(value, kind) == shown


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("calmar", -0.001, "0.00"),
        ("calmar", -0.02, "-0.02"),
        ("total_return", -1e-5, "0.0%"),
        ("cagr", -0.002, "-0.2%"),
    ],
)
def test_sweep_cell_drops_the_sign_of_a_rounded_zero(key: str, value: float, shown: str) -> None:
    assert sweep_cell(key, value) == shown


def _window(first: str, last: str, years: tuple[int, ...]) -> SimpleNamespace:
    return SimpleNamespace(first=pd.Timestamp(first), last=pd.Timestamp(last), years=years)


def test_a_year_the_window_covers_in_part_is_starred_and_named_with_its_dates() -> None:
    c = _window("2002-03-15", "2026-08-26", tuple(range(2002, 2027)))
    assert [year_label(c, y) for y in (2002, 2003, 2025, 2026)] == ["2002*", "2003", "2025", "2026*"]
    assert part_years_note(c) == (
        "* part of a year (its return is for those dates only, not annualised): "
        "2002 from 2002-03-15; 2026 to 2026-08-26."
    )
    one = _window("2024-02-01", "2024-08-26", (2024,))
    assert part_years_note(one) is not None and part_years_note(one).endswith("2024 from 2024-02-01 to 2024-08-26.")
    whole = _window("2002-01-02", "2024-12-31", tuple(range(2002, 2025)))
    assert part_years_note(whole) is None and year_label(whole, 2002) == "2002"
    assert part_years_note(_window("2002-03-15", "2026-08-26", ())) is None  # no years shown


def test_the_terminal_year_table_stars_part_years_and_says_why() -> None:
    c = _window("2002-03-15", "2003-12-31", (2002, 2003))
    rows = [{"name": "a", "y2002": -0.237, "y2003": 0.264}]
    printout = year_printout(c, rows, width=100)
    console = Console(width=100, record=True, file=io.StringIO())
    for part in printout.parts:
        console.print(part)
    text = console.export_text()
    assert "2002*" in text and "2003*" not in text and "-23.7%" in text
    assert "* part of a year (its return is for those dates only, not annualised): 2002 from 2002-03-15." in text


def test_the_terminal_compare_table_shows_the_regime_columns_asked_for() -> None:
    """``--regime`` adds its four columns to the terminal's compact set; without it they are not there."""
    rows = [{"kind": "strategy", "name": "a", "currency": "USD"}]
    regime = SimpleNamespace(assets=("us", "hk"), years=(), regime="corr < 0.2")
    keys = [col[0] for col in compare_chosen(regime, rows, None, terminal=True)]
    assert keys[-4:] == ["regime_in_return", "regime_in_sharpe", "regime_out_return", "regime_out_sharpe"]
    plain = SimpleNamespace(assets=("us", "hk"), years=(), regime=None)
    assert not any(k.startswith("regime_") for k, *_ in compare_chosen(plain, rows, None, terminal=True))


def test_the_tear_sheets_percentages_drop_the_sign_of_a_rounded_zero() -> None:
    assert (pct(-0.0004), pct(-0.0006), pct(-0.00004, 2)) == ("0.0%", "-0.1%", "0.00%")


def test_the_run_caption_defines_fx_return_fees_and_avg_weight_only_when_their_columns_are_shown() -> None:
    row = {"kind": "strategy", "config": "a", "name": "a", "periods_per_year": 252.0, "years": 5.0}
    assert "Turnover: one-way, per year." in caption_lines([row], [], ["turnover"])
    [line] = [s for s in caption_lines([row], [], ["turnover", "fx_return"]) if s.startswith("Turnover")]
    assert line == (
        "Turnover: one-way, per year. FX ret: the currency's contribution, the final value over the same run's "
        "with the exchange rate held at its first value, minus 1 (a ratio of two runs; the tear sheet's currency "
        "part adds up the rate's daily moves)."
    )
    [line] = [s for s in caption_lines([row], [], ["avg_weight", "fees_paid"]) if s.startswith("Turnover")]
    assert line == (
        "Turnover: one-way, per year. Fees: the fees (fee_bps) and HK stamp duty paid, in money (slippage is paid in "
        "the fill prices). Avg weight: each asset's mean end-of-day weight (the rest is cash)."
    )


def test_a_run_whose_data_runs_past_today_is_warned_of_but_not_synthetic_data() -> None:
    today = dt.date(2026, 12, 5)
    rows = [
        {"kind": "strategy", "config": "a", "end": "2027-06-30"},
        {"kind": "benchmark", "config": "a", "end": "2027-06-30"},
        {"kind": "strategy", "config": "b", "end": "2026-12-05"},
        {"kind": "strategy", "config": "c", "end": "2027-01-04", "synthetic": True},
    ]
    assert dated_after(rows, today) == [
        "a: the data runs to 2027-06-30, after today (2026-12-05, UTC): dates in the future are not market history; "
        "check the data"
    ]


def test_weights_and_intervals_drop_the_sign_of_a_rounded_zero() -> None:
    from engine.render.sweep_text import sweep_row_cells

    assert weights_cell({"avg_weight": {"us": -0.001, "hk": 1.0}}) == "us 0% hk 100%"
    record = {"sharpe_ci_low": -0.001, "sharpe_ci_high": 0.5, "weight_us": -0.0004}
    cells = {key: text for key, text, _ in sweep_row_cells(record, 1, (), ("sharpe_ci",), ("weight_us",))}
    assert cells["sharpe_ci"] == "0.00…0.50" and cells["weight_us"] == "0%"


def test_runs_annualised_with_different_periods_per_year_are_each_named() -> None:
    rows = [
        {"kind": "strategy", "config": "a", "name": "a", "periods_per_year": 257.61, "years": 5.0},
        {"kind": "strategy", "config": "b", "name": "b", "periods_per_year": 257.9, "years": 5.0},
        {"kind": "benchmark", "config": "b", "name": "x", "periods_per_year": 257.9, "years": 5.0},
        {"kind": "strategy", "config": "c", "name": "c", "periods_per_year": 257.88, "years": 5.0},
    ]
    [line] = [s for s in caption_lines(rows, []) if s.startswith("Returns are")]
    assert "trading periods per year (257.6: a; 257.9: b, c), not 365." in line
    [one] = [s for s in caption_lines(rows[1:], []) if s.startswith("Returns are")]
    assert "trading periods per year (257.9), not 365." in one  # one figure for every run: no names


def test_an_information_ratio_over_a_tiny_tracking_error_is_not_ranked_best() -> None:
    """A benchmark against its total-return twin: IR 27 over a 0.1% tracking error, a drift the notes call no
    skill; the best of the column is the best of the others."""
    from engine.render.text import column_extremes

    cols = [("information_ratio", "IR", "ratio", "high")]
    rows = [
        {"name": "a", "information_ratio": 0.4, "tracking_error": 0.05},
        {"name": "twin", "information_ratio": 27.3, "tracking_error": 0.001},
        {"name": "b", "information_ratio": -0.2, "tracking_error": 0.08},
    ]
    assert column_extremes(cols, rows) == {"information_ratio": (0.4, -0.2)}


def test_spa_p_values_round_as_their_decimal_digits_do() -> None:
    """691 of 2,000 resamples is 0.3455: shown 0.346 (the double nearest 0.3455 lies below it: .3f gives 0.345)."""
    said = spa_sentence({"consistent": 691 / 2000, "lower": 0.204, "upper": 0.0005}, "the reference")
    assert said == "Hansen's SPA test, H0 'no strategy beats the reference': p = 0.346 (lower 0.204, upper 0.001)."
