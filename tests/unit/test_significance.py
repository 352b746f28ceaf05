"""engine/significance.py: published worked examples, hand computations and known-answer cases.

Worked examples come from the papers' own numbers:

* Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier", J. of Risk 15(2): a
  hedge fund with a monthly Sharpe ratio of 0.458 over 24 months has PSR(0) = 0.982 under
  normality and 0.913 with skewness -2.448 and kurtosis 10.164; over 36 months 0.953.
* Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", JPM 40(5), numerical example:
  N = 100 trials whose annualised Sharpe ratios have variance 1/2, 250 days a year, a selected
  annualised Sharpe ratio of 2.5 over T = 1250 days, skewness -3, kurtosis 10:
  SR0 = 0.1132 per day and DSR = 0.9004.  The same strategy selected from 46 trials has
  DSR = 0.9505, as has a normal-returns strategy selected from 88 trials.

The papers round to three or four digits; the tolerances are half a unit of the last one.
Everything else is checked against independent numpy/scipy arithmetic written out here.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from arch.bootstrap import SPA, StationaryBootstrap
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

import engine.metrics.significance as sig
from engine.metrics.significance import (
    deflated_sharpe,
    expected_max_sharpe,
    per_period_sharpe,
    probabilistic_sharpe,
    probabilistic_sharpe_from_moments,
    sharpe_beats_probability,
    sharpe_ci,
    spa_pvalue,
)


def _oracle_psr(r: np.ndarray, benchmark: float) -> float:
    """PSR from plain numpy moments and scipy's normal CDF, importing nothing from the engine."""
    n = len(r)
    sr = r.mean() / r.std(ddof=1)
    dev = r - r.mean()
    m2, m3, m4 = (dev**2).mean(), (dev**3).mean(), (dev**4).mean()
    g3, g4 = m3 / m2**1.5, m4 / m2**2
    return float(norm.cdf((sr - benchmark) * math.sqrt(n - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)))


def test_public_api() -> None:
    assert sorted(sig.__all__) == [
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


# ------------------------------------------------------------------------------------ PSR


@pytest.mark.parametrize(
    ("n", "skew", "kurt", "paper"),
    [
        # z = 0.458 * sqrt(23) / sqrt(1 + (3 - 1) / 4 * 0.458^2) = 2.1965 / 1.0511 = 2.090 -> 0.982
        (24, 0.0, 3.0, 0.982),
        # radicand = 1 + 2.448 * 0.458 + 9.164 / 4 * 0.2098 = 2.6018; z = 2.1965 / 1.6130 = 1.362 -> 0.913
        (24, -2.448, 10.164, 0.913),
        # z = 0.458 * sqrt(35) / 1.6130 = 1.680 -> 0.9535, printed (truncated) as 0.953
        (36, -2.448, 10.164, 0.953),
    ],
)
def test_psr_paper_hedge_fund_example(n: int, skew: float, kurt: float, paper: float) -> None:
    psr = probabilistic_sharpe_from_moments(0.458, n=n, skew=skew, kurtosis=kurt)
    assert psr == pytest.approx(paper, abs=1e-3 if n == 36 else 5e-4)


def test_psr_hand_computation_from_returns() -> None:
    r = np.array([-0.02, 0.0, 0.01, 0.01, 0.05])
    # mean = 0.05 / 5 = 0.01; deviations in units of 0.01: -3, -1, 0, 0, 4
    # m2 = (9 + 1 + 16) / 5 = 5.2, m3 = (-27 - 1 + 64) / 5 = 7.2, m4 = (81 + 1 + 256) / 5 = 67.6
    # g3 = 7.2 / 5.2^1.5 = 0.60718, g4 = 67.6 / 5.2^2 = 2.5
    # std(ddof=1) = sqrt(26 / 4) = 2.54951 -> SR = 1 / 2.54951 = 0.392232
    # radicand = 1 - 0.60718 * 0.392232 + (2.5 - 1) / 4 * 0.392232^2 = 1 - 0.238155 + 0.057692 = 0.819537
    # z = 0.392232 * sqrt(4) / sqrt(0.819537) = 0.784465 / 0.905283 = 0.866541 -> Phi(z) = 0.80690
    assert per_period_sharpe(r) == pytest.approx(0.392232, abs=1e-6)
    assert probabilistic_sharpe(r) == pytest.approx(float(norm.cdf(0.866541)), abs=1e-6)
    assert probabilistic_sharpe(r) == pytest.approx(_oracle_psr(r, 0.0), rel=1e-12)


def test_psr_against_a_benchmark_sharpe() -> None:
    r = np.random.default_rng(3).standard_t(5, 750) * 0.01 + 0.0006
    for benchmark in (-0.05, 0.0, 0.02, 0.1):
        assert probabilistic_sharpe(r, benchmark_sharpe=benchmark) == pytest.approx(
            _oracle_psr(r, benchmark), rel=1e-12
        )
    # at SR* = SR the numerator is 0: even odds
    assert probabilistic_sharpe(r, benchmark_sharpe=per_period_sharpe(r)) == pytest.approx(0.5, abs=1e-12)


def test_per_period_sharpe_is_the_metrics_sharpe_before_annualisation() -> None:
    r = np.random.default_rng(4).normal(0.0004, 0.01, 300)
    assert per_period_sharpe(r) * math.sqrt(258.0) == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(258.0))


