"""numpy's ``PCG64`` random stream and arch's stationary-bootstrap indices, compiled.

:class:`StationaryDraws` hands out the resamples whose index vectors ``arch.bootstrap.StationaryBootstrap``'s
``update_indices`` would return, one resample after another, from a ``numpy.random.Generator``
over ``PCG64``: the same random numbers in the same order, so the same bits
(``tests/unit/test_resample.py`` compares them with arch's over odd and even lengths and several
seeds).  arch calls numpy twice and a Cython loop once per resample (about 80 µs for 6,300 dates,
its Python and Cython parts holding the GIL); this loop draws a whole batch of resamples in one call
without the GIL (about 30 µs each), so statistics on several threads draw at the same time, and the
resamples of several block lengths from one stream at once.  It hands them out as their runs of
consecutive positions (:class:`Runs`), which :meth:`Runs.indices` writes out as arch's index vectors.

What it reproduces of numpy (the tests check the result against numpy's and arch's own draws):

* ``PCG64`` (XSL-RR 128/64): the 128-bit state steps ``state = state * M + inc`` (mod 2**128),
  then the output is ``rotr64(hi ^ lo, hi >> 58)`` of the new state.
* 32-bit draws use both halves of a 64-bit output, low half first; the unused high half is kept in
  the generator's ``has_uint32``/``uinteger`` fields for the next 32-bit draw.
* ``Generator.integers(n, size=m, dtype=int64)`` for n < 2**32 draws each value with Lemire's
  bounded method on 32-bit draws; ``Generator.random(m)`` is ``(next64 >> 11) / 2**53``.
* arch's resample: ``integers(n, size=n)`` then ``random(n)``; position 0 keeps its random start,
  position i > 0 continues the previous one (``+1``, wrapping at n) when ``u[i] > 1 / block``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from engine.uint128 import mulhi64

__all__ = ["Runs", "StationaryDraws", "circular_draws", "expand_runs_nb"]

_MASK32 = np.uint64(0xFFFFFFFF)
_MULT_HI = np.uint64(0x2360ED051FC65DA4)  # PCG's default 128-bit multiplier, high and low words
_MULT_LO = np.uint64(0x4385DF649FCCF645)


class StationaryDraws:
    """The resamples of ``StationaryBootstrap(block, x, seed=np.random.default_rng(seed))`` for any x
    of n rows and each block length of ``blocks``, handed out in order: each :meth:`next_runs` continues
    the stream where the last stopped (:meth:`Runs.indices` gives the index vectors).

    A resample draws the same random numbers whatever its block length (n random starts, then n
    uniforms that decide, against 1 / block, whether each position continues the previous one), so
    the resamples of several block lengths come from one stream: each block length's indices are
    those it would get alone, and drawing them for k block lengths costs one draw, not k.
    """

    def __init__(self, n: int, *, blocks: Sequence[int], seed: int) -> None:
        if not blocks:
            raise ValueError("blocks must name at least one block length")
        for block in blocks:
            _check(n, block)
        self._n, self._p = n, np.array([1.0 / block for block in blocks], dtype=np.float64)
        # shortest block first: each block length's run starts are a subset of the previous one's
        self._order = np.argsort(-self._p, kind="stable")
        self._state = _seeded(seed)

    def next_runs(self, reps: int) -> list[Runs]:
        """The next ``reps`` resamples for each block length, as their runs of consecutive positions."""
        k, n = len(self._p), self._n
        at = np.empty((k, reps, n), dtype=np.int32)
        origin = np.empty((k, reps, n), dtype=np.int32)
        count = np.empty((k, reps), dtype=np.int64)
        _draw_runs_nb(self._state, n, self._p[self._order], at, origin, count)
        where = np.empty(k, dtype=np.int64)
        where[self._order] = np.arange(k)
        return [Runs(n, at[w], origin[w], count[w]) for w in where]


@dataclass(frozen=True)
class Runs:
    """Resamples of n dates as runs: resample b's positions ``at[b, r]`` .. the next run's position - 1
    (the last run: n - 1) take the indices ``origin[b, r]``, ``origin[b, r] + 1``, ... wrapping at n, for
    r < ``count[b]`` (a stationary-bootstrap resample is its random starts followed by the positions
    that continue them)."""

    n: int
    at: np.ndarray  # (reps, n) int32, the first count[b] used, ascending from 0
    origin: np.ndarray  # (reps, n) int32
    count: np.ndarray  # (reps,) int64

    @property
    def reps(self) -> int:
        return len(self.count)

    def indices(self) -> np.ndarray:
        """(reps, n) int32: each resample's indices (what ``update_indices`` returns)."""
        out = np.empty((self.reps, self.n), dtype=np.int32)
        _expand_nb(self.at, self.origin, self.count, self.n, out)
        return out


