"""engine/metrics/samples.py: what a short window or a thin record withholds and says.

Semantics under test (module docstring of engine/metrics/samples.py and docs/compare.md#small-samples):
under one year (calendar days / 365.25) every annualised figure is NaN and a note says so; under 252
daily returns a note names the count; a strategy with 1 to 8 switches (fewer than 10 holding
periods) is named; a buy-and-hold (0 switches) is not.
"""

from __future__ import annotations

import math

from engine.metrics.samples import ANNUALISED, episode_notes, withhold_annualised, withhold_short_runs
from engine.metrics.specs import SPECS


def _row(kind: str = "strategy", **extra: float) -> dict:
    row = {"kind": kind, "name": "s", "total_return": 0.17, "max_drawdown": -0.04, "final_value": 117.0}
    row.update({s.name: 1.0 for s in SPECS if s.annualised and s.fmt != "ci"})
    row.update(sharpe_ci_low=0.5, sharpe_ci_high=1.5, psr=0.9)
    row.update(extra)
    return row


def test_every_annualised_spec_is_withheld_under_one_year() -> None:
    assert {"cagr", "ann_vol", "sharpe", "sortino", "calmar", "turnover", "information_ratio"} <= ANNUALISED
    assert {"total_return", "max_drawdown", "final_value", "psr"}.isdisjoint(ANNUALISED)
    rows = [_row(), _row("benchmark")]
    notes = withhold_annualised(rows, 0.15, 41)
    for row in rows:
        assert all(math.isnan(row[k]) for k in ANNUALISED if k in row)
        assert row["total_return"] == 0.17 and row["max_drawdown"] == -0.04 and row["psr"] == 0.9
    assert any("0.15 years" in n and "no annualised figure" in n for n in notes)
    assert any("41 daily returns" in n and "PSR" in n for n in notes)
    short = withhold_short_runs([{"name": "x", "years": 0.4, "cagr": 0.1}])
    for note in (next(n for n in notes if "no annualised figure" in n), *short):
        named = note.split("shown (")[1].split(": –)")[0].split(", ")
        assert named == [s.label for s in SPECS if s.annualised], note  # every column the window shows as –


def test_a_year_or_more_keeps_everything() -> None:
    rows = [_row()]
    assert withhold_annualised(rows, 1.0, 260) == []
    assert rows[0]["cagr"] == 1.0 and rows[0]["sharpe_ci_low"] == 0.5


def test_few_returns_over_a_year_note_without_withholding() -> None:
    rows = [_row()]
    notes = withhold_annualised(rows, 1.5, 200)  # e.g. monthly data
    assert rows[0]["cagr"] == 1.0
    assert len(notes) == 1 and "200 daily returns" in notes[0]


def test_a_regime_side_under_a_year_is_withheld() -> None:
    rows = [_row(regime_in_share=0.2, regime_in_return=0.3, regime_in_sharpe=2.0,
                 regime_out_share=0.8, regime_out_return=0.1, regime_out_sharpe=0.5)]  # fmt: skip
    notes = withhold_annualised(rows, 3.0, 780)  # 0.6 years in the regime, 2.4 outside
    assert math.isnan(rows[0]["regime_in_return"]) and math.isnan(rows[0]["regime_in_sharpe"])
    assert rows[0]["regime_out_return"] == 0.1 and rows[0]["regime_out_sharpe"] == 0.5
    assert any("in the regime" in n for n in notes)


def test_a_regime_held_over_a_calendar_year_of_trading_dates_is_a_year_as_the_window_is() -> None:
    """2023's trading dates (360 days, 257 returns) are a year: so is the regime that held on all of them
    (its figures kept, as the window's are); held on 95% of them it is not (withheld, and said)."""
    whole = [_row(regime_in_share=1.0, regime_in_return=0.3, regime_in_sharpe=2.0, regime_out_share=0.0)]
    notes = withhold_annualised(whole, 360 / 365.25, 257)
    assert whole[0]["cagr"] == 1.0 and whole[0]["regime_in_return"] == 0.3 and whole[0]["regime_in_sharpe"] == 2.0
    assert not any("in the regime" in n for n in notes)
    most = [_row(regime_in_share=0.95, regime_in_return=0.3, regime_in_sharpe=2.0, regime_out_share=0.05)]
    assert any("in the regime" in n for n in withhold_annualised(most, 360 / 365.25, 257))
    assert math.isnan(most[0]["regime_in_return"]) and most[0]["cagr"] == 1.0