# ------------------------------------------------------------------------------------ DSR


def test_dsr_paper_numerical_example() -> None:
    sr = 2.5 / math.sqrt(250)  # annualised 2.5 -> per day 0.158114
    var = 0.5 / 250  # the variance of annualised Sharpe ratios scales by 1 / periods, not its square root
    sr0 = expected_max_sharpe(100, var)
    # sqrt(0.002) * (0.42278 * Phi^-1(0.99) + 0.57722 * Phi^-1(1 - 1 / (100 e))) = 0.044721 * 2.53060
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert probabilistic_sharpe_from_moments(sr, n=1250, skew=-3.0, kurtosis=10.0, benchmark_sharpe=sr0) == (
        pytest.approx(0.9004, abs=5e-5)
    )
    sr0_46 = expected_max_sharpe(46, var)
    assert probabilistic_sharpe_from_moments(sr, n=1250, skew=-3.0, kurtosis=10.0, benchmark_sharpe=sr0_46) == (
        pytest.approx(0.9505, abs=5e-5)
    )
    sr0_88 = expected_max_sharpe(88, var)
    assert probabilistic_sharpe_from_moments(sr, n=1250, skew=0.0, kurtosis=3.0, benchmark_sharpe=sr0_88) == (
        pytest.approx(0.9505, abs=5e-5)
    )


def test_dsr_from_returns_matches_the_closed_form() -> None:
    rng = np.random.default_rng(5)
    r = rng.standard_t(4, 1000) * 0.01 + 0.0008
    trials = np.array([0.01, 0.03, -0.02, 0.05, per_period_sharpe(r)])
    # V = var(ddof=1) of the five trial Sharpes; N = 5
    v = trials.var(ddof=1)
    z = (1 - 0.5772156649) * norm.ppf(1 - 1 / 5) + 0.5772156649 * norm.ppf(1 - 1 / (5 * math.e))
    assert deflated_sharpe(r, trial_sharpes=trials) == pytest.approx(_oracle_psr(r, math.sqrt(v) * z), rel=1e-9)


def test_dsr_with_one_trial_is_psr_zero_and_more_trials_deflate_more() -> None:
    r = np.random.default_rng(6).normal(0.0008, 0.01, 1000)
    sr = per_period_sharpe(r)
    assert deflated_sharpe(r, trial_sharpes=[sr]) == probabilistic_sharpe(r, benchmark_sharpe=0.0)
    spread = np.linspace(-0.05, 0.05, 10)
    dsr_10 = deflated_sharpe(r, trial_sharpes=spread)
    dsr_40 = deflated_sharpe(r, trial_sharpes=np.tile(spread, 4))
    assert dsr_40 < dsr_10 < probabilistic_sharpe(r)


