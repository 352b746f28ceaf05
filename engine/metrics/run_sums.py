"""Resampled Sharpe ratios from runs of consecutive dates: a run's sums are two prefix sums' difference.

A stationary-bootstrap resample is a few runs of consecutive dates (about n / block of them, each
wrapping at n), :class:`engine.metrics.pcg64.Runs`.  Gathering the resample and summing it costs n
reads per series (about 6.6 µs for 6,357 dates, twice over: the mean, then the squared
deviations); its runs' sums cost two reads of the prefix sums per run.  So :func:`run_sharpes` scores a
resample from the prefix sums of d = x - c and d^2 (c the series' mean), kept as double-double
numbers (a running sum and its rounding errors, Neumaier's compensated sum), so that a run's sum is the
difference of two prefix sums accurate to about a unit in the last place of the run's own sum:

    S1 = sum of d over the runs,  S2 = sum of d^2,  mean = c + S1 / n,
    std = sqrt((S2 - S1 * S1 / n) / (n - 1)),  Sharpe = mean / std * root

The gathered two-pass sums (:func:`engine.metrics.returns.resampled_sharpes`) add the same numbers in
another order, so the two differ by rounding: about 1e-15 relative on daily returns, and
``tests/unit/test_run_sums.py`` checks 1e-12 on series with heavy tails, large means and runs that
wrap, and 1e-12 of the exact value (rational arithmetic) on generated series, where the gathered sums
themselves were off by up to about 1e-12 (a level of -50 with a spread of 1e-6).  A resample whose
spread this formula puts near the flat threshold (``std`` within a relative 1e-9 of ``flat_rtol`` x
max |x| over the whole series) is scored by the gathered two-pass path instead, so NaN (no variation)
is decided exactly as there; so is a resample whose squared deviations lost most of their digits to
cancellation (S2 - S1^2 / n of a resample of one value repeated is rounding noise, whose square root
can be far above the flat threshold): each run adds at most a unit roundoff of the sums to their
error, so (2 x runs + 8) x 2^-53 x (S2 + S1^2 / n) bounds it, and it must stay below
1e-10 of the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from engine.metrics.nb import resampled_sharpe_nb
from engine.metrics.pcg64 import Runs, expand_runs_nb
from engine.metrics.returns import FLAT_RTOL, resampled_sharpes

__all__ = ["PrefixSums", "column_prefix", "run_means", "run_sharpes", "sharpe_reducers"]

#: Relative margin on the flat test within which a resample is scored by the gathered path.
_MARGIN = 1e-9
#: A resample is scored from its runs only when the bound on its squared deviations' rounding error is below
#: this fraction of them (else most of their digits cancelled: a resample of one value repeated, say).
_CONDITION = 1e-10
#: The unit roundoff of float64, 2**-53, rounded up.
_EPS = 1.2e-16


@dataclass(frozen=True)
class PrefixSums:
    """A series x, its mean ``center``, max |x| and the (4, n + 1) prefix sums of d = x - center and d^2,
    each as (sum, rounding errors): ``prefix[0] + prefix[1]`` is sum(d[:i]), ``prefix[2] + prefix[3]``
    sum(d[:i] ** 2)."""

    x: np.ndarray
    center: float
    biggest: float
    prefix: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> PrefixSums:
        """The prefix sums of ``x``, a 1-D array of finite numbers."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        center = float(x.mean()) if len(x) else 0.0
        prefix = np.empty((4, len(x) + 1))
        _prefix_nb(x - center, prefix)
        return cls(x, center, float(np.abs(x).max()) if len(x) else 0.0, prefix)


def run_sharpes(sums: PrefixSums, runs: Runs, ppy: float) -> np.ndarray:
    """(reps,): the Sharpe ratio of each resample of ``runs`` (mean / std(ddof=1) x sqrt(ppy), NaN without
    variation), as ``resampled_sharpes(sums.x, runs.indices(), ppy)`` gives it up to rounding."""
    if runs.n != len(sums.x):
        raise ValueError(f"runs of {runs.n} dates for a series of {len(sums.x)}")
    out = np.empty(runs.reps)
    scratch = np.empty(runs.n, dtype=np.int32)
    root = float(np.sqrt(ppy))
    _run_sharpes_nb(sums.x, sums.center, sums.biggest, sums.prefix, runs.at, runs.origin, runs.count, root,
                    FLAT_RTOL, scratch, out)  # fmt: skip
    return out


def sharpe_reducers(
    x: np.ndarray, ppy: float
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[Runs], np.ndarray]]:
    """The Sharpe ratios of x's resamples, given as a (b, n) batch of indices (gathered, two passes:
    :func:`engine.metrics.returns.resampled_sharpes`) and given as their runs (:func:`run_sharpes`)."""
    sums = PrefixSums.of(x)
    return (lambda index: resampled_sharpes(sums.x, index, ppy)), (lambda runs: run_sharpes(sums, runs, ppy))


