"""The compare path reads the metric specs: relative metrics from the reference's own V_-1, given years.

Tiny hand-computed curves, the arithmetic in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.metrics import frames, specs
from engine.metrics.specs import Curves

# 2020-01-01 -> 2024-01-01 = 1461 days = 4.0 years; 4 dates, 3 periods: ppy = 0.75
DATES = pd.DatetimeIndex(["2020-01-01", "2021-01-01", "2022-01-01", "2024-01-01"])
STRATEGY = np.array([110.0, 99.0, 108.9, 130.68])  # from 100: r = 0.1, -0.1, 0.1, 0.2
REFERENCE = np.array([44.0, 44.0, 44.0, 44.0])  # from its own 40: r_b = 0.1, 0, 0, 0

# d = r - r_b = [0, -0.1, 0.1, 0.2]: mean 0.05, squared deviations 0.0025 + 0.0225 + 0.0025 + 0.0225 = 0.05
SD = math.sqrt(0.05 / 3)
TRACKING_ERROR = SD * math.sqrt(0.75)
INFORMATION_RATIO = 0.05 / SD * math.sqrt(0.75)
EXCESS = (130.68 / 100.0) ** 0.25 - 1.1**0.25  # difference of the CAGRs over 4 years


def test_relative_specs_start_the_reference_from_its_own_value_before_the_first_date() -> None:
    curves = Curves(DATES, STRATEGY[:, None], 100.0, reference=REFERENCE, reference_initial=40.0)
    out = specs.compute(("excess_return", "tracking_error", "information_ratio"), curves)
    assert out["excess_return"][0] == pytest.approx(EXCESS, rel=1e-12)
    assert out["tracking_error"][0] == pytest.approx(TRACKING_ERROR, rel=1e-12)
    assert out["information_ratio"][0] == pytest.approx(INFORMATION_RATIO, rel=1e-12)


def test_without_reference_initial_the_reference_starts_from_the_strategys_cash() -> None:
    # a benchmark run beside the strategy from the same cash: r_b = 44/100 - 1 = -0.56 on the first date
    curves = Curves(DATES, STRATEGY[:, None], 100.0, reference=REFERENCE)
    d = np.array([0.1 + 0.56, -0.1, 0.1, 0.2])
    expected = d.mean() / d.std(ddof=1) * math.sqrt(0.75)
    assert specs.spec("information_ratio")(curves)[0] == pytest.approx(expected, rel=1e-12)


def test_relative_specs_are_nan_without_a_reference() -> None:
    curves = Curves(DATES, STRATEGY[:, None], 100.0)
    out = specs.compute(("excess_return", "tracking_error", "information_ratio"), curves)
    assert all(math.isnan(v[0]) for v in out.values())


def test_frames_relative_metrics_are_the_specs() -> None:
    rel = frames.relative_metrics(pd.Series(STRATEGY, DATES), pd.Series(REFERENCE, DATES), 100.0, 40.0, 0.75)
    curves = Curves(DATES, STRATEGY[:, None], 100.0, reference=REFERENCE, reference_initial=40.0)
    assert rel == {k: v.item() for k, v in specs.compute(list(rel), curves).items()}
    assert rel["information_ratio"] == pytest.approx(INFORMATION_RATIO, rel=1e-12)


def test_given_periods_per_year_annualises_the_relative_metrics() -> None:
    # the same d annualised with ppy = 3 instead of the dates' 0.75: twice the IR and tracking error
    rel = frames.relative_metrics(pd.Series(STRATEGY, DATES), pd.Series(REFERENCE, DATES), 100.0, 40.0, 3.0)
    assert rel["information_ratio"] == pytest.approx(2 * INFORMATION_RATIO, rel=1e-12)
    assert rel["tracking_error"] == pytest.approx(2 * TRACKING_ERROR, rel=1e-12)


def test_turnover_per_year_is_the_turnover_spec_on_the_window() -> None:
    value = pd.Series([100.0, 120.0, 80.0, 100.0], DATES)  # mean V = 100
    # 1,000 traded before the window and 50 after it do not count: 300 / 2 / 100 / 4 years = 0.375
    traded = pd.Series([1000.0, 200.0, 100.0, 50.0], pd.DatetimeIndex(["2019-06-03", *DATES[1:3], "2024-06-03"]))
    assert frames.turnover_per_year(traded, value, 4.0) == pytest.approx(0.375, rel=1e-12)
    # the years given win over the dates' own: 300 / 2 / 100 / 2
    assert frames.turnover_per_year(traded, value, 2.0) == pytest.approx(0.75, rel=1e-12)
    assert math.isnan(frames.turnover_per_year(traded, value, 0.0))
    curves = Curves(DATES, value.to_numpy()[:, None], 100.0, traded=np.array([300.0]))
    assert frames.turnover_per_year(traded, value, 4.0) == specs.spec("turnover")(curves)[0]


def test_switches_per_year_is_the_spec_over_the_window() -> None:
    switches = pd.DatetimeIndex(["2019-12-31", "2020-01-01", "2022-06-01", "2024-01-02"])
    # 2020-01-01 and 2022-06-01 fall in the 4-year window: 2 / 4
    assert frames.switches_per_year(switches, DATES[0], DATES[-1]) == 0.5
    assert math.isnan(frames.switches_per_year(switches, DATES[0], DATES[0]))


def test_a_compare_row_reads_every_number_from_its_spec() -> None:
    value = pd.Series(STRATEGY, DATES)
    rf = np.full(4, 0.01)
    row = frames.row_metrics(value, 100.0, risk_free=rf)
    curves = Curves(DATES, STRATEGY[:, None], 100.0, risk_free=rf)
    names = [k for k in row if k not in ("worst_year_label", "years", "periods_per_year")]
    assert {k: row[k] for k in names} == {k: v.item() for k, v in specs.compute(names, curves).items()}
    assert isinstance(row["longest_drawdown_days"], int)
    assert (row["years"], row["periods_per_year"]) == (4.0, 0.75)
