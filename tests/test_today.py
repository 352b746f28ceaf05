"""``seesaw today`` (engine/today.py, docs/today.md), run as a user runs it, with a fixed clock.

The fixture data under tests/fixtures/today/ are hand-made Yahoo-style CSVs of made-up tickers (^TESTUS
for a New York index, ^TESTHK for a Hong Kong one, ^TESTVOL for a volatility index, TESTHKD=X for
USD/HKD; deterministic prices on each exchange's sessions, 2023-10-02 to 2024-02-12): Hong Kong is
closed on 2024-02-12 and 13 (Lunar New Year) while New York trades; ^TESTUS falls 6% on 2024-02-09
and stays there; ^TESTVOL stops on 2024-02-06.  Expected values are computed here from the CSV files
with numpy, or read from exchange-calendars directly, never from the engine.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import warnings
from pathlib import Path

import exchange_calendars as xc
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import CONFIGS

FIXTURES = Path(__file__).parent / "fixtures" / "today"
_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")
#: After New York's close of Monday 2024-02-12 (21:00 UTC); Hong Kong is closed on the 12th and 13th.
CLOCK = "2024-02-13T00:30:00"
KEYS = {"config", "as_of", "weights", "next_weights", "rule", "signals", "last_switch", "pending", "data"}

HOLIDAY = """\
name: holiday_rotation
description: Hold Hong Kong when the S&P 500 fell more than 3% over five dates, else the S&P 500.
data: {source: csv, start: 2023-11-01, price: close, fx_symbol: TESTHKD=X}
assets:
  us: {symbol: ^TESTUS, market: us}
  hk: {symbol: ^TESTHK, market: hk}
signals:
  us_mom: {fn: momentum, a: us, window: 5}
rules:
  - when: us_mom < -0.03
    weights: {hk: 1.0}
  - otherwise: {us: 1.0}
execution: {lag: 1, rebalance: on_change}
"""

STALE = """\
name: vix_gate
description: Half and half, in cash when the VIX is above 20.
data: {source: csv, start: 2023-11-01, price: close, fx_symbol: TESTHKD=X}
assets:
  us: {symbol: ^TESTUS, market: us}
  hk: {symbol: ^TESTHK, market: hk}
  vix: {symbol: ^TESTVOL, market: us}
signals:
  vix_level: {fn: level, a: vix}
rules:
  - when: vix_level > 20
    weights: {}
  - otherwise: {us: 0.5, hk: 0.5}
"""


def invoke(*args: str, env: dict[str, str | None] | None = None):
    result = CliRunner().invoke(app, ["today", *args], env={**dict.fromkeys(_RICH_ENV), **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def today_json(*args: str) -> list[dict]:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("today")
    out = {}
    for name, text in (("holiday", HOLIDAY), ("stale", STALE)):
        out[name] = root / f"{name}.yaml"
        out[name].write_text(text, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def rows(configs: dict[str, Path]) -> dict[str, dict]:
    found = today_json(str(configs["holiday"]), str(configs["stale"]), "--data-dir", str(FIXTURES), "--now", CLOCK)
    return {row["config"]: row for row in found}


def next_session(code: str, date: str) -> dt.date:
    """exchange-calendars' next session of ``code`` after ``date`` (its pandas deprecation warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xc.get_calendar(code).next_session(date).date()


def closes(symbol_file: str) -> pd.Series:
    frame = pd.read_csv(FIXTURES / symbol_file, parse_dates=["Date"], index_col="Date")
    return frame["Close"]


def test_every_contract_key_is_in_the_json(rows: dict[str, dict]) -> None:
    for row in rows.values():
        assert row.keys() >= KEYS
        assert row["synthetic"] is False
        for sig in row["signals"].values():
            assert {"value", "comparisons"} <= sig.keys()
            assert all({"threshold", "holds", "distance"} <= c.keys() for c in sig["comparisons"])
        for series in row["data"]:
            assert {"symbol", "last_date", "stale", "missing_today"} <= series.keys()


