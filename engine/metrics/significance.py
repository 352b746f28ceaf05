"""Honest statistics for strategies run on the same dates: bootstrap CI, PSR, P(Sharpe beats a reference), DSR, SPA.

Pure functions over numpy arrays of daily *simple* returns (fractions), no I/O.  The caller aligns every
series on the same dates first; a NaN or infinite value is a caller bug and raises ``ValueError``.  Fewer
than ``MIN_OBS`` (3) observations, or returns with no variation, give NaN results, not exceptions.

Units, shared by every function:
* "per-period" Sharpe: SR = mean(r) / std(r, ddof=1) with a zero risk-free rate -- the daily Sharpe of
  ``engine.metrics.sharpe`` before the ``sqrt(periods_per_year)`` factor.  PSR and DSR work in per-period
  units, as in the papers; only ``sharpe_ci`` annualises (by ``sqrt(periods_per_year)``, the run's own
  trading periods per year, as ``engine.metrics`` does).
* skewness g3 = m3 / m2^1.5 and *non-excess* kurtosis g4 = m4 / m2^2 from the population (biased, 1/n)
  central moments m_k: normal returns give g3 = 0, g4 = 3.

References
----------
* Politis, D. N. & Romano, J. P. (1994). The stationary bootstrap. *JASA* 89(428), 1303-1313.
* Politis, D. N. & White, H. (2004). Automatic block-length selection for the dependent
  bootstrap. *Econometric Reviews* 23(1), 53-70; correction by Patton, Politis & White (2009).
* Bailey, D. H. & López de Prado, M. (2012). The Sharpe ratio efficient frontier. *J. Risk* 15(2), 3-44.
* Bailey, D. H. & López de Prado, M. (2014). The deflated Sharpe ratio: correcting for
  selection bias, backtest overfitting and non-normality. *J. Portfolio Management* 40(5), 94-107.
* Bailey, D. H., Borwein, J., López de Prado, M. & Zhu, Q. J. (2014). Pseudo-mathematics and financial
  charlatanism: the effects of backtest overfitting on out-of-sample performance. *Notices AMS* 61(5), 458-471.
* Hansen, P. R. (2005). A test for superior predictive ability. *JBES* 23(4), 365-380.
* The ``arch`` package (K. Sheppard): the stationary bootstrap, block length and SPA test used here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engine.metrics import sharpe
from engine.metrics.resample import Resampled, evaluate, optimal_block
from engine.metrics.run_sums import sharpe_reducers
from engine.metrics.spa import long_run_variance, spa_pvalues

__all__ = [
    "DEFAULT_SEED",
    "EULER_GAMMA",
    "MIN_OBS",
    "SPA_KEYS",
    "deflated_sharpe",
    "expected_max_sharpe",
    "per_period_sharpe",
    "probabilistic_sharpe",
    "probabilistic_sharpe_from_moments",
    "sharpe_beats_probability",
    "sharpe_beats_resampled",
    "sharpe_ci",
    "sharpe_ci_resampled",
    "spa_pvalue",
]

MIN_OBS = 3
"""Fewer observations than this give NaN results."""

EULER_GAMMA = 0.5772156649015329
"""The Euler-Mascheroni constant (as in Bailey & López de Prado 2014, who print 0.5772156649)."""

SPA_KEYS = ("consistent", "lower", "upper")
"""The keys of the dict returned by ``spa_pvalue``."""

DEFAULT_SEED = 20250120
"""The default bootstrap seed: fixed, so the same returns give the same intervals and p-values."""

# A loss differential whose standard deviation is below this fraction of the returns' size is
# treated as exactly constant (floating-point noise from e.g. (b + c) - b is ~1e-16 of it).
_CONSTANT_RTOL = 1e-10


# ---------------------------------------------------------------------------- validation


def _returns_1d(returns: Sequence[float] | np.ndarray, name: str = "returns") -> np.ndarray:
    """A 1-D float copy of ``returns``; ValueError on a wrong shape or a non-finite value."""
    arr = np.asarray(returns, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contain NaN or infinite values; align the dates first")
    return arr


def _moments(r: np.ndarray) -> tuple[float, float, float]:
    """(per-period Sharpe, skewness g3, non-excess kurtosis g4); NaNs when undefined."""
    sr = per_period_sharpe(r)
    if math.isnan(sr):
        return sr, math.nan, math.nan
    dev = r - r.mean()
    m2 = float(np.mean(dev**2))
    g3 = float(np.mean(dev**3)) / m2**1.5
    g4 = float(np.mean(dev**4)) / m2**2
    return sr, g3, g4


def _check_bootstrap(reps: int, block: int | None) -> None:
    """ValueError unless ``reps`` >= 1 and ``block`` is None or >= 1."""
    _check_reps(reps)
    _check_block(block)


def _check_reps(reps: int) -> None:
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")


def _check_block(block: int | None) -> None:
    if block is not None and block < 1:
        raise ValueError(f"block must be >= 1, got {block}")


# ---------------------------------------------------------------------------- Sharpe CI


def sharpe_ci(
    returns: Sequence[float] | np.ndarray,
    *,
    periods_per_year: float,
    level: float = 0.95,
    reps: int = 2000,
    seed: int = DEFAULT_SEED,
    block: int | None = None,
) -> tuple[float, float]:
    """Percentile confidence interval of the *annualised* Sharpe ratio, by the stationary bootstrap.

    The statistic is ``engine.metrics.sharpe``: SR_ann = mean(r) / std(r, ddof=1) * sqrt(ppy),
    zero risk-free rate, ppy = ``periods_per_year`` (the run's own trading periods per year).

    Method: ``arch.bootstrap.StationaryBootstrap`` (Politis & Romano 1994) draws ``reps``
    resamples made of blocks of geometric length with mean ``block``, which keeps the serial
    dependence (volatility clustering) of daily returns that an iid bootstrap destroys.  The
    interval is the percentile interval [q_{(1-level)/2}, q_{(1+level)/2}] of the resampled
    SR_ann (numpy's linear interpolation between order statistics); why percentile and not
    BCa: :func:`sharpe_ci_resampled`.

    Parameters
    ----------
    returns:
        Daily simple returns (fractions), 1-D, no NaN.
    periods_per_year:
        Annualisation factor ppy (> 0).
    level:
        Two-sided confidence level in (0, 1).
    reps:
        Bootstrap resamples (>= 1).
    seed:
        Seed of the ``np.random.default_rng`` that drives the resampling: fixed seed, fixed interval.
    block:
        Mean block length in periods (>= 1).  None: ``arch.bootstrap.optimal_block_length``'s
        ``stationary`` estimate (Politis & White 2004, with the 2009 correction), rounded to
        an integer and floored at 1.

    Returns
    -------
    (lower, upper), annualised; (nan, nan) with fewer than 3 observations or zero variance.

    Example
    -------
    >>> r = np.random.default_rng(0).normal(0.0005, 0.01, 1000)
    >>> lo, hi = sharpe_ci(r, periods_per_year=252, reps=200)
    >>> bool(lo < sharpe(r, 252) < hi)
    True
    """
    plan = sharpe_ci_resampled(returns, periods_per_year=periods_per_year, level=level, block=block)
    _check_reps(reps)
    return plan if isinstance(plan, tuple) else evaluate([plan], reps=reps, seed=seed)[0]


def sharpe_ci_resampled(
    returns: Sequence[float] | np.ndarray, *, periods_per_year: float, level: float = 0.95, block: int | None = None
) -> tuple[float, float] | Resampled:
    """:func:`sharpe_ci` before its resamples are drawn: the interval when none are needed (NaN, NaN),
    else the statistic for :func:`engine.metrics.resample.evaluate` (which several can share).

    The interval is the ``level`` percentile interval of ``sharpe(x, periods_per_year)`` over the
    resamples x.  Why percentile and not BCa: BCa's acceleration comes from a delete-one jackknife,
    which treats the days as independent and so ignores the very dependence the block bootstrap is
    there to keep; it also costs n extra evaluations.  The percentile interval is
    transformation-respecting and needs no extra assumption; its coverage error is larger for
    strongly skewed statistics, an accepted trade-off here.
    """
    r = _returns_1d(returns)
    if not periods_per_year > 0:
        raise ValueError(f"periods_per_year must be > 0, got {periods_per_year}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    _check_block(block)
    if math.isnan(per_period_sharpe(r)):
        return math.nan, math.nan
    alpha = (1.0 - level) / 2

    def interval(draws: np.ndarray) -> tuple[float, float]:
        # arch's conf_int(method="percentile"): np.percentile at 100 * (1 - level) / 2 and its mirror
        lower, upper = np.percentile(draws, [100 * alpha, 100 * (1.0 - alpha)])
        return float(lower), float(upper)

    # each batch of resamples reduced at once, as the columns of one array would be (engine/metrics/resample.py),
    # from the runs of consecutive dates they are made of (engine/metrics/run_sums.py)
    by_index, by_runs = sharpe_reducers(r, periods_per_year)
    return Resampled(len(r), optimal_block(r) if block is None else block, by_index, interval, runs=by_runs)


# ---------------------------------------------------------------------------- PSR


def per_period_sharpe(returns: Sequence[float] | np.ndarray) -> float:
    """Per-period (non-annualised) Sharpe ratio: SR = mean(r) / std(r, ddof=1); zero risk-free rate.

    Equal to ``engine.metrics.sharpe(r, 1.0)``; multiply by sqrt(periods_per_year) to
    annualise.  NaN with fewer than 3 observations or zero variance.  Bailey & López de
    Prado (2012) write SR = mu / sigma without fixing the estimator of sigma; ddof=1 keeps
    this equal to the metrics row (the difference is a factor sqrt((n-1)/n)).

    >>> per_period_sharpe([0.02, 0.0, 0.01])  # mean 0.01, std sqrt((1e-4 + 1e-4 + 0) / 2) = 0.01
    1.0
    """
    r = _returns_1d(returns)
    if len(r) < MIN_OBS:
        return math.nan
    return sharpe(r, 1.0)


def probabilistic_sharpe_from_moments(
    sharpe_ratio: float, *, n: int, skew: float, kurtosis: float, benchmark_sharpe: float = 0.0
) -> float:
    """PSR from summary statistics (Bailey & López de Prado 2012, eq. for PSR(SR*)).

        PSR(SR*) = Phi( (SR - SR*) * sqrt(n - 1) / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR^2) )

    SR and SR* per period (not annualised), g3 = ``skew``, g4 = ``kurtosis`` (non-excess:
    3 for normal returns), n = number of returns, Phi the standard normal CDF.  The
    probability that the true Sharpe ratio exceeds SR*.  NaN when n < 3, an input is NaN,
    or the variance term is not positive (impossible for sample moments, since
    g4 >= 1 + g3^2 makes it >= (1 - g3 * SR / 2)^2).

    >>> round(probabilistic_sharpe_from_moments(0.458, n=24, skew=0.0, kurtosis=3.0), 3)
    0.982
    """
    if n < MIN_OBS or any(math.isnan(x) for x in (sharpe_ratio, skew, kurtosis, benchmark_sharpe)):
        return math.nan
    radicand = 1.0 - skew * sharpe_ratio + (kurtosis - 1.0) / 4.0 * sharpe_ratio**2
    if not radicand > 0:
        return math.nan
    z = (sharpe_ratio - benchmark_sharpe) * math.sqrt(n - 1) / math.sqrt(radicand)
    from scipy.special import ndtr  # scipy.stats.norm's cdf; imported on use (0.2 s), not by every table

    return float(ndtr(z))


def probabilistic_sharpe(returns: Sequence[float] | np.ndarray, *, benchmark_sharpe: float = 0.0) -> float:
    """Probabilistic Sharpe ratio PSR(SR*) of a return series (Bailey & López de Prado 2012).

        PSR(SR*) = Phi( (SR - SR*) * sqrt(n - 1) / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR^2) )

    SR = ``per_period_sharpe(returns)``, n = len(returns), g3 and g4 the population
    skewness and non-excess kurtosis of the returns (module docstring).  ``benchmark_sharpe``
    SR* is *per period* too: to compare with a benchmark strategy pass its
    ``per_period_sharpe``; an annualised target must be divided by sqrt(periods_per_year).
    No annualisation anywhere: the result is a probability in [0, 1].  NaN with fewer than
    3 observations or zero variance.

    >>> probabilistic_sharpe([0.01, -0.01, 0.01, -0.01])
    0.5
    """
    r = _returns_1d(returns)
    sr, g3, g4 = _moments(r)
    return probabilistic_sharpe_from_moments(sr, n=len(r), skew=g3, kurtosis=g4, benchmark_sharpe=benchmark_sharpe)


def sharpe_beats_probability(
    returns: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    *,
    reps: int = 2000,
    seed: int = DEFAULT_SEED,
    block: int | None = None,
) -> float:
    """P = share of paired stationary-bootstrap resamples b with SR(r_b) > SR(y_b), ties one half.

    Each resample draws the *same* dates for ``returns`` r and ``reference`` y (same dates, same
    length), so their correlation, serial dependence and the reference's own estimation error count
    (a PSR against y's Sharpe treats it as known).  Mean block length: ``optimal_block_length`` on
    r - y when ``block`` is None.  For i.i.d. normal returns it is close to the Jobson-Korkie test
    with Memmel's correction (tests/unit/test_significance.py).  NaN with fewer than 3 returns or
    a series without variation; 0.5 for identical series.

    >>> y = np.random.default_rng(1).normal(0.0, 0.01, 750)
    >>> bool(sharpe_beats_probability(y + 0.001, y, reps=200) > 0.99)
    True
    """
    plan = sharpe_beats_resampled(returns, reference, block=block)
    _check_reps(reps)
    return plan if isinstance(plan, float) else evaluate([plan], reps=reps, seed=seed)[0]


def sharpe_beats_resampled(
    returns: Sequence[float] | np.ndarray, reference: Sequence[float] | np.ndarray, *, block: int | None = None
) -> float | Resampled:
    """:func:`sharpe_beats_probability` before its resamples are drawn: the probability when none are
    needed (NaN, or 0.5 for series that differ by a constant), else the statistic for
    :func:`engine.metrics.resample.evaluate`."""
    r, y = _returns_1d(returns), _returns_1d(reference, name="reference")
    if r.shape != y.shape:
        raise ValueError(f"returns and reference differ in length: {len(r)} and {len(y)}")
    _check_block(block)
    if math.isnan(per_period_sharpe(r)) or math.isnan(per_period_sharpe(y)):
        return math.nan
    if not np.any(r - y != r[0] - y[0]):
        return 0.5  # the same Sharpe in every resample

    # SR(r_b) - SR(y_b) per period for each resample b, each SR as sharpe(x, 1.0) (NaN: no variation)
    (index_r, runs_r), (index_y, runs_y) = sharpe_reducers(r, 1.0), sharpe_reducers(y, 1.0)

    def probability(diffs: np.ndarray) -> float:
        diffs = diffs[np.isfinite(diffs)]
        return float(np.mean(diffs > 0) + 0.5 * np.mean(diffs == 0)) if len(diffs) else math.nan

    return Resampled(
        len(r),
        block or optimal_block(r - y),
        lambda index: index_r(index) - index_y(index),
        probability,
        runs=lambda runs: runs_r(runs) - runs_y(runs),
    )


# ---------------------------------------------------------------------------- DSR


def expected_max_sharpe(n_trials: int, var_sharpe: float) -> float:
    """Expected maximum of N zero-skill Sharpe ratios (Bailey & López de Prado 2014, SR0).

        SR0 = sqrt(V) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e)))

    gamma the Euler-Mascheroni constant, e Euler's number, Phi^-1 the standard normal
    quantile, V = ``var_sharpe`` the variance of the trials' Sharpe ratios (in the units of
    the result: per period for the DSR).  An extreme-value approximation of E[max of N iid
    N(0, V)] (Bailey, Borwein, López de Prado & Zhu 2014), slightly above the exact value for
    small N (1.575 against 1.539 for N = 10).  N = 1 gives 0 (no selection, no deflation).

    >>> round(expected_max_sharpe(100, 0.5 / 250), 4)
    0.1132
    """
    if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials}")
    if not (math.isfinite(var_sharpe) and var_sharpe >= 0):
        raise ValueError(f"var_sharpe must be finite and >= 0, got {var_sharpe}")
    if n_trials == 1:
        return 0.0  # Phi^-1(0) = -inf: the formula is for N > 1; one trial has nothing to deflate
    from scipy.special import ndtri  # scipy.stats.norm's ppf; imported on use (0.2 s), not by every table

    quantiles = (1 - EULER_GAMMA) * ndtri(1 - 1 / n_trials) + EULER_GAMMA * ndtri(1 - 1 / (n_trials * math.e))
    return float(math.sqrt(var_sharpe) * quantiles)


def deflated_sharpe(
    returns: Sequence[float] | np.ndarray, *, trial_sharpes: Sequence[float] | np.ndarray, n_trials: int | None = None
) -> float:
    """Deflated Sharpe ratio DSR = PSR(SR0) (Bailey & López de Prado 2014).

        SR0 = sqrt(V[SR_n]) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e)))
        DSR = PSR(SR0), PSR as in ``probabilistic_sharpe``

    ``trial_sharpes`` are the *per-period* Sharpe ratios (``per_period_sharpe``) of all N
    strategies compared, the one being judged included; N = len(trial_sharpes) and V is
    their sample variance (ddof=1, the unbiased estimator; the paper writes V[SR_n] without
    fixing one).  With N == 1 there is no selection: SR0 = 0 and DSR = PSR(0).  The
    strategies are treated as N independent trials; strongly correlated strategies are fewer
    effective trials, so the DSR is then conservative.  No annualisation: SR, SR0 and V are
    per period, the result is a probability.  NaN with fewer than 3 returns or zero variance.
    ``n_trials``: N when some trials have no Sharpe ratio (too few returns, no variation): they count
    in N, not in V (as ``overfitting.deflated_sharpe_of_best`` counts them); at least len(trial_sharpes).

    >>> r = [0.01, -0.005, 0.012, -0.004, 0.008]
    >>> deflated_sharpe(r, trial_sharpes=[per_period_sharpe(r)]) == probabilistic_sharpe(r)
    True
    """
    trials = _returns_1d(trial_sharpes, name="trial_sharpes")
    if len(trials) == 0:
        raise ValueError("trial_sharpes is empty: pass the Sharpe ratio of every strategy compared")
    if (n := len(trials) if n_trials is None else int(n_trials)) < len(trials):
        raise ValueError(f"n_trials ({n}) is below the {len(trials)} trial Sharpe ratios given")
    var = float(np.var(trials, ddof=1)) if len(trials) > 1 else 0.0
    return probabilistic_sharpe(returns, benchmark_sharpe=expected_max_sharpe(n, var))


# ---------------------------------------------------------------------------- SPA


def _spa_inputs(strategy_returns: np.ndarray, benchmark_returns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strategy returns (T, K), benchmark returns (T,)) as float arrays; ValueError on a bad shape or value."""
    strat = np.asarray(strategy_returns, dtype=float)
    if strat.ndim != 2 or strat.shape[1] < 1:
        raise ValueError(f"strategy_returns must be 2-D (T x K) with K >= 1, got shape {strat.shape}")
    bench = _returns_1d(benchmark_returns, name="benchmark_returns")
    if strat.shape[0] != len(bench):
        raise ValueError(f"strategy_returns has {strat.shape[0]} rows but benchmark_returns has {len(bench)}")
    if not np.all(np.isfinite(strat)):
        raise ValueError("strategy_returns contain NaN or infinite values; align the dates first")
    return strat, bench


