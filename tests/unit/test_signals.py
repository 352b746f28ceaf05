"""Hand computations for every built-in signal, and the registry's refusals.

One tiny panel serves all signals; its Hong Kong holiday shows how a carried-forward price
enters each formula::

    row  date        us    hk
    0    2024-01-02  100   50
    1    2024-01-03  102   52
    2    2024-01-04  101   --   HK closed: its price stays 52 (carried forward)
    3    2024-01-05  104   51
    4    2024-01-08  103   49
    5    2024-01-09  106   50
    6    2024-01-10  105   53
    7    2024-01-11  108   52

Log returns r[t] = ln(P[t] / P[t-1]); the holiday gives HK a zero return (ln(52/52)) on row 2.
Expected values are written as the arithmetic they come from; oracles are the standard
library (``statistics``) and ``np.corrcoef``, never the pandas calls the signals use.
"""

from __future__ import annotations

import math
from statistics import covariance, mean, stdev, variance

import numpy as np
import pandas as pd
import pytest
from pydantic import PositiveInt, ValidationError

from strategies import REGISTRY, AssetRef, SignalInputs, get_signal, signal
from tests.helpers import panel_from_closes, real_frames

ln = math.log
NAN = float("nan")
DATES = pd.to_datetime(
    ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11"]
)
US = [100.0, 102.0, 101.0, 104.0, 103.0, 106.0, 105.0, 108.0]
HK_TRADED = [50.0, 52.0, 51.0, 49.0, 50.0, 53.0, 52.0]  # no row for 2024-01-04
HK = [50.0, 52.0, 52.0, 51.0, 49.0, 50.0, 53.0, 52.0]  # as signals see it: 52 carried over the holiday

# r_us[t] = ln(US[t]/US[t-1]),  r_hk[t] = ln(HK[t]/HK[t-1])
R_US = [NAN, ln(102 / 100), ln(101 / 102), ln(104 / 101), ln(103 / 104), ln(106 / 103), ln(105 / 106), ln(108 / 105)]
R_HK = [NAN, ln(52 / 50), ln(52 / 52), ln(51 / 52), ln(49 / 51), ln(50 / 49), ln(53 / 50), ln(52 / 53)]


@pytest.fixture(scope="module")
def x() -> SignalInputs:
    hk_dates = DATES.delete(2)
    panel = panel_from_closes(
        {"us": pd.Series(US, index=DATES), "hk": pd.Series(HK_TRADED, index=hk_dates)}, {"us": "us", "hk": "hk"}
    )
    out = panel.signal_inputs()
    assert out.prices["hk"].tolist() == HK  # the holiday row carries 52 forward
    assert out.traded["hk"].tolist() == [True, True, False, True, True, True, True, True]
    return out


def run(x: SignalInputs, fn: str, **params) -> np.ndarray:
    sdef = REGISTRY[fn]
    return sdef(x, **sdef.params(**params).model_dump())


def check(got: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-12, atol=0.0, equal_nan=True)


def corr(pairs: list[tuple[float, float]]) -> float:
    u, v = zip(*pairs, strict=True)
    return float(np.corrcoef(u, v)[0, 1])


# ----------------------------------------------------------------------------- momentum


def test_momentum_us(x):
    # P[t] / P[t-2] - 1: rows 0 and 1 have no price two rows back
    expected = [NAN, NAN, 101 / 100 - 1, 104 / 102 - 1, 103 / 101 - 1, 106 / 104 - 1, 105 / 103 - 1, 108 / 106 - 1]
    check(run(x, "momentum", a="us", window=2), expected)


def test_momentum_hk_across_the_holiday(x):
    # row 2 compares the carried 52 with row 0; row 4 compares 49 with the carried 52 of row 2
    expected = [NAN, NAN, 52 / 50 - 1, 51 / 52 - 1, 49 / 52 - 1, 50 / 51 - 1, 53 / 49 - 1, 52 / 50 - 1]
    check(run(x, "momentum", a="hk", window=2), expected)