def test_dsr_counts_trials_without_a_sharpe_in_n_but_not_in_the_variance() -> None:
    """Two trials of five have no Sharpe ratio (a flat series, too few returns): N = 5, V over the three."""
    r = np.random.default_rng(7).standard_t(4, 1000) * 0.01 + 0.0008
    trials = np.array([0.01, -0.02, per_period_sharpe(r)])
    v = trials.var(ddof=1)
    z = (1 - 0.5772156649) * norm.ppf(1 - 1 / 5) + 0.5772156649 * norm.ppf(1 - 1 / (5 * math.e))
    got = deflated_sharpe(r, trial_sharpes=trials, n_trials=5)
    assert got == pytest.approx(_oracle_psr(r, math.sqrt(v) * z), rel=1e-9)
    assert got < deflated_sharpe(r, trial_sharpes=trials)  # more trials deflate more
    with pytest.raises(ValueError, match="n_trials"):
        deflated_sharpe(r, trial_sharpes=trials, n_trials=2)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 400),
    mu=st.floats(-0.01, 0.01),
    trials=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=30),
)
def test_dsr_never_exceeds_psr(seed: int, n: int, mu: float, trials: list[float]) -> None:
    """Deflating can only lower the probability: SR0 >= 0 for every number and spread of trials."""
    r = np.random.default_rng(seed).standard_t(3, n) * 0.01 + mu
    dsr, psr = deflated_sharpe(r, trial_sharpes=trials), probabilistic_sharpe(r)
    assert math.isnan(dsr) == math.isnan(psr)
    if not math.isnan(psr):
        assert dsr <= psr


def _jobson_korkie(x: np.ndarray, y: np.ndarray) -> float:
    """Phi(z), z = (SR_x - SR_y) / sqrt(V / n), V = 2 - 2 rho + (SR_x^2 + SR_y^2 - 2 SR_x SR_y rho^2) / 2
    (Jobson & Korkie 1981 with Memmel's 2003 correction), per-period Sharpe ratios."""
    sx, sy = x.mean() / x.std(ddof=1), y.mean() / y.std(ddof=1)
    rho = float(np.corrcoef(x, y)[0, 1])
    v = 2 - 2 * rho + 0.5 * (sx**2 + sy**2 - 2 * sx * sy * rho**2)
    return float(norm.cdf((sx - sy) / math.sqrt(v / len(x))))


@pytest.mark.parametrize(("rho", "edge"), [(0.0, 0.0002), (0.5, 0.0003), (0.8, 0.0001), (0.3, -0.0002), (0.9, 0.0)])
def test_sharpe_beats_probability_matches_jobson_korkie_for_normal_returns(rho: float, edge: float) -> None:
    cov = np.array([[1.0, rho], [rho, 1.0]]) * 1e-4
    xy = np.random.default_rng(11).multivariate_normal([0.0004 + edge, 0.0004], cov, 1500)
    x, y = xy[:, 0], xy[:, 1]
    assert sharpe_beats_probability(x, y, reps=2000, block=1) == pytest.approx(_jobson_korkie(x, y), abs=0.03)


def test_sharpe_beats_probability_is_antisymmetric_and_deterministic() -> None:
    rng = np.random.default_rng(12)
    y = rng.normal(0.0003, 0.01, 800)
    x = 0.6 * y + rng.normal(0.0002, 0.008, 800)
    p = sharpe_beats_probability(x, y, reps=500)
    assert p == sharpe_beats_probability(x, y, reps=500)  # fixed seed
    assert p + sharpe_beats_probability(y, x, reps=500) == pytest.approx(1.0, abs=1e-12)
    assert sharpe_beats_probability(x, y, reps=500, seed=1) != p


def test_sharpe_beats_probability_edge_cases() -> None:
    y = np.random.default_rng(13).normal(0.0, 0.01, 500)
    assert sharpe_beats_probability(y, y, reps=100) == 0.5
    assert sharpe_beats_probability(y + 0.002, y, reps=200) == 1.0  # higher mean, the same noise
    assert math.isnan(sharpe_beats_probability(np.full(10, 0.01), y[:10], reps=100))  # no variation
    with pytest.raises(ValueError, match="length"):
        sharpe_beats_probability(y, y[:-1])


