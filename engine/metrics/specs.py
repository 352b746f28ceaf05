"""Every metric Seesaw reports, defined once: its key, label, format, direction, formula and function.

A :class:`MetricSpec` is what every output reads: the run and compare tables, the sweep table and
its heatmaps, ``--sort``, the catalog's columns, the JSON keys and the HTML reports.  Metrics a
run or a sweep computes from equity curves have a ``fn`` over :class:`Curves` (K curves side by
side, one value per column); the others (the Sharpe interval, PSR, DSR) come from
:mod:`engine.metrics.significance` and are listed here for their label, format and direction.

The views at the bottom (:data:`RUN_TABLE`, :data:`COMPARE_TABLE`, :data:`SWEEP_TABLE`, ...) say
which metrics each output shows, in its order.  Adding a metric is one spec here (and its name in
the views that show it) plus its test.

Formats: ``pct`` a fraction shown as percent, ``num`` a ratio (two decimals), ``money`` an amount in
the base currency, ``int`` a count, ``ci`` an interval ``low…high``.  Directions: ``higher`` or
``lower`` is better (``--sort`` ranks best first), None for a descriptive number; ``score`` marks the
metrics a comparison colours best and worst.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from engine.metrics import returns as m
from engine.sweep_columns import SWEEP_COLUMNS  # what a sweep computes for every combination

__all__ = [
    "CATALOG_COLUMNS",
    "COMPARE_COMPACT",
    "COMPARE_TABLE",
    "LOWER_IS_BETTER",
    "PERCENT_METRICS",
    "RUN_COMPACT",
    "RUN_TABLE",
    "SPECS",
    "SWEEP_COLUMNS",
    "SWEEP_TABLE",
    "WINDOW_METRICS",
    "Curves",
    "MetricSpec",
    "beta_label",
    "compute",
    "spec",
]

Format = Literal["pct", "num", "money", "int", "ci"]
Better = Literal["higher", "lower"] | None


@dataclass(frozen=True)
class Curves:
    """K equity curves on one run's dates, with what their trading cost and earned.

    ``value``: (dates, K) end-of-day values in the base currency; ``initial``: the value before the
    first date (V_-1); ``risk_free``: the per-date risk-free return (None: zero); per column
    ``traded`` (total traded value), ``fees`` (fees and stamp duty paid), ``trades`` (fills) and
    ``switches`` (changes of the target allocation after the first); ``reference``: the reference
    benchmark's (dates,) curve for relative metrics (None: they are NaN), ``reference_initial`` its
    value before the first date (None: ``initial``, a benchmark run beside the strategy from the
    same cash).  ``years_given`` and ``ppy_given`` replace the calendar years and periods per year
    of ``dates`` when a caller fixed them (None: from the dates, as documented below).  ``market``:
    (dates - 1, M) daily returns the :attr:`betas` are taken against; ``blocks``: the number of equal
    runs of dates (ending at the last) whose sums of excess returns :attr:`passes` adds up (0: none).
    """

    dates: pd.DatetimeIndex
    value: np.ndarray
    initial: float | np.ndarray
    risk_free: np.ndarray | None = None
    traded: np.ndarray | None = None
    fees: np.ndarray | None = None
    trades: np.ndarray | None = None
    switches: np.ndarray | None = None
    reference: np.ndarray | None = None
    reference_initial: float | None = None
    years_given: float | None = None
    ppy_given: float | None = None
    market: np.ndarray | None = None  # (dates - 1, M): returns the betas are taken against (None: no betas)
    blocks: int = 0  # per-block sums of the excess returns over this many equal runs of dates (0: none)

    @property
    def k(self) -> int:
        return int(self.value.shape[1])

    @cached_property
    def years(self) -> float:
        if self.years_given is not None:
            return self.years_given
        return m.years_between(self.dates[0].date(), self.dates[-1].date())

    @cached_property
    def periods_per_year(self) -> float:
        if self.ppy_given is not None:
            return self.ppy_given
        return m.periods_per_year(len(self.dates), self.years)

    @property
    def reference_start(self) -> float | np.ndarray:
        """The reference's value before the first date: ``reference_initial``, else ``initial``."""
        return self.initial if self.reference_initial is None else self.reference_initial

    @cached_property
    def returns(self) -> np.ndarray:
        return m.daily_returns(self.value, self.initial)

    @cached_property
    def days(self) -> np.ndarray:
        """Calendar days of each date from the first."""
        return (self.dates - self.dates[0]).days.to_numpy()

    @cached_property
    def passes(self) -> m.CurvePasses:
        """The sums behind the ratios, drawdowns, mean value, active returns' moments (d = r - r_reference,
        each from its own value before the first date), betas and block sums: two compiled passes over the
        curves (:func:`engine.metrics.returns.curve_passes`), no (dates, K) array of excess or active returns."""
        ref = None if self.reference is None else m.daily_returns(self.reference, self.reference_start)
        return m.curve_passes(
            self.value,
            self.initial,
            self.days,
            risk_free=self.risk_free,
            reference_returns=ref,
            market=self.market,
            blocks=self.blocks,
        )

    @cached_property
    def cagr(self) -> np.ndarray:
        return np.asarray(m.cagr(self.value, self.initial, self.years))

    @cached_property
    def ratios(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(annual volatility, Sharpe, Sortino), as :func:`engine.metrics.returns.risk_ratios` gives them."""
        if len(self.value) < 2:
            return self._nan(), self._nan(), self._nan()
        return m.ratios_from_moments(self.passes.excess, self.periods_per_year)

    @cached_property
    def relative(self) -> tuple[np.ndarray, np.ndarray]:
        """(tracking error, information ratio): the annual volatility and the Sharpe ratio of the active
        returns d = r - r_reference (NaN without a reference)."""
        if self.reference is None or len(self.value) < 2:
            return self._nan(), self._nan()
        mean, sd, biggest = self.passes.active
        return sd * np.sqrt(self.periods_per_year), m.sharpe_from_moments(mean, sd, biggest, self.periods_per_year)

    @cached_property
    def drawdowns(self) -> tuple[np.ndarray, np.ndarray]:
        """(max drawdown, longest drawdown in calendar days), as :func:`engine.metrics.returns.drawdowns`."""
        return self.passes.drawdowns

    @cached_property
    def betas(self) -> np.ndarray:
        """(M, K): each column's beta on each column of ``market`` (:func:`engine.metrics.returns.betas`)."""
        market = self.given(self.market, "market")
        cov = self.passes.covariances
        if len(market) < 2:
            return np.full(cov.shape, np.nan)
        return np.stack([m.betas_from_covariances(cov[q], market[:, q]) for q in range(market.shape[1])])

    def given(self, x: np.ndarray | None, name: str) -> np.ndarray:
        """An input a metric needs; a TypeError names it when the caller did not give it."""
        if x is None:
            raise TypeError(f"Curves.{name} is needed for this metric")
        return x

    def per_year(self, x: np.ndarray | None) -> np.ndarray:
        """``x`` / years; NaN for a window shorter than a day."""
        x = self.given(x, "switches")
        return x / self.years if self.years > 0 else np.full(self.k, np.nan)

    def _nan(self) -> np.ndarray:
        return np.full(self.k, np.nan)


def _turnover(c: Curves) -> np.ndarray:
    return c.per_year(c.given(c.traded, "traded") / 2.0 / c.passes.mean_value)


def _excess(c: Curves) -> np.ndarray:
    if c.reference is None:
        return c._nan()
    return c.cagr - m.cagr(c.reference, c.reference_start, c.years)


def _information_ratio(c: Curves) -> np.ndarray:
    return c.relative[1]


def _tracking_error(c: Curves) -> np.ndarray:
    return c.relative[0]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: see the module docstring for the fields' meanings; ``doc`` is its formula."""

    name: str
    label: str
    fmt: Format
    better: Better
    doc: str
    fn: Callable[[Curves], np.ndarray] | None = None
    score: bool = True
    annualised: bool = False  # extrapolates the window to a year (withheld under one: engine.metrics.samples)

    def __call__(self, curves: Curves) -> np.ndarray:
        if self.fn is None:
            raise TypeError(f"{self.name} is not computed from equity curves")
        out = np.asarray(self.fn(curves))  # counts stay integers
        return (out if out.dtype.kind in "iu" else out.astype(np.float64)).reshape(curves.k)


SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("total_return", "Total ret", "pct", "higher", "V_T / V_-1 - 1",
               lambda c: m.total_return(c.value, c.initial)),
    MetricSpec("cagr", "CAGR", "pct", "higher", "(V_T / V_-1) ** (1 / years) - 1, years = calendar days / 365.25",
               lambda c: c.cagr, annualised=True),
    MetricSpec("ann_vol", "Vol", "pct", "lower", "std(r, ddof=1) * sqrt(periods per year)",
               lambda c: c.ratios[0], annualised=True),
    MetricSpec("sharpe", "Sharpe", "num", "higher", "mean(e) / std(e, ddof=1) * sqrt(periods per year), e = r - rf",
               lambda c: c.ratios[1], annualised=True),
    MetricSpec("sharpe_ci", "Sharpe 95% CI", "ci", None,
               "stationary-bootstrap 95% interval of the annualised Sharpe (sharpe_ci_low, sharpe_ci_high)",
               score=False, annualised=True),
    MetricSpec("sortino", "Sortino", "num", "higher",
               "mean(e) / sqrt(mean(min(e, 0)^2)) * sqrt(periods per year), e = r - rf", lambda c: c.ratios[2],
               annualised=True),
    MetricSpec("max_drawdown", "Max DD", "pct", "higher",
               "min_t (V_t / max_{s<=t} V_s - 1), V_-1 the first peak; <= 0, so higher is better",
               lambda c: c.drawdowns[0]),
    MetricSpec("longest_drawdown_days", "Longest DD d", "int", "lower",
               "longest span in calendar days from a peak to the date the curve regains it",
               lambda c: c.drawdowns[1]),
    MetricSpec("calmar", "Calmar", "num", "higher", "CAGR / |max drawdown|; NaN without a drawdown",
               lambda c: m.calmar(c.cagr, c.drawdowns[0]), annualised=True),
    MetricSpec("turnover", "Turnover/yr", "num", "lower", "traded value / 2 / mean(V) / years (one-way)",
               _turnover, score=False, annualised=True),
    MetricSpec("switches_per_year", "Switch/yr", "num", None,
               "changes of the target allocation after the first / years", lambda c: c.per_year(c.switches),
               score=False, annualised=True),
    MetricSpec("excess_return", "Excess", "pct", "higher", "CAGR - CAGR of the reference benchmark", _excess,
               annualised=True),
    MetricSpec("information_ratio", "IR", "num", "higher",
               "mean(d) / std(d, ddof=1) * sqrt(periods per year), d = r - r_reference", _information_ratio,
               annualised=True),
    MetricSpec("tracking_error", "TE", "pct", None,
               "std(d, ddof=1) * sqrt(periods per year), d = r - r_reference", _tracking_error, score=False,
               annualised=True),
    MetricSpec("worst_year", "Worst year", "pct", "higher",
               "min over calendar years of V(last date of y) / V(last date of y - 1) - 1",
               lambda c: m.worst_year(c.dates.year.to_numpy(), c.value, c.initial)),
    MetricSpec("psr", "PSR", "num", "higher",
               "probability the true Sharpe exceeds 0, from its estimate, skew, kurtosis and length "
               "(Bailey & Lopez de Prado 2012)"),
    MetricSpec("p_beats_ref", "P(SR>ref)", "num", "higher",
               "share of paired block-bootstrap resamples in which the Sharpe exceeds the reference's"),
    MetricSpec("dsr", "DSR", "num", "higher",
               "PSR against the expected maximum Sharpe of N zero-skill trials (N = strategies compared); "
               "never above PSR (Bailey & Lopez de Prado 2014)"),
    MetricSpec("trades", "Trades", "int", "lower", "number of fills", lambda c: c.given(c.trades, "trades"),
               score=False),
    MetricSpec("fx_return", "FX ret", "pct", None,
               "V_T / V_T(exchange rate frozen at the first date) - 1: the currency's contribution", score=False),
    MetricSpec("fees_paid", "Fees", "money", "lower", "fees plus stamp duty, in the base currency",
               lambda c: c.given(c.fees, "fees"), score=False),
    MetricSpec("final_value", "Final value", "money", "higher", "V_T, in the base currency",
               lambda c: c.value[-1], score=False),
    MetricSpec("slippage_paid", "Slippage", "money", "lower", "what slippage cost against the quoted price",
               score=False),
    MetricSpec("switches", "Switches", "int", None, "changes of the target allocation after the first", score=False),
    MetricSpec("years", "Years", "num", None, "calendar days from the first to the last date / 365.25", score=False),
    MetricSpec("periods_per_year", "Periods/yr", "num", None, "(number of dates - 1) / years", score=False),
    MetricSpec("cash_interest", "Interest", "money", None, "interest credited on cash over the run", score=False),
    MetricSpec("risk_free_return", "Cash ret", "pct", None, "cash_index_T / cash_index_0 - 1", score=False),
)  # fmt: skip