def test_relative_momentum_is_a_minus_b(x):
    us = [NAN, NAN, 101 / 100 - 1, 104 / 102 - 1, 103 / 101 - 1, 106 / 104 - 1, 105 / 103 - 1, 108 / 106 - 1]
    hk = [NAN, NAN, 52 / 50 - 1, 51 / 52 - 1, 49 / 52 - 1, 50 / 51 - 1, 53 / 49 - 1, 52 / 50 - 1]
    check(run(x, "relative_momentum", a="us", b="hk", window=2), [u - h for u, h in zip(us, hk, strict=True)])
    check(run(x, "relative_momentum", a="hk", b="us", window=2), [h - u for u, h in zip(us, hk, strict=True)])


# ----------------------------------------------------------------------------- rolling_corr


def test_rolling_corr_sync_returns_pairs_same_dates(x):
    # window 3 of same-date return pairs (r_us[d], r_hk[d]); r[0] is NaN, so rows 0-2 are NaN
    expected = [NAN, NAN, NAN]
    expected.append(corr([(ln(102 / 100), ln(52 / 50)), (ln(101 / 102), 0.0), (ln(104 / 101), ln(51 / 52))]))  # 3
    expected.append(corr([(ln(101 / 102), 0.0), (ln(104 / 101), ln(51 / 52)), (ln(103 / 104), ln(49 / 51))]))  # 4
    expected.append(corr([(ln(104 / 101), ln(51 / 52)), (ln(103 / 104), ln(49 / 51)), (ln(106 / 103), ln(50 / 49))]))
    expected.append(corr([(ln(103 / 104), ln(49 / 51)), (ln(106 / 103), ln(50 / 49)), (ln(105 / 106), ln(53 / 50))]))
    expected.append(corr([(ln(106 / 103), ln(50 / 49)), (ln(105 / 106), ln(53 / 50)), (ln(108 / 105), ln(52 / 53))]))
    check(run(x, "rolling_corr", a="us", b="hk", window=3, on="returns", align="sync"), expected)


def test_rolling_corr_async_returns_pairs_hk_day_with_previous_us_day(x):
    # Hong Kong closes first: HK's return of d is paired with New York's return of d-1.
    # Row 3 would need r_us[0] (NaN), so rows 0-3 are NaN (warm-up window + 1 = 4).
    # Pairs are (r_hk[d], r_us[d-1]):
    expected = [NAN, NAN, NAN, NAN]
    # row 4: HK 01-04 (holiday, 0), 01-05, 01-08  with  US 01-03, 01-04, 01-05
    expected.append(corr([(0.0, ln(102 / 100)), (ln(51 / 52), ln(101 / 102)), (ln(49 / 51), ln(104 / 101))]))
    # row 5: HK 01-05, 01-08, 01-09  with  US 01-04, 01-05, 01-08
    expected.append(corr([(ln(51 / 52), ln(101 / 102)), (ln(49 / 51), ln(104 / 101)), (ln(50 / 49), ln(103 / 104))]))
    # row 6: HK 01-08, 01-09, 01-10  with  US 01-05, 01-08, 01-09
    expected.append(corr([(ln(49 / 51), ln(104 / 101)), (ln(50 / 49), ln(103 / 104)), (ln(53 / 50), ln(106 / 103))]))
    # row 7: HK 01-09, 01-10, 01-11  with  US 01-08, 01-09, 01-10
    expected.append(corr([(ln(50 / 49), ln(103 / 104)), (ln(53 / 50), ln(106 / 103)), (ln(52 / 53), ln(105 / 106))]))
    check(run(x, "rolling_corr", a="us", b="hk", window=3, on="returns", align="async"), expected)
    # the pairing follows the markets, not the argument order
    check(run(x, "rolling_corr", a="hk", b="us", window=3, on="returns", align="async"), expected)


