"""engine.metrics.row_stats.row_statistics: rows' statistics on threads equal to one row after another.

Reference: each statistic called directly from engine.metrics.significance, row by row, in one thread.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from engine.metrics import resample
from engine.metrics import significance as sig
from engine.metrics.row_stats import ROW_STATS, row_statistics


def _rows(count: int, n: int = 700) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    common = rng.normal(0.0003, 0.01, n)
    rows = []
    for i in range(count):
        noise = rng.normal(0.0, 0.004 * (1 + i % 3), n)
        # every third row serially correlated: a longer block than the others
        rows.append(common + (np.convolve(noise, np.ones(5) / 5, mode="same") if i % 3 == 2 else noise))
    return rows


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_threaded_rows_are_the_sequential_statistics_bit_for_bit(workers: int) -> None:
    rows = _rows(7)
    reference = np.random.default_rng(5).normal(0.0002, 0.01, 700)
    trials = [sig.per_period_sharpe(r) for r in rows]
    got = row_statistics(rows, reference, periods_per_year=252.0, reps=300, trial_sharpes=trials, workers=workers)
    assert [list(g) for g in got] == [list(ROW_STATS)] * 7
    for r, g in zip(rows, got, strict=True):
        lo, hi = sig.sharpe_ci(r, periods_per_year=252.0, reps=300)
        assert (g["sharpe_ci_low"], g["sharpe_ci_high"]) == (lo, hi)
        assert g["psr"] == sig.probabilistic_sharpe(r)
        assert g["p_beats_ref"] == sig.sharpe_beats_probability(r, reference, reps=300)
        assert g["dsr"] == sig.deflated_sharpe(r, trial_sharpes=trials)
    assert len({resample.optimal_block(r) for r in rows}) > 1  # the rows really need different resamples


def test_without_a_reference_or_trials_those_statistics_are_nan() -> None:
    [got] = row_statistics(_rows(1), None, periods_per_year=252.0, reps=100, trial_sharpes=[])
    assert math.isnan(got["p_beats_ref"]) and math.isnan(got["dsr"])
    assert got["sharpe_ci_low"] < got["sharpe_ci_high"]
    assert row_statistics([], None, periods_per_year=252.0, reps=100, trial_sharpes=[]) == []


def test_a_flat_row_counts_as_a_trial_in_the_others_dsr() -> None:
    """compare's rows: one strategy without variation has no Sharpe, no interval nor DSR, and the others'
    DSR still deflates by every strategy compared (N = 3, the variance over the two with a Sharpe)."""
    from engine.compare import _statistics

    rows = [*_rows(2), np.full(700, 0.0001)]
    reference = np.random.default_rng(5).normal(0.0002, 0.01, 700)
    got = _statistics(rows, reference, 252.0, 100)
    trials = [sig.per_period_sharpe(r) for r in rows[:2]]
    for r, g in zip(rows[:2], got[:2], strict=True):
        assert g["dsr"] == sig.deflated_sharpe(r, trial_sharpes=trials, n_trials=3)
    assert math.isnan(got[2]["dsr"]) and math.isnan(got[2]["psr"]) and math.isnan(got[2]["sharpe_ci_low"])


def test_threads_drawing_the_same_resamples_at_once_get_archs_indices() -> None:
    """The draws keep their generator state in their own object: two threads drawing the same set at
    the same moment each get arch's indices, as one thread alone does."""
    from arch.bootstrap import StationaryBootstrap

    bs = StationaryBootstrap(4, np.empty(3000), seed=np.random.default_rng(987_654_321))
    expected = np.stack([bs.index.copy() for _ in bs.bootstrap(60)])
    barrier = threading.Barrier(4)
    drawn: list[np.ndarray] = []

    def draw() -> None:
        barrier.wait()
        drawn.append(np.vstack(list(resample.stationary_indices(3000, block=4, reps=60, seed=987_654_321, batch=3))))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(drawn) == 4
    for d in drawn:
        np.testing.assert_array_equal(d, expected)


def test_statistics_of_the_same_dates_draw_their_resamples_once_per_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(6)
    reference = np.random.default_rng(5).normal(0.0002, 0.01, 700)
    drawn: list[tuple[int, tuple[int, ...]]] = []
    real = resample.StationaryDraws

    def counted(n: int, *, blocks: tuple[int, ...], seed: int) -> object:
        drawn.append((n, tuple(blocks)))
        return real(n, blocks=blocks, seed=seed)

    monkeypatch.setattr(resample, "StationaryDraws", counted)
    row_statistics(rows, reference, periods_per_year=252.0, reps=120, trial_sharpes=[], workers=2)
    needed = {resample.optimal_block(r) for r in rows} | {resample.optimal_block(r - reference) for r in rows}
    # one stream per thread, each distinct block length drawn by exactly one of them: 12 statistics in all
    assert len(drawn) == 2 and {n for n, _ in drawn} == {700}
    assert sorted(b for _, blocks in drawn for b in blocks) == sorted(needed)
    assert len(needed) > 2
