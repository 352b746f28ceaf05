"""The trailing-window signals against exact arithmetic on the real data (docs/signals.md's formulas).

Reference semantics, from docs/signals.md only: on the union timeline of ^GSPC and ^HSI (a market's holiday
carries its price forward, a zero return), r[t] = ln(P[t]/P[t-1]); a window of L rows ends at and includes
row t; means and sample variances/covariances (ddof 1) of the window's values; realized_vol = std x sqrt(252),
rolling_beta = cov(ra, rb) / var(rb) (NaN when var(rb) = 0), rolling_corr = Pearson's correlation (NaN when
either is flat), spread_zscore = (s_t - mean) / std of s = ln(Pb/Pa).  Here the means and sums of squares are
exact (fractions of the float inputs); only the last square root and division round.  A running sum (as
pandas' ``rolling``) leaves rounding behind: a variance of 1e-18 on a window of equal returns, a z-score off
in its seventh digit.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from strategies import REGISTRY, SignalInputs
from tests.helpers import panel_from_closes, real_frames

pytestmark = pytest.mark.realdata
NAN = float("nan")


@pytest.fixture(scope="module")
def x(data_dir) -> SignalInputs:
    """^GSPC and ^HSI from July 2008 to June 2009: Hong Kong's Lunar New Year of 2009 (26-28 January) gives
    three zero returns in a row right after the crisis' largest moves."""
    frames = real_frames(data_dir, ["^GSPC", "^HSI"])
    closes = {
        a: frames[s].loc["2008-07-01":"2009-06-30", "Close"].dropna() for a, s in (("us", "^GSPC"), ("hk", "^HSI"))
    }
    panel = panel_from_closes(closes, {"us": "us", "hk": "hk"})
    return panel.slice(int(np.flatnonzero(panel.traded.all(axis=1))[0])).signal_inputs()  # both priced from row 0


def run(x: SignalInputs, fn: str, **params) -> np.ndarray:
    sdef = REGISTRY[fn]
    return sdef(x, **sdef.params(**params).model_dump())


def _moments(u: np.ndarray, v: np.ndarray) -> tuple[Fraction, Fraction, Fraction]:
    """Exact (sum of squares of u's deviations, of v's, of their products) from each one's exact mean."""
    fu, fv = [Fraction(a) for a in u], [Fraction(b) for b in v]
    mu, mv = sum(fu) / len(fu), sum(fv) / len(fv)
    du, dv = [a - mu for a in fu], [b - mv for b in fv]
    return sum(a * a for a in du), sum(b * b for b in dv), sum(a * b for a, b in zip(du, dv, strict=True))


def _windows(n: int, window: int, first: int):
    for t in range(first, n):
        yield t, slice(t - window + 1, t + 1)


def _returns(p: np.ndarray) -> np.ndarray:
    return np.concatenate([[NAN], np.log(p[1:] / p[:-1])])


def test_a_window_of_equal_returns_has_no_volatility_beta_or_correlation(x: SignalInputs) -> None:
    t = int(np.flatnonzero(x.dates == pd.Timestamp("2009-01-28"))[0])
    r_hk = _returns(x.prices["hk"])
    assert (r_hk[t - 2 : t + 1] == 0.0).all()  # Hong Kong closed 26-28 January: three zero returns
    assert run(x, "realized_vol", a="hk", window=3)[t] == 0.0  # not 3.7e-08
    for align in ("sync", "async"):
        assert np.isnan(run(x, "rolling_beta", a="us", b="hk", window=3, align=align)[t]), align  # not 0.0
        assert np.isnan(run(x, "rolling_corr", a="us", b="hk", window=3, align=align)[t]), align


@pytest.mark.parametrize("window", [3, 5, 20])
def test_spread_zscore_to_the_last_digits(x: SignalInputs, window: int) -> None:
    s = np.log(x.prices["hk"] / x.prices["us"])
    expected = np.full(len(s), NAN)
    for t, w in _windows(len(s), window, window - 1):
        ss, _, _ = _moments(s[w], s[w])
        mean = sum(Fraction(a) for a in s[w]) / window
        expected[t] = float(Fraction(s[t]) - mean) / math.sqrt(float(ss / (window - 1))) if ss else NAN
    got = run(x, "spread_zscore", a="us", b="hk", window=window)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13, equal_nan=True)  # a running sum: 2e-7