def circular_draws(n: int, *, block: int, reps: int, seed: int) -> np.ndarray:
    """(reps, n) int64 indices: ``reps`` calls of ``CircularBlockBootstrap(block, x,
    seed=np.random.default_rng(seed)).update_indices()`` for any x of n rows, in order.

    arch's circular block resample: ceil(n / block) random starts (``integers(n, size=blocks)``),
    each followed by ``block`` consecutive positions wrapping at n, the first n kept.
    """
    _check(n, block)
    out = np.empty((reps, n), dtype=np.int64)
    _circular_nb(_seeded(seed), n, block, out)
    return out


def _check(n: int, block: int) -> None:
    """ValueError unless 1 <= n < 2**31 (the indices fit int32 and numpy's 32-bit bounded draws) and block >= 1."""
    if not 1 <= n < 2**31:
        raise ValueError(f"n must be in [1, 2**31), got {n}")
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")


def _seeded(seed: int) -> np.ndarray:
    """[state hi, state lo, inc hi, inc lo, has_uint32, uinteger] of ``np.random.default_rng(seed)``."""
    state = np.random.default_rng(seed).bit_generator.state
    pcg, word = state["state"], 2**64 - 1
    words = (pcg["state"] >> 64, pcg["state"] & word, pcg["inc"] >> 64, pcg["inc"] & word)
    return np.array([*words, state["has_uint32"], state["uinteger"]], dtype=np.uint64)


@numba.njit(cache=True, nogil=True, inline="always")
def _step(hi: np.uint64, lo: np.uint64, inc_hi: np.uint64, inc_lo: np.uint64) -> tuple:
    """PCG64's next state (hi, lo) and its 64-bit output."""
    new_lo = lo * _MULT_LO
    new_hi = mulhi64(lo, _MULT_LO) + lo * _MULT_HI + hi * _MULT_LO  # type: ignore[call-arg]
    lo = new_lo + inc_lo
    hi = new_hi + inc_hi + (np.uint64(1) if lo < new_lo else np.uint64(0))
    value = hi ^ lo
    rot = hi >> np.uint64(58)
    return hi, lo, (value >> rot) | (value << ((np.uint64(64) - rot) & np.uint64(63)))


@numba.njit(cache=True, nogil=True, inline="always")
def _bounded(hi, lo, inc_hi, inc_lo, has32, kept, size, threshold):
    """numpy's Lemire draw of an integer in [0, size) from 32-bit draws (a 64-bit output gives two, low
    half first); ``threshold`` = (2**32 - size) % size.  Returns the new (hi, lo, has32, kept) and the draw."""
    while True:
        if has32:
            x32, has32 = kept, False
        else:
            hi, lo, x = _step(hi, lo, inc_hi, inc_lo)
            x32, kept, has32 = x & _MASK32, x >> np.uint64(32), True
        m = x32 * size
        if (m & _MASK32) >= threshold:  # numpy tests leftover < size first: the same outcome
            return hi, lo, has32, kept, np.int64(m >> np.uint64(32))


