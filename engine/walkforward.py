"""Walk-forward validation: choose a combination on each training window, apply it to the next test window.

Folds, on the run's dates (the union US/HK timeline from the first simulated date):

    fold i trains on [t0 + i*step, t0 + i*step + train) and tests on [that end, that end + test)

(calendar durations such as ``5y``, ``18m``, ``90d``; a window is the dates inside it; the last
test window may be cut short by the end of the data; folds stop when no test date is left; the step
is at most the test window, so every date of the out-of-sample run is in some fold's test window).

Selection uses only the training window: every combination is scored on the returns of the dates
inside it (from the previous close, see :func:`engine.sweep.window_metrics`), and the best by the
chosen metric wins (ties, scores within :data:`engine.metrics.matrix.TIE_RTOL` of the best: the first in grid order).
Signals on any date use the history before it (known at the time), so a test window's signals may
look back into the training window and before; a test window's returns are never read before its
fold is chosen.

The out-of-sample run is one simulation (``stitch``): from the first test date on, the decisions
taken on each row follow the combination chosen for the fold whose selection was known by then
(after the close of the last training date, the fold's combination decides); switching between
combinations is traded like any other change of targets, with its costs: a fold's first decision is an
event when its targets differ from those ordered last (or on a date its rebalance mode makes an event),
so a fold that decides the targets already held trades nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.config.models import StrategyConfig
from engine.costs import CostRates, cost_rates
from engine.errors import UserError
from engine.evaluate import Columns
from engine.execution import TARGET_EPS, event_mask
from engine.metrics.matrix import TIE_RTOL
from engine.plural import counted
from engine.sweep import Setting, SweepContext, setting_targets

__all__ = ["Fold", "decision_fold", "duration_text", "folds", "parse_duration", "select", "stitched_columns"]

_DURATION = re.compile(r"^(\d{1,6})([ymd])$")
#: Longest --train, --test or --step (the data Seesaw handles spans 1900-2100).
MAX_DURATION_YEARS = 200
#: Most folds a walk-forward may have (a one-day step over decades would make thousands).
MAX_FOLDS = 1_000


def parse_duration(text: str, option: str) -> pd.DateOffset:
    """``5y``, ``18m`` or ``90d`` as a calendar offset; a one-line error for anything else.  Whole years of
    months are years (the same dates: ``60m`` is ``5y``, written and stored so, a walk-forward reused for either).

    >>> parse_duration("18m", "--train")
    <DateOffset: months=18>
    >>> parse_duration("60m", "--train")
    <DateOffset: years=5>
    """
    found = _DURATION.match(text.strip().lower())
    if not found:
        raise UserError(f"{option}: expected a duration such as 5y, 18m or 90d, got {text!r}")
    if int(found.group(1)) == 0:
        raise UserError(f"{option}: a duration must be longer than 0, got {text!r}", expected="such as 5y, 18m or 90d")
    count, unit = int(found.group(1)), found.group(2)
    limit = {"y": MAX_DURATION_YEARS, "m": 12 * MAX_DURATION_YEARS, "d": 366 * MAX_DURATION_YEARS}[unit]
    if count > limit:
        raise UserError(
            f"{option}: {text!r} is longer than {MAX_DURATION_YEARS} years", expected=f"at most {limit}{unit}"
        )
    if unit == "m" and count % 12 == 0:
        count, unit = count // 12, "y"
    return pd.DateOffset(**{{"y": "years", "m": "months", "d": "days"}[unit]: count})


def duration_text(offset: pd.DateOffset) -> str:
    """A duration of :func:`parse_duration` as it is written (``DateOffset(months=18)``: ``18m``)."""
    return "".join(f"{count}{unit[0]}" for unit, count in offset.kwds.items())


@dataclass(frozen=True)
class Fold:
    """One fold, as inclusive row ranges of the run's dates."""

    number: int
    train: tuple[int, int]
    test: tuple[int, int]

    def describe(self, dates: pd.DatetimeIndex) -> dict[str, str]:
        return {
            "train_start": str(dates[self.train[0]].date()),
            "train_end": str(dates[self.train[1]].date()),
            "test_start": str(dates[self.test[0]].date()),
            "test_end": str(dates[self.test[1]].date()),
        }


