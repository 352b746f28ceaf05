"""Whether stored runs are on the same data, as ``seesaw compare`` requires (unless ``--allow-mixed``).

Same data: one source, one base currency, and every (symbol, price column) that several runs hold has
the same trading dates and quoted prices on the dates those runs share (from each run's
``quotes.parquet``), so configs on different symbols can be compared while a stale or edited copy of a
series cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from engine.currency import base_currency
from engine.errors import UserError
from engine.store.rundir import StoredRun

__all__ = ["check_same_data", "data_mismatch"]


def check_same_data(runs: Sequence[StoredRun], allow_mixed: bool) -> str | None:
    """UserError when ``runs`` are on different data (:func:`data_mismatch`) and that is not allowed; else how
    their data differ (None: they do not), for the caption of a comparison ``allow_mixed`` let through."""
    mismatch = data_mismatch(runs)
    if mismatch is not None and not allow_mixed:
        raise UserError(
            f"runs use different data ({mismatch}); compare runs on the same data, or pass --allow-mixed",
            expected="one source, one base currency, and the same prices for every symbol the runs share",
        )
    return mismatch


def _quoted_series(run: StoredRun) -> dict[tuple[str, str], pd.Series] | None:
    """{(symbol, price column): quoted prices on the dates it traded}, None for a run without quotes."""
    info = run.metrics.get("data", {}).get("assets")
    if run.quotes is None or not info:
        return None
    return {(info[a]["symbol"], info[a]["price"]): run.quotes[a].dropna() for a in run.quotes.columns}


def _groups(runs: Sequence[StoredRun], value: Callable[[StoredRun], str]) -> str | None:
    """The runs grouped by ``value`` when they differ, the odd ones first (``synthetic: vix_rot; csv: the 10
    others``); None when every run has the same value."""
    by: dict[str, list[str]] = {}
    for r in runs:
        by.setdefault(value(r), []).append(r.name)
    if len(by) == 1:
        return None
    order = sorted(by, key=lambda v: len(by[v]))  # stable: among equal counts, the order the runs came in
    parts = [f"{v}: {', '.join(by[v])}" for v in order[:-1]]
    most = by[order[-1]]
    parts.append(f"{order[-1]}: " + (f"the {len(most)} others" if len(most) > 3 else ", ".join(most)))
    return "; ".join(parts)


def data_mismatch(runs: Sequence[StoredRun]) -> str | None:
    """Why ``runs`` are not on the same data, or None when they are.

    Same data: one source, one base currency, and every (symbol, price column) that several
    runs hold has the same trading dates and quoted prices on the dates those runs share.
    Runs without quotes (written before Seesaw stored them) must have equal fingerprints.
    """
    sources = _groups(runs, lambda r: str(r.manifest["data_source"]))
    if sources is not None:
        return "sources " + sources
    bases = _groups(runs, base_currency)
    if bases is not None:
        return "base currencies " + bases
    quoted = [(r, _quoted_series(r)) for r in runs]
    if any(q is None for _, q in quoted):
        if len({r.manifest["data_fingerprint"] for r in runs}) > 1:
            return ", ".join(f"{r.name}: {r.manifest['data_source']} {r.manifest['data_fingerprint']}" for r in runs)
        return None
    first_seen: dict[tuple[str, str], tuple[str, pd.Series]] = {}
    for run, series in quoted:
        assert series is not None
        for key, s in series.items():
            if key not in first_seen:
                first_seen[key] = (run.name, s)
                continue
            other_name, other = first_seen[key]
            lo, hi = max(s.index[0], other.index[0]), min(s.index[-1], other.index[-1])
            a, b = s.loc[lo:hi], other.loc[lo:hi]
            if not a.index.equals(b.index):
                day = a.index.symmetric_difference(b.index)[0]
                return f"{key[0]} ({key[1]}) traded on {day.date()} in one of {other_name}, {run.name} only"
            differs = a.to_numpy() != b.to_numpy()
            if differs.any():
                day = a.index[int(np.argmax(differs))]
                return (
                    f"{key[0]} ({key[1]}) on {day.date()}: {other_name} {b.loc[day]:.6g}, {run.name} {a.loc[day]:.6g}"
                )
    return None