def test_hong_kong_holiday_leaves_the_hong_kong_buy_pending_until_its_next_session(rows: dict[str, dict]) -> None:
    row = rows["holiday_rotation"]
    # Every series must have data up to the decision date: ^TESTHK's last date, Friday 2024-02-09.
    assert row["as_of"] == "2024-02-09"
    assert row["rule"]["index"] == 1 and row["rule"]["state"] == "when"
    assert row["weights"] == {"us": 1.0, "hk": 0.0, "cash": 0.0}
    assert row["next_weights"] == {"us": 0.0, "hk": 1.0, "cash": 0.0}
    legs = {leg["asset"]: leg for leg in row["pending"]}
    # lag 1: the next date of the union timeline is Monday the 12th (New York only); the sale of the
    # S&P 500 fills at its close, the Hong Kong buy waits for it and for Hong Kong's next session.
    us, hk = next_session("XNYS", "2024-02-09"), next_session("XHKG", "2024-02-09")
    assert (us, hk) == (dt.date(2024, 2, 12), dt.date(2024, 2, 14))
    assert legs["us"] == {
        "asset": "us", "market": "us", "from": 1.0, "to": 0.0, "decided": "2024-02-09",
        "session": us.isoformat(), "session_closed": True,
    }  # fmt: skip
    assert legs["hk"]["from"] == 0.0 and legs["hk"]["to"] == 1.0
    assert legs["hk"]["session"] == hk.isoformat() and legs["hk"]["session_closed"] is False
    assert row["last_switch"]["decided"] == "2024-02-09" and row["last_switch"]["filled"] is None


def test_the_signal_its_threshold_and_distance_match_the_csv(rows: dict[str, dict]) -> None:
    row = rows["holiday_rotation"]
    us, hk = closes("TESTUS.csv"), closes("TESTHK.csv")
    union = us.index.union(hk.index)
    union = union[union <= pd.Timestamp(row["as_of"])]
    p = us.reindex(union).ffill().to_numpy()
    value = p[-1] / p[-6] - 1.0  # momentum over five dates of the union timeline
    sig = row["signals"]["us_mom"]
    assert sig["value"] == pytest.approx(value, abs=1e-12)
    (comp,) = sig["comparisons"]
    assert comp["threshold"] == -0.03 and comp["holds"] is True
    assert comp["distance"] == pytest.approx(-0.03 - value, abs=1e-12)
    assert comp["relative"] == pytest.approx((-0.03 - value) / abs(value), abs=1e-12)
    assert comp["rule_if_flipped"] == 2  # at -0.03 the when: is false: otherwise decides


def test_a_stale_series_is_flagged_and_a_hong_kong_holiday_is_not(rows: dict[str, dict]) -> None:
    row = rows["vix_gate"]
    data = {s["symbol"]: s for s in row["data"]}
    assert data["^TESTVOL"]["last_date"] == "2024-02-06" and data["^TESTVOL"]["stale"] is True
    assert data["^TESTVOL"]["last_session"] == "2024-02-12"
    assert data["^TESTHK"]["last_date"] == "2024-02-09" and data["^TESTHK"]["last_session"] == "2024-02-09"
    assert data["^TESTHK"]["stale"] is False and data["^TESTHK"]["missing_today"] is False
    assert data["^TESTUS"]["stale"] is False
    assert data["^TESTUS"]["missing_today"] is True  # New York trades on the 13th and has not closed yet
    assert any("^TESTVOL is stale" in w for w in row["warnings"])
    assert row["as_of"] == "2024-02-06"  # a run ends on the last date every series has data
    level = closes("TESTVOL.csv").iloc[-1]
    assert row["signals"]["vix_level"]["value"] == pytest.approx(level, abs=1e-9)