def test_thin_records_are_named_and_buy_and_hold_is_not() -> None:
    rows = [
        _row(name="thin", switches_per_year=0.5, years=4.0),  # 2 switches
        _row(name="one", switches_per_year=0.25, years=4.0),  # 1 switch
        _row(name="busy", switches_per_year=5.0, years=4.0),
        _row(name="static", switches_per_year=0.0, years=4.0),
        _row("benchmark", name="bench", switches_per_year=math.nan, years=4.0),
    ]
    for row, name in zip(rows, ["thin", "one", "busy", "static", "bench"], strict=True):
        row["name"] = name
    notes = episode_notes(rows)
    assert len(notes) == 1
    assert "thin (2 switches)" in notes[0] and "one (1 switch)" in notes[0]
    assert "busy" not in notes[0] and "static" not in notes[0] and "bench" not in notes[0]
    # a rule that follows the data but never switched in the window has one holding period: named
    [named] = episode_notes(rows, deciding={"static", "busy", "bench"})
    assert named.endswith(": thin (2 switches), one (1 switch), static (no switch).")


def test_few_regime_spells_are_said() -> None:
    assert episode_notes([_row(regime_in_episodes=3)]) == [
        "The regime held in 3 spells (separate runs of days) in the window: its in/out figures rest on that few "
        "independent episodes."
    ]
    assert episode_notes([_row(regime_in_episodes=12)]) == []


def test_short_runs_are_withheld_per_row() -> None:
    rows = [_row(years=0.5, config="short"), _row(years=3.0, config="long")]
    notes = withhold_short_runs(rows)
    assert math.isnan(rows[0]["cagr"]) and rows[1]["cagr"] == 1.0
    assert len(notes) == 1 and "short" in notes[0] and "long" not in notes[0]


def test_the_run_caption_states_the_periods_per_year_only_of_runs_it_annualises() -> None:
    """A week has "365.2 trading periods per year" (4 returns over 4 days): not a rate to state when nothing
    is annualised with it."""
    from engine.render.text import caption_lines

    week = _row(years=4 / 365.25, periods_per_year=365.25, config="week", kind="strategy", name="week")
    long = _row(years=3.0, periods_per_year=257.9, config="long", kind="strategy", name="long")
    [text] = [line for line in caption_lines([week], []) if line.startswith("Returns")]
    assert text == "Returns are fractions shown as %."
    [text] = [line for line in caption_lines([week, long], []) if line.startswith("Returns")]
    assert "trading periods per year (257.9), not 365" in text


def test_a_calendar_year_of_closes_is_a_year() -> None:
    """2020-01-02 to 2020-12-31 is 364 days between the closes, but its 253 returns start from the 2019 close."""
    rows = [_row()]
    assert withhold_annualised(rows, 364 / 365.25, 253) == []
    assert rows[0]["cagr"] == 1.0
    assert withhold_annualised(rows, 330 / 365.25, 230) != []


def test_an_information_ratio_over_a_tiny_tracking_error_is_noted() -> None:
    rows = [
        _row("benchmark", name="twin", information_ratio=27.34, tracking_error=0.00097),
        _row(name="active", information_ratio=0.4, tracking_error=0.08),
        _row("benchmark", name="reference", information_ratio=math.nan, tracking_error=0.0),
    ]
    notes = episode_notes(rows)
    assert notes == [
        "Information ratios over a tracking error under 1% a year measure a steady drift (such as a modelled "
        "dividend), not skill: twin (27.34 over 0.097% a year)."
    ]


def test_a_calendar_year_of_trading_dates_is_a_year_and_a_shorter_run_says_by_how_many_days() -> None:
    """2023's trading dates (2023-01-03 to 2023-12-29) are 360 days, a calendar year short of 365.25 by its
    weekends and holidays: a year, its annualised figures shown.  Ten days later a start leaves 350 days (and a
    week's slack, 358.25, is the least a year can be): withheld, and the note says by how much and what a year is."""
    from engine.metrics.samples import withhold_short_runs

    year = {"kind": "strategy", "config": "y", "name": "y", "years": 360 / 365.25, "periods_per_year": 251.0}
    year.update(start="2023-01-03", end="2023-12-29", cagr=0.1)
    short = {**year, "config": "s", "name": "s", "years": 350 / 365.25, "start": "2023-01-13"}
    edge = {**year, "config": "e", "name": "e", "years": 357.5 / 365.25, "periods_per_year": 365.25}
    assert withhold_short_runs([year]) == [] and year["cagr"] == 0.1
    assert withhold_short_runs([edge]) == [] and edge["cagr"] == 0.1  # 357.5 + 1 days of returns >= 358.25
    [note] = withhold_short_runs([short])
    assert note.startswith("Under one year of history (0.96 years: 350 days from 2023-01-13 to 2023-12-29, a year")
    assert "a week less for the weekends and holidays at a calendar year's ends" in note
    assert math.isnan(short["cagr"])