_BY_NAME = {s.name: s for s in SPECS}


def spec(name: str) -> MetricSpec:
    """The spec of metric ``name`` (KeyError for an unknown one)."""
    return _BY_NAME[name]


def beta_label(asset: str) -> str:
    """The header of the beta of the returns to ``asset``'s (the column ``beta_<asset>``): ``β us``."""
    return f"β {asset}"


def compute(names: Sequence[str], curves: Curves) -> dict[str, np.ndarray]:
    """{name: (K,) values} of the named metrics of ``curves``, in ``names``' order."""
    return {name: _BY_NAME[name](curves) for name in names}


# -- the views: which metrics each output shows, in its order ------------------------------------------------------

#: ``seesaw run``'s table.
RUN_TABLE = ("total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar", "turnover",
             "switches_per_year", "fx_return", "fees_paid", "final_value")  # fmt: skip
#: ``seesaw compare``'s table (regime, beta and calendar-year columns follow).
COMPARE_TABLE = ("total_return", "cagr", "ann_vol", "sharpe", "sharpe_ci", "sortino", "max_drawdown",
                 "longest_drawdown_days", "calmar", "turnover", "switches_per_year", "excess_return",
                 "information_ratio", "worst_year", "psr", "p_beats_ref", "dsr")  # fmt: skip