def column_prefix(d: np.ndarray) -> np.ndarray:
    """(2, T + 1, K): the prefix sums of each column of the (T, K) array ``d`` and their rounding errors
    (Neumaier), for :func:`run_means`."""
    d = np.ascontiguousarray(d, dtype=np.float64)
    out = np.empty((2, d.shape[0] + 1, d.shape[1]))
    _column_prefix_nb(d, out)
    return out


def run_means(prefix: np.ndarray, runs: Runs) -> np.ndarray:
    """(reps, K): each resample's column means, from the :func:`column_prefix` of its (T, K) array (T = ``runs.n``):
    the means of the gathered rows up to rounding."""
    if runs.n != prefix.shape[1] - 1:
        raise ValueError(f"runs of {runs.n} dates for a series of {prefix.shape[1] - 1}")
    out = np.zeros((runs.reps, prefix.shape[2]))
    _run_means_nb(prefix[0], prefix[1], runs.at, runs.origin, runs.count, out)
    return out


@numba.njit(cache=True, nogil=True)
def _column_prefix_nb(d: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[0]``: running sums of each column of d from 0, ``out[1]`` their compensation (Neumaier)."""
    s, e = out[0], out[1]
    s[0] = 0.0
    e[0] = 0.0
    for i in range(d.shape[0]):
        for k in range(d.shape[1]):
            a = d[i, k]
            x = s[i, k]
            t = x + a
            e[i + 1, k] = e[i, k] + ((x - t) + a if abs(x) >= abs(a) else (a - t) + x)
            s[i + 1, k] = t


@numba.njit(cache=True, nogil=True)
def _run_means_nb(h, lo, at, origin, count, out):  # pragma: no cover - compiled
    """:func:`run_means`: each resample's column sums, run by run, then divided by T."""
    n = h.shape[0] - 1
    for b in range(len(count)):
        acc = out[b]
        c = count[b]
        for r in range(c):
            first = origin[b, r]
            last = first + (at[b, r + 1] if r + 1 < c else n) - at[b, r]
            if last <= n:
                for k in range(h.shape[1]):
                    acc[k] += (h[last, k] - h[first, k]) + (lo[last, k] - lo[first, k])
            else:  # the run wraps
                last -= n
                for k in range(h.shape[1]):
                    acc[k] += ((h[n, k] - h[first, k]) + (lo[n, k] - lo[first, k])) + (h[last, k] + lo[last, k])
        for k in range(h.shape[1]):
            acc[k] /= n


@numba.njit(cache=True, nogil=True)
def _prefix_nb(d: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out`` (4, n + 1): running sums of d and of d^2 from 0, each with its compensation (Neumaier)."""
    s1 = e1 = s2 = e2 = 0.0
    out[:, 0] = 0.0
    for i in range(len(d)):
        a = d[i]
        t = s1 + a
        e1 += (s1 - t) + a if abs(s1) >= abs(a) else (a - t) + s1
        s1 = t
        q = a * a
        t = s2 + q
        e2 += (s2 - t) + q if s2 >= q else (q - t) + s2
        s2 = t
        out[0, i + 1] = s1
        out[1, i + 1] = e1
        out[2, i + 1] = s2
        out[3, i + 1] = e2


@numba.njit(cache=True, nogil=True)
def _run_sharpes_nb(  # pragma: no cover - compiled
    x, center, biggest, prefix, at, origin, count, root, flat_rtol, scratch, out
):
    """:func:`run_sharpes`: each resample's sums from its runs, then its ratio (module docstring)."""
    n = len(x)
    h1, l1, h2, l2 = prefix[0], prefix[1], prefix[2], prefix[3]
    bound = flat_rtol * biggest * (1.0 + _MARGIN)
    for b in range(len(count)):
        c = count[b]
        s1 = 0.0
        s2 = 0.0
        for r in range(c):
            first = origin[b, r]
            last = first + (at[b, r + 1] if r + 1 < c else n) - at[b, r]
            if last <= n:
                s1 += (h1[last] - h1[first]) + (l1[last] - l1[first])
                s2 += (h2[last] - h2[first]) + (l2[last] - l2[first])
            else:  # the run wraps: first .. n - 1, then 0 .. last - n - 1
                last -= n
                s1 += ((h1[n] - h1[first]) + (l1[n] - l1[first])) + (h1[last] + l1[last])
                s2 += ((h2[n] - h2[first]) + (l2[n] - l2[first])) + (h2[last] + l2[last])
        shift = s1 * (s1 / n)
        squares = s2 - shift  # the squared deviations from the resample's mean
        error = (2 * c + 8) * _EPS * (s2 + shift)  # at most this far from the exact sum (module docstring)
        std = np.sqrt(squares / (n - 1)) if n > 1 else 0.0
        if error < _CONDITION * squares and std > bound:
            out[b] = (center + s1 / n) / std * root
        else:  # near the flat threshold, or too few digits left: the gathered two-pass sums decide
            expand_runs_nb(at[b], origin[b], c, n, scratch)
            out[b] = resampled_sharpe_nb(x, scratch, root, flat_rtol)