@numba.njit(cache=True, nogil=True)
def _draw_runs_nb(s: np.ndarray, n: int, p: np.ndarray, at: np.ndarray, origin: np.ndarray, count: np.ndarray) -> None:
    """Fill ``at[j, b]``, ``origin[j, b]`` and ``count[j, b]`` with resample b's runs (:class:`Runs`) for
    continuation probability ``1 - p[j]``, ``p`` descending (module docstring).

    A position i > 0 starts a run when ``u[i] <= p[j]`` (it does not continue the previous one), so
    with ``p`` descending the run starts of j are among those of j - 1: each block length filters the
    previous one's, about n x p[j - 1] positions instead of n.
    ``s`` = [state hi, state lo, inc hi, inc lo, has_uint32, uinteger] of the generator, updated.
    """
    hi, lo, inc_hi, inc_lo = s[0], s[1], s[2], s[3]
    has32, kept = s[4] != 0, s[5]
    size = np.uint64(n)
    threshold = (_MASK32 - (size - np.uint64(1))) % size
    scale = 1.0 / 9007199254740992.0
    start = np.empty(n, dtype=np.int32)  # one resample's random starts and uniforms, shared by every p
    u = np.empty(n, dtype=np.float64)
    for b in range(at.shape[1]):
        for i in range(n):
            hi, lo, has32, kept, value = _bounded(hi, lo, inc_hi, inc_lo, has32, kept, size, threshold)
            start[i] = np.int32(value)
        for i in range(n):  # u[0]: drawn, never used
            hi, lo, x = _step(hi, lo, inc_hi, inc_lo)
            u[i] = np.float64(x >> np.uint64(11)) * scale
        pos, org = at[0, b], origin[0, b]
        pos[0] = 0
        org[0] = start[0]
        c = 1
        p0 = p[0]
        for i in range(1, n):  # without branches: a run starts where the coin toss says so
            pos[c] = i
            org[c] = start[i]
            c += 1 if u[i] <= p0 else 0
        count[0, b] = c
        for j in range(1, p.shape[0]):
            prev, pos, org, pj = at[j - 1, b], at[j, b], origin[j, b], p[j]
            pos[0] = 0
            org[0] = start[0]
            c = 1
            for r in range(1, count[j - 1, b]):
                i = prev[r]
                pos[c] = i
                org[c] = start[i]
                c += 1 if u[i] <= pj else 0
            count[j, b] = c
    s[0], s[1], s[4], s[5] = hi, lo, np.uint64(1 if has32 else 0), kept


@numba.njit(cache=True, nogil=True)
def _expand_nb(at: np.ndarray, origin: np.ndarray, count: np.ndarray, n: int, out: np.ndarray) -> None:
    """Each resample's indices from its runs (:meth:`Runs.indices`)."""
    for b in range(out.shape[0]):
        expand_runs_nb(at[b], origin[b], count[b], n, out[b])


@numba.njit(cache=True, nogil=True, inline="always")
def expand_runs_nb(at: np.ndarray, origin: np.ndarray, count: int, n: int, out: np.ndarray) -> None:
    """One resample's n indices into ``out`` from its ``count`` runs (a row of :class:`Runs`)."""
    for r in range(count):
        end = at[r + 1] if r + 1 < count else n
        index = origin[r]
        for i in range(at[r], end):
            out[i] = index
            index += 1
            if index == n:
                index = 0


@numba.njit(cache=True, nogil=True)
def _circular_nb(s: np.ndarray, n: int, block: int, out: np.ndarray) -> None:
    """Fill each row of ``out`` with one circular-block resample's indices (:func:`circular_draws`)."""
    hi, lo, inc_hi, inc_lo = s[0], s[1], s[2], s[3]
    has32, kept = s[4] != 0, s[5]
    size = np.uint64(n)
    threshold = (_MASK32 - (size - np.uint64(1))) % size
    blocks = n // block + (1 if (n // block) * block < n else 0)
    for b in range(out.shape[0]):
        row = out[b]
        at = 0
        for _ in range(blocks):
            hi, lo, has32, kept, start = _bounded(hi, lo, inc_hi, inc_lo, has32, kept, size, threshold)
            for j in range(block):
                if at < n:
                    row[at] = (start + j) % n
                    at += 1
    s[0], s[1], s[4], s[5] = hi, lo, np.uint64(1 if has32 else 0), kept
