"""Build the ``seesaw compare`` table from stored runs (read by :func:`engine.store.rundir.load_run`).

Every row is measured on one common window: the dates every compared curve has, inside ``--period``.
Rows are the strategies, then each distinct benchmark curve.  A strategy's returns start from its
initial cash when the window starts on its first date (so the first day's costs count), else from the
previous close (:func:`engine.metrics.frames.rebase`); when the window starts on some runs' first date and
others ran before it, every row's from that date's close (:func:`engine.metrics.frames.rebase_after`).

Statistics (engine/significance.py): a 95% stationary-bootstrap interval of each strategy's annualised
Sharpe (fixed seed), the probabilistic Sharpe ratio, the deflated Sharpe ratio given the number of
strategies compared, and Hansen's SPA p-value of "no compared strategy beats the reference".
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine import metrics as m
from engine.compare_data import check_same_data, data_mismatch
from engine.compare_notes import data_notes, margin_notes
from engine.compare_rates import other_rate, other_rate_notes, risk_free_returns, risk_free_text, run_risk_free
from engine.compare_trading import trading_columns
from engine.currency import base_currency
from engine.errors import UserError
from engine.metrics import frames as cmp
from engine.metrics import significance as sig
from engine.metrics.row_stats import row_statistics
from engine.metrics.samples import episode_notes, withhold_annualised
from engine.plural import counted
from engine.store.rundir import StoredRun

__all__ = [
    "DEFAULT_BENCHMARK",
    "SAME_CURVE_RTOL",
    "Comparison",
    "compare_runs",
    "data_mismatch",
    "is_benchmark_label",
    "qualified_labels",
    "same_curve",
]

DEFAULT_BENCHMARK = "50/50 monthly"
#: Benchmark curves whose values agree to this relative tolerance (same dates) are shown once.
SAME_CURVE_RTOL = 1e-9


@dataclass(frozen=True)
class Comparison:
    """The rows of one comparison and what the caption must say."""

    rows: list[dict[str, Any]]
    first: pd.Timestamp
    last: pd.Timestamp
    reference: str
    fingerprints: tuple[str, ...]
    synthetic: bool
    spa: dict[str, float]
    years: tuple[int, ...]
    assets: tuple[str, ...]
    regime: str | None = None
    #: what Sharpe and Sortino are in excess of (each run's cash rate), for the caption
    risk_free: str = "zero"
    #: the runs' modelling assumptions, {config name: [line, ...]} (metrics.json "assumptions")
    assumptions: dict[str, list[str]] | None = None
    #: each row's curve on the common dates and the value before its first date (V_-1), by row name:
    #: the values every row's metrics were computed from (for charts)
    curves: dict[str, tuple[pd.Series, float]] | None = None
    #: how benchmark rows were merged (equal curves) and named (a name several curves share)
    notes: tuple[str, ...] | list[str] = ()
    #: how the runs' data differ when ``--allow-mixed`` let them be compared (None: the same data)
    mixed: str | None = None
    #: the bootstrap resamples of the Sharpe interval, P(SR>ref) and SPA
    reps: int = 2000
    #: the runs' warnings (a look-ahead run, a gap in its data), also among the notes as ``WARNING:`` lines
    warnings: tuple[str, ...] = ()


#: label -> (curve, initial cash, the run it comes from, is it that run's strategy)
_Labelled = dict[str, tuple[pd.Series, float, StoredRun, bool]]
#: the dates a comparison is limited to (``--period``): first, last, either open
_Period = tuple[dt.date | None, dt.date | None] | None


def compare_runs(
    runs: Sequence[StoredRun],
    *,
    period: _Period = None,
    benchmark: str | None = None,
    allow_mixed: bool = False,
    by_year: bool = False,
    reps: int = 2000,
    regime: pd.Series | None = None,
) -> Comparison:
    """Line ``runs`` up on their common window and compute every column and statistic.

    ``regime``: a boolean series by date (True where the regime held at the previous close);
    adds :func:`engine.metrics.frames.regime_metrics` to every row.
    """
    if not runs:
        raise UserError("no runs to compare")
    runs = _one_name_each(runs)
    fingerprints = tuple(dict.fromkeys(r.manifest["data_fingerprint"] for r in runs))
    mixed = check_same_data(runs, allow_mixed)
    curves, shared = _labelled_curves(runs, period)
    warned = tuple(w for r in runs for w in r.warnings)  # a look-ahead run, say
    notes = [f"WARNING: {w}" for w in warned]
    notes += shared
    reference = _reference_name(curves, benchmark)
    measured, dates, base = _on_common_dates(curves, period, reference)
    ppy = m.periods_per_year(len(dates), m.years_between(dates[0].date(), dates[-1].date()))
    # Each row's Sharpe-type ratios are in excess of its own run's cash rate (zero without one).
    rf = {
        label: risk_free_returns(run, dates, starts_at_run=dates[0] == series.index[0], base=base)
        for label, (series, _, run, _) in curves.items()
    }
    assets = tuple(dict.fromkeys(a for r in runs for a in r.prices.columns))
    rows, spa = _rows_and_spa(curves, measured, reference, rf, ppy, reps, by_year=by_year, regime=regime)
    notes += other_rate_notes(rows, rf, reference)
    notes += (
        _start_notes(runs, base) + _sample_notes(rows, dates, {r.name for r in runs if r.decides}) + margin_notes(runs)
    )
    notes += data_notes(runs)
    return Comparison(
        rows=rows,
        first=dates[0],
        last=dates[-1],
        reference=reference,
        fingerprints=fingerprints,
        synthetic=any(r.manifest["synthetic"] for r in runs),
        spa=spa,
        years=tuple(sorted({int(k[1:]) for row in rows for k in row if k.startswith("y") and k[1:].isdigit()})),
        assets=assets,
        regime=None if regime is None else str(regime.attrs.get("text", "regime")),
        risk_free=risk_free_text(runs),
        assumptions={r.name: list(r.metrics.get("assumptions") or []) for r in runs},
        curves=measured,
        notes=notes,
        mixed=mixed,
        reps=reps,
        warnings=warned,
    )


def _start_notes(runs: Sequence[StoredRun], first: pd.Timestamp | None) -> list[str]:
    """The note on a window that some runs start on and others run through, every row measured from the close
    of ``first`` (:func:`_on_common_dates`; None: no such window)."""
    if first is None:
        return []
    starting = [r.name for r in runs if r.equity["value"].index[0] == first]
    return [
        f"Every row from the close of {first.date()}, the first date of {', '.join(starting)}: "
        f"{'that run' if len(starting) == 1 else 'those runs'} from the initial cash (the first trades' costs "
        "included), the others from their value then, so that every row covers the same dates (a market closed "
        "on that date is bought at its next session)."
    ]


def _sample_notes(rows: list[dict[str, Any]], dates: pd.DatetimeIndex, deciding: set[str]) -> list[str]:
    """What the window's size does not support, withheld from ``rows`` in place, and the notes saying so
    (:mod:`engine.metrics.samples`; ``deciding``: the strategies whose targets follow the data)."""
    thin = episode_notes(rows, deciding)  # before the switches per year may be withheld
    return thin + withhold_annualised(rows, m.years_between(dates[0].date(), dates[-1].date()), len(dates))


def _one_name_each(runs: Sequence[StoredRun]) -> list[StoredRun]:
    """``runs`` with each run of a config that has several in the comparison (a config edited between two runs,
    say) named ``config (run id)`` on its rows; UserError for a run given twice."""
    seen: dict[Path, int] = {}
    for r in runs:
        seen[r.run_dir] = seen.get(r.run_dir, 0) + 1
        if seen[r.run_dir] > 1:
            raise UserError(f"run {r.run_dir.name} of config {r.name!r} is given twice; give each run once")
    names = Counter(r.name for r in runs)
    return [
        replace(r, manifest={**r.manifest, "config_name": f"{r.name} ({r.run_dir.name})"}) if names[r.name] > 1 else r
        for r in runs
    ]


def _labelled_curves(runs: Sequence[StoredRun], period: _Period) -> tuple[_Labelled, list[str]]:
    """Every run's strategy curve by config name, then each distinct benchmark curve, and the notes
    on how benchmark rows were merged and named.

    Benchmark curves that would give the same row are one row: in the same currency and cash rate, their
    values in the comparison's window over the value before it agree to :data:`SAME_CURVE_RTOL` (relative)
    (:func:`_in_window`; a run whose data ends later holds the same benchmark on more dates).  A name that
    several distinct curves share is qualified on every such row (:func:`qualified_labels`).
    """
    curves: _Labelled = {}
    for r in runs:  # one name each (_one_name_each)
        curves[r.name] = (r.equity["value"], r.initial_cash, r, True)
    in_window = _in_window(curves, period)
    distinct: list[tuple[str, pd.Series, StoredRun, list[str]]] = []  # (name, curve, run, configs holding it)
    windowed: list[pd.Series | None] = []  # each distinct curve in the window, rebased once
    merged: list[str] = []
    for r in runs:
        for name in r.benchmarks.columns:
            # equal as returns in the window (another currency or initial cash: the same benchmark at another scale)
            mine = in_window(series := r.benchmarks[name], r)
            i = next((i for i, d in enumerate(distinct) if _same_basis(d[2], r) and _alike(windowed[i], mine)), None)
            if i is None or mine is None:
                distinct.append((name, series, r, [r.name]))
                windowed.append(mine)
                continue
            same = distinct[i]
            same[3].append(r.name)
            if not np.array_equal(windowed[i].to_numpy(), mine.to_numpy()):  # type: ignore[union-attr]
                merged.append(f"{name!r} of {r.name} into {same[0]!r} of {same[2].name}")
    labels = qualified_labels([(name, run.name, base_currency(run)) for name, _, run, _ in distinct])
    shared = []
    for label, (name, series, run, holders) in zip(labels, distinct, strict=True):
        if label in curves:  # a benchmark named like a compared config
            label = f"{label} ({run.name})"
        curves[label] = (series, run.initial_cash, run, False)
        if label != name and len(holders) > 1:
            shared.append(f"{label} is also that of {', '.join(holders[1:])}")
    notes = []
    if merged:
        notes.append(
            f"Shown once (curves equal to {SAME_CURVE_RTOL:g} relative in the window): " + "; ".join(merged) + "."
        )
    if shared:
        notes.append("Benchmarks named after the first config holding them: " + "; ".join(shared) + ".")
    return curves, notes


def _window(curves: _Labelled, period: _Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last date common to every curve within ``period`` (UserError when there are none)."""
    try:
        return cmp.common_window({k: v[0] for k, v in curves.items()}, period)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _in_window(curves: _Labelled, period: _Period) -> Callable[[pd.Series, StoredRun], pd.Series | None]:
    """A run's curve on the comparison's window (:func:`_window`; a benchmark has its run's dates), over its
    value before the window (:func:`engine.metrics.frames.rebase`); None when that value is 0 or not finite."""
    first, last = _window(curves, period)
    rebase = _rebase_for(curves, first)

    def in_window(series: pd.Series, run: StoredRun) -> pd.Series | None:
        cut, before = rebase(series, first, last, initial=run.initial_cash)
        return cut / before if math.isfinite(before) and before != 0 else None

    return in_window


