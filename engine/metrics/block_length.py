"""Politis and White's automatic block length for the stationary bootstrap, as ``arch`` computes it.

``arch.bootstrap.optimal_block_length(x)["stationary"]``, column by column, with the same numpy
operations on the same memory layout, so the same bits (``tests/unit/test_block_length.py``
compares them with arch's over short and long, serially correlated and flat series).  arch takes
0.4 s to import on top of numpy and pandas, and the bootstrap statistics need nothing else from it.

For a column x of n observations, eps = x - mean(x) (Politis & White 2004, with the correction of
Patton, Politis & White 2009):

* gamma_k = (1/n) sum_t eps_t eps_{t-k}; |rho_k| = |n gamma_k| / sqrt(v1 v2), v1 and v2 the sums
  of squares of the two overlapping pieces.
* kn = max(5, floor(log10 n)), m_max = ceil(sqrt n) + kn; m-hat is the first lag i - kn after which
  kn autocorrelations in a row are below 2 sqrt(log10(n) / n); m = min(2 max(m-hat, 1), m_max)
  (m_max when there is no such lag).
* With the flat-top window lambda(k/m) = 1 for k/m <= 1/2, else 2 (1 - k/m):
  G = sum_{k=1}^m 2 lambda k gamma_k, sigma2 = gamma_0 + sum_{k=1}^m 2 lambda gamma_k,
  b = (2 G^2 / (2 sigma2^2))^(1/3) n^(1/3), at most ceil(min(3 sqrt n, n / 3)).

Under 8 observations the lags searched (up to m_max) reach past the last date, where arch's slices of
eps no longer match and ``optimal_block_length`` raises (a ``compare --period`` of one week did the
same here); such a lag has no pair of dates and its cross-product is 0, as arch's own slices give it
at exactly 8 observations.  From 8 observations on nothing differs from arch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stationary_block_lengths"]


def stationary_block_lengths(x: np.ndarray) -> np.ndarray:
    """The stationary bootstrap's optimal mean block length of each column of ``x`` ((n,) or (n, K))."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"x must be 1-D or 2-D, got shape {arr.shape}")
    return np.array([_stationary_block(col) for col in arr.T], dtype=float)


def _stationary_block(x: np.ndarray) -> float:
    """One column's estimate (module docstring), step by step as arch's ``_single_optimal_block``."""
    nobs = x.shape[0]
    eps = x - x.mean(0)
    b_max = np.ceil(min(3 * np.sqrt(nobs), nobs / 3))
    kn = max(5, int(np.log10(nobs)))
    m_max = int(np.ceil(np.sqrt(nobs))) + kn
    cv = 2 * np.sqrt(np.log10(nobs) / nobs)
    acv = np.zeros(m_max + 1)
    abs_acorr = np.zeros(m_max + 1)
    opt_m: int | None = None
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(m_max + 1):
            v1 = eps[i + 1 :] @ eps[i + 1 :]
            v2 = eps[: -(i + 1)] @ eps[: -(i + 1)]
            cross_prod = eps[i:] @ eps[: max(nobs - i, 0)]  # a lag past the last date: no pair, 0
            acv[i] = cross_prod / nobs
            abs_acorr[i] = np.abs(cross_prod) / np.sqrt(v1 * v2)
            if i >= kn and opt_m is None and np.all(abs_acorr[i - kn : i] < cv):
                opt_m = i - kn
    m = 2 * max(opt_m, 1) if opt_m is not None else m_max
    m = min(m, m_max)
    g = 0.0
    lr_acv = acv[0]
    for k in range(1, m + 1):
        lam = 1 if k / m <= 1 / 2 else 2 * (1 - k / m)
        g += 2 * lam * k * acv[k]
        lr_acv += 2 * lam * acv[k]
    d_sb = 2 * lr_acv**2
    with np.errstate(divide="ignore", invalid="ignore"):
        b_sb = ((2 * g**2) / d_sb) ** (1 / 3) * nobs ** (1 / 3)
    return float(min(b_sb, b_max))
