"""engine/comparison.py: tiny hand-computed curves, the arithmetic in the comments."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine.metrics.frames as cmp
from engine.metrics.frames import (
    betas,
    common_window,
    rebase,
    relative_metrics,
    row_metrics,
    switches_per_year,
    turnover_per_year,
    year_returns,
)


def _curve(values: list[float], dates: list[str]) -> pd.Series:
    return pd.Series(values, index=pd.DatetimeIndex(dates), dtype=float)


# Tue 2 Jan 2024 ... Tue 9 Jan 2024 (the weekend 6-7 Jan skipped)
SIX_DATES = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"]
SIX = _curve([100.0, 110.0, 99.0, 105.0, 121.0, 120.0], SIX_DATES)


def test_public_api_is_listed_and_documented() -> None:
    assert set(cmp.__all__) == {
        "betas", "common_window", "longest_drawdown_days", "partial_years", "partial_years_between", "rebase",
        "rebase_after",
        "regime_metrics", "relative_metrics", "row_metrics", "starts_mixed", "switches_per_year",
        "turnover_per_year", "year_returns",
    }  # fmt: skip
    for name in cmp.__all__:
        assert getattr(cmp, name).__doc__


def test_row_metrics_six_date_curve() -> None:
    row = row_metrics(SIX, 100.0)
    assert row["total_return"] == pytest.approx(0.2)  # 120 / 100 - 1
    assert row["final_value"] == 120.0
    assert row["max_drawdown"] == pytest.approx(-0.1)  # 99 / 110 - 1, the deepest point
    # peak 110 on 3 Jan, under water 4-5 Jan, regained by 121 on 8 Jan: 8 - 3 = 5 days;
    # 120 on 9 Jan is under 121 of 8 Jan: 1 day.  Longest: 5.
    assert row["longest_drawdown_days"] == 5
    years = 7 / 365.25  # 2 Jan -> 9 Jan
    ppy = 5 / years  # 6 dates, 5 periods
    assert row["years"] == pytest.approx(years)
    assert row["periods_per_year"] == pytest.approx(ppy)
    assert row["cagr"] == pytest.approx(1.2 ** (1 / years) - 1)
    assert row["calmar"] == pytest.approx(row["cagr"] / 0.1)
    r = np.array([0.0, 0.1, -0.1, 6 / 99, 16 / 105, -1 / 121])  # 100/100-1, 110/100-1, 99/110-1, ...
    assert row["ann_vol"] == pytest.approx(np.std(r, ddof=1) * math.sqrt(ppy))
    assert row["sharpe"] == pytest.approx(np.mean(r) / np.std(r, ddof=1) * math.sqrt(ppy))
    # downside deviation over all 6 days: only -0.1 and -1/121 are negative
    downside = math.sqrt((0.1**2 + (1 / 121) ** 2) / 6)
    assert row["sortino"] == pytest.approx(np.mean(r) / downside * math.sqrt(ppy))
    # one calendar year, 2 Jan -> 9 Jan: partial (ends before 29 Dec)
    assert row["worst_year"] == pytest.approx(0.2)
    assert row["worst_year_label"] == "2024 (partial)"


def test_longest_drawdown_initial_is_first_peak_and_unrecovered_runs_to_the_end() -> None:
    # initial 100 dated 2 Jan; 90 on 2 Jan is already under water; 95 on 9 Jan never regains 100
    curve = _curve([90.0, 95.0], ["2024-01-02", "2024-01-09"])
    assert cmp.longest_drawdown_days(curve, 100.0) == 7  # 9 Jan - 2 Jan
    # a peak repeated on two dates: the drawdown counts from the later one
    curve = _curve([110.0, 110.0, 100.0, 110.0], ["2024-01-02", "2024-01-05", "2024-01-08", "2024-01-10"])
    assert cmp.longest_drawdown_days(curve, 100.0) == 5  # 10 Jan - 5 Jan, not - 2 Jan


def test_year_returns_across_a_year_boundary_and_partial_labels() -> None:
    curve = _curve([110.0, 99.0, 121.0, 108.9], ["2023-06-30", "2023-12-29", "2024-01-02", "2024-03-28"])
    by_year = year_returns(curve, 100.0)
    assert by_year == pytest.approx({2023: -0.01, 2024: 0.1})  # 99/100 - 1; 108.9/99 - 1
    row = row_metrics(curve, 100.0)
    assert row["worst_year"] == pytest.approx(-0.01)
    assert row["worst_year_label"] == "2023 (partial)"  # starts 30 Jun


def test_worst_year_complete_year_has_no_partial_flag() -> None:
    # 2022 from 3 Jan to 30 Dec is complete: 80/100 - 1 = -0.2; 2023 ends 30 Jun: 90/80 - 1 = +0.125, partial
    curve = _curve([100.0, 80.0, 90.0], ["2022-01-03", "2022-12-30", "2023-06-30"])
    assert year_returns(curve, 100.0) == pytest.approx({2022: -0.2, 2023: 0.125})
    assert cmp.partial_years(curve) == {2023}
    row = row_metrics(curve, 100.0)
    assert (row["worst_year"], row["worst_year_label"]) == (pytest.approx(-0.2), "2022")


def test_rebase_sub_period_starts_from_previous_close() -> None:
    cut, start = rebase(SIX, SIX.index[2], SIX.index[4], initial=100.0)
    assert list(cut) == [99.0, 105.0, 121.0]
    assert start == 110.0  # the close of 3 Jan, the date before 4 Jan
    row = row_metrics(cut, start)
    assert row["total_return"] == pytest.approx(0.1)  # 121 / 110 - 1
    assert row["max_drawdown"] == pytest.approx(-0.1)  # 99 / 110 - 1: the first day's fall counts
    # a first date between dates (Sat 6 Jan): the cut starts Mon 8 Jan, from Fri 5 Jan's 105
    cut, start = rebase(SIX, dt.date(2024, 1, 6), dt.date(2024, 1, 9), initial=100.0)
    assert (list(cut), start) == ([121.0, 120.0], 105.0)


def test_rebase_at_the_curve_start_uses_initial_cash() -> None:
    curve = _curve([99.5, 101.0], SIX_DATES[:2])  # 0.5 of costs paid on the first day
    assert rebase(curve, curve.index[0], curve.index[-1], initial=100.0)[1] == 100.0
    assert rebase(curve, curve.index[0], curve.index[-1], initial=None)[1] == 99.5  # no pre-start value
    with pytest.raises(ValueError, match="before the curve"):
        rebase(curve, dt.date(2023, 12, 29), curve.index[-1], initial=100.0)


def test_relative_metrics_identical_curves() -> None:
    rel = relative_metrics(SIX, SIX.copy(), 100.0, 100.0, 250.0)
    assert rel["excess_return"] == 0.0
    assert rel["tracking_error"] == 0.0
    assert math.isnan(rel["information_ratio"])  # zero tracking error


def test_relative_metrics_constant_daily_outperformance() -> None:
    # 2020-01-01 -> 2024-01-01 = 1461 days = 4 years; 4 dates, ppy = 3 / 4 = 0.75
    dates = ["2020-01-01", "2021-01-01", "2022-01-01", "2024-01-01"]
    r_b = np.array([0.01, -0.01, 0.01, -0.01])
    bench = _curve(list(100.0 * np.cumprod(1 + r_b)), dates)
    strat = bench * 1.01 ** np.arange(1, 5)  # (1 + r_s) = (1 + r_b) * 1.01 every day
    rel = relative_metrics(strat, bench, 100.0, 100.0, 0.75)
    # d = r_s - r_b = 0.01 (1 + r_b) = [0.0101, 0.0099, 0.0101, 0.0099]
    # mean 0.01; std(ddof=1) = sqrt(4 * 0.0001^2 / 3) = 0.0002 / sqrt(3)
    # IR = 0.01 / (0.0002 / sqrt 3) * sqrt(0.75) = 50 * sqrt(3 * 0.75) = 50 * 1.5 = 75
    assert rel["information_ratio"] == pytest.approx(75.0, rel=1e-6)
    assert rel["tracking_error"] == pytest.approx(0.0002 / math.sqrt(3) * math.sqrt(0.75))  # = 0.0001
    # CAGR_b = (1.01 * 0.99)^(2/4) - 1 = sqrt(0.9999) - 1; CAGR_s = 1.01 * sqrt(0.9999) - 1
    # excess = difference of the CAGRs = 0.01 * sqrt(0.9999) = 0.0099995
    assert rel["excess_return"] == pytest.approx(0.01 * math.sqrt(0.9999), rel=1e-9)


def test_relative_metrics_needs_the_same_dates() -> None:
    with pytest.raises(ValueError, match="same dates"):
        relative_metrics(SIX, SIX.iloc[1:], 100.0, 100.0, 250.0)


def test_beta_of_twice_leveraged_returns_is_two_and_orthogonal_market_zero() -> None:
    dates = SIX_DATES[:5]
    us_r = np.array([0.01, -0.01, 0.01, -0.01])
    hk_r = np.array([0.01, 0.01, -0.01, -0.01])  # sum(us_r * hk_r) = 0: uncorrelated with US
    us = _curve(list(100.0 * np.cumprod(np.r_[1.0, 1 + us_r])), dates)
    hk = _curve(list(100.0 * np.cumprod(np.r_[1.0, 1 + hk_r])), dates)
    # strategy: 1000 on day 1 (first return 0, left out), then 2x the US return every day
    value = _curve(list(1000.0 * np.cumprod(np.r_[1.0, 1 + 2 * us_r])), dates)
    b = betas(value, 1000.0, {"US": us, "HK": hk})
    assert b["US"] == pytest.approx(2.0, rel=1e-12)  # cov(2m, m) / var(m)
    assert b["HK"] == pytest.approx(0.0, abs=1e-12)  # univariate: cov(2 us, hk) = 0
    flat = _curve([100.0] * 5, dates)
    assert math.isnan(betas(value, 1000.0, {"flat": flat})["flat"])


def test_flat_curve_gives_nan_ratios_without_warnings() -> None:
    flat = _curve([100.0] * 6, SIX_DATES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = row_metrics(flat, 100.0)
        rel = relative_metrics(flat, flat, 100.0, 100.0, 250.0)
    for key in ("sharpe", "sortino", "calmar"):
        assert math.isnan(row[key])
    assert (row["total_return"], row["cagr"], row["ann_vol"], row["max_drawdown"]) == (0.0, 0.0, 0.0, 0.0)
    assert (row["longest_drawdown_days"], row["worst_year"]) == (0, 0.0)
    assert math.isnan(rel["information_ratio"])


def test_common_window_intersects_runs_and_period() -> None:
    a = _curve([1.0] * 6, SIX_DATES)
    b = _curve([1.0] * 4, SIX_DATES[1:5])  # 3 Jan -> 8 Jan
    assert common_window({"a": a, "b": b}, None) == (pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-08"))
    # period 4 Jan -> Sun 7 Jan: snapped to the dates present, 4 Jan -> 5 Jan
    window = common_window({"a": a, "b": b}, (dt.date(2024, 1, 4), dt.date(2024, 1, 7)))
    assert window == (pd.Timestamp("2024-01-04"), pd.Timestamp("2024-01-05"))
    assert common_window({"a": a}, (None, dt.date(2024, 1, 4))) == (SIX.index[0], SIX.index[2])


def test_common_window_errors_name_the_runs() -> None:
    a = _curve([1.0] * 2, SIX_DATES[:2])
    late = _curve([1.0] * 2, SIX_DATES[4:])
    with pytest.raises(ValueError, match=r"'late'.*'a'.*do not overlap"):
        common_window({"a": a, "late": late}, None)
    with pytest.raises(ValueError, match="after run 'a' ends"):
        common_window({"a": a}, (dt.date(2024, 2, 1), None))
    with pytest.raises(ValueError, match=r"runs 'a', 'b' share 1 date in .*; a comparison needs at least 2"):
        common_window({"a": _curve([1.0] * 4, SIX_DATES[:4]), "b": _curve([1.0] * 3, SIX_DATES[3:])}, None)
    weekend = (dt.date(2024, 1, 6), dt.date(2024, 1, 7))  # inside the run, no date of it
    with pytest.raises(ValueError, match=r"run 'a' has 0 dates in 2024-01-06→2024-01-07; a comparison needs"):
        common_window({"a": _curve([1.0] * 6, SIX_DATES)}, weekend)


def test_turnover_and_switches_restricted_to_the_window() -> None:
    value = _curve([100.0, 300.0], ["2022-01-03", "2024-01-03"])  # mean 200, 2 years
    # 40 traded before the window is ignored; 200 + 120 inside: 320 / 2 / 200 / 2 = 0.4 a year
    traded = _curve([40.0, 200.0, 120.0], ["2021-06-01", "2022-01-03", "2023-05-02"])
    assert turnover_per_year(traded, value, 2.0) == pytest.approx(0.4)
    assert math.isnan(turnover_per_year(traded, value, 0.0))
    # 2022-01-03 -> 2024-01-03 = 730 days = 730 / 365.25 years; switches on both ends count
    switches = [dt.date(2021, 1, 4), dt.date(2022, 1, 3), dt.date(2023, 1, 3), dt.date(2024, 1, 3)]
    assert switches_per_year(switches, dt.date(2022, 1, 3), dt.date(2024, 1, 3)) == pytest.approx(3 / (730 / 365.25))
    assert math.isnan(switches_per_year(switches, dt.date(2022, 1, 3), dt.date(2022, 1, 3)))


@given(
    daily=hnp.arrays(float, st.integers(1, 60), elements=st.floats(-0.5, 0.5)),
    initial=st.floats(1.0, 1e4),
)
def test_row_metrics_properties(daily: np.ndarray, initial: float) -> None:
    # random positive curves built from daily returns in [-50%, +50%] (a bigger one-day
    # gain annualised over a one-day window overflows the CAGR's float power)
    values = initial * np.cumprod(1.0 + daily)
    curve = pd.Series(values, index=pd.bdate_range("2023-12-20", periods=len(values)))
    row = row_metrics(curve, initial)
    assert row["total_return"] == values[-1] / initial - 1
    assert -1.0 <= row["max_drawdown"] <= 0.0
    assert 0 <= row["longest_drawdown_days"] <= (curve.index[-1] - curve.index[0]).days


def test_the_first_cash_return_is_from_the_date_every_row_is_measured_from() -> None:
    """Measured from a common date's close (runs starting on it beside runs already running), the first
    risk-free return is the interest from that date, not from the run's own previous date (on another
    calendar, a later one)."""
    from types import SimpleNamespace

    from engine.compare_rates import risk_free_returns as _risk_free

    dates = pd.to_datetime(["2010-07-01", "2010-07-02", "2010-07-05", "2010-07-06"])
    index = pd.Series([1.0, 1.001, 1.002, 1.004], index=dates)  # one unit of cash, growing
    run = SimpleNamespace(equity=pd.DataFrame({"cash_index": index}))
    common = pd.DatetimeIndex(["2010-07-06"])
    own = _risk_free(run, common, starts_at_run=False)  # type: ignore[arg-type]
    assert own[0] == pytest.approx(1.004 / 1.002 - 1)  # from the run's previous date
    based = _risk_free(run, common, starts_at_run=False, base=pd.Timestamp("2010-07-01"))  # type: ignore[arg-type]
    assert based[0] == pytest.approx(1.004 / 1.0 - 1)  # from the common close every row starts from


def test_runs_on_different_sources_are_named_by_group_the_odd_one_first() -> None:
    """`compare --runs latest` over a store with one synthetic run: the message names that run, and the
    ten others by their count, not eleven names in a row."""
    from types import SimpleNamespace

    from engine.compare_data import data_mismatch

    def run(name: str, source: str) -> SimpleNamespace:
        return SimpleNamespace(name=name, manifest={"data_source": source})

    runs = (
        [run(f"c{i}", "csv") for i in range(5)]
        + [run("vix_rot", "synthetic")]
        + [run(f"d{i}", "csv") for i in range(5)]
    )
    assert data_mismatch(runs) == "sources synthetic: vix_rot; csv: the 10 others"  # type: ignore[arg-type]
    few = [run("a", "csv"), run("b", "synthetic"), run("c", "csv")]
    assert data_mismatch(few) == "sources synthetic: b; csv: a, c"  # type: ignore[arg-type]


def test_two_runs_on_the_same_rate_series_are_not_said_to_have_other_rates() -> None:
    """Each run compounds its cash rate over its own dates: a day's rate may differ in its last bit between two
    runs of the same series, which is the same rate; a T-bill against zero is another."""
    from engine.compare_rates import other_rate

    rng = np.random.default_rng(2)
    irx = rng.uniform(0.0, 2e-4, 2000)
    rf = {"a": irx, "b": irx * (1 + 2.2e-16 * rng.choice([-1.0, 0.0, 1.0], 2000)), "zero": np.zeros(2000)}
    assert not other_rate(rf, "b", "a")
    assert other_rate(rf, "zero", "a") and other_rate(rf, "a", "zero")