def _rebase_for(curves: _Labelled, first: pd.Timestamp) -> Callable[..., tuple[pd.Series, float]]:
    """How every curve is put on the window from ``first``: :func:`engine.metrics.frames.rebase_after` when
    some curves start on ``first`` and others ran before it (every row from that close), else
    :func:`engine.metrics.frames.rebase` (each from its previous close, or its initial cash)."""
    return cmp.rebase_after if cmp.starts_mixed([v[0] for v in curves.values()], first) else cmp.rebase


def _alike(a: pd.Series | None, b: pd.Series | None) -> bool:
    """Two curves of :func:`_in_window`, both measurable and the same (:func:`same_curve`)."""
    return a is not None and b is not None and same_curve(a, b)


def same_curve(a: pd.Series, b: pd.Series) -> bool:
    """Same dates and values equal to :data:`SAME_CURVE_RTOL` relative (NaN equal to NaN).

    >>> dates = pd.to_datetime(["2024-01-02", "2024-01-03"])
    >>> same_curve(pd.Series([1.0, 2.0], dates), pd.Series([1.0, 2.0 * (1 + 2e-10)], dates))
    True
    >>> same_curve(pd.Series([1.0, 2.0], dates), pd.Series([1.0, 2.0 * (1 + 2e-9)], dates))
    False
    """
    if len(a) != len(b) or not pd.DatetimeIndex(a.index).equals(pd.DatetimeIndex(b.index)):
        return False
    return bool(np.allclose(a.to_numpy(), b.to_numpy(), rtol=SAME_CURVE_RTOL, atol=0.0, equal_nan=True))


