"""``seesaw episodes`` against an independent reference (tests/episodes_reference.py, docs/episodes.md).

Two parts: self-tests of the reference on hand-computed cases (so that the reference itself can fail),
then agreement tests that run the command in a subprocess and compare every documented field of its
``--format json`` output and of the stored ``episodes/<id>/episodes.json`` with the reference, on the
real data (``data_dir``) and on small generated CSV files.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests import episodes_reference as ref

REPO = Path(__file__).resolve().parents[1]
REL, ABS = 1e-9, 1e-12


# ----------------------------------------------------------------------------- small helpers


def write_csv(path: Path, closes: pd.Series, volume: float = 1e6) -> None:
    """A Yahoo-style CSV with rows that show trading (High > Low, a volume)."""
    frame = pd.DataFrame(
        {
            "Open": closes * 0.999,
            "High": closes * 1.004,
            "Low": closes * 0.996,
            "Close": closes,
            "Adj Close": closes,
            "Volume": volume,
        },
        index=pd.DatetimeIndex(closes.index, name="Date"),
    )
    frame.to_csv(path, date_format="%Y-%m-%d")


def series(dates: list[str], values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.DatetimeIndex(dates), dtype=float)


def tiny_market(tmp_path: Path, us: pd.Series, hk: pd.Series, fx: pd.Series | None, signals: str) -> ref.Market:
    write_csv(tmp_path / "GSPC.csv", us)
    write_csv(tmp_path / "HSI.csv", hk)
    if fx is None:  # read for the forward returns in USD
        fx = pd.Series(np.linspace(7.79, 7.81, len(us)), index=us.index)
    write_csv(tmp_path / "HKD_X.csv", fx, volume=0)
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "name: tiny\nassets:\n  spx: {symbol: ^GSPC, market: us}\n  hsi: {symbol: ^HSI, market: hk}\n"
        f"signals:\n{signals}rules:\n  - otherwise: {{spx: 1.0}}\n",
        encoding="utf-8",
    )
    return ref.load_market(ref.load_config(config), tmp_path)


# ----------------------------------------------------------------------------- self-tests: extremeness


SIX = np.array([0.5, 0.3, 0.4, 0.3, 0.2, 0.6])


def test_rank_percentile_and_most_extreme_since_low_by_hand() -> None:
    ext = ref.extremeness(SIX, low=True)
    assert ext["rank"].tolist() == [1, 1, 2, 1, 1, 6]
    assert np.allclose(ext["percentile"], [100, 50, 200 / 3, 50, 20, 100])
    # t=3 ties t=1 (0.3): rank 1, but most extreme since t=1, so not a record
    assert ext["since"].tolist() == [-1, -1, 1, 1, -1, 4]


def test_rank_percentile_and_most_extreme_since_high_by_hand() -> None:
    ext = ref.extremeness(SIX, low=False)
    assert ext["rank"].tolist() == [1, 2, 2, 3, 5, 1]
    assert np.allclose(ext["percentile"], [100, 50, 200 / 3, 50, 20, 100])  # the same ≤ count
    assert ext["since"].tolist() == [-1, 0, 0, 2, 3, -1]


def test_observations_skip_carried_values_and_restart_after_a_gap() -> None:
    dates = pd.bdate_range("2024-01-01", periods=8)
    values = pd.Series([np.nan, np.nan, 0.1, 0.1, 0.2, 0.2, np.nan, 0.2], index=dates)
    assert ref.observations(values).index.tolist() == [dates[2], dates[4], dates[7]]


def test_episodes_in_percentile_mode_ignore_the_first_250_observations() -> None:
    values = np.linspace(1.0, 0.5, 260)  # every observation a record, percentile 100 / (t + 1)
    ext = ref.extremeness(values, low=True)
    mask = ref.qualifying(values, ext["percentile"], True, None, 5.0)
    assert ref.runs(mask) == [(250, 259)]
    assert ext["percentile"][259] == pytest.approx(100 / 260)
    assert ref.runs(ref.qualifying(values, ext["percentile"], True, 0.502, 5.0)) == [(258, 259)]


def test_runs_closer_than_the_gap_merge_into_one_episode() -> None:
    mask = np.array([True, False, False, True, True, False, False, False, True, False])
    spans = ref.runs(mask)
    assert ref.merge_runs(spans, mask, 0) == spans == [(0, 0), (3, 4), (8, 8)]
    assert ref.merge_runs(spans, mask, 2) == [(0, 0), (3, 4), (8, 8)]  # 2 and 3 between: not fewer than 2
    assert ref.merge_runs(spans, mask, 3) == [(0, 4), (8, 8)]
    assert ref.merge_runs(spans, mask, 4) == [(0, 8)]


def test_a_merged_episode_spans_its_gap_and_takes_its_most_extreme_observation() -> None:
    dates = pd.bdate_range("2020-01-01", periods=8)
    obs = pd.Series([0.5, 0.1, 0.3, 0.05, 0.4, 0.5, 0.5, 0.5], index=dates)
    ext = ref.extremeness(obs.values, low=True)
    mask = ref.qualifying(obs.values, ext["percentile"], True, 0.2, 5.0)
    (span,) = ref.merge_runs(ref.runs(mask), mask, 21)
    assert span == (1, 3)
    episode = ref.episode_core(obs, ext, span, low=True)
    assert (episode["start"], episode["end"], episode["date"]) == ("2020-01-02", "2020-01-06", "2020-01-06")
    assert episode["observations"] == 3 and episode["value"] == 0.05 and episode["record"] is True


def test_common_dates_add_their_warm_up_rows() -> None:
    assert ref.warmup_rows({"window": 90, "align": "sync", "dates": "common"}) == 90 + 22 + 10
    assert ref.warmup_rows({"window": 90, "align": "async", "dates": "common"}) == 123
    assert ref.warmup_rows({"window": 20, "align": "sync"}) == 20
    assert ref.warmup_rows({"window": 20}) == 21  # async and union by default


def test_runs_are_maximal_and_may_end_at_the_last_observation() -> None:
    assert ref.runs(np.array([True, False, True, True, False, False, True])) == [(0, 0), (2, 3), (6, 6)]
    assert ref.runs(np.array([False, False])) == []


# ----------------------------------------------------------------------------- self-tests: uncertainty


def test_fisher_interval_by_hand() -> None:
    # tanh(atanh r ∓ h) = (r ∓ tanh h) / (1 ∓ r tanh h), h = Φ⁻¹(0.975) / √87 = 0.21013019...
    low, high = ref.fisher_interval(0.5, 90)
    assert low == pytest.approx(0.3267415176053576, rel=1e-12)
    assert high == pytest.approx(0.6407448339482873, rel=1e-12)


def test_block_length_is_the_exact_cube_root_ceiling() -> None:
    assert [ref.block_length(n) for n in (8, 9, 20, 27, 28, 64, 90, 125)] == [2, 3, 3, 3, 4, 4, 5, 5]


def test_bootstrap_is_arch_circular_blocks_seed_0() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(90)
    pairs = np.column_stack([x, 0.5 * x + rng.standard_normal(90)])
    from arch.bootstrap import CircularBlockBootstrap

    bs = CircularBlockBootstrap(5, pairs, seed=0)
    corrs = [np.corrcoef(p[0][:, 0], p[0][:, 1])[0, 1] for p, _ in bs.bootstrap(2000)]
    expected = np.quantile(corrs, [0.025, 0.975])
    assert np.allclose(ref.bootstrap_interval(pairs), expected, rtol=1e-12)
    r = np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]
    assert expected[0] < r < expected[1]


def test_indistinguishable_counts_both_sides_within_the_critical_distance() -> None:
    n, r = 90, 0.1
    cut = 1.959963984540054 * math.sqrt(2 / 87)  # 0.2971...
    zs = [math.atanh(r) - cut - 0.01, math.atanh(r) - cut + 0.01, math.atanh(r) + 0.2, math.atanh(r) + cut + 0.01]
    earlier = pd.Series(np.tanh(zs), index=pd.bdate_range("2024-01-01", periods=4))
    got = ref.indistinguishable(earlier, r, n)
    assert got == {"count": 2, "first": "2024-01-02", "last": "2024-01-03", "share": 0.5}


# ----------------------------------------------------------------------------- self-tests: forward returns


def test_forward_return_over_a_month_end_with_a_holiday() -> None:
    # start 2024-01-30: first close after it 01-31; + 1 month = 2024-02-29 (a holiday here) -> 02-28
    prices = series(["2024-01-30", "2024-01-31", "2024-02-27", "2024-02-28", "2024-03-01"], [99, 100, 104, 105, 110])
    end = pd.Timestamp("2024-03-01")
    starts = pd.DatetimeIndex(["2024-01-30", "2024-01-31", "2024-03-01"])
    one = ref.forward_returns(prices, starts, 1, end)
    assert one[0] == pytest.approx(0.05)
    assert np.isnan(one[1])  # 2024-02-27 + 1 month = 2024-03-27 is after the end
    assert np.isnan(one[2])  # no close after the start
    assert ref.plus_months(pd.Timestamp("2024-01-31"), 1) == pd.Timestamp("2024-02-29")


def test_forward_return_ending_exactly_on_the_data_end_is_known() -> None:
    prices = series(["2024-01-02", "2024-01-03", "2024-02-02", "2024-02-05"], [100, 100, 90, 95])
    got = ref.forward_returns(prices, pd.DatetimeIndex(["2024-01-02"]), 1, pd.Timestamp("2024-02-03"))
    assert got[0] == pytest.approx(-0.1)  # horizon 2024-02-03 (a Saturday) = the end: last close 02-02


def test_vectorised_month_addition_matches_dateoffset() -> None:
    dates = pd.date_range("2023-12-25", "2025-03-05", freq="D")
    for months in ref.HORIZONS:
        expected = [ref.plus_months(d, months) for d in dates]
        assert list(pd.DatetimeIndex(ref.plus_months_array(dates, months))) == expected


# ----------------------------------------------------------------------------- self-tests: event study


def test_independent_episodes_and_t_interval_by_hand() -> None:
    starts = pd.DatetimeIndex(["2020-01-10", "2020-01-20", "2020-02-10", "2020-03-09", "2020-03-10"])
    assert ref.non_overlapping(list(starts), 1) == [0, 2, 4]  # 03-09 < 02-10 + 1m = 03-10
    known = list(zip(starts, [0.1, 9.0, 0.2, 9.0, 0.3], strict=True))
    others = pd.Series(
        [0.0, 0.01, 0.02, 0.05], index=pd.DatetimeIndex(["2019-01-02", "2019-01-03", "2019-02-04", "2019-03-04"])
    )
    cell = ref.study_cell(known, others, 1)
    half = 4.302652729749462 * 0.1 / math.sqrt(3)
    assert cell["mean"] == pytest.approx(0.2) and cell["n_independent"] == 3 and cell["n_episodes"] == 5
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((0.2 - half, 0.2 + half))
    assert cell["others_mean"] == pytest.approx(0.02) and cell["n_others"] == 4
    # the other dates' non-overlapping sample: 01-02, 02-04, 03-04 -> [0.0, 0.02, 0.05]
    v1, v2 = 0.01 / 3, np.var([0.0, 0.02, 0.05], ddof=1) / 3
    welch = 4.302652729749462 * math.sqrt(v1 + v2)  # t(0.975, min(3, 3) - 1)
    assert cell["difference"] == pytest.approx(0.18)
    assert (cell["difference_low"], cell["difference_high"]) == pytest.approx((0.18 - welch, 0.18 + welch))


def test_event_study_without_enough_episodes_has_no_interval() -> None:
    cell = ref.study_cell(
        [(pd.Timestamp("2020-01-02"), 0.1)],
        pd.Series([0.0, 0.1], index=pd.DatetimeIndex(["2019-01-02", "2019-06-03"])),
        3,
    )
    assert cell["mean"] == 0.1 and cell["ci_low"] is None and cell["difference_low"] is None
    empty = ref.study_cell([], pd.Series(dtype=float), 3)
    assert empty["mean"] is None and empty["difference"] is None and empty["others_mean"] is None


def test_other_dates_exclude_every_episode_span_and_respect_since() -> None:
    dates = pd.bdate_range("2024-01-01", periods=10)
    spans = [(dates[2], dates[3]), (dates[7], dates[7])]
    got = ref.other_dates(dates, spans, "2024-01-03")
    assert list(got) == [dates[i] for i in (4, 5, 6, 8, 9)]


# ----------------------------------------------------------------------------- self-tests: the signal


US_DATES = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05", "2024-01-08"]  # 01-04 a US holiday
HK_DATES = ["2024-01-01", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]  # 01-02 a HK holiday
US_PX = [100.0, 101.0, 99.0, 102.0, 103.0]
HK_PX = [50.0, 51.0, 52.0, 50.0, 49.0]


def _returns(values: list[float]) -> np.ndarray:
    return np.diff(np.log(values))


def test_common_dates_pair_returns_from_one_common_date_to_the_next(tmp_path: Path) -> None:
    spec = "  c: {fn: rolling_corr, a: spx, b: hsi, window: 2, align: sync, dates: common}\n"
    market = tiny_market(tmp_path, series(US_DATES, US_PX), series(HK_DATES, HK_PX), None, spec)
    pairs = ref.paired_returns(market, market.config.signals["c"])
    common_us, common_hk = [100.0, 99.0, 102.0, 103.0], [50.0, 51.0, 50.0, 49.0]
    assert list(pairs.index.strftime("%Y-%m-%d")) == ["2024-01-01", "2024-01-03", "2024-01-05", "2024-01-08"]
    assert np.allclose(pairs["a"].values[1:], _returns(common_us))
    assert np.allclose(pairs["b"].values[1:], _returns(common_hk))


def test_union_async_pairs_hong_kong_today_with_new_york_yesterday(tmp_path: Path) -> None:
    spec = "  c: {fn: rolling_corr, a: spx, b: hsi, window: 2, align: async, dates: union}\n"
    market = tiny_market(tmp_path, series(US_DATES, US_PX), series(HK_DATES, HK_PX), None, spec)
    pairs = ref.paired_returns(market, market.config.signals["c"])
    us_union = [100.0, 101.0, 99.0, 99.0, 102.0, 103.0]  # carried over 01-04
    hk_union = [50.0, 50.0, 51.0, 52.0, 50.0, 49.0]  # carried over 01-02
    assert np.allclose(pairs["a"].values[2:], _returns(us_union)[:-1])
    assert np.allclose(pairs["b"].values[2:], _returns(hk_union)[1:])
    values, _ = ref.signal_values(market, "c")
    last = np.corrcoef(_returns(us_union)[-3:-1], _returns(hk_union)[-2:])[0, 1]
    assert values.iloc[-1] == pytest.approx(last)


def test_base_currency_converts_hong_kong_at_the_cleaned_fx_known_on_each_date(tmp_path: Path) -> None:
    fx = series(["2023-12-29", "2024-01-02", "2024-01-03", "2024-01-05", "2024-01-08"], [7.80, 7.81, 7.95, 7.82, 7.83])
    spec = "  c: {fn: rolling_corr, a: spx, b: hsi, window: 2, align: sync, dates: common, currency: base}\n"
    market = tiny_market(tmp_path, series(US_DATES, US_PX), series(HK_DATES, HK_PX), fx, spec)
    assert market.fx is not None and list(market.fx.values) == [7.80, 7.81, 7.82, 7.83]  # 7.95 dropped
    rate = [7.80, 7.81, 7.82, 7.83]  # on 01-01, 01-03 (7.95 dropped: 01-02's carried), 01-05, 01-08
    hk_usd = np.array([50.0, 51.0, 50.0, 49.0]) / np.array(rate)
    pairs = ref.paired_returns(market, market.config.signals["c"])
    assert np.allclose(pairs["b"].values[1:], np.diff(np.log(hk_usd)))
    fwd = ref.forward_of(market, pd.Timestamp("2024-01-01"))
    assert fwd["hsi"]["1m"] is None and fwd["spx"]["1m"] is None  # data ends 2024-01-08


def test_rolling_pearson_matches_numpy_and_is_nan_on_gaps() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(50), rng.standard_normal(50)
    x[30] = np.nan
    got = ref.rolling_pearson(x, y, 10)
    assert np.isnan(got[:9]).all() and np.isnan(got[30:40]).all()
    assert got[20] == pytest.approx(np.corrcoef(x[11:21], y[11:21])[0, 1], rel=1e-12)
    assert got[45] == pytest.approx(np.corrcoef(x[36:46], y[36:46])[0, 1], rel=1e-12)


# ----------------------------------------------------------------------------- generated data


FIXTURE_SIGNALS = {
    "corr": "dates: common, align: sync",
    "corr_info": "dates: common, align: async",
    "corr_union": "dates: union, align: sync",
    "corr_union_info": "dates: union, align: async",
}
LOW_STRETCHES = ((300, 345), (560, 590), (820, 850))


def _sessions(calendar: str) -> pd.DatetimeIndex:
    import exchange_calendars as xc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = xc.get_calendar(calendar, start="2015-06-01", end="2020-12-31")
        return pd.DatetimeIndex(cal.sessions_in_range("2016-01-04", "2019-08-30")).tz_localize(None)


def generated_prices() -> tuple[pd.Series, pd.Series, pd.Series]:
    """Two deterministic random walks on their real calendars, decoupled on three stretches, and USD/HKD."""
    us_days, hk_days = _sessions("XNYS"), _sessions("XHKG")
    us_days, hk_days = us_days.delete([100, 400]), hk_days.delete([250, 700])  # days missing from the files
    union = us_days.union(hk_days)
    union = union[union <= us_days.intersection(hk_days)[-1]]
    rng = np.random.default_rng(20240301)
    common, e_us, e_hk = (rng.standard_normal(len(union)) for _ in range(3))
    link = np.full(len(union), 0.95)
    for a, b in LOW_STRETCHES:
        link[a:b] = -0.3
    us_ret = 0.01 * (0.8 * common + 0.6 * e_us)
    news = 0.4 * common + 0.75 * np.concatenate([[0.0], common[:-1]])  # Hong Kong reacts to New York's day before
    hk_ret = 0.012 * (link * news + np.sqrt(1 - 0.7225 * link**2) * e_hk)
    us = pd.Series(3000 * np.exp(np.cumsum(us_ret)), union).reindex(us_days).dropna()
    hk = pd.Series(25000 * np.exp(np.cumsum(hk_ret)), union).reindex(hk_days).dropna()
    fx_days = pd.bdate_range("2015-12-28", "2019-09-06").delete([40, 41, 300, 600])
    fx = pd.Series(7.80 + pd.Series(rng.normal(0, 0.003, len(fx_days))).ewm(alpha=0.05).mean().values, fx_days)
    fx.iloc[[120, 450, 451, 800]] = [7.70, 7.95, 7.96, 7.735]  # bad ticks, dropped by the band
    return us, hk, fx


def fixture_config(currency: str) -> str:
    signals = "".join(
        f"  {name}: {{fn: rolling_corr, a: spx, b: hsi, window: 20, on: returns, {opts}, currency: {currency}}}\n"
        for name, opts in FIXTURE_SIGNALS.items()
    )
    return (
        f"name: fixture_{currency}\ndescription: generated data for the episodes reference\n"
        "data: {source: csv, start: auto, end: null, price: close}\n"
        "assets:\n  spx: {symbol: ^GSPC, market: us}\n  hsi: {symbol: ^HSI, market: hk}\n"
        f"signals:\n{signals}rules:\n  - otherwise: {{spx: 1.0}}\n"
        "execution: {lag: 1, rebalance: on_change}\ncosts: {fee_bps: 5, slippage_bps: 5}\ninitial_cash: 100000\n"
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("episodes-data")
    us, hk, fx = generated_prices()
    write_csv(root / "GSPC.csv", us)
    write_csv(root / "HSI.csv", hk)
    write_csv(root / "HKD_X.csv", fx, volume=0)
    late = root / "late_fx"  # USD/HKD from 2016-09-01 only: the warm-up history before it (as in 2001)
    late.mkdir()
    for name in ("GSPC.csv", "HSI.csv"):
        (late / name).write_bytes((root / name).read_bytes())
    write_csv(late / "HKD_X.csv", fx[fx.index >= "2016-09-01"], volume=0)
    out = {"data": root, "late_fx": late}
    for currency in ("local", "base"):
        out[currency] = root / f"fixture_{currency}.yaml"
        out[currency].write_text(fixture_config(currency), encoding="utf-8")
    return out


def test_the_warm_up_history_starts_before_a_late_exchange_rate(generated: dict[str, Path]) -> None:
    market = ref.market_for(generated["base"], generated["late_fx"])
    start = market.timeline.get_loc(pd.Timestamp("2016-09-01"))
    assert start == ref.config_warmup(market.config) + 1 == 20 + 1 + 15 + 1  # corr_info's warm-up, + 1
    first = ref.observations(ref.signal_values(market, "corr")[0]).index[0]
    common = ref.rows_of(market, market.config.signals["corr"])
    assert first == common[common >= "2016-09-01"][20]  # 20 returns in USD after the first rate


def test_generated_data_gives_several_episodes_with_sane_numbers(generated: dict[str, Path]) -> None:
    for currency in ("local", "base"):
        for name in FIXTURE_SIGNALS:
            doc = ref.episodes(ref.Request(generated[currency], generated["data"], name, threshold=0.2))
            assert len(doc["episodes"]) >= 2, (currency, name)
            for e in doc["episodes"]:
                assert e["ci_low"] < e["value"] < e["ci_high"] and e["bootstrap_low"] < e["bootstrap_high"]
                assert e["start"] <= e["date"] <= e["end"] and e["value"] <= 0.2
    market = ref.market_for(generated["base"], generated["data"])
    assert market.fx is not None and len(market.timeline) > 850


# ----------------------------------------------------------------------------- agreement with the command


def run_command(config: Path, data_dir: Path, results: Path, signal: str, *extra: str) -> tuple[list, dict]:
    cmd = [sys.executable, "-m", "engine", "episodes", str(config), "--signal", signal, *extra]
    cmd += ["--source", "csv", "--data-dir", str(data_dir), "--format", "json", "--results-dir", str(results)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    (stored,) = sorted(results.glob("episodes/*/episodes.json"))
    return json.loads(proc.stdout), json.loads(stored.read_text(encoding="utf-8"))


def assert_same(got: Any, want: Any, where: str = "") -> None:
    """``got`` has every field of ``want``, equal (floats to 1e-9 relative)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: {got!r} is not an object"
        for key, value in want.items():
            assert key in got, f"{where}: missing {key!r}"
            assert_same(got[key], value, f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {len(got)} items, want {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, int | float), f"{where}: {got!r}, want {want!r}"
        assert math.isclose(got, want, rel_tol=REL, abs_tol=ABS), f"{where}: {got!r}, want {want!r}"
    else:
        assert got == want, f"{where}: {got!r}, want {want!r}"


def reference_request(config: Path, data_dir: Path, signal: str, extra: tuple[str, ...]) -> ref.Request:
    options = [x for x in extra if x not in ("--low", "--high")]
    args = dict(zip(options[::2], options[1::2], strict=True))
    return ref.Request(
        config,
        data_dir,
        signal,
        low="--high" not in extra,
        threshold=float(args["--threshold"]) if "--threshold" in args else None,
        percentile=float(args["--percentile"]) if "--percentile" in args else None,
        since=args.get("--since"),
        gap=int(args.get("--gap", ref.DEFAULT_GAP)),
    )


def assert_agrees(config: Path, data_dir: Path, tmp_path: Path, signal: str, *extra: str) -> None:
    listed, stored = run_command(config, data_dir, tmp_path / "results", signal, *extra)
    want = ref.episodes(reference_request(config, data_dir, signal, extra))
    assert [e["date"] for e in listed] == [e["date"] for e in want["episodes"]]
    assert_same(listed, want["episodes"], "stdout")
    for key in ("config", "signal", "direction", "threshold", "synthetic", "episodes", "summary"):
        assert_same(stored.get(key), want[key], f"stored.{key}")
    obs = stored["observations"]
    counted = {v for k, v in obs.items() if k not in ("first", "last")}
    assert want["observations"]["count"] in counted, obs
    assert (obs.get("first"), obs.get("last")) == (want["observations"]["first"], want["observations"]["last"])


GENERATED_CASES = [
    ("local", "corr", ()),
    ("local", "corr", ("--percentile", "10")),
    ("local", "corr", ("--threshold", "0.0")),
    ("local", "corr", ("--threshold", "0.2", "--gap", "0")),
    ("local", "corr_info", ("--threshold", "0.3", "--since", "2018-01-01")),
    ("local", "corr_union", ("--percentile", "10", "--gap", "5")),
    ("local", "corr_union_info", ("--threshold", "0.25")),
    ("local", "corr", ("--high", "--percentile", "90")),
    ("base", "corr", ("--threshold", "0.0")),
    ("base", "corr_info", ("--percentile", "10")),
    ("base", "corr_union", ("--threshold", "0.2")),
    ("base", "corr_union_info", ("--percentile", "10", "--since", "2017-06-01")),
    ("base/late_fx", "corr", ("--threshold", "0.0")),
    ("base/late_fx", "corr_info", ("--percentile", "10")),
    ("base/late_fx", "corr_union_info", ("--threshold", "0.3")),
]


@pytest.mark.slow
@pytest.mark.parametrize(("currency", "signal", "extra"), GENERATED_CASES)
def test_command_agrees_on_generated_data(
    generated: dict[str, Path], tmp_path: Path, currency: str, signal: str, extra: tuple[str, ...]
) -> None:
    direction = () if "--high" in extra else ("--low",)
    config, _, data = currency.partition("/")
    assert_agrees(generated[config], generated[data or "data"], tmp_path, signal, *direction, *extra)


def shipped_config(name: str) -> Path:
    """``configs/episodes/NAME.yaml`` (``configs/NAME.yaml`` before the move)."""
    return REPO / "configs" / "episodes" / f"{name}.yaml"


REAL_CASES = [
    ("hsi_spx_divergence", "corr", ()),
    ("hsi_spx_divergence", "corr_info", ()),
    ("hsi_spx_divergence", "corr_union", ()),
    ("hsi_spx_divergence", "corr", ("--since", "2020-01-01")),
    ("hsi_spx_divergence", "corr", ("--threshold", "0.0")),
    ("hsi_spx_divergence", "corr_union", ("--percentile", "2")),
    ("hsi_spx_divergence_usd", "corr", ()),
    ("hsi_spx_divergence_usd", "corr_info", ()),
    ("hsi_spx_divergence_usd", "corr_union", ("--since", "2015-01-01")),
]


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize(("config", "signal", "extra"), REAL_CASES)
def test_command_agrees_on_the_real_data(
    data_dir: Path, tmp_path: Path, config: str, signal: str, extra: tuple[str, ...]
) -> None:
    assert_agrees(shipped_config(config), data_dir, tmp_path, signal, "--low", *extra)


#: docs/episodes.md, "The 2025 headline, reproduced": config, signal, date, value, Fisher, bootstrap, rank,
#: most extreme since, share of earlier observations a 5% test cannot tell apart (percent).
HEADLINE = [
    ("hsi_spx_divergence", "corr", "2025-02-24", -0.099, (-0.30, 0.11), (-0.28, 0.13), 115, "2005-09-26", 58),
    ("hsi_spx_divergence_usd", "corr", "2025-02-24", -0.102, (-0.30, 0.11), (-0.29, 0.13), 1, None, 49),
    ("hsi_spx_divergence", "corr_info", "2025-02-26", 0.017, (-0.19, 0.22), (-0.17, 0.20), 141, "2024-06-06", 32),
    ("hsi_spx_divergence_usd", "corr_info", "2025-02-26", 0.019, (-0.19, 0.23), (-0.16, 0.20), 48, "2024-06-06", 34),
    ("hsi_spx_divergence", "corr_union", "2025-03-07", -0.102, (-0.30, 0.11), (-0.24, 0.07), 225, "2022-11-10", 62),
    ("hsi_spx_divergence_usd", "corr_union", "2025-03-07", -0.104, (-0.30, 0.11), (-0.24, 0.07), 31, "2022-11-10", 55),
]


@pytest.mark.realdata
@pytest.mark.parametrize(("config", "signal", "date", "value", "ci", "boot", "rank", "since", "close"), HEADLINE)
def test_reference_reproduces_the_documented_headline(
    data_dir: Path, config: str, signal: str, date: str, value, ci, boot, rank, since, close
) -> None:
    doc = ref.episodes(ref.Request(shipped_config(config), data_dir, signal, since="2024-10-01"))
    early = [e for e in doc["episodes"] if e["date"] < "2025-06-01"]
    (episode,) = [e for e in early if e["start"] <= date <= e["end"]]
    assert episode["date"] == date and round(episode["value"], 3) == value
    assert (round(episode["ci_low"], 2), round(episode["ci_high"], 2)) == ci
    assert (round(episode["bootstrap_low"], 2), round(episode["bootstrap_high"], 2)) == boot
    assert (episode["rank"], episode["most_extreme_since"], episode["record"]) == (rank, since, since is None)
    assert round(100 * episode["indistinguishable"]["share"]) == close


@pytest.mark.realdata
def test_reference_reproduces_the_documented_lows_of_2000_and_2005(data_dir: Path) -> None:
    hkd = ref.episodes(ref.Request(shipped_config("hsi_spx_divergence"), data_dir, "corr"))["episodes"]
    usd = ref.episodes(ref.Request(shipped_config("hsi_spx_divergence_usd"), data_dir, "corr"))["episodes"]
    by_date = {e["date"]: e["value"] for e in hkd}
    assert round(by_date["2000-03-21"], 3) == -0.146 and round(by_date["2005-09-26"], 3) == -0.110
    assert round({e["date"]: e["value"] for e in usd}["2005-09-26"], 3) == -0.089