def folds(dates: pd.DatetimeIndex, train: pd.DateOffset, test: pd.DateOffset, step: pd.DateOffset) -> list[Fold]:
    """Rolling folds over ``dates`` (module docstring); a one-line error when none fits, or when a fold's test
    window ends before the next fold's begins, or before the data ends after the last (a ``step`` longer than
    ``test``: those dates would be traded by the stitched run and tested by no fold).

    Every boundary is one offset from the first date (``origin + (i*step + train)``), so month offsets do not
    drift as chained ones would (31 January + 1 month + 1 month is 28 March).
    """
    out: list[Fold] = []
    origin = dates[0]
    i = 0
    while True:
        a = int(dates.searchsorted(_after(origin, (step, i))))
        b = int(dates.searchsorted(_after(origin, (step, i), (train, 1))))  # first test row
        c = int(dates.searchsorted(_after(origin, (step, i), (train, 1), (test, 1))))
        if b >= len(dates):
            break
        if b - a < 2:  # a training window of one date or none: nothing to rank combinations on
            raise UserError(
                f"walk-forward: --train {duration_text(train)} holds {counted(b - a, 'dates')} of data from "
                f"{_after(origin, (step, i)).date()} (fold {len(out)})",
                expected="a training window of at least two trading dates",
            )
        out.append(Fold(len(out), (a, b - 1), (b, min(c, len(dates)) - 1)))
        if len(out) > MAX_FOLDS:
            raise UserError(
                f"walk-forward: --step {duration_text(step)} makes more than {MAX_FOLDS:,} folds in "
                f"{dates[0].date()} → {dates[-1].date()}",
                expected=f"at most {MAX_FOLDS:,} folds (a longer --step)",
            )
        i += 1
    if not out:
        raise UserError(
            f"walk-forward: no fold fits in {dates[0].date()} → {dates[-1].date()} with --train {duration_text(train)} "
            f"and --test {duration_text(test)}",
            expected="a period longer than the training window",
        )
    starts = [f.test[0] for f in out[1:]] + [len(dates)]
    for f, next_start in zip(out, starts, strict=True):
        if next_start > f.test[1] + 1:
            after = (
                f"the next fold's starts {dates[next_start].date()}"
                if next_start < len(dates)
                else f"the data ends {dates[-1].date()}"
            )
            raise UserError(
                f"walk-forward: --step {duration_text(step)} is longer than --test {duration_text(test)}: fold "
                f"{f.number}'s test window ends {dates[f.test[1]].date()}, {after}; "
                "the dates between would be in the out-of-sample run but in no fold",
                expected="a --step no longer than --test",
            )
    return out


def _after(origin: pd.Timestamp, *terms: tuple[pd.DateOffset, int]) -> pd.Timestamp:
    """``origin`` plus the sum of ``count`` times each offset, as one offset."""
    kwds: dict[str, int] = {}
    for offset, count in terms:
        for unit, n in offset.kwds.items():
            kwds[unit] = kwds.get(unit, 0) + n * count
    return origin + pd.DateOffset(**kwds) if any(kwds.values()) else origin


def select(table: pd.DataFrame, fold: Fold, metric: str, *, lower_is_better: bool = False) -> int:
    """Row position in ``table`` (grid order) of the best combination on ``fold``'s training window.

    Reads only the column ``w<fold>:<metric>``; NaN never wins; the first row (grid order) of those within
    :data:`engine.metrics.matrix.TIE_RTOL` of the best score (relative, so an exact tie only at a best of 0) wins.
    """
    return int(np.argmax(tied_with_best(table, fold, metric, lower_is_better=lower_is_better)))


def tied_with_best(table: pd.DataFrame, fold: Fold, metric: str, *, lower_is_better: bool = False) -> np.ndarray:
    """(rows,) bool: the combinations tied for the best ``metric`` on ``fold``'s training window (:func:`select`
    chooses the first); a user error when every score is NaN."""
    values = table[f"w{fold.number}:{metric}"].to_numpy(dtype=float)
    if np.isnan(values).all():
        raise UserError(f"walk-forward: {metric} is undefined for every combination on fold {fold.number}'s training")
    known = ~np.isnan(values)  # a NaN never ties, even with a best of -inf
    score = np.where(known, -values if lower_is_better else values, -np.inf)
    best = score[known].max()
    if not np.isfinite(best):  # every score -inf (or +inf): those equal to it tie
        return known & (score == best)
    return known & (score >= best - TIE_RTOL * abs(best))


def decision_fold(n_rows: int, fold_list: Sequence[Fold]) -> np.ndarray:
    """(n_rows,): the fold whose combination decides on each row of the run's dates (-1 before the first).

    The fold's combination is chosen after the close of its last training date, so it decides
    from that row on, until the next fold's last training date.
    """
    out = np.full(n_rows, -1, dtype=np.int64)
    for f in fold_list:
        out[f.train[1] :] = f.number
    return out