def _varying_differentials(strat: np.ndarray, bench: np.ndarray) -> np.ndarray | float:
    """The loss differentials d = r_k - b that vary, (T, K'); or every p-value when none is left to test.

    A constant differential (std below ``_CONSTANT_RTOL`` of the returns' size) that is positive
    beats the benchmark every day: all p-values 0.0.  The other constant ones never beat it and are
    left out; with none left, all p-values are 1.0.
    """
    d = strat - bench[:, None]
    scale = np.max(np.abs(strat), axis=0) + np.max(np.abs(bench))
    constant = np.std(d, axis=0) <= _CONSTANT_RTOL * scale
    if np.any(constant & (d.mean(axis=0) > 0)):
        return 0.0
    d = d[:, ~constant]
    return 1.0 if d.shape[1] == 0 else d


def spa_pvalue(
    strategy_returns: np.ndarray,
    benchmark_returns: np.ndarray,
    *,
    reps: int = 2000,
    seed: int = DEFAULT_SEED,
    block: int | None = None,
) -> dict[str, float]:
    """Hansen's (2005) SPA p-values of H0 "no strategy has a higher mean return than the benchmark".

    Losses are negative returns, so the loss differential of strategy k on day t is
    d_kt = loss_bench - loss_k = r_kt - b_t, positive when the strategy beats the benchmark,
    and H0 is max_k E[d_k] <= 0.  The statistic is max_k d̄_k / omega_k (omega_k^2 the
    stationary-bootstrap long-run variance of d_k, :func:`engine.metrics.spa.long_run_variance`);
    its null distribution is ``arch.bootstrap.SPA``'s (stationary bootstrap, ``reps`` resamples,
    ``np.random.default_rng(seed)``; computed by :mod:`engine.metrics.spa`, the same p-values)
    with Hansen's three recentrings:

    * ``upper``: every strategy recentred as if its mean were 0 (White's Reality Check
      null, the least favourable configuration; conservative).
    * ``consistent``: strategies with d̄_k / omega_k below -sqrt(2 log log T / T) keep their
      own (negative) mean -- Hansen's recommended p-value.
    * ``lower``: every strategy with a negative mean keeps it (liberal).

    Deliberately unlike ``arch``, the differentials are studentized before arch sees them
    (``_studentized_spa`` says why, and what arch's missing truncation at 0 gives).

    Constant differentials (``_varying_differentials``): one that beats the benchmark every
    day makes all three p-values 0; the others are left out; none left, all three are 1.

    Parameters
    ----------
    strategy_returns:
        Daily simple returns, shape (T, K), K >= 1 strategies on the benchmark's dates.
    benchmark_returns:
        Daily simple returns of the benchmark, shape (T,).
    reps, seed:
        Bootstrap resamples and the seed of their generator.
    block:
        Mean block length (>= 1).  None: the mean over the differentials of
        ``optimal_block_length``'s stationary estimate, rounded and floored at 1.

    Returns
    -------
    {"consistent": p, "lower": p, "upper": p}; all NaN when T < 3.

    Example
    -------
    >>> b = np.random.default_rng(0).normal(0.0003, 0.01, 500)
    >>> spa_pvalue((b + 0.001)[:, None], b)  # beats the benchmark by 0.1% every day
    {'consistent': 0.0, 'lower': 0.0, 'upper': 0.0}
    """
    strat, bench = _spa_inputs(strategy_returns, benchmark_returns)
    _check_bootstrap(reps, block)
    if len(bench) < MIN_OBS:
        return dict.fromkeys(SPA_KEYS, math.nan)
    d = _varying_differentials(strat, bench)
    if isinstance(d, float):
        return dict.fromkeys(SPA_KEYS, d)
    return _studentized_spa(d, optimal_block(d) if block is None else block, reps, seed)


def _studentized_spa(d: np.ndarray, size: int, reps: int, seed: int) -> dict[str, float]:
    """``arch.bootstrap.SPA``'s three p-values of the (T, K) loss differentials ``d``, each studentized.

    Deliberate difference from ``arch``: arch 8.0's ``SPA`` compares raw means (its
    ``studentize`` flag only changes the variance estimate, not the statistic), so one very
    noisy strategy can hide a strong one.  Hansen's statistic is studentized, so each
    differential is divided by its omega_k before it reaches arch (benchmark losses 0,
    model losses -d_k / omega_k); with one strategy this changes nothing.  Unlike Hansen's
    T = max(..., 0), arch does not truncate at 0: for a lone clearly-worse strategy the
    ``consistent`` and ``lower`` p-values sit near 0.5 (its null is centred at its own
    mean) and ``upper`` near 1 -- none of them rejects.
    """
    studentized = d / np.sqrt(long_run_variance(d, size))
    # arch.bootstrap.SPA(np.zeros(T), -studentized, block_size=size, reps=reps, seed=default_rng(seed))
    p = spa_pvalues(0.0 - (-studentized), block=size, reps=reps, seed=seed)
    return {key: p[key] for key in SPA_KEYS}