def _same_basis(a: StoredRun, b: StoredRun) -> bool:
    """Rows of two runs measure alike: same base currency and cash rate (their Sharpe ratios agree)."""
    return base_currency(a) == base_currency(b) and run_risk_free(a) == run_risk_free(b)


def qualified_labels(entries: Sequence[tuple[str, str, str]]) -> list[str]:
    """Row labels from (name, config, currency) per row: a name several rows share names each row's
    currency when that tells them apart, else its config (and currency, when those differ).

    >>> qualified_labels([("B&H", "a", "USD"), ("B&H", "b", "HKD"), ("x", "a", "USD")])
    ['B&H (USD)', 'B&H (HKD)', 'x']
    >>> qualified_labels([("B&H", "a", "USD"), ("B&H", "b", "USD")])
    ['B&H (a)', 'B&H (b)']
    """
    rows_of: dict[str, list[int]] = {}
    for i, (name, _, _) in enumerate(entries):
        rows_of.setdefault(name, []).append(i)
    labels = [name for name, _, _ in entries]
    for name, rows in rows_of.items():
        currencies = {entries[i][2] for i in rows}
        if len(rows) < 2:
            continue
        for i in rows:
            _, config, currency = entries[i]
            if len(currencies) == len(rows):
                labels[i] = f"{name} ({currency})"
            else:
                labels[i] = f"{name} ({config}, {currency})" if len(currencies) > 1 else f"{name} ({config})"
    return labels


