"""The columns of a sweep's table, named without importing the metrics (a config check reads them).

A sweep's table (``combos.parquet``, ``seesaw sweep --format csv``) has a column ``combo``, one per swept key
(named as written under ``sweep:``), :data:`SWEEP_COLUMNS`, ``weight_<asset>`` and ``beta_<asset>``; the rows
ranked for the terminal gain :data:`engine.metrics.row_stats.ROW_STATS`, a CSV or JSON table ``synthetic``, and
the results store's view of the tables ``sweep_id`` (:mod:`engine.store.catalog_views`).
A swept parameter named like one of those would make two columns of one name (:func:`taken_names`).
``tests/unit/test_sweep_columns.py`` checks the names against a sweep's table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from engine.errors import UserError

__all__ = ["SWEEP_COLUMNS", "check_heatmap_keys", "numeric_columns", "taken_names"]

#: What a sweep computes for every combination (``weight_<asset>`` and ``beta_<asset>`` follow).
SWEEP_COLUMNS = ("total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "longest_drawdown_days",
                 "calmar", "turnover", "switches_per_year", "excess_return", "information_ratio", "worst_year",
                 "trades", "fees_paid", "final_value")  # fmt: skip
#: The ranked rows' statistics (:data:`engine.metrics.row_stats.ROW_STATS`, which imports the metrics).
_RANKED = ("sharpe_ci_low", "sharpe_ci_high", "psr", "p_beats_ref", "dsr")


def taken_names(assets: Iterable[str]) -> frozenset[str]:
    """The column names of a sweep's table other than its swept keys', lower case (the results store's SQL
    compares names without case), and the store's view's ``sweep_id`` and DuckDB's ``filename`` (a file holding
    a column of that name cannot be read): what a swept parameter may not be called."""
    per_asset = (f"{prefix}_{asset}".lower() for asset in assets for prefix in ("weight", "beta"))
    return frozenset({"combo", "synthetic", "sweep_id", "filename", *SWEEP_COLUMNS, *_RANKED, *per_asset})


def numeric_columns(sweep: Mapping[str, Any], assets: Sequence[str], traded: Collection[str]) -> list[str]:
    """The numeric columns of the table of a sweep over ``sweep`` (the config's ``sweep:`` block), in the table's
    order: the keys whose values are numbers, :data:`SWEEP_COLUMNS`, ``weight_<asset>`` of each of the ``traded``
    assets and ``beta_<asset>`` of every asset: what ``--sort`` and ``--heatmap-metric`` may name."""
    keys = [k for k, v in sweep.items() if isinstance(v, Mapping) or all(_is_number(x) for x in v)]
    weights = [f"weight_{a}" for a in assets if a in traded]
    return [*keys, *SWEEP_COLUMNS, *weights, *(f"beta_{a}" for a in assets)]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_heatmap_keys(keys: Sequence[str], x: str, y: str) -> None:
    """Refuse (UserError) ``--heatmap x,y`` unless they are two different sweep ``keys``."""
    for name, what in ((x, "x"), (y, "y")):
        if name not in keys:
            raise UserError(f"--heatmap: {what} {name!r} is not a sweep key (keys: {', '.join(keys)})")
    if x == y:
        raise UserError("--heatmap: expected two different sweep keys, as A,B")