def test_rolling_corr_async_is_one_when_hk_copies_the_previous_us_day():
    # HK's move on d is exactly New York's move on d-1 (r_hk[d] = r_us[d-1]): the async
    # correlation is 1 once warmed up, the naive same-date correlation is not.
    us = [100.0, 103.0, 101.0, 104.0, 100.0, 102.0, 105.0, 103.0]
    hk = [50.0, 50.0] + [50.0 * us[d - 1] / us[0] for d in range(2, 8)]  # hk[d]/hk[d-1] = us[d-1]/us[d-2]
    panel = panel_from_closes(
        {"us": pd.Series(us, index=DATES), "hk": pd.Series(hk, index=DATES)}, {"us": "us", "hk": "hk"}
    )
    xs = panel.signal_inputs()
    got = run(xs, "rolling_corr", a="us", b="hk", window=3, align="async")
    # rows 0-3 warm-up; row 4 pairs r_hk[2..4] with r_us[1..3], and r_hk[2] = r_us[1] ...
    check(got, [NAN, NAN, NAN, NAN, 1.0, 1.0, 1.0, 1.0])
    sync = run(xs, "rolling_corr", a="us", b="hk", window=3, align="sync")
    assert np.all(sync[4:] < 0.9)


def test_rolling_corr_sync_levels(x):
    # window 3 of same-date price levels (US[d], HK[d]); no return needed, so rows 0-1 are NaN
    expected = [NAN, NAN]
    expected.append(corr([(100, 50), (102, 52), (101, 52)]))  # row 2: HK's carried 52
    expected.append(corr([(102, 52), (101, 52), (104, 51)]))
    expected.append(corr([(101, 52), (104, 51), (103, 49)]))
    expected.append(corr([(104, 51), (103, 49), (106, 50)]))
    expected.append(corr([(103, 49), (106, 50), (105, 53)]))
    expected.append(corr([(106, 50), (105, 53), (108, 52)]))
    check(run(x, "rolling_corr", a="us", b="hk", window=3, on="levels", align="sync"), expected)


def test_rolling_corr_async_levels(x):
    # (HK[d], US[d-1]) over 3 rows: rows 0-2 are NaN (window - 1 + 1)
    expected = [NAN, NAN, NAN]
    expected.append(corr([(52, 100), (52, 102), (51, 101)]))  # row 3: HK rows 1-3, US rows 0-2
    expected.append(corr([(52, 102), (51, 101), (49, 104)]))
    expected.append(corr([(51, 101), (49, 104), (50, 103)]))
    expected.append(corr([(49, 104), (50, 103), (53, 106)]))
    expected.append(corr([(50, 103), (53, 106), (52, 105)]))
    check(run(x, "rolling_corr", a="us", b="hk", window=3, on="levels", align="async"), expected)


def test_rolling_corr_same_market_async_is_sync_one_row_later(x):
    # two assets of one market have no lead-lag: async is the sync value of the previous row
    both_us = SignalInputs(
        dates=x.dates,
        prices={"a": x.prices["us"], "b": x.prices["hk"]},
        traded={"a": x.traded["us"], "b": x.traded["hk"]},
        markets={"a": "us", "b": "us"},
        close_order=x.close_order,
    )
    sync = run(both_us, "rolling_corr", a="a", b="b", window=3, align="sync")
    check(run(both_us, "rolling_corr", a="a", b="b", window=3, align="async"), [NAN, *sync[:-1].tolist()])


def beta(pairs: list[tuple[float, float]]) -> float:
    """OLS slope of the first of each pair on the second: sample covariance over sample variance."""
    u, v = zip(*pairs, strict=True)
    return covariance(u, v) / variance(v)


def test_rolling_beta_sync_regresses_same_date_returns(x):
    # beta of HK on US over 3 rows of (r_hk[d], r_us[d]); r[0] is NaN, so rows 0-2 are NaN
    expected = [NAN, NAN, NAN]
    expected += [beta([(R_HK[d], R_US[d]) for d in range(t - 2, t + 1)]) for t in range(3, 8)]
    check(run(x, "rolling_beta", a="hk", b="us", window=3, align="sync"), expected)