def stitched_columns(
    cfg: StrategyConfig, ctx: SweepContext, fold_list: Sequence[Fold], settings: Sequence[Setting]
) -> Columns:
    """The one column of the run that follows each fold's chosen setting (module docstring).

    Rows are the panel's (warm-up included).  A row decides with the setting of
    :func:`decision_fold`, with its lag; a fold's first row is an event as :func:`_first_row_event` says,
    the others as the setting's rebalance mode makes them.  A fill on a date pays the costs of the
    fold whose test window holds it (the first fold's before that).
    """
    panel, start = ctx.loaded.panel, ctx.start
    n, n_assets = len(panel.dates), len(panel.assets)
    owner = decision_fold(n - start, fold_list)  # run rows
    targets = np.zeros((n, n_assets))
    lag = np.full(n, settings[0].lag, dtype=np.int64)
    events = np.zeros(n, dtype=bool)
    per_fold = setting_targets(cfg, ctx, settings)  # (n, F, A)
    for f, s in enumerate(settings):
        rows = start + np.flatnonzero(owner == f)
        if not len(rows):
            continue
        targets[rows] = per_fold[rows, f]
        lag[rows] = s.lag
        mode = event_mask(panel.dates, per_fold[:, f : f + 1], np.array([rows[0]]), [s.rebalance])[:, 0]
        events[rows] = mode[rows]
        events[rows[0]] = _first_row_event(
            panel.dates, targets, events, rows[0], s.rebalance, banded=s.band is not None
        )
    if len({s.band for s in settings}) > 1:
        raise UserError("a walk-forward whose folds choose different rebalancing bands is not supported")
    if len({(s.max_gross, s.costs.borrow_bps, s.costs.margin_spread_bps) for s in settings}) > 1:
        raise UserError(
            "a walk-forward whose folds choose different margin settings (execution.max_gross, costs.borrow_bps, "
            "costs.margin_spread_bps) is not supported"
        )
    band = settings[0].band
    return Columns(
        band=np.array([np.nan if band is None else band]),
        targets=targets[:, None, :],
        lag=lag[:, None],
        rebalance=[settings[0].rebalance],
        costs=[(np.arange(1), _fold_costs(cfg, ctx, fold_list, settings))],
        first_decision=np.array([start + fold_list[0].train[1]]),
        events=events[:, None],
        margin=None if settings[0].max_gross is None else np.array([True]),
    )


def _first_row_event(
    dates: pd.DatetimeIndex, targets: np.ndarray, events: np.ndarray, row: int, mode: str, *, banded: bool = False
) -> bool:
    """Whether a fold's first decision, on ``row``, is an event: the run's first decision is; a later fold's is
    when its targets differ from those of the last event before it (the targets ordered), or on a date its
    rebalance mode makes an event (every date with ``daily``, a week's or month's last); with a band (``banded``),
    only on its schedule's dates (the scheduler trades when the holdings are off the targets by more than the band,
    a change of targets included).
    A fold whose combination decides the targets already held trades nothing: a drifted mix is not rebalanced
    because a fold began."""
    earlier = np.flatnonzero(events[:row])
    if not len(earlier):
        return True
    # with a band the scheduler trades a drift past it, a change of targets included: not a change here
    if not banded and np.max(np.abs(targets[row] - targets[earlier[-1]]), initial=0.0) > TARGET_EPS:
        return True
    if mode in ("on_change", "band"):
        return False
    return bool(event_mask(dates, targets[:, None, :], np.array([row - 1]), [mode])[row, 0])


def _fold_costs(
    cfg: StrategyConfig, ctx: SweepContext, fold_list: Sequence[Fold], settings: Sequence[Setting]
) -> CostRates:
    """Per-date fee and slippage fractions: each date pays the costs of the fold whose test window holds it."""
    panel, start = ctx.loaded.panel, ctx.start
    n, n_assets = len(panel.dates), len(panel.assets)
    fees, slippage = np.zeros((n, n_assets)), np.zeros((n, n_assets))
    test_owner = np.zeros(n, dtype=np.int64)
    for fold in fold_list:
        test_owner[start + fold.test[0] :] = fold.number
    for f, s in enumerate(settings):
        rates = cost_rates(s.costs, cfg.assets, panel.assets, panel.dates)
        rows = np.flatnonzero(test_owner == f)
        fees[rows] = rates.fees[rows]
        slippage[rows] = rates.slippage
    first = cost_rates(settings[0].costs, cfg.assets, panel.assets, panel.dates[:1])  # the folds' financing is one
    return CostRates(fees=fees, slippage=slippage, borrow=first.borrow, margin_spread=first.margin_spread)
