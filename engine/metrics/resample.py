"""Stationary-bootstrap resamples exactly as ``arch`` draws them, handed out in batches.

``arch.bootstrap.StationaryBootstrap.bootstrap(reps)`` hands one resample at a time to a Python
callback, which then reduces one series: for a statistic over a few thousand dates that is
dominated by the per-resample Python work.  Here the same index vectors come in the same order
from the same random stream (:mod:`engine.metrics.pcg64` draws them as arch's ``update_indices``
does), and the caller reduces a whole batch of resamples as the columns of one (dates, batch)
array.  Column reductions of :mod:`engine.metrics` (one pass per column in date order) give every
resample the same bits as the callback would.  A statistic may instead reduce the batch as runs of
consecutive dates (:class:`engine.metrics.pcg64.Runs`, what a resample is made of), which
:func:`evaluate` then hands it without expanding the indices: the Sharpe ratios of
:mod:`engine.metrics.run_sums`, equal to the gathered ones up to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.metrics.block_length import stationary_block_lengths
from engine.metrics.pcg64 import Runs, StationaryDraws

__all__ = [
    "BATCH",
    "BATCH_BYTES",
    "Resampled",
    "evaluate",
    "optimal_block",
    "stationary_batches",
    "stationary_indices",
    "stationary_runs",
]

#: Resamples per batch: a batch of 100 resamples of 6,000 dates gathers 4.8 MB per series.
BATCH = 100
#: At most this many bytes of runs per batch drawn for several block lengths at once (fewer resamples per
#: batch when there are many block lengths).
BATCH_BYTES = 32 * 2**20
#: A group of statistics that draw one stream: their dates' count n, and each block length's statistics.
_Group = tuple[int, dict[int, list[int]]]


def optimal_block(x: np.ndarray) -> int:
    """Mean of arch's Politis-White stationary-bootstrap block lengths over the columns of ``x``
    (``arch.bootstrap.optimal_block_length(x)["stationary"]``, :mod:`engine.metrics.block_length`).

    Rounded to an integer (``arch`` types ``block_size`` as ``int``) and floored at 1 (a
    block of 1 is the iid bootstrap, the estimate for serially uncorrelated data).
    """
    mean = float(np.mean(stationary_block_lengths(x)))
    return max(1, round(mean)) if math.isfinite(mean) else 1


def stationary_indices(n: int, *, block: int, reps: int, seed: int, batch: int = BATCH) -> Iterator[np.ndarray]:
    """(b, n) index arrays, b <= ``batch``, of ``reps`` resamples of n dates in all: the indices
    ``arch.bootstrap.StationaryBootstrap(block, x, seed=np.random.default_rng(seed)).bootstrap(reps)``
    resamples any x of n rows with, in the same order.

    Each batch is drawn when it is asked for, by :class:`engine.metrics.pcg64.StationaryDraws`
    (arch's random stream, compiled, without the GIL), so statistics computed on several threads
    draw at the same time and no set of indices is held longer than its batch.
    """
    for drawn in stationary_batches(n, blocks=(block,), reps=reps, seed=seed, batch=batch):
        yield drawn[0]


def stationary_runs(n: int, *, block: int, reps: int, seed: int, batch: int = BATCH) -> Iterator[Runs]:
    """The resamples of :func:`stationary_indices`, batch by batch, as their runs of consecutive dates
    (:class:`engine.metrics.pcg64.Runs`)."""
    for drawn in _batches(n, (block,), reps, seed, batch):
        yield drawn[0]


def stationary_batches(
    n: int, *, blocks: Sequence[int], reps: int, seed: int, batch: int = BATCH
) -> Iterator[np.ndarray]:
    """(len(blocks), b, n) index arrays: for each block length, the batch :func:`stationary_indices` gives
    it, all drawn from one stream (:class:`engine.metrics.pcg64.StationaryDraws`)."""
    for drawn in _batches(n, blocks, reps, seed, batch):
        yield np.stack([runs.indices() for runs in drawn])


def _batches(n: int, blocks: Sequence[int], reps: int, seed: int, batch: int) -> Iterator[list[Runs]]:
    """``reps`` resamples of n dates for each block length of ``blocks``, at most ``batch`` at a time, as runs."""
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    draws = StationaryDraws(n, blocks=blocks, seed=seed)
    for start in range(0, reps, batch):
        yield draws.next_runs(min(batch, reps - start))


@dataclass(frozen=True)
class Resampled:
    """A statistic over the stationary-bootstrap resamples of n dates with mean block length ``block``.

    ``reduce`` maps a (b, n) batch of resample indices to the statistic's b values, ``finish`` all
    ``reps`` values (in resample order) to the result.  ``runs``, when given, maps the same batch as
    runs of consecutive dates (:class:`engine.metrics.pcg64.Runs`) to the same values, up to rounding
    (:mod:`engine.metrics.run_sums`): :func:`evaluate` then uses it and expands no indices.  Statistics
    of the same (n, block) need the same resamples: :func:`evaluate` draws them once for all of them.
    """

    n: int
    block: int
    reduce: Callable[[np.ndarray], np.ndarray]
    finish: Callable[[np.ndarray], Any]
    runs: Callable[[Runs], np.ndarray] | None = None

    @property
    def key(self) -> tuple[int, int]:
        """What decides the resamples (the seed aside): statistics with equal keys share them."""
        return self.n, self.block


def evaluate(
    stats: Sequence[Resampled],
    *,
    reps: int,
    seed: int,
    map_groups: Callable[[Callable[[_Group], None], Iterable[_Group]], Iterable[None]] = map,
    parts: int = 1,
) -> list[Any]:
    """Each statistic's result, in order.

    Statistics of the same n draw their resamples from one stream whatever their block lengths
    (:class:`engine.metrics.pcg64.StationaryDraws`): their distinct block lengths are split into at most
    ``parts`` groups, each group draws the ``reps`` resamples once, batch by batch, for its block
    lengths, and hands each member the batch of its own block length.  ``map_groups`` runs the groups
    (``map``: one after another; an executor's ``map``: on its threads, ``parts`` of them per n).
    Each statistic gets the indices it would get alone, so its result does not depend on the grouping
    nor on the batches (at most :data:`BATCH_BYTES` of runs each).
    """
    by_n: dict[int, dict[int, list[int]]] = {}
    for i, stat in enumerate(stats):
        by_n.setdefault(stat.n, {}).setdefault(stat.block, []).append(i)
    results: list[list[np.ndarray]] = [[] for _ in stats]

    def run(group: _Group) -> None:
        n, members = group
        blocks = list(members)
        batch = max(1, min(BATCH, BATCH_BYTES // (8 * n * len(blocks))))  # two int32 arrays of runs
        for drawn in _batches(n, blocks, reps, seed, batch):
            for runs, block in zip(drawn, blocks, strict=True):
                index = None  # expanded once, for the statistics that need the indices
                for i in members[block]:
                    stat = stats[i]
                    if stat.runs is not None:
                        results[i].append(stat.runs(runs))
                        continue
                    index = runs.indices() if index is None else index
                    results[i].append(stat.reduce(index))

    groups = [(n, share) for n, members in by_n.items() for share in _split(members, parts)]
    for _ in map_groups(run, groups):
        pass
    return [stat.finish(np.concatenate(part)) for stat, part in zip(stats, results, strict=True)]


def _split(members: dict[int, list[int]], parts: int) -> list[dict[int, list[int]]]:
    """The block lengths of ``members`` (block length -> statistics) in at most ``parts`` groups of about
    as many statistics each: the most-shared block lengths first, each to the group with fewest."""
    groups: list[dict[int, list[int]]] = [{} for _ in range(max(1, min(parts, len(members))))]
    for block in sorted(members, key=lambda b: (-len(members[b]), b)):
        emptiest = min(groups, key=lambda g: sum(len(m) for m in g.values()))
        emptiest[block] = members[block]
    return groups
