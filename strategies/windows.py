"""Statistics of trailing windows, each window summed on its own: no running sums.

A running sum (pandas' ``rolling``) adds each new value and subtracts the one leaving; what it leaves
behind after large values have passed is rounding, so a window of equal values can get a variance of
1e-18 instead of 0, and a z-score of a short window can be off in its seventh digit.  Here every value
at row t is a fixed-order sum over the rows ``t-L+1 .. t`` of the window (L rows), the variance two-pass
(deviations from the window's own mean), and a window whose values are all equal has a variance (and a
covariance with anything) of exactly 0: the same bits whatever history precedes the window.  A window
that holds a NaN gives NaN.  Time is L passes over the rows; memory a few arrays of the rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["placed", "trailing", "window_comoments", "window_corr", "window_sum", "window_var", "window_zscore"]


def trailing(v: np.ndarray, window: int) -> Iterator[np.ndarray]:
    """For i = 0 .. window-1, the values v[t-i] of the rows t = window-1 .. n-1 (views)."""
    n = max(len(v), window - 1)  # a panel shorter than the window: empty views
    for i in range(window):
        yield v[window - 1 - i : n - i]


def placed(values: np.ndarray, n: int, lookback: int) -> np.ndarray:
    """A length-n array: NaN on the first ``lookback`` rows, then ``values``."""
    out = np.full(n, np.nan)
    if n > lookback:
        out[lookback:] = values
    return out


def window_sum(v: np.ndarray, window: int) -> np.ndarray:
    """The sum of each window of ``window`` rows, for the rows t = window-1 .. n-1.

    >>> window_sum(np.array([1.0, 2.0, 3.0, 4.0]), 3).tolist()
    [6.0, 9.0]
    """
    total = np.zeros(max(len(v) - window + 1, 0))
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as a window holding it gives
        for shifted in trailing(v, window):
            total = total + shifted
    return total


def window_corr(u: np.ndarray, v: np.ndarray, window: int) -> np.ndarray:
    """Pearson's correlation of u and v over each window of ``window`` rows, for the rows t = window-1 .. n-1:
    their covariance over the square root of the product of their variances (:func:`window_comoments`), NaN
    where either is flat (a variance of exactly 0) or holds a NaN.

    >>> window_corr(np.array([1.0, 2.0, 3.0, 3.0, 3.0]), np.array([2.0, 4.0, 7.0, 5.0, 6.0]), 3).round(12).tolist()
    [0.993399267799, 0.755928946018, nan]
    """
    var_u, var_v, cov = window_comoments(u, v, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((var_u > 0) & (var_v > 0), cov / np.sqrt(var_u * var_v), np.nan)


def window_var(v: np.ndarray, window: int) -> np.ndarray:
    """The sample variance (ddof 1) of v over each window (as :func:`window_comoments`), exactly 0 where the
    window is flat.

    >>> window_var(np.array([0.1, 0.1, 0.1, 0.3]), 3).round(12).tolist()
    [0.0, 0.013333333333]
    """
    return _mean_and_var(v, window)[1]


def _mean_and_var(v: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, :func:`window_var`) of each window: the mean is the one the deviations are taken from."""
    if window < 2:
        raise ValueError(f"a variance needs a window of at least 2 rows, got {window}")
    mv = window_sum(v, window) / window
    svv, dv = np.zeros_like(mv), np.empty_like(mv)
    flat, last = np.ones(mv.shape, dtype=bool), v[window - 1 :]
    with np.errstate(invalid="ignore"):  # an infinite value: NaN, as a window holding a NaN gives
        for sv in trailing(v, window):
            np.subtract(sv, mv, out=dv)
            svv += np.multiply(dv, dv, out=dv)
            flat &= sv == last  # a NaN equals nothing: a window holding one is not flat
    svv[flat & ~np.isnan(svv)] = 0.0  # deviations from a mean that rounds off the values themselves
    return mv, svv / (window - 1)


def window_comoments(u: np.ndarray, v: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u's variance, v's variance, their covariance), sample (ddof 1), over each window of ``window`` rows, for
    the rows t = window-1 .. n-1: the means of each window first, then one pass over its rows summing the
    products of the deviations from them.  A variance is exactly 0 where its series is flat (all its values in
    the window equal), and so is the covariance, unless the other holds a NaN; NaN where either holds one.

    >>> u, v = np.array([0.0, 0.0, 0.0, 1.0]), np.array([0.1, 0.1, 0.1, 0.3])
    >>> [m.round(12).tolist() for m in window_comoments(u, v, 3)]
    [[0.0, 0.333333333333], [0.0, 0.013333333333], [0.0, 0.066666666667]]
    """
    if window < 2:
        raise ValueError(f"a covariance needs a window of at least 2 rows, got {window}")
    mu, mv = window_sum(u, window) / window, window_sum(v, window) / window
    suu, svv, suv = np.zeros_like(mu), np.zeros_like(mu), np.zeros_like(mu)
    du, dv, product = np.empty_like(mu), np.empty_like(mu), np.empty_like(mu)
    flat_u, flat_v = np.ones(mu.shape, dtype=bool), np.ones(mu.shape, dtype=bool)
    last_u, last_v = u[window - 1 :], v[window - 1 :]
    with np.errstate(invalid="ignore"):  # an infinite value: NaN, as a window holding a NaN gives
        for su, sv in zip(trailing(u, window), trailing(v, window), strict=True):
            np.subtract(su, mu, out=du)
            np.subtract(sv, mv, out=dv)
            suu += np.multiply(du, du, out=product)
            svv += np.multiply(dv, dv, out=product)
            suv += np.multiply(du, dv, out=product)
            flat_u &= su == last_u
            flat_v &= sv == last_v
    suu[flat_u & ~np.isnan(suu)] = 0.0
    svv[flat_v & ~np.isnan(svv)] = 0.0
    suv[(flat_u | flat_v) & ~np.isnan(suv)] = 0.0
    return suu / (window - 1), svv / (window - 1), suv / (window - 1)


def window_zscore(v: np.ndarray, window: int) -> np.ndarray:
    """(v_t - m_t) / s_t of each window of ``window`` rows, m_t its mean and s_t its sample standard deviation,
    for the rows t = window-1 .. n-1; NaN where s_t = 0 (a flat window).

    >>> window_zscore(np.array([1.0, 2.0, 3.0, 3.0, 3.0]), 3).round(12).tolist()
    [1.0, 0.57735026919, nan]
    """
    m, var = _mean_and_var(v, window)  # one mean for the deviations and the z-score
    s = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, (v[window - 1 :] - m) / s, np.nan)