def is_benchmark_label(label: str, name: str) -> bool:
    """Whether a benchmark row's ``label`` is of the benchmark ``name``: the name itself, or the name qualified
    by its config or currency (``buy & hold US (corr_breakdown)``)."""
    return label == name or label.startswith(f"{name} (")


def _reference_name(curves: _Labelled, benchmark: str | None) -> str:
    """The reference row: ``benchmark``, else ``DEFAULT_BENCHMARK`` when present, else the first benchmark, else
    ``""`` (no run compared has one); a benchmark's plain name picks the first row of that name when several rows
    qualify it."""
    bench_names = [k for k, v in curves.items() if not v[3]]
    wanted = benchmark or DEFAULT_BENCHMARK
    for label in bench_names:
        if is_benchmark_label(label, wanted):
            return label
    if benchmark is None:
        return (bench_names or [""])[0]
    raise UserError(f"unknown benchmark {benchmark!r} (known: {', '.join(bench_names) or 'none'})")


def _on_common_dates(
    curves: _Labelled, period: _Period, reference: str
) -> tuple[dict[str, tuple[pd.Series, float]], pd.DatetimeIndex, pd.Timestamp | None]:
    """Each curve cut to the common window on the dates every curve has, with its V_-1; those dates; and the
    date whose close every row is measured from when the window starts some runs (None: each from its
    previous close, or its initial cash)."""
    first, last = _window(curves, period)  # dates of every curve
    rebase = _rebase_for(curves, first)
    cut = {label: rebase(series, first, last, initial=initial) for label, (series, initial, _, _) in curves.items()}
    # Every curve on exactly the same dates (the union timelines of the runs may differ when mixed).
    dates = cut[reference][0].index if reference in cut else next(iter(cut.values()))[0].index  # "": no benchmark
    for v, _ in cut.values():
        dates = dates.intersection(v.index)
    if len(dates) < 2:  # measured from the window's first close, one date was left
        raise UserError(
            f"the runs share {counted(len(dates), 'dates')} after the close of {first.date()}, "
            "the first date of some of them; a comparison needs at least 2",
            expected="a longer window (--period), or runs that overlap longer",
        )
    measured = {label: (value.loc[dates], initial) for label, (value, initial) in cut.items()}
    return measured, dates, first if rebase is cmp.rebase_after else None


def _row(
    label: str,
    value: pd.Series,
    initial: float,
    run: StoredRun,
    is_strategy: bool,
    risk_free: np.ndarray,
    reference: tuple[pd.Series, float] | None,
    ppy: float,
) -> dict[str, Any]:
    """One row before its statistics: the metrics of ``value``, against the ``reference`` curve and its V_-1
    (None: no benchmark, so no relative metrics), its betas, its data, and (a strategy's only) its trading."""
    dates = value.index
    row: dict[str, Any] = {"kind": "strategy" if is_strategy else "benchmark", "name": label}
    row.update({"start": str(dates[0].date()), "end": str(dates[-1].date())})
    row.update(cmp.row_metrics(value, initial, risk_free=risk_free))
    if reference is None:
        row.update(dict.fromkeys(("excess_return", "tracking_error", "information_ratio"), math.nan))
    else:
        row.update(cmp.relative_metrics(value, reference[0], initial, reference[1], ppy))
    markets = {a: run.prices.loc[dates, a] for a in run.prices.columns}
    row.update({f"beta_{a}": b for a, b in cmp.betas(value, initial, markets).items()})
    row["currency"] = base_currency(run)
    row["risk_free"] = run_risk_free(run)  # what its Sharpe is in excess of
    row["data_fingerprint"] = run.manifest["data_fingerprint"]
    row["synthetic"] = bool(run.manifest["synthetic"])
    if is_strategy:
        row.update(trading_columns(run, value, row["years"]))
    else:
        # Benchmark trades and weights are not stored: turnover, switches and weights are left out.
        row.update({"turnover": float("nan"), "switches_per_year": float("nan"), "avg_weight": {}})
    row["run_id"] = run.manifest["run_id"]
    return row