def test_rolling_beta_async_regresses_hk_day_on_the_previous_us_day(x):
    # Hong Kong closes first: its return of d reacts to New York's of d-1.  Row 3 would need
    # r_us[0] (NaN), so rows 0-3 are NaN (warm-up window + 1 = 4).
    expected = [NAN, NAN, NAN, NAN]
    # row 4: HK 01-04 (holiday, 0), 01-05, 01-08 on US 01-03, 01-04, 01-05
    expected.append(beta([(0.0, ln(102 / 100)), (ln(51 / 52), ln(101 / 102)), (ln(49 / 51), ln(104 / 101))]))
    expected += [beta([(R_HK[d], R_US[d - 1]) for d in range(t - 2, t + 1)]) for t in range(5, 8)]
    check(run(x, "rolling_beta", a="hk", b="us", window=3), expected)
    # a = us, b = hk pairs the same dates the other way round: r_us[d-1] on r_hk[d]
    swapped = [NAN] * 4 + [beta([(R_US[d - 1], R_HK[d]) for d in range(t - 2, t + 1)]) for t in range(4, 8)]
    check(run(x, "rolling_beta", a="us", b="hk", window=3, align="async"), swapped)


def test_rolling_beta_is_nan_when_b_does_not_move():
    dates = DATES[:5]
    panel = panel_from_closes(
        {"a": pd.Series([10.0, 11, 12, 11, 13], index=dates), "b": pd.Series([5.0, 5, 5, 5, 6], index=dates)},
        {"a": "us", "b": "us"},
    )
    got = run(panel.signal_inputs(), "rolling_beta", a="a", b="b", window=2, align="sync")
    # rows 2 and 3 see b's returns 0, 0: no variance; row 4 sees 0 and ln(6/5)
    check(got, [NAN, NAN, NAN, NAN, beta([(ln(11 / 12), 0.0), (ln(13 / 11), ln(6 / 5))])])


@pytest.mark.realdata
def test_rolling_beta_equals_covariance_over_variance_on_real_data(data_dir):
    # ^HSI on ^GSPC, 2005-2012, 60-row windows: an independent numpy computation on every row
    frames = real_frames(data_dir, ["^GSPC", "^HSI"])
    closes = {
        a: frames[s].loc["2005-01-01":"2012-12-31", "Close"].dropna() for a, s in (("us", "^GSPC"), ("hk", "^HSI"))
    }
    panel = panel_from_closes(closes, {"us": "us", "hk": "hk"})
    x = panel.slice(int(np.flatnonzero(panel.traded.all(axis=1))[0])).signal_inputs()
    n, window = len(x.dates), 60
    r_us = np.concatenate([[NAN], np.log(x.prices["us"][1:] / x.prices["us"][:-1])])
    r_hk = np.concatenate([[NAN], np.log(x.prices["hk"][1:] / x.prices["hk"][:-1])])
    for align, v_of in (("sync", lambda d: r_us[d]), ("async", lambda d: r_us[d - 1])):
        first = window + (1 if align == "async" else 0)
        expected = np.full(n, NAN)
        for t in range(first, n):
            u = r_hk[t - window + 1 : t + 1]
            v = np.array([v_of(d) for d in range(t - window + 1, t + 1)])
            expected[t] = np.cov(u, v, ddof=1)[0, 1] / np.var(v, ddof=1)
        got = run(x, "rolling_beta", a="hk", b="us", window=window, align=align)
        assert n > 1500
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True)
        assert np.isnan(got[:first]).all()


# ----------------------------------------------------------------------------- spread and ratio


