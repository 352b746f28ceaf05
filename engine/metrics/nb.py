"""Compiled kernels of the metrics: numpy arrays in, numpy arrays out, named ``*_nb``.

Each kernel takes C-ordered ``(dates, K)`` float matrices and reduces every column in date order
with the same operations whatever the other columns are, so a column's metric is the same bits
whether it is scored alone (a single run) or beside any number of others (a sweep chunk).  The
wrappers in :mod:`engine.metrics.returns` shape their inputs and document the formulas.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "covariances_nb",
    "curve_passes_nb",
    "drawdowns_nb",
    "means_nb",
    "moments_nb",
    "resampled_sharpe_nb",
    "resampled_sharpes_nb",
    "returns_nb",
    "weights_nb",
]

Array = np.ndarray


@numba.njit(cache=True, nogil=True, error_model="numpy")
def returns_nb(value: Array, initial: Array) -> Array:
    """(n, K): value[i, j] / value[i - 1, j] - 1, with ``initial[j]`` before row 0 (numpy's ``value / prev
    - 1.0``, one pass: a zero previous value gives IEEE's inf or NaN as numpy does)."""
    n, k = value.shape
    out = np.empty((n, k))
    if n == 0:
        return out
    for j in range(k):
        out[0, j] = value[0, j] / initial[j] - 1.0
    for i in range(1, n):
        for j in range(k):
            out[i, j] = value[i, j] / value[i - 1, j] - 1.0
    return out


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _deviations(x: float, f: float, mean: float, mean_raw: float) -> tuple[float, float, float]:
    """One date's terms of :func:`moments_nb`'s second pass: (e - mean)^2, (x - mean_raw)^2 and e^2 when
    e = x - f is below zero or NaN (else +0.0, which leaves a sum's bits)."""
    e = x - f
    d = e - mean
    d_raw = x - mean_raw
    return d * d, d_raw * d_raw, e * e if (e < 0.0 or e != e) else 0.0


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _drawdown_step(
    v: float, peak: float, deepest: float, longest: float, peak_day: float, was_at_peak: bool, day: float
) -> tuple[float, float, float, float, bool]:
    """One date of :func:`drawdowns_nb` for one column: the new (peak, deepest, longest, peak day, at peak)."""
    p = np.nan if (v != v or peak != peak) else (v if v > peak else peak)
    dd = v / p - 1.0
    deepest = dd if (dd != dd or dd < deepest) else deepest  # NaN sticks, as in numpy's min
    at_peak = v >= p
    span = day - peak_day
    under = not at_peak or not was_at_peak  # under water at i, or regaining at i
    longest = span if (under and span > longest) else longest
    return p, deepest, longest, day if at_peak else peak_day, at_peak


@numba.njit(cache=True, nogil=True, error_model="numpy")
def moments_nb(r: Array, rf: Array) -> tuple[Array, Array, Array, Array, Array]:
    """Per column of e = r - rf (rf per row): mean, std (ddof=1), sqrt(mean(min(e, 0)^2)), max |r|,
    and the std (ddof=1) of r itself.

    Two passes in date order (the means, then squared deviations from them), as numpy's var does;
    NaN in a column makes its results NaN, as numpy's reductions do.  The conditions are selects
    (adding +0.0 to a sum of squares leaves its bits), so the columns of a row go through the
    vector units together, each still summed in date order.
    """
    n, k = r.shape
    total = np.zeros(k)
    total_raw = np.zeros(k)
    biggest = np.zeros(k)
    for i in range(n):
        f = rf[i]
        for j in range(k):
            x = r[i, j]
            total[j] += x - f
            total_raw[j] += x
            a = abs(x)
            biggest[j] = a if a > biggest[j] else biggest[j]  # NaN is skipped: its column's mean is NaN anyway
    mean = total / n
    mean_raw = total_raw / n
    squares = np.zeros(k)
    squares_raw = np.zeros(k)
    down = np.zeros(k)
    for i in range(n):
        f = rf[i]
        for j in range(k):
            sq, sq_raw, dn = _deviations(r[i, j], f, mean[j], mean_raw[j])
            squares[j] += sq
            squares_raw[j] += sq_raw
            down[j] += dn
    if n > 1:
        std, std_raw = np.sqrt(squares / (n - 1)), np.sqrt(squares_raw / (n - 1))
    else:
        std, std_raw = np.full(k, np.nan), np.full(k, np.nan)
    return mean, std, np.sqrt(down / n), biggest, std_raw


@numba.njit(cache=True, nogil=True, error_model="numpy")
def curve_passes_nb(
    value: Array, initial: Array, rf: Array, ref: Array, days: Array, market: Array, blocks: int, size: int
) -> tuple[Array, Array, Array, Array, Array, Array, Array, Array, Array, Array, Array, Array, Array, Array]:
    """What the metrics of K curves need, from two passes in date order over ``value`` (n, K), each
    daily return r = value / previous value - 1 computed on the way (``initial`` (K,) before row 0).

    Returns, per column: :func:`moments_nb` of r against ``rf`` (mean, std, downside, max |r|, std of r);
    the mean, std and max |d| of the active returns d = r - ``ref`` (the reference's (n,) returns);
    :func:`drawdowns_nb` (``days`` (n,)); :func:`means_nb` of the values; the covariance of r[1:] with
    each column of ``market`` (n - 1, M) (:func:`covariances_nb`), (M, K); and the sums of e = r - ``rf`` and
    of e * e over ``blocks`` runs of ``size`` rows ending at the last row, each from 0.0 in row order (numpy's
    ``sum(axis=1)`` of the (blocks, size, K) reshape; 0 blocks: none).  Each sum is the operations of the
    kernel named, in the same order, so the same bits (``tests/unit/test_metric_kernels.py``).  The first pass
    writes the returns, which the second reads instead of dividing again (a division per value and pass
    took longer than writing and reading the (n, K) array); no array of excess or active returns is written.
    """
    n, k = value.shape
    n_market = market.shape[1]
    total = np.zeros(k)
    total_raw = np.zeros(k)
    biggest = np.zeros(k)
    active_total = np.zeros(k)
    active_biggest = np.zeros(k)
    value_total = np.zeros(k)
    later_total = np.zeros(k)
    deepest = np.zeros(k)
    longest = np.zeros(k)
    peak = initial.copy()
    peak_day = np.full(k, days[0] if n > 0 else 0.0)
    was_at_peak = initial >= initial
    block_sum = np.zeros((blocks, k))
    block_sq = np.zeros((blocks, k))
    first = n - size * blocks
    rets = np.empty((n, k))  # the returns, read again by the second pass
    for i in range(n):
        f, g, day = rf[i], ref[i], days[i]
        before = initial if i == 0 else value[i - 1]
        row = value[i]
        xs = rets[i]
        later = i >= 1
        for j in range(k):
            v = row[j]
            x = v / before[j] - 1.0
            xs[j] = x
            total[j] += x - f
            total_raw[j] += x
            a = abs(x)
            biggest[j] = a if a > biggest[j] else biggest[j]
            y = x - g
            active_total[j] += y - 0.0
            a = abs(y)
            active_biggest[j] = a if a > active_biggest[j] else active_biggest[j]
            value_total[j] += v
            later_total[j] += x if later else 0.0
            peak[j], deepest[j], longest[j], peak_day[j], was_at_peak[j] = _drawdown_step(
                v, peak[j], deepest[j], longest[j], peak_day[j], was_at_peak[j], day
            )
        if i >= first:
            b = (i - first) // size
            for j in range(k):
                e = xs[j] - f  # the return just computed, not divided again
                block_sum[b, j] += e
                block_sq[b, j] += e * e
    mean = total / n
    mean_raw = total_raw / n
    active_mean = active_total / n
    later_mean = later_total / (n - 1)
    market_mean = np.zeros(n_market)
    for q in range(n_market):
        s = 0.0
        for i in range(n - 1):
            s += market[i, q]
        market_mean[q] = s / (n - 1)
    squares = np.zeros(k)
    squares_raw = np.zeros(k)
    down = np.zeros(k)
    active_squares = np.zeros(k)
    cov = np.zeros((n_market, k))
    for i in range(n):
        f, g = rf[i], ref[i]
        xs = rets[i]
        for j in range(k):
            x = xs[j]
            sq, sq_raw, dn = _deviations(x, f, mean[j], mean_raw[j])
            squares[j] += sq
            squares_raw[j] += sq_raw
            down[j] += dn
            d = ((x - g) - 0.0) - active_mean[j]
            active_squares[j] += d * d
        if i >= 1:
            for q in range(n_market):
                dm = market[i - 1, q] - market_mean[q]
                for j in range(k):
                    cov[q, j] += (xs[j] - later_mean[j]) * dm
    if n > 1:
        std, std_raw = np.sqrt(squares / (n - 1)), np.sqrt(squares_raw / (n - 1))
        active_std = np.sqrt(active_squares / (n - 1))
    else:
        std, std_raw, active_std = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    return (
        mean,
        std,
        np.sqrt(down / n),
        biggest,
        std_raw,
        active_mean,
        active_std,
        active_biggest,
        deepest,
        longest,
        value_total / n,
        cov / (n - 2),
        block_sum,
        block_sq,
    )


@numba.njit(cache=True, nogil=True)
def means_nb(x: Array) -> Array:
    """Per column: the sum in date order, divided by the number of rows."""
    n, k = x.shape
    total = np.zeros(k)
    for i in range(n):
        for j in range(k):
            total[j] += x[i, j]
    return total / n


@numba.njit(cache=True, nogil=True, error_model="numpy")
def weights_nb(units: Array, unit_value: Array, value: Array) -> Array:
    """(K, A): per column k and asset j, the mean over rows of units[i, k*A+j] * unit_value[i, j] / value[i, k]
    (a zero value gives IEEE's inf or NaN, as numpy would, not an exception)."""
    n, n_assets = unit_value.shape
    k = value.shape[1]
    total = np.zeros((k, n_assets))
    for i in range(n):
        for c in range(k):
            for j in range(n_assets):
                total[c, j] += units[i, c * n_assets + j] * unit_value[i, j] / value[i, c]
    return total / n


@numba.njit(cache=True, nogil=True, error_model="numpy")
def drawdowns_nb(value: Array, initial: Array, days: Array) -> tuple[Array, Array]:
    """Per column: the max drawdown and the longest drawdown in days (see the two functions below).

    One pass in date order over the curve [initial[j], V_0, V_1, ...] (``initial``: (K,), each
    column's value before its first date), the running maximum propagating NaN as numpy's
    ``maximum.accumulate`` does.  Every step is a select, not a branch, and a division by a zero
    peak gives IEEE's inf or NaN (numpy's error model) instead of a test per date: the columns of a
    row go through the vector units together (three times faster on a sweep chunk).  The values are
    those of a branching loop, except that a zero peak (an initial value of 0) gives inf or NaN, not an
    error, and that a NaN result keeps the sign bit of the NaN that made it.
    """
    n, k = value.shape
    deepest = np.zeros(k)
    longest = np.zeros(k)
    peak = initial.copy()
    peak_day = np.full(k, days[0])
    was_at_peak = initial >= initial
    for i in range(n):
        day = days[i]
        for j in range(k):
            peak[j], deepest[j], longest[j], peak_day[j], was_at_peak[j] = _drawdown_step(
                value[i, j], peak[j], deepest[j], longest[j], peak_day[j], was_at_peak[j], day
            )
    return deepest, longest


@numba.njit(cache=True, nogil=True)
def covariances_nb(r: Array, mk: Array) -> Array:
    """cov(r[:, j], mk, ddof=1) per column: sum((r - mean r)(mk - mean mk)) / (n - 1), in date order."""
    n, k = r.shape
    mean = means_nb(r)
    m_mean = mk.sum() / n
    out = np.zeros(k)
    for i in range(n):
        dm = mk[i] - m_mean
        for j in range(k):
            out[j] += (r[i, j] - mean[j]) * dm
    return out / (n - 1)


@numba.njit(cache=True, nogil=True)
def resampled_sharpes_nb(r: Array, index: Array, root: float, flat_rtol: float) -> Array:
    """Per row b of ``index``: the Sharpe ratio of the resample x = r[index[b]], as :func:`moments_nb`
    scores the column x with rf = 0: mean / std (ddof=1) * root, NaN when std <= flat_rtol * max |x|.

    The same operations in the same order as ``moments_nb`` on the gathered column, so the same bits,
    without gathering the resamples into a (dates, reps) array first.  Four resamples are summed side
    by side: each sum is still one chain of additions in date order, but the processor overlaps the
    four chains (one alone waits for each addition to finish before the next).
    """
    reps = index.shape[0]
    out = np.empty(reps)
    b = 0
    while b + 4 <= reps:
        _sharpes4(r, index[b], index[b + 1], index[b + 2], index[b + 3], root, flat_rtol, out[b : b + 4])
        b += 4
    while b < reps:
        out[b] = resampled_sharpe_nb(r, index[b], root, flat_rtol)
        b += 1
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def resampled_sharpe_nb(r: Array, row: Array, root: float, flat_rtol: float) -> float:
    """:func:`resampled_sharpes_nb` of one resample."""
    n = len(row)
    total = 0.0
    biggest = 0.0
    for i in range(n):
        x = r[row[i]]
        total += x - 0.0
        if abs(x) > biggest:
            biggest = abs(x)
    mean = total / n
    squares = 0.0
    for i in range(n):
        d = (r[row[i]] - 0.0) - mean
        squares += d * d
    return _ratio(mean, squares, biggest, n, root, flat_rtol)


@numba.njit(cache=True, nogil=True, inline="always")
def _sharpes4(r: Array, i0: Array, i1: Array, i2: Array, i3: Array, root: float, flat_rtol: float, out: Array) -> None:
    """:func:`resampled_sharpe_nb` of four resamples at once, each with its own accumulators (the same bits)."""
    n = len(i0)
    t0 = t1 = t2 = t3 = 0.0
    g0 = g1 = g2 = g3 = 0.0
    for i in range(n):
        x0, x1, x2, x3 = r[i0[i]], r[i1[i]], r[i2[i]], r[i3[i]]
        t0 += x0 - 0.0
        t1 += x1 - 0.0
        t2 += x2 - 0.0
        t3 += x3 - 0.0
        if abs(x0) > g0:
            g0 = abs(x0)
        if abs(x1) > g1:
            g1 = abs(x1)
        if abs(x2) > g2:
            g2 = abs(x2)
        if abs(x3) > g3:
            g3 = abs(x3)
    m0, m1, m2, m3 = t0 / n, t1 / n, t2 / n, t3 / n
    s0 = s1 = s2 = s3 = 0.0
    for i in range(n):
        d0 = (r[i0[i]] - 0.0) - m0
        d1 = (r[i1[i]] - 0.0) - m1
        d2 = (r[i2[i]] - 0.0) - m2
        d3 = (r[i3[i]] - 0.0) - m3
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
    out[0] = _ratio(m0, s0, g0, n, root, flat_rtol)
    out[1] = _ratio(m1, s1, g1, n, root, flat_rtol)
    out[2] = _ratio(m2, s2, g2, n, root, flat_rtol)
    out[3] = _ratio(m3, s3, g3, n, root, flat_rtol)


@numba.njit(cache=True, nogil=True, inline="always")
def _ratio(mean: float, squares: float, biggest: float, n: int, root: float, flat_rtol: float) -> float:
    """A resample's Sharpe ratio from its mean, sum of squared deviations and max |x| (``moments_nb``'s
    std with ddof=1, NaN when it is within ``flat_rtol`` of max |x|)."""
    std = np.sqrt(squares / (n - 1)) if n > 1 else np.nan
    return mean / std * root if std > flat_rtol * biggest else np.nan
