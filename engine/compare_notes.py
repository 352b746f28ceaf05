"""Notes of a comparison about its runs rather than its window: what their data's checks repaired or left out,
and their margin accounts' financing."""

from __future__ import annotations

from collections.abc import Sequence

from engine.store.rundir import StoredRun

__all__ = ["data_notes", "margin_notes"]


def data_notes(runs: Sequence[StoredRun]) -> list[str]:
    """What the runs' data checks repaired or left out (``data_notes`` in ``metrics.json``; none in a run stored
    before it existed), each note once: of every run, or naming the runs that made it (over the data each run
    loaded, its warm-up included, as ``seesaw run`` showed it; not only the common window)."""
    made: dict[str, list[str]] = {}
    for r in runs:
        for note in r.metrics.get("data_notes") or ():
            made.setdefault(note, []).append(r.name)
    return [f"Data note{_made_by(by, [r.name for r in runs])}: {note}" for note, by in made.items()]


def _made_by(by: Sequence[str], names: Sequence[str]) -> str:
    """'' (every run), `` (every run but a, b)`` when a few runs did not make it, else `` (a, b, c)``."""
    missing = [n for n in names if n not in by]
    if not missing:
        return ""
    return f" (every run but {', '.join(missing)})" if len(missing) <= 3 < len(by) else f" ({', '.join(by)})"


def margin_notes(runs: Sequence[StoredRun]) -> list[str]:
    """One note naming the margin accounts among the strategies (docs/shorts.md), with what their financing
    cost over their own run (not only the common window)."""
    paid = [
        f"{r.metrics['strategy']['name']} (borrow {f['borrow']:,.2f}, margin spread {f['margin']:,.2f})"
        for r in runs
        if (f := r.metrics["strategy"].get("financing")) is not None
    ]
    if not paid:
        return []
    return [
        "Margin accounts (shorts and borrowed cash, docs/shorts.md); financing paid over each run: " + "; ".join(paid)
    ]