def test_spread_zscore_uses_sample_std(x):
    # s = ln(HK/US); z[t] = (s[t] - mean(s[t-2..t])) / stdev(s[t-2..t])  with ddof = 1
    s = [ln(50 / 100), ln(52 / 102), ln(52 / 101), ln(51 / 104), ln(49 / 103), ln(50 / 106), ln(53 / 105), ln(52 / 108)]
    expected = [NAN, NAN] + [(s[t] - mean(s[t - 2 : t + 1])) / stdev(s[t - 2 : t + 1]) for t in range(2, 8)]
    got = run(x, "spread_zscore", a="us", b="hk", window=3)
    check(got, expected)
    # ddof = 0 would give |z| smaller by sqrt(2/3) on every row
    pop = [(s[t] - mean(s[t - 2 : t + 1])) / np.std(s[t - 2 : t + 1]) for t in range(2, 8)]
    assert not np.allclose(got[2:], pop)


def test_spread_zscore_is_nan_when_the_ratio_is_flat():
    # HK = US / 2 on rows 1-3, so s = ln(1/2) on the window ending at row 3: std 0, z undefined
    dates = DATES[:5]
    panel = panel_from_closes(
        {
            "us": pd.Series([100.0, 104, 102, 98, 100], index=dates),
            "hk": pd.Series([40.0, 52, 51, 49, 51], index=dates),
        },
        {"us": "us", "hk": "hk"},
    )
    got = run(panel.signal_inputs(), "spread_zscore", a="us", b="hk", window=3)
    s = [ln(40 / 100), ln(0.5), ln(0.5), ln(0.5), ln(51 / 100)]
    # row 2: (ln .5 - mean) / stdev of (ln .4, ln .5, ln .5); row 3: flat -> NaN; row 4 as usual
    z2 = (s[2] - mean(s[0:3])) / stdev(s[0:3])
    z4 = (s[4] - mean(s[2:5])) / stdev(s[2:5])
    check(got, [NAN, NAN, z2, NAN, z4])


def test_ratio_trend(x):
    # R = HK/US; trend[t] = ln(R[t] / mean(R[t-2..t]))
    r = [50 / 100, 52 / 102, 52 / 101, 51 / 104, 49 / 103, 50 / 106, 53 / 105, 52 / 108]
    expected = [NAN, NAN] + [ln(r[t] / mean(r[t - 2 : t + 1])) for t in range(2, 8)]
    check(run(x, "ratio_trend", a="us", b="hk", window=3), expected)


def test_price_vs_ma(x):
    # d[t] = P[t] / mean(P[t-2..t]) - 1
    expected = [NAN, NAN] + [US[t] / mean(US[t - 2 : t + 1]) - 1 for t in range(2, 8)]
    assert expected[2] == 101 / 101 - 1
    check(run(x, "price_vs_ma", a="us", window=3), expected)


def test_level_is_the_price_as_signals_see_it(x):
    check(run(x, "level", a="hk"), HK)  # the holiday's 52 carried forward
    assert REGISTRY["level"].lookback({"a": "hk"}) == 0


# ----------------------------------------------------------------------------- risk


def test_realized_vol_annualised_with_sqrt_252(x):
    # stdev (ddof 1) of the last 3 log returns, times sqrt(252); row 3 is the first with 3 returns
    s252 = math.sqrt(252)
    expected = [NAN, NAN, NAN]
    expected.append(stdev([ln(52 / 50), 0.0, ln(51 / 52)]) * s252)  # row 3: the holiday's zero return counts
    expected.append(stdev([0.0, ln(51 / 52), ln(49 / 51)]) * s252)
    expected.append(stdev([ln(51 / 52), ln(49 / 51), ln(50 / 49)]) * s252)
    expected.append(stdev([ln(49 / 51), ln(50 / 49), ln(53 / 50)]) * s252)
    expected.append(stdev([ln(50 / 49), ln(53 / 50), ln(52 / 53)]) * s252)
    check(run(x, "realized_vol", a="hk", window=3), expected)


