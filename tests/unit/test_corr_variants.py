"""``rolling_corr``'s ``dates: common`` and ``currency: base``, against correlations computed by hand.

Semantics checked (docs/signals.md): with ``dates: common`` the observations are the dates both
assets traded, a return running from one common date to the next; ``sync`` pairs the same common
date, ``async`` pairs Hong Kong's return of a common date with New York's of the common date before;
the value of a common date stays on the dates up to the next one; the first ``lookback`` rows are
NaN.  ``currency: base`` multiplies each price by its rate to the base currency before the returns.
The expected values are built with explicit loops over the dates, not with the signal's helpers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.config.models import AssetSpec
from engine.data.panel import build_panel
from strategies import REGISTRY

CORR = REGISTRY["rolling_corr"]
N = 160
WINDOW = 12


def _closes(seed: int = 3) -> tuple[dict[str, pd.Series], pd.Series]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=N)
    us_open = rng.random(N) > 0.07
    hk_open = (rng.random(N) > 0.09) | ~us_open
    us_open[0] = hk_open[0] = True
    us = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, N)))
    hk = 20000 * np.exp(np.cumsum(rng.normal(0, 0.012, N) + 0.4 * np.r_[0, np.diff(np.log(us))]))
    fx = pd.Series(7.8 + 0.03 * np.sin(np.arange(N) / 9.0), index=dates)  # HKD per USD, moving
    return {"us": pd.Series(us[us_open], dates[us_open]), "hk": pd.Series(hk[hk_open], dates[hk_open])}, fx


def _panel(usd_hk: bool = False):
    closes, fx = _closes()
    specs = {
        "us": AssetSpec(symbol="US", market="us", currency="USD"),
        "hk": AssetSpec(symbol="HK", market="hk", currency="HKD"),
    }
    return build_panel(closes, specs, price_field="close", source="test", synthetic=False, usdhkd=fx), closes, fx


def _pearson(x: list[float], y: list[float]) -> float:
    return float(np.corrcoef(np.array(x), np.array(y))[0, 1])


def _by_hand(closes, fx, *, align: str, currency: str) -> pd.Series:
    """The common-date correlation on each common date, with loops."""
    common = sorted(set(closes["us"].index) & set(closes["hk"].index))
    rate = fx.reindex(sorted(set(fx.index) | set(common))).ffill()

    def price(asset, d):
        p = float(closes[asset][d])
        return p / float(rate[d]) if (currency == "base" and asset == "hk") else p

    r_us = [np.nan] + [np.log(price("us", common[k]) / price("us", common[k - 1])) for k in range(1, len(common))]
    r_hk = [np.nan] + [np.log(price("hk", common[k]) / price("hk", common[k - 1])) for k in range(1, len(common))]
    out = {}
    for k in range(len(common)):
        if align == "sync":
            pairs = [(r_us[j], r_hk[j]) for j in range(k - WINDOW + 1, k + 1) if j >= 0]
        else:  # Hong Kong's return of common date j against New York's of common date j-1
            pairs = [(r_us[j - 1], r_hk[j]) for j in range(k - WINDOW + 1, k + 1) if j >= 1]
        if len(pairs) == WINDOW and all(np.isfinite(p).all() for p in pairs):
            out[common[k]] = _pearson([p[0] for p in pairs], [p[1] for p in pairs])
    return pd.Series(out)


@pytest.mark.parametrize("align", ["sync", "async"])
@pytest.mark.parametrize("currency", ["local", "base"])
def test_common_dates_match_a_correlation_by_hand(align, currency):
    panel, closes, fx = _panel()
    x = panel.signal_inputs()
    got = pd.Series(CORR(x, a="us", b="hk", window=WINDOW, align=align, dates="common", currency=currency), panel.dates)
    expected = _by_hand(closes, fx, align=align, currency=currency)
    lookback = CORR.lookback({"window": WINDOW, "align": align, "dates": "common"})
    assert got.iloc[:lookback].isna().all()
    assert got.iloc[lookback:].notna().all()
    for d in panel.dates[lookback:]:
        last_common = expected.index[expected.index <= d][-1]  # the value stays until the next common date
        assert got[d] == pytest.approx(expected[last_common], rel=1e-12, abs=1e-12), d


def test_base_currency_differs_from_local_when_the_rate_moves():
    panel, _, _ = _panel()
    x = panel.signal_inputs()
    local = CORR(x, a="us", b="hk", window=WINDOW, align="sync", dates="union", currency="local")
    base = CORR(x, a="us", b="hk", window=WINDOW, align="sync", dates="union", currency="base")
    both = np.isfinite(local) & np.isfinite(base)
    assert both.sum() > 100
    assert np.abs(local[both] - base[both]).max() > 1e-4


def test_union_dates_carry_the_closed_market_with_a_zero_return():
    """The default is unchanged: a holiday's carried-forward price gives a zero return in the window."""
    panel, closes, _ = _panel()
    x = panel.signal_inputs()
    got = CORR(x, a="us", b="hk", window=WINDOW, align="sync")
    known = pd.DataFrame({a: closes[a].reindex(panel.dates).ffill() for a in ("us", "hk")})
    r = np.log(known / known.shift(1))
    t = N - 1
    expected = _pearson(list(r["us"].iloc[t - WINDOW + 1 : t + 1]), list(r["hk"].iloc[t - WINDOW + 1 : t + 1]))
    assert got[t] == pytest.approx(expected, rel=1e-12)


def test_base_currency_without_a_rate_is_refused():
    closes, _ = _closes()
    specs = {
        "us": AssetSpec(symbol="US", market="us", currency="USD"),
        "hk": AssetSpec(symbol="HK", market="hk", currency="HKD"),
    }
    panel = build_panel(closes, specs, price_field="close", source="test", synthetic=False, signal_only=("hk",))
    with pytest.raises(ValueError, match="exchange rate for 'hk'"):
        CORR(panel.signal_inputs(), a="us", b="hk", window=WINDOW, currency="base")