def _extra_columns(
    value: pd.Series, initial: float, ppy: float, *, by_year: bool, regime: pd.Series | None, risk_free: np.ndarray
) -> dict[str, float]:
    """The optional columns: calendar-year returns ``y<year>`` and the regime metrics (Sharpe in excess
    of ``risk_free``, the row's per-date cash rate, as the main Sharpe)."""
    out: dict[str, float] = {}
    if by_year:
        out.update({f"y{y}": r for y, r in cmp.year_returns(value, initial).items()})
    if regime is not None:
        out.update(cmp.regime_metrics(value, initial, regime, ppy, risk_free))
    return out


def _rows_and_spa(
    curves: _Labelled,
    measured: dict[str, tuple[pd.Series, float]],
    reference: str,
    rf: dict[str, np.ndarray],
    ppy: float,
    reps: int,
    *,
    by_year: bool,
    regime: pd.Series | None,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Every row (metrics, extra columns, and each strategy's statistics) and SPA's p-values.

    The bootstrap statistics (compiled, without the GIL) are drawn on other threads while this one
    computes the rows and SPA; each number is the same whichever thread computes it.
    """
    ref = measured.get(reference)  # None: no run compared has a benchmark
    ref_raw = None if ref is None else m.daily_returns(ref[0].to_numpy(), ref[1])
    ref_returns = None if ref_raw is None else m.excess_returns(ref_raw, rf[reference])
    returns = {label: m.daily_returns(v.to_numpy(), i) for label, (v, i) in measured.items() if curves[label][3]}
    # A row without a Sharpe ratio (its excess returns do not vary beyond rounding: cash earning the risk-free
    # rate) has no interval, PSR, P(SR>ref) or DSR either; flat zeros give each its "no variation" NaN.
    flat = {label for label, r in returns.items() if math.isnan(m.sharpe(r, 1.0, risk_free=rf[label]))}
    strategy_returns = [
        np.zeros_like(r) if label in flat else m.excess_returns(r, rf[label]) for label, r in returns.items()
    ]
    # P(SR>ref) measures both Sharpe ratios over one rate, the strategy's own (as its row's Sharpe): a strategy
    # whose cash rate is not the reference's is compared with the reference's returns in excess of its rate.
    other = [
        m.excess_returns(ref_raw, rf[label]) if ref_raw is not None and other_rate(rf, label, reference) else None
        for label in returns
    ]
    with ThreadPoolExecutor(1) as background:
        statistics = background.submit(_statistics, strategy_returns, ref_returns, ppy, reps, other)
        rows: list[dict[str, Any]] = []
        for label, (value, initial) in measured.items():
            _, _, run, is_strategy = curves[label]
            rows.append(_row(label, value, initial, run, is_strategy, rf[label], ref, ppy))
            rows[-1].update(_extra_columns(value, initial, ppy, by_year=by_year, regime=regime, risk_free=rf[label]))
        # SPA tests differences of returns, in which any rate both sides are measured over cancels
        spa = (
            sig.spa_pvalue(np.column_stack(list(returns.values())), ref_raw, reps=reps)
            if returns and ref_raw is not None
            else {}
        )
        for row, values in zip([r for r in rows if r["kind"] == "strategy"], statistics.result(), strict=True):
            row.update(values)
    return rows, spa


def _statistics(
    strategy_returns: list[np.ndarray],
    ref_returns: np.ndarray | None,
    ppy: float,
    reps: int,
    references: list[np.ndarray | None] | None = None,
) -> list[dict[str, float]]:
    """Each strategy's (in order, with its excess returns in ``strategy_returns``) Sharpe interval, PSR
    (against a Sharpe of 0), probability its Sharpe beats the reference's, and DSR over the strategies
    compared (never above its PSR): each one a trial, the variance of the Sharpe ratios over those that
    have one (a window of fewer than 3 returns, or returns without variation, has none)."""
    trial_sharpes = [s for s in (sig.per_period_sharpe(x) for x in strategy_returns) if math.isfinite(s)]
    return row_statistics(
        strategy_returns, ref_returns, periods_per_year=ppy, reps=reps, trial_sharpes=trial_sharpes,
        n_trials=len(strategy_returns), references=references,
    )  # fmt: skip