def test_dsr_rejects_bad_trials() -> None:
    r = np.full(10, 0.01) + np.arange(10) * 1e-3
    with pytest.raises(ValueError, match="empty"):
        deflated_sharpe(r, trial_sharpes=[])
    with pytest.raises(ValueError, match="NaN"):
        deflated_sharpe(r, trial_sharpes=[0.1, math.nan])


def test_expected_max_sharpe_small_cases() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0
    assert expected_max_sharpe(50, 0.0) == 0.0
    # scales with sqrt(V)
    assert expected_max_sharpe(20, 4.0) == pytest.approx(2 * expected_max_sharpe(20, 1.0), rel=1e-12)
    values = [expected_max_sharpe(n, 1.0) for n in (1, 2, 5, 10, 100, 1000, 10_000)]
    assert all(a < b for a, b in itertools.pairwise(values))
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="n_trials"):
            expected_max_sharpe(bad, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="var_sharpe"):
        expected_max_sharpe(10, -1.0)


@pytest.mark.parametrize("n", [10, 100])
def test_expected_max_sharpe_matches_monte_carlo(n: int) -> None:
    # E[max of n iid N(0, V)], V = 0.25: exact values 0.5 * 1.5388 (n=10) and 0.5 * 2.5076 (n=100);
    # the paper's approximation gives 0.5 * 1.5746 and 0.5 * 2.5306 (2.3% and 0.9% above).
    draws = np.random.default_rng(7).normal(0.0, 0.5, (40_000, n)).max(axis=1)
    assert expected_max_sharpe(n, 0.25) == pytest.approx(draws.mean(), rel=0.03)


# ------------------------------------------------------------------------------- Sharpe CI


def _iid(n: int, seed: int, daily_sharpe: float = 0.05) -> np.ndarray:
    return np.random.default_rng(seed).normal(daily_sharpe * 0.01, 0.01, n)


def test_sharpe_ci_is_deterministic_for_a_seed() -> None:
    r = _iid(500, 8)
    assert sharpe_ci(r, periods_per_year=258, reps=300) == sharpe_ci(r, periods_per_year=258, reps=300)
    assert sharpe_ci(r, periods_per_year=258, reps=300) != sharpe_ci(r, periods_per_year=258, reps=300, seed=1)


def test_sharpe_ci_is_of_the_annualised_sharpe() -> None:
    r = _iid(1000, 9)
    lo, hi = sharpe_ci(r, periods_per_year=258, reps=500, block=1)
    point = r.mean() / r.std(ddof=1) * math.sqrt(258)
    assert lo < point < hi
    # same resamples, statistic scaled by sqrt(258): the interval scales exactly
    lo_1, hi_1 = sharpe_ci(r, periods_per_year=1.0, reps=500, block=1)
    assert (lo, hi) == pytest.approx((lo_1 * math.sqrt(258), hi_1 * math.sqrt(258)), rel=1e-12)


def test_sharpe_ci_is_the_percentile_interval_of_the_resampled_sharpes() -> None:
    # replay the same stationary-bootstrap resamples (same block, same generator seed) and take the
    # 5% and 95% percentiles of their annualised Sharpe ratios ourselves
    r = np.random.default_rng(21).standard_t(3, 400) * 0.01 + 0.001
    bs = StationaryBootstrap(5, r, seed=np.random.default_rng(42))
    resampled = bs.apply(lambda x: np.array([x.mean() / x.std(ddof=1) * math.sqrt(258)]), reps=300)[:, 0]
    expected = np.percentile(resampled, [5.0, 95.0])
    got = sharpe_ci(r, periods_per_year=258, level=0.90, reps=300, seed=42, block=5)
    assert got == pytest.approx(tuple(expected), rel=1e-12)


def test_sharpe_ci_width_matches_the_normal_theory_standard_error() -> None:
    # iid normal returns: se(SR per day) = sqrt((1 + SR^2 / 2) / n) (Lo 2002), so for n = 2000 and
    # SR = 0.05 the 95% interval of the annualised SR is 2 * 1.96 * sqrt(1.00125 / 2000) * sqrt(258) = 1.4134 wide
    r = _iid(2000, 10)
    lo, hi = sharpe_ci(r, periods_per_year=258, reps=1000)
    assert hi - lo == pytest.approx(2 * 1.96 * math.sqrt(1.00125 / 2000) * math.sqrt(258), rel=0.15)


