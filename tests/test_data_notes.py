"""The notes a run makes, in the outputs that show a stored run: ``seesaw compare`` carries those about its data
(``data_notes`` in ``metrics.json``: what the data's checks repaired or left out), each note once, naming the runs
that made it unless every run did; ``seesaw report --format text`` lists every note of the run, as ``run`` did.

Data: the hand-made CSVs of ``tests/fixtures/today`` with ^TESTHK's row of 2024-02-08 removed, a session of
Hong Kong's exchange calendar with no price, which a run on ^TESTHK notes and one on ^TESTUS alone does not.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.test_today import HOLIDAY

FIXTURES = Path(__file__).parent / "fixtures" / "today"
_UNSET = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")

#: test_today's two-market rotation, started on the data's first date (its signal lacks history there)
PAIR = HOLIDAY.replace("name: holiday_rotation", "name: pair").replace("start: 2023-11-01", "start: 2023-10-03")
assert PAIR != HOLIDAY
US_ONLY = """\
name: us_only
data: {source: csv, start: 2023-11-01, price: close}
assets:
  us: {symbol: ^TESTUS, market: us}
rules:
  - otherwise: {us: 1.0}
"""
GAP = "2024-02-08"


def _ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_UNSET), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("notes")
    data = root / "data"
    shutil.copytree(FIXTURES, data)
    rows = (data / "TESTHK.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [r for r in rows if not r.startswith(f"{GAP},")]
    assert len(kept) == len(rows) - 1
    (data / "TESTHK.csv").write_text("".join(kept), encoding="utf-8")
    for name, text in (("pair", PAIR), ("us_only", US_ONLY)):
        (root / f"{name}.yaml").write_text(text, encoding="utf-8")
    out = root / "results"
    _ok("run", str(root / "pair.yaml"), str(root / "us_only.yaml"), "--data-dir", str(data), "--results-dir", str(out))
    return out


def _metrics(results: Path, name: str) -> dict:
    [path] = results.glob(f"{name}/*/metrics.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _compare_notes(results: Path, runs: str) -> list[str]:
    out = _ok("compare", "--runs", runs, "--results-dir", str(results), "--reps", "100", "--format", "json")
    return json.loads(out)["notes"]


def test_a_run_stores_its_data_notes_apart_from_its_other_notes(results: Path) -> None:
    pair = _metrics(results, "pair")
    [gap] = [n for n in pair["data_notes"] if GAP in n]
    assert gap.startswith("^TESTHK: ") and gap in pair["notes"]
    assert set(pair["data_notes"]) <= set(pair["notes"])
    others = set(pair["notes"]) - set(pair["data_notes"])
    assert any("is not complete at the first decision" in n for n in others)  # about a signal (no warm-up)
    assert not any(GAP in n for n in _metrics(results, "us_only")["data_notes"])


def test_compare_shows_each_data_note_once_naming_the_runs_that_made_it(results: Path) -> None:
    ids = ",".join(p.parent.name for p in sorted(results.glob("*/*/metrics.json")))
    notes = _compare_notes(results, ids)
    gap = [n for n in notes if GAP in n]
    assert len(gap) == 1 and gap[0].startswith("Data note (pair): ^TESTHK: ")
    assert not any(n.startswith("Data note") and "is not complete" in n for n in notes)
    [pair_dir] = [p.parent for p in results.glob("pair/*/metrics.json")]
    alone = _compare_notes(results, pair_dir.name)
    assert [n for n in alone if GAP in n] == [gap[0].replace("Data note (pair): ", "Data note: ")]


def test_the_text_report_lists_every_note_of_the_run(results: Path) -> None:
    [pair_dir] = [p.parent for p in results.glob("pair/*/metrics.json")]
    notes = json.loads((pair_dir / "metrics.json").read_text(encoding="utf-8"))["notes"]
    assert len(notes) >= 3
    text = _ok("report", pair_dir.name, "--format", "text", "--results-dir", str(results))
    flat = " ".join(text.split())
    for note in notes:
        assert f"note: {' '.join(note.split())}" in flat


@pytest.mark.parametrize("absent", [12, 13])
def test_a_note_names_up_to_twelve_dates_then_the_first_and_the_last(absent: int) -> None:
    """docs/data.md: each session without a price is named in a note; twelve in full, beyond the first eleven,
    '…' and the last (the most recent, the one inside today's windows)."""
    from engine.calendar import sessions
    from engine.data.validate import calendar_gap_notes

    days = sessions("us", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    gone = days[10 : 10 + 2 * absent : 2]  # every other session from the eleventh
    prices = pd.Series(100.0, index=days.difference(gone))
    [note] = calendar_gap_notes(prices, symbol="^X", market="us")
    named = [str(d.date()) for d in gone]
    shown = named if absent <= 12 else [*named[:11], "…", named[-1]]
    assert note == (
        f"^X: {absent} sessions of the us exchange calendar have no price ({', '.join(shown)}); "
        "treated as days it did not trade"
    )


def test_a_session_without_an_open_of_its_own_is_noted_for_next_open() -> None:
    """PROVENANCE.md: old index rows (and a few later ones, ^HSI on 2020-03-23) repeat the close as Open, High and
    Low with no volume; a fill at the open there fills at the close, which a note says."""
    from engine.data.validate import open_prices

    idx = pd.to_datetime(["2020-03-20", "2020-03-23", "2020-03-24", "2020-03-25"])
    raw = pd.DataFrame(
        {
            "Open": [10.0, 11, 12, 13],
            "High": [10.5, 11, 12.5, 13],
            "Low": [9.5, 11, 11.5, 13],
            "Close": [10.2, 11, 12.2, 13],
            "Adj Close": [10.2, 11, 12.2, 13],
            "Volume": [100, 0, 100, 50],  # the last is flat but traded: a real (if still) day
        },
        index=idx,
    )
    opens, notes = open_prices(raw, raw["Close"], price="close", symbol="^X")
    assert opens.tolist() == [10.0, 11.0, 12.0, 13.0]  # kept: the close is the best price there is
    assert notes == [
        "^X: 1 session has no open of its own (Open, High and Low equal the Close, no volume: 2020-03-23); an order "
        "filled at the open there fills at that close"
    ]


def test_bad_fx_ticks_are_named_as_dates_are() -> None:
    """Thirteen USD/HKD closes outside the band: the note names the first eleven, '…' and the last, as it names
    dates (docs/data.md)."""
    from engine.data.validate import clean_fx

    days = pd.bdate_range("2020-01-01", periods=40)
    close = pd.Series(7.80, index=days)
    bad = days[5 : 5 + 26 : 2]  # thirteen, every other day
    close[bad] = 7.60
    raw = pd.DataFrame({c: close for c in ("Open", "High", "Low", "Close", "Adj Close")}).assign(Volume=0.0)
    _, notes = clean_fx(raw, symbol="HKD=X", band=(7.74, 7.86))
    [note] = [n for n in notes if "bad ticks" in n]
    shown = [f"{d.date()} 7.6000" for d in bad]
    assert f"as bad ticks ({', '.join([*shown[:11], '…', shown[-1]])});" in note