def test_the_table_fits_100_columns_and_says_what_is_stale(configs: dict[str, Path]) -> None:
    result = invoke(
        str(configs["stale"]), "--data-dir", str(FIXTURES), "--now", CLOCK, env={"COLUMNS": "100"}
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert any("^TESTVOL" in line and "STALE" in line for line in lines)
    assert not any("^TESTHK" in line and "STALE" in line for line in lines)
    assert "SYNTHETIC" not in result.stdout


def test_a_pending_order_whose_session_has_closed_says_what_closed_means(configs: dict[str, Path]) -> None:
    """The sale of the S&P 500 fills at New York's session of the 12th, which has closed by the clock while the
    data ends on the 9th: the table marks it and says what the mark means; the Hong Kong buy's is open."""
    result = invoke(str(configs["holiday"]), "--data-dir", str(FIXTURES), "--now", CLOCK, env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "2024-02-12 (closed)" in text and "2024-02-14 (closed): closed" in text  # the mark, then the caption
    assert text.count("(closed)") == 2
    assert "(closed): closed by the clock; this report is as of 2024-02-09" in text


def test_synthetic_data_is_labelled_synthetic() -> None:
    args = (str(CONFIGS / "corr_breakdown.yaml"), "--source", "synthetic", "--start", "2020-01-01")
    (row,) = today_json(*args, "--now", "2025-12-31T23:00:00")
    assert row["synthetic"] is True and any("SYNTHETIC" in w for w in row["warnings"])
    assert row.keys() >= KEYS
    table = invoke(*args, "--now", "2025-12-31T23:00:00")
    assert table.exit_code == 0 and "SYNTHETIC DATA" in table.stdout
    assert not any("after the clock" in w for w in row["warnings"])  # the data ends before the clock


def test_a_clock_before_the_decision_date_is_warned_of() -> None:
    """``--now`` judges staleness only: with a clock before the data's last date the report is still as of
    that date, and says how to see what the config said at the clock."""
    args = (str(CONFIGS / "corr_breakdown.yaml"), "--source", "synthetic", "--start", "2020-01-01")
    (row,) = today_json(*args, "--now", "2021-03-01")
    assert row["as_of"] > "2021-03-01"
    assert (
        f"decided as of {row['as_of']}, after the clock (2021-03-01): --now only judges whether the data is "
        "stale; to see what the config said on 2021-03-01, pass --end 2021-03-01" in row["warnings"]
    )
    assert invoke(*args, "--end", "2021-03-01").exit_code == 0  # the advice is taken
    # no --end shows a day up to the first simulated date; a Saturday's clock shows Friday's closes, the last in
    for clock, shown in (("2019-06-01", "2019-05-31"), ("2020-01-02", "2020-01-02")):
        (early,) = today_json(*args, "--now", clock)
        [said] = [w for w in early["warnings"] if "after the clock" in w]
        assert said.endswith(f"no --end shows {shown}: the config's first simulated date is 2020-01-02"), said
        assert invoke(*args, "--end", shown).exit_code == 2
    (monday,) = today_json(*args, "--now", "2021-03-01T03:00")  # before either market's close that Monday
    [said] = [w for w in monday["warnings"] if "after the clock" in w]
    assert said.endswith("to see what the config said on 2021-02-26, pass --end 2021-02-26"), said
    (taken,) = today_json(*args, "--now", "2021-03-01T03:00", "--end", "2021-02-26")  # the advice is taken
    assert taken["as_of"] == "2021-02-26" and not any("by the clock" in w for w in taken["warnings"])


def test_a_clock_before_a_close_the_decision_read_is_warned_of() -> None:
    """At noon UTC on a Wednesday Hong Kong has closed (08:00 UTC) and New York has not (21:00 UTC in winter): a
    decision as of that day read a New York row from before its close; after 21:00 nothing is said.  On New York's
    holiday (2021-07-05) the decision read New York's close of the 2nd, which the clock has passed."""
    args = (str(CONFIGS / "corr_breakdown.yaml"), "--source", "synthetic", "--start", "2020-01-01")
    (row,) = today_json(*args, "--end", "2021-03-03", "--now", "2021-03-03T12:00")
    assert row["as_of"] == "2021-03-03"
    [said] = [w for w in row["warnings"] if "not closed by the clock" in w]
    assert said == (
        "decided as of 2021-03-03, reading rows of sessions not closed by the clock (2021-03-03 12:00 UTC: ^GSPC "
        "2021-03-03): a row from before its market's close is not that close; to see what the config said on "
        "2021-03-02, pass --end 2021-03-02"
    )
    us = next(d for d in row["data"] if d["symbol"] == "^GSPC")
    assert (us["as_of_date"], us["last_session"]) == ("2021-03-03", "2021-03-02")
    (later,) = today_json(*args, "--end", "2021-03-03", "--now", "2021-03-03T21:30")
    assert not any("by the clock" in w for w in later["warnings"])
    (early,) = today_json(*args, "--end", "2021-03-03", "--now", "2021-03-03T07:00")  # neither market has closed
    [said] = [w for w in early["warnings"] if "by the clock" in w]
    assert "(2021-03-03 07:00 UTC: ^GSPC 2021-03-03, ^HSI 2021-03-03)" in said


def test_on_new_yorks_holiday_the_decision_read_its_close_before_it(configs: dict[str, Path], tmp_path: Path) -> None:
    """Hong Kong's data ends on 2024-01-15, a New York holiday (Martin Luther King Day) on which Hong Kong traded: the
    decision of that date read New York's close of the 12th, which a clock at noon UTC on the 15th has passed."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    hk = data / "TESTHK.csv"
    lines = hk.read_text(encoding="utf-8").splitlines(keepends=True)
    hk.write_text(
        "".join(line for line in lines if line.startswith("Date") or line[:10] <= "2024-01-15"), encoding="utf-8"
    )
    (row,) = today_json(str(configs["holiday"]), "--data-dir", str(data), "--now", "2024-01-15T12:00")
    assert row["as_of"] == "2024-01-15"
    assert not any("by the clock" in w for w in row["warnings"]), row["warnings"]
    us = next(d for d in row["data"] if d["symbol"] == "^TESTUS")
    assert us["as_of_date"] == "2024-01-12" and us["last_date"] > row["as_of"]
    (early,) = today_json(str(configs["holiday"]), "--data-dir", str(data), "--now", "2024-01-15T07:00")
    [said] = [w for w in early["warnings"] if "by the clock" in w]
    assert "(2024-01-15 07:00 UTC: ^TESTHK 2024-01-15)" in said  # Hong Kong's row, before its close; not New York's


@pytest.mark.parametrize(
    "args",
    [
        ("missing.yaml",),
        ("{holiday}", "--now", "yesterday"),
        ("{holiday}", "--now", "0001-01-01"),  # an OverflowError traceback, as was any offset taking it before year 1
        ("{holiday}", "--now", "0001-01-01T00:00+01:00"),
        ("{holiday}", "--data-dir", "{empty}"),
    ],
    ids=["no config", "bad clock", "clock before the calendars", "clock before year 1 in UTC", "no data"],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], configs: dict[str, Path], tmp_path: Path) -> None:
    filled = [a.format(holiday=configs["holiday"], empty=tmp_path) for a in args]
    if "--data-dir" not in filled:
        filled += ["--data-dir", str(FIXTURES)]
    result = invoke(*filled, "--now", CLOCK) if "--now" not in filled else invoke(*filled)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


def test_shipped_config_on_the_real_data(data_dir: Path) -> None:
    config = str(CONFIGS / "corr_breakdown.yaml")
    (row,) = today_json(config, "--source", "csv", "--data-dir", str(data_dir), "--now", "2026-09-01T00:00:00")
    assert row.keys() >= KEYS and row["synthetic"] is False
    us = closes_from(data_dir / "GSPC.csv")
    hk = closes_from(data_dir / "HSI.csv")
    assert row["as_of"] == min(us.index[-1], hk.index[-1]).date().isoformat()
    assert set(row["signals"]) == {"corr", "mom"}
    total = sum(w for a, w in row["weights"].items())
    assert total == pytest.approx(1.0)
    assert all(np.isfinite(s["value"]) for s in row["signals"].values())


def closes_from(path: Path) -> pd.Series:
    frame = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    return frame["Close"].dropna()


def test_a_rule_kept_by_the_minimum_hold_says_so(data_dir: Path) -> None:
    # 2020-03-20: the correlation broke down (rule 2's when: holds) less than min_hold: 20 dates after
    # the 50/50 rule began deciding, so the 50/50 rule still decides.
    config = str(CONFIGS / "corr_breakdown_hysteresis.yaml")
    args = ("--source", "csv", "--data-dir", str(data_dir), "--end", "2020-03-20", "--now", "2020-03-20")
    (row,) = today_json(config, *args)
    assert row["as_of"] == "2020-03-20"
    assert row["rule"]["index"] == 3 and row["rule"]["state"] == "min_hold" and row["rule"]["held"] is True
    assert [r["in_force"] for r in row["rules"]] == [False, True, True]


HELD_AND_COOLED = """\
name: held_and_cooled
data: {source: synthetic, start: 2010-01-01, end: 2014-12-31}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  mom: {fn: relative_momentum, a: us, b: hk, window: 63}
rules:
  - when: mom > 0
    weights: {us: 1.0}
  - otherwise: {hk: 1.0}
execution: {min_hold: 5000, cooldown: %d}
"""


@pytest.mark.parametrize(
    ("cooldown", "said"),
    [
        (10, "execution.min_hold (5000 dates) keeps it; rule 1 would decide without it"),
        (10000, "execution.min_hold (5000 dates) and execution.cooldown (10000 dates) together keep it; rule 1 would "
         "decide without both"),
    ],
)  # fmt: skip
def test_a_rule_kept_by_the_hold_while_the_rule_above_cools_says_so(cooldown: int, said: str, tmp_path: Path) -> None:
    """With both long, neither alone changed the decision (each keeps it when the other is gone): the reason named
    only the rule in force above it, as if the otherwise rule decided by itself."""
    path = tmp_path / "held.yaml"
    path.write_text(HELD_AND_COOLED % cooldown, encoding="utf-8")
    (row,) = today_json(str(path))
    assert row["rule"]["index"] == 2 and row["rule"]["state"] == "min_hold" and row["rule"]["held"] is True
    assert row["rule"]["reasons"] == ["in force above it: rule 1", said]


@pytest.mark.parametrize(("other", "said"), [("hk_mom", "signal hk_mom"), ("hk_mom + us_mom2", "signals ")])
def test_a_signal_compared_with_another_has_no_threshold_and_says_with_which(
    tmp_path: Path, other: str, said: str
) -> None:
    text = HOLIDAY.replace("  us_mom: {fn: momentum, a: us, window: 5}\n", "").replace(
        "signals:\n",
        "signals:\n  us_mom: {fn: momentum, a: us, window: 5}\n  us_mom2: {fn: momentum, a: us, window: 3}\n"
        "  hk_mom: {fn: momentum, a: hk, window: 5}\n",
    )
    path = tmp_path / "two_signals.yaml"
    path.write_text(text.replace("when: us_mom < -0.03", f"when: us_mom < {other}"), encoding="utf-8")
    (row,) = today_json(str(path), "--source", "csv", "--data-dir", str(FIXTURES), "--now", CLOCK)
    (comp,) = row["signals"]["us_mom"]["comparisons"]
    assert comp["threshold"] is None
    assert comp["reason"] == f"compared with {said}" + ("" if other == "hk_mom" else "hk_mom, us_mom2")


def test_an_end_before_the_sources_last_date_is_said_and_not_called_stale(configs: dict[str, Path]) -> None:
    """--end (or data.end) cuts what the rule decides from, not what the source holds: the data table shows
    each series' last row in its file, which is not stale at the clock, and a warning says the end cut it."""
    args = (str(configs["holiday"]), "--data-dir", str(FIXTURES), "--end", "2024-02-07", "--now", CLOCK)
    (row,) = today_json(*args)
    assert row["as_of"] == "2024-02-07"
    us = next(s for s in row["data"] if s["symbol"] == "^TESTUS")
    assert us["last_date"] == closes("TESTUS.csv").index[-1].date().isoformat() and us["stale"] is False
    text = " ".join(row["warnings"])
    assert "data.end (or --end) cuts the data at 2024-02-07" in text
    assert text.endswith("; without it, today decides as of the sources' last common date")  # a sentence
    assert "is stale" not in text and "the last date every series has data" not in text


def test_a_clock_past_the_exchange_calendars_is_refused_not_reported_ok() -> None:
    """Past the last session exchange-calendars lists, no session or holiday is known: a report would call prices
    eight months old 'ok' (its last session unknown); the clock is refused in one line instead."""
    from engine.calendar import last_known_session

    horizon = min(last_known_session("us"), last_known_session("hk"))
    late = (horizon + dt.timedelta(days=30)).isoformat()
    result = invoke(str(CONFIGS / "buy_hold_us.yaml"), "--source", "synthetic", "--now", late)
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"error: --now: {late} is after {horizon}, the last session the exchange calendars list"
    )
    assert (
        invoke(str(CONFIGS / "buy_hold_us.yaml"), "--source", "synthetic", "--now", horizon.isoformat()).exit_code == 0
    )


def test_a_monthly_rule_says_its_next_decision_is_the_months_last_date(data_dir: Path) -> None:
    """With ``rebalance: monthly`` the rules' targets on a mid-month date are no order: the table says so and
    when the next decision is, the union of New York's and Hong Kong's last June 2024 session (read from
    exchange-calendars here); on that date the decision is taken and the next is July's last."""
    config = str(CONFIGS / "zscore_tilt.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        june = [xc.get_calendar(c).sessions_in_range("2024-06-01", "2024-06-30")[-1] for c in ("XNYS", "XHKG")]
        july = [xc.get_calendar(c).sessions_in_range("2024-07-01", "2024-07-31")[-1] for c in ("XNYS", "XHKG")]
    month_end, next_end = max(june).date().isoformat(), max(july).date().isoformat()
    args = ("--source", "csv", "--data-dir", str(data_dir))
    (mid,) = today_json(config, *args, "--end", "2024-06-12", "--now", "2024-06-12")
    assert mid["changes"] is True and mid["pending"] == []  # the zscore's weights move every day
    assert (mid["decided_on_as_of"], mid["next_decision"]) == (False, month_end)
    said = " ".join(invoke(config, *args, "--end", "2024-06-12", "--now", "2024-06-12").stdout.split())
    assert (
        f"No order is decided on 2024-06-12 (rebalance: monthly): next is what the rules give that day; the "
        f"next decision is on {month_end}, with the rules' targets then" in said
    )
    (end,) = today_json(config, *args, "--end", month_end, "--now", month_end)
    assert (end["decided_on_as_of"], end["next_decision"]) == (True, next_end) and end["pending"]
    assert "No order is decided" not in invoke(config, *args, "--end", month_end, "--now", month_end).stdout
    (change,) = today_json(str(CONFIGS / "corr_breakdown.yaml"), *args, "--end", month_end, "--now", month_end)
    assert change["next_decision"] is None  # on_change: no calendar decides, a change does
    # May 2024's last date: relative_momentum's targets held (all US), and its monthly order rebalances to them
    may = (str(CONFIGS / "relative_momentum.yaml"), *args, "--end", "2024-05-31", "--now", "2024-05-31T22:00")
    (held,) = today_json(*may)
    assert held["decided_on_as_of"] and [(g["asset"], g["from"], g["to"]) for g in held["pending"]] == [("us", 1, 1)]
    assert "from = to: a rebalance back to the target (rebalance: monthly)" in invoke(*may).stdout


def test_a_change_already_ordered_or_left_to_a_band_is_said_as_it_is(data_dir: Path, tmp_path: Path) -> None:
    """lag 2: the switch decided on 2024-12-23 is pending on the 24th, so the rules' targets differing from the
    weights in force is no unordered change (no line).  A band with ``every: monthly`` decides on a drift any
    day as well as at the month's end: the line says both, and the json's execution gives the band."""
    lagged = tmp_path / "lagged.yaml"
    lagged.write_text(
        (CONFIGS / "corr_breakdown.yaml")
        .read_text()
        .replace("{lag: 1, rebalance: on_change}", "{lag: 2, rebalance: on_change}")
    )
    args = ("--source", "csv", "--data-dir", str(data_dir))
    day = ("--end", "2024-12-24", "--now", "2024-12-24T23:00")
    (row,) = today_json(str(lagged), *args, *day)
    assert row["changes"] and not row["decided_on_as_of"]
    assert {(g["asset"], g["to"], g["decided"]) for g in row["pending"]} == {
        ("hk", 0, "2024-12-23"),
        ("us", 1, "2024-12-23"),
    }
    assert "No order is decided" not in invoke(str(lagged), *args, *day).stdout
    banded = tmp_path / "banded.yaml"
    banded.write_text(
        (CONFIGS / "zscore_tilt.yaml")
        .read_text()
        .replace("rebalance: monthly}", "rebalance: {band: 0.02, every: monthly}}", 1)
    )
    day = ("--end", "2024-06-17", "--now", "2024-06-17")
    (row,) = today_json(str(banded), *args, *day)
    assert row["execution"]["band"] == 0.02 and row["execution"]["rebalance"] == "monthly"
    assert (row["decided_on_as_of"], row["next_decision"]) == (False, "2024-06-28")
    tiny = invoke(str(banded), *args, "--end", "2024-06-14", "--now", "2024-06-14").stdout  # 45.0% to 45.0%
    assert re.search(r"^us\s+45\.0%\s+45\.0%\s+-0\.024%", tiny, re.M) and "+0.0%" not in tiny, tiny
    said = " ".join(invoke(str(banded), *args, *day).stdout.split())
    assert (
        "No order is decided on 2024-06-17 (rebalance: band 0.02, every monthly): next is what the rules give that "
        "day; an order is decided when a weight drifts more than 0.02 from its target, or on 2024-06-28"
    ) in said


def test_the_datas_repairs_are_noted_as_run_notes_them(configs: dict[str, Path], tmp_path: Path) -> None:
    """Hong Kong sessions with no price, the latest inside the signal's window: the notes name every one (up to
    twelve; beyond, the first ones and the latest, the one a reader of today needs); the note of a run cut short is
    left to its warning."""
    missing = ["2023-11-06", "2023-11-07", "2023-12-05", "2024-02-08"]
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    hk = data / "TESTHK.csv"
    lines = hk.read_text(encoding="utf-8").splitlines(keepends=True)
    hk.write_text("".join(line for line in lines if line[:10] not in missing), encoding="utf-8")
    (row,) = today_json(str(configs["holiday"]), "--data-dir", str(data), "--now", CLOCK)
    said = (
        "^TESTHK: 4 sessions of the hk exchange calendar have no price (2023-11-06, 2023-11-07, 2023-12-05, 2024-02-08)"
    )
    assert any(n.startswith(said) for n in row["notes"]), row["notes"]
    assert not any(n.startswith("the run ends on") for n in row["notes"])
    table = invoke(str(configs["holiday"]), "--data-dir", str(data), "--now", CLOCK, env={"COLUMNS": "200"})
    assert table.exit_code == 0 and f"note: {said}" in table.stdout
    (clean,) = today_json(str(configs["holiday"]), "--data-dir", str(FIXTURES), "--now", CLOCK)
    assert clean["notes"] == []


def test_a_closed_session_missing_inside_the_data_is_flagged(configs: dict[str, Path], tmp_path: Path) -> None:
    """A clock in the past (noon UTC on Thursday 2024-02-08, after Hong Kong's close at 08:00 UTC, before New
    York's) over data that lacks ^TESTHK's row of that day but goes on: the session has closed and has no
    price, a gap in the data, though the source's last date is later."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    hk = (data / "TESTHK.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (data / "TESTHK.csv").write_text("".join(r for r in hk if not r.startswith("2024-02-08,")), encoding="utf-8")
    # the exchange rate's calendar is every weekday: a day without its row is a holiday of that market, no gap
    fx = (data / "TESTHKD_X.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (data / "TESTHKD_X.csv").write_text("".join(r for r in fx if not r.startswith("2024-02-07,")), encoding="utf-8")
    args = (str(configs["holiday"]), "--data-dir", str(data), "--end", "2024-02-08", "--now", "2024-02-08T12:00")
    (row,) = today_json(*args)
    series = {s["symbol"]: s for s in row["data"]}
    hk_state, us_state = series["^TESTHK"], series["^TESTUS"]
    assert hk_state["last_date"] == "2024-02-09" and hk_state["last_session"] == "2024-02-08"
    assert hk_state["stale"] is False and hk_state["missing_today"] is True
    assert hk_state["missing_last_session"] is True
    # New York's session of the 8th has not closed at noon UTC; its row is there: nothing is missing
    assert us_state["last_session"] == "2024-02-07" and us_state["missing_today"] is False
    assert us_state["missing_last_session"] is False
    assert any(w.startswith("^TESTHK has no price for 2024-02-08") for w in row["warnings"])
    fx_state = series["TESTHKD=X"]
    assert fx_state["last_session"] == "2024-02-07" and fx_state["missing_last_session"] is False
    assert fx_state["missing_today"] is False  # its row of the 8th is there
    assert not any(w.startswith("TESTHKD=X") for w in row["warnings"])
    table = " ".join(invoke(*args, env={"COLUMNS": "100"}).stdout.split())
    assert "^TESTHK hk 2024-02-09 2024-02-08 MISSING 2024-02-08" in table


def test_the_exchange_rate_is_not_stale_over_a_day_neither_market_trades(
    configs: dict[str, Path], tmp_path: Path
) -> None:
    """Yahoo's USD/HKD has no rate on the weekdays New York and Hong Kong are both closed (Christmas): on the
    morning of Tuesday 2023-12-26 (UTC), data to Friday the 22nd is not stale for the rate, whose last session is
    that Friday (exchange-calendars: both exchanges closed on Monday the 25th)."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    for path in data.glob("*.csv"):
        rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(r for r in rows if r[:10] <= "2023-12-22" or r.startswith("Date")), encoding="utf-8")
    assert next_session("XNYS", "2023-12-22") == dt.date(2023, 12, 26)  # the 25th is no session in New York
    assert next_session("XHKG", "2023-12-22") == dt.date(2023, 12, 27)  # nor in Hong Kong, nor the 26th
    (row,) = today_json(str(configs["holiday"]), "--data-dir", str(data), "--now", "2023-12-26T03:00")
    fx = {s["symbol"]: s for s in row["data"]}["TESTHKD=X"]
    assert fx["last_session"] == "2023-12-22" and fx["stale"] is False
    assert not any("TESTHKD=X" in w for w in row["warnings"])


def test_a_clock_before_the_rows_read_flags_nothing_missing(configs: dict[str, Path]) -> None:
    """``today`` reads each source's last rows (60 days before the panel's end): a clock months before them cannot
    tell a missing session from one it did not read, so none is called missing (the rows exist in the files)."""
    (row,) = today_json(str(configs["holiday"]), "--data-dir", str(FIXTURES), "--now", "2023-10-11T12:00")
    for state in row["data"]:
        assert state["missing_last_session"] is False and state["missing_today"] is False, state
    assert not any("has no price for" in w for w in row["warnings"])