def test_sharpe_ci_shrinks_with_more_data() -> None:
    small = sharpe_ci(_iid(500, 11), periods_per_year=258, reps=500)
    large = sharpe_ci(_iid(4000, 11), periods_per_year=258, reps=500)
    # width ~ 1 / sqrt(n): the ratio should be near sqrt(8) = 2.83
    assert 2.0 < (small[1] - small[0]) / (large[1] - large[0]) < 4.0


def test_sharpe_ci_automatic_block_widens_for_autocorrelated_returns() -> None:
    # AR(1) with phi = 0.5: the long-run variance of the mean is (1 + phi) / (1 - phi) = 3 times the
    # iid one, so an honest interval is about sqrt(3) = 1.73 times as wide as the iid bootstrap's
    rng = np.random.default_rng(12)
    e = rng.normal(0.0, 0.01, 3000)
    r = np.empty_like(e)
    r[0] = e[0]
    for t in range(1, len(e)):
        r[t] = 0.5 * r[t - 1] + e[t]
    r += 0.0005
    auto = sharpe_ci(r, periods_per_year=258, reps=500)
    iid = sharpe_ci(r, periods_per_year=258, reps=500, block=1)
    assert (auto[1] - auto[0]) > 1.3 * (iid[1] - iid[0])


def test_sharpe_ci_degenerate_inputs() -> None:
    assert all(math.isnan(x) for x in sharpe_ci([0.01, 0.02], periods_per_year=258))
    assert all(math.isnan(x) for x in sharpe_ci(np.zeros(100), periods_per_year=258))
    with pytest.raises(ValueError, match="NaN"):
        sharpe_ci([0.01, math.nan, 0.02, 0.0], periods_per_year=258)
    with pytest.raises(ValueError, match="level"):
        sharpe_ci(_iid(50, 1), periods_per_year=258, level=95)


# ------------------------------------------------------------------------------------ SPA


T = 1000


def _bench() -> np.ndarray:
    return np.random.default_rng(13).normal(0.0003, 0.01, T)


def test_spa_large_edge_is_significant() -> None:
    b = _bench()
    noise = np.random.default_rng(14).normal(0.0, 0.005, T)
    # edge 0.001 a day, differential noise 0.005: t = 0.001 / 0.005 * sqrt(1000) = 6.3
    p = spa_pvalue((b + 0.001 + noise)[:, None], b, reps=500)
    assert max(p.values()) < 0.01


def test_spa_constant_edge_and_constant_loss() -> None:
    b = _bench()
    assert spa_pvalue((b + 0.001)[:, None], b, reps=200) == dict.fromkeys(sig.SPA_KEYS, 0.0)
    # worse on every single day: nothing can beat the benchmark
    assert spa_pvalue((b - 0.001)[:, None], b, reps=200) == dict.fromkeys(sig.SPA_KEYS, 1.0)


def test_spa_zero_mean_noise_is_not_significant() -> None:
    b = _bench()
    noise = np.random.default_rng(15).normal(0.0, 0.005, (T, 5))
    noise -= noise.mean(axis=0)  # exactly zero sample edge for every strategy
    p = spa_pvalue(b[:, None] + noise, b, reps=500)
    # observed statistic 0; the recentred bootstrap max of 5 means exceeds 0 unless all 5 fall below
    assert p["consistent"] > 0.5
    assert p["lower"] > 0.5
    assert p["upper"] > 0.5


def test_spa_worse_strategy_is_not_significant() -> None:
    b = _bench()
    worse = b - 0.0008 + np.random.default_rng(16).normal(0.0, 0.005, T)  # t = -5
    p = spa_pvalue(worse[:, None], b, reps=500)
    assert p["upper"] > 0.99
    # consistent and lower centre this clearly-worse strategy's null at its own mean: about 0.5
    assert p["consistent"] > 0.3
    assert p["lower"] > 0.3