@pytest.mark.parametrize(("on", "window"), [("levels", 30), ("levels", 5), ("returns", 10)])
def test_rolling_corr_to_the_last_digits(x: SignalInputs, on: str, window: int) -> None:
    u, v = x.prices["us"], x.prices["hk"]
    if on == "returns":
        u, v = _returns(u), _returns(v)
    first = window if on == "returns" else window - 1
    expected = np.full(len(u), NAN)
    for t, w in _windows(len(u), window, first):
        suu, svv, suv = _moments(u[w], v[w])
        expected[t] = float(suv) / math.sqrt(float(suu) * float(svv)) if suu and svv else NAN
    got = run(x, "rolling_corr", a="us", b="hk", window=window, on=on, align="sync")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, equal_nan=True)  # a running sum: 4e-11


@pytest.mark.parametrize("window", [3, 10])
def test_realized_vol_and_beta_to_the_last_digits(x: SignalInputs, window: int) -> None:
    r_us, r_hk = _returns(x.prices["us"]), _returns(x.prices["hk"])
    vol, beta = np.full(len(r_us), NAN), np.full(len(r_us), NAN)
    for t, w in _windows(len(r_us), window, window):
        _, svv, suv = _moments(r_us[w], r_hk[w])
        vol[t] = math.sqrt(float(svv / (window - 1))) * math.sqrt(252)
        beta[t] = float(suv / svv) if svv else NAN
    np.testing.assert_allclose(run(x, "realized_vol", a="hk", window=window), vol, rtol=1e-12, atol=0.0, equal_nan=True)
    got = run(x, "rolling_beta", a="us", b="hk", window=window, align="sync")
    np.testing.assert_allclose(got, beta, rtol=1e-12, atol=1e-14, equal_nan=True)


@pytest.mark.parametrize(
    ("fn", "params"),
    [
        ("price_vs_ma", {"a": "hk", "window": 20}),
        ("ratio_trend", {"a": "us", "b": "hk", "window": 20}),
        ("spread_zscore", {"a": "us", "b": "hk", "window": 20}),
        ("realized_vol", {"a": "hk", "window": 20}),
        ("rolling_beta", {"a": "us", "b": "hk", "window": 20}),
        ("rolling_corr", {"a": "us", "b": "hk", "window": 20, "on": "levels"}),
    ],
)
def test_a_window_value_does_not_depend_on_the_history_before_it(data_dir, fn: str, params: dict) -> None:
    """docs/signals.md: each window on its own, so the value at a date is the same bits whether the data
    starts a year or a month before it (a sweep and a run load different warm-ups)."""
    frames = real_frames(data_dir, ["^GSPC", "^HSI"])
    closes = {
        a: frames[s].loc["2007-01-01":"2009-12-31", "Close"].dropna() for a, s in (("us", "^GSPC"), ("hk", "^HSI"))
    }
    panel = panel_from_closes(closes, {"us": "us", "hk": "hk"})
    full = panel.slice(int(np.flatnonzero(panel.traded.all(axis=1))[0]))
    later = full.slice(300)
    whole, cut = run(full.signal_inputs(), fn, **params), run(later.signal_inputs(), fn, **params)
    shared = whole[300:][30:]  # past the later panel's own warm-up
    assert np.isfinite(shared).all()
    assert shared.tobytes() == cut[30:].tobytes()


def test_an_infinite_value_gives_nan_windows_without_a_warning() -> None:
    """As pandas' rolling did (it reads inf as missing): a window holding ±inf is NaN, and no RuntimeWarning (an
    error under pytest) escapes; windows without one are untouched."""
    from strategies.windows import window_comoments, window_corr, window_zscore

    v = np.array([1.0, 2.0, np.inf, 3.0, 4.0, -np.inf, 5.0, 6.0, 7.0])
    z = window_zscore(v, 3)
    assert np.isnan(z[:6]).all() and z[6] == 1.0
    assert np.isnan(window_corr(v, v.copy(), 3)[:6]).all() and window_corr(v, v.copy(), 3)[6] == pytest.approx(1.0)
    assert all(np.isnan(m[:6]).all() for m in window_comoments(v, v.copy(), 3))
