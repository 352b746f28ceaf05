"""Resamples of a run that is mostly in cash earning the risk-free rate (docs/methodology.md: "NaN is decided
exactly as for one series").

Reference, written from the contract with arch and numpy only: arch's ``StationaryBootstrap`` seeded with
``np.random.default_rng(seed)`` draws the resamples; a resample's Sharpe ratio is mean(e) / std(e, ddof=1) of
its excess returns e = r - rf, NaN when std(e) <= 1e-10 x max |r| over the resample (the one-series rule: a
run's own returns r give the size); the percentile interval is NaN when any resample has no Sharpe ratio;
P(SR>ref) is the share of resamples, among those where both Sharpe ratios exist, where the strategy's is
higher, ties one half.

The run: a portfolio whose value grows by the cash rate every day (r - rf is rounding noise, about 1e-17)
but on 16 days, when it holds a stock. Many resamples miss those days; they hold nothing.
"""

from __future__ import annotations

import numpy as np
from arch.bootstrap import StationaryBootstrap

from engine.metrics.returns import daily_returns, excess_returns
from engine.metrics.significance import sharpe_beats_probability, sharpe_ci

T, BLOCK, REPS, SEED = 500, 40, 400, 7
INVESTED = [*range(100, 108), *range(330, 338)]


def _run() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(r, rf, y): the run's returns, the cash rate's, and a reference's returns (always invested)."""
    rng = np.random.default_rng(3)
    rf = np.full(T, 0.04 / 252) * rng.uniform(0.5, 1.5, T)
    invested = np.zeros(T, dtype=bool)
    invested[INVESTED] = True
    value = np.empty(T)
    v = 100_000.0
    for t in range(T):
        v = v * (1.0 + (rng.normal(0.001, 0.01) if invested[t] else rf[t]))
        value[t] = v
    return daily_returns(value, 100_000.0), rf, rng.normal(0.0003, 0.01, T)


def _one_series_sharpe(e: np.ndarray, r: np.ndarray) -> float:
    spread = np.std(e, ddof=1)
    return float(np.mean(e) / spread) if spread > 1e-10 * np.max(np.abs(r)) else np.nan


def _resampled(r: np.ndarray, rf: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bs = StationaryBootstrap(BLOCK, np.arange(T), seed=np.random.default_rng(SEED))
    mine, theirs = [], []
    for _ in bs.bootstrap(REPS):
        idx = bs.index
        mine.append(_one_series_sharpe(r[idx] - rf[idx], r[idx]))
        theirs.append(_one_series_sharpe(y[idx] - rf[idx], y[idx]))
    return np.array(mine), np.array(theirs)


def test_a_resample_that_holds_nothing_has_no_sharpe_ratio() -> None:
    r, rf, y = _run()
    noise = r - rf
    assert 0 < np.abs(noise[:100]).max() < 1e-15  # the cash days' excess returns: rounding noise, not 0
    mine, theirs = _resampled(r, rf, y)
    held_nothing = np.isnan(mine)
    assert 20 < held_nothing.sum() < REPS  # the case: some resamples miss every invested day
    e = excess_returns(r, rf)
    assert np.isnan(sharpe_ci(e, periods_per_year=252.0, reps=REPS, seed=SEED, block=BLOCK)).all()
    both = np.isfinite(mine) & np.isfinite(theirs)
    d = mine[both] - theirs[both]
    expected = np.mean(d > 0) + 0.5 * np.mean(d == 0)
    got = sharpe_beats_probability(e, excess_returns(y, rf), reps=REPS, seed=SEED, block=BLOCK)
    assert got == expected
    # the noise itself, scored as returns, gave those resamples Sharpe ratios of noise
    assert np.isfinite(sharpe_ci(noise, periods_per_year=252.0, reps=REPS, seed=SEED, block=BLOCK)).all()


def test_only_noise_is_taken_as_zero() -> None:
    r, rf, _ = _run()
    e = excess_returns(r, rf)
    cash = np.ones(T, dtype=bool)
    cash[INVESTED] = False
    assert (e[cash] == 0.0).all()
    np.testing.assert_array_equal(e[~cash], (r - rf)[~cash])
    both = excess_returns(np.column_stack([r, r * 2]), rf[:, None])  # column by column
    np.testing.assert_array_equal(both[:, 0], e)