def test_spa_one_strategy_equals_arch_on_negative_returns() -> None:
    # with K = 1 studentizing is a rescaling that cannot change the p-values: the result must equal
    # arch's SPA on losses = -returns with the same block and generator seed (the sign convention)
    b = _bench()
    s = (b + 0.0002 + np.random.default_rng(17).normal(0.0, 0.005, T))[:, None]
    ours = spa_pvalue(s, b, reps=400, seed=3, block=4)
    spa = SPA(-b, -s, block_size=4, reps=400, seed=np.random.default_rng(3))
    spa.compute()
    assert ours == pytest.approx({k: float(spa.pvalues[k]) for k in sig.SPA_KEYS}, abs=1e-12)
    assert 0.0 < ours["consistent"] < 1.0


def test_spa_studentizing_keeps_a_good_strategy_visible_next_to_a_noisy_one() -> None:
    b = _bench()
    rng = np.random.default_rng(18)
    good = b + 0.0004 + rng.normal(0.0, 0.002, T)  # t = 0.0004 / 0.002 * sqrt(1000) = 6.3
    noisy = b + rng.normal(0.0, 0.03, T)  # no edge, 15 times the noise
    both = np.column_stack([good, noisy])
    assert spa_pvalue(both, b, reps=500, block=1)["consistent"] < 0.01
    # arch 8.0 on the raw means lets the noisy strategy's spread hide the good one
    raw = SPA(-b, -both, block_size=1, reps=500, seed=np.random.default_rng(sig.DEFAULT_SEED))
    raw.compute()
    assert raw.pvalues["consistent"] > 0.05


def test_spa_benchmark_among_the_strategies_is_ignored() -> None:
    b = _bench()
    s = b + 0.0002 + np.random.default_rng(19).normal(0.0, 0.005, T)
    alone = spa_pvalue(s[:, None], b, reps=300, block=3)
    with_bench = spa_pvalue(np.column_stack([b, s]), b, reps=300, block=3)
    assert with_bench == alone


def test_spa_is_deterministic_for_a_seed() -> None:
    b = _bench()
    s = b[:, None] + np.random.default_rng(20).normal(0.0001, 0.005, (T, 3))
    assert spa_pvalue(s, b, reps=300) == spa_pvalue(s, b, reps=300)
    assert spa_pvalue(s, b, reps=300) != spa_pvalue(s, b, reps=300, seed=1)


def test_spa_degenerate_inputs() -> None:
    b = _bench()
    assert all(math.isnan(p) for p in spa_pvalue(np.zeros((2, 1)), b[:2]).values())
    s = b[:, None] + 0.001
    s[10, 0] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        spa_pvalue(s, b)
    with pytest.raises(ValueError, match="rows"):
        spa_pvalue(s[:-1], b)
    with pytest.raises(ValueError, match="2-D"):
        spa_pvalue(b, b)


# ------------------------------------------------------------------------- short and flat inputs


def test_fewer_than_three_observations_give_nan() -> None:
    r = [0.01, 0.02]
    assert math.isnan(per_period_sharpe(r))
    assert math.isnan(probabilistic_sharpe(r))
    assert math.isnan(deflated_sharpe(r, trial_sharpes=[0.1, 0.2]))
    assert math.isnan(probabilistic_sharpe_from_moments(0.3, n=2, skew=0.0, kurtosis=3.0))


def test_zero_variance_gives_nan() -> None:
    flat = np.full(50, 0.001)
    assert math.isnan(per_period_sharpe(flat))
    assert math.isnan(probabilistic_sharpe(flat))
    assert math.isnan(deflated_sharpe(flat, trial_sharpes=[0.1, 0.2]))


def test_nan_returns_raise() -> None:
    r = [0.01, math.nan, 0.02, -0.01]
    for call in (per_period_sharpe, probabilistic_sharpe):
        with pytest.raises(ValueError, match="NaN"):
            call(r)
    with pytest.raises(ValueError, match="NaN"):
        deflated_sharpe(r, trial_sharpes=[0.1])
