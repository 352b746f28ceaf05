"""A strategy's trading columns in a comparison, over the compared window, from its stored run: turnover
(one-way, per year), switches per year (as the run counts them: changes of the targets in force after the
first targets come into force) and the average weight of each traded asset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.metrics import frames as cmp
from engine.store.rundir import StoredRun

__all__ = ["trading_columns"]


def trading_columns(run: StoredRun, value: pd.Series, years: float) -> dict[str, Any]:
    """A strategy's turnover and switches per year over its compared curve ``value``, and its average
    weight per traded asset; ``years``: the window's calendar years."""
    dates = value.index
    traded_value = run.trades.assign(date=pd.to_datetime(run.trades["date"])).groupby("date")["value"].sum()
    actual = run.weights.loc[dates, [f"{a}_actual" for a in run.traded_assets]]
    return {
        "turnover": cmp.turnover_per_year(traded_value, value, years),
        "switches_per_year": cmp.switches_per_year(_switch_dates(run), dates[0], dates[-1]),
        "avg_weight": {c.removesuffix("_actual"): float(actual[c].mean()) for c in actual.columns},
    }


def _switch_dates(run: StoredRun) -> list[pd.Timestamp]:
    """The dates the run's targets in force changed: a switch, as the run counts it (``switches``).

    ``weights.csv`` shows no targets (zeros) until the first decision comes into force (a run started
    without the warm-up its lag needs, a walk-forward's first fold); that first change is not a switch, and
    the run's own count, which knows it, tells it apart from a change from cash targets.
    """
    weights = run.weights
    targets = weights[[c for c in weights.columns if c.endswith("_target")]].to_numpy()
    changed = np.any(np.abs(np.diff(targets, axis=0)) > 1e-12, axis=1)
    dates = list(weights.index[1:][changed])
    counted = run.metrics.get("strategy", {}).get("switches")
    if dates and counted == len(dates) - 1 and not np.any(targets[0]):
        return dates[1:]  # nothing was in force on the first date: the first targets coming into force
    return dates