def test_drawdown_from_trailing_high(x):
    # dd[t] = P[t] / max(P[t-2..t]) - 1 on HK = 50, 52, 52*, 51, 49, 50, 53, 52
    expected = [
        NAN,
        NAN,
        52 / max(50, 52, 52) - 1,  # 0
        51 / max(52, 52, 51) - 1,
        49 / max(52, 51, 49) - 1,
        50 / max(51, 49, 50) - 1,  # the 52 high has left the window
        53 / max(49, 50, 53) - 1,  # 0: a new high
        52 / max(50, 53, 52) - 1,
    ]
    check(run(x, "drawdown", a="hk", window=3), expected)


# ----------------------------------------------------------------------------- registry


@pytest.fixture
def registry_snapshot():
    """Whatever a test registers is removed afterwards."""
    before = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(before)


def test_registry_refuses_a_duplicate_name(registry_snapshot):
    original = REGISTRY["momentum"]

    def again(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
        return np.zeros(len(x.dates))

    with pytest.raises(ValueError, match="'momentum'"):
        signal("momentum", lookback=lambda p: p["window"])(again)
    assert REGISTRY["momentum"] is original


def test_registry_refuses_parameters_that_are_not_keyword_only(registry_snapshot):
    def positional(x: SignalInputs, a: AssetRef, *, window: PositiveInt) -> np.ndarray:
        return np.zeros(len(x.dates))

    with pytest.raises(TypeError, match="'a'"):
        signal("_positional", lookback=lambda p: p["window"])(positional)
    assert "_positional" not in REGISTRY


def test_registry_reads_parameters_from_the_signature():
    sdef = REGISTRY["rolling_corr"]
    assert sdef.asset_params == ("a", "b")
    assert sdef.signal_params == ()
    assert sdef.origin == "seesaw"
    assert REGISTRY["zscore"].signal_params == ("of",)
    assert REGISTRY["zscore"].asset_params == ()
    assert sdef.params(a="us", b="hk", window=5).model_dump() == {
        "a": "us",
        "b": "hk",
        "window": 5,
        "on": "returns",
        "align": "async",
        "dates": "union",
        "currency": "local",
    }
    with pytest.raises(ValidationError):
        sdef.params(a="us", b="hk", window="5")  # strict: no coercion
    with pytest.raises(ValidationError):
        sdef.params(a="us", b="hk", window=5, windo=3)  # unknown key
    with pytest.raises(ValidationError):
        REGISTRY["realized_vol"].params(a="us", window=1)  # ge=2


def test_get_signal_suggests_the_closest_name():
    assert get_signal("momentum") is REGISTRY["momentum"]
    with pytest.raises(KeyError) as err:
        get_signal("momentun")
    assert "did you mean 'momentum'?" in err.value.args[0]
    with pytest.raises(KeyError) as err:
        get_signal("zzz")
    assert "did you mean" not in err.value.args[0]


def test_trailing_returns_are_pandas_shift_returns_bit_for_bit_and_silent_on_a_zero_price() -> None:
    """momentum and relative_momentum: P[t] / P[t-window] - 1 as ``p / p.shift(window) - 1`` gives it, NaN
    prices and a zero price included (inf and NaN, no warning: the test run turns warnings into errors)."""
    n = 40
    rng = np.random.default_rng(3)
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    a[:4], a[12], a[20] = np.nan, 0.0, np.nan
    b = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    dates = pd.bdate_range("2020-01-01", periods=n)
    x = SignalInputs(dates=dates, prices={"a": a, "b": b}, traded={}, markets={"a": "us", "b": "hk"}, close_order={})
    pa, pb = pd.Series(a, index=dates), pd.Series(b, index=dates)
    for window in (1, 8, 39, 40, 55):
        want_a = (pa / pa.shift(window) - 1.0).to_numpy()
        got = get_signal("momentum").func(x, a="a", window=window)
        assert np.array_equal(got, want_a, equal_nan=True), window
        want = want_a - (pb / pb.shift(window) - 1.0).to_numpy()
        assert np.array_equal(
            get_signal("relative_momentum").func(x, a="a", b="b", window=window), want, equal_nan=True
        )
    assert np.isinf(get_signal("momentum").func(x, a="a", window=5)[17])  # 5 rows after the zero price