#: ``seesaw run``'s terminal table by default (``--columns`` shows others).
RUN_COMPACT = ("total_return", "cagr", "ann_vol", "sharpe", "max_drawdown", "calmar", "turnover", "final_value")
#: ``seesaw compare``'s terminal table by default (``--columns`` shows others).
COMPARE_COMPACT = ("total_return", "cagr", "ann_vol", "sharpe", "sharpe_ci", "max_drawdown", "calmar", "turnover",
                   "psr", "dsr")  # fmt: skip
#: ``seesaw sweep``'s table of the best combinations.
SWEEP_TABLE = (*COMPARE_TABLE, "trades")
#: What a walk-forward computes on each training window of every combination.
WINDOW_METRICS = ("total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar")
#: The catalog's metric columns (``runs query``), after kind, name, start and end.
CATALOG_COLUMNS = ("final_value", "total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar",
                   "turnover", "switches_per_year", "fees_paid", "slippage_paid", "trades", "switches", "years",
                   "periods_per_year", "fx_return", "cash_interest", "risk_free_return")  # fmt: skip

#: Metrics that ``--sort`` ranks lowest first (the rest: highest first).
LOWER_IS_BETTER = frozenset(s.name for s in SPECS if s.better == "lower")
#: Fractions shown as percent.
PERCENT_METRICS = frozenset(s.name for s in SPECS if s.fmt == "pct")
