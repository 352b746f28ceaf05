"""What ``seesaw episodes`` found: the object the command prints, stores and charts (docs/episodes.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from engine.episodes import DEFAULT_GAP, MIN_HISTORY, Direction, Threshold

__all__ = ["EpisodeReport"]


@dataclass(frozen=True)
class EpisodeReport:
    """Everything ``seesaw episodes`` shows, stores and charts (see docs/episodes.md for the fields)."""

    config: str
    file: str
    signal: str
    direction: Direction
    threshold: Threshold
    synthetic: bool
    data: dict[str, Any]
    observations: dict[str, Any]
    episodes: list[dict[str, Any]]
    summary: dict[str, dict[str, dict[str, Any]]]
    runs: dict[str, str]
    notes: list[str]
    history: pd.Series = field(repr=False)  # the signal's observations, for the charts
    paths: dict[str, pd.Series] = field(repr=False)  # each series' base-currency level, for the charts
    gap: int = DEFAULT_GAP
    #: what the figures rest on that changes them (a long gap in a price, a run another series ended early), of the
    #: episodes' data and of the ``--configs`` runs
    warnings: list[str] = field(default_factory=list)

    def threshold_text(self) -> str:
        """What makes an observation part of an episode, in words."""
        op = "≤" if self.direction == "low" else "≥"
        if self.threshold.kind == "value":
            return f"{self.signal} {op} {self.threshold.value:g}"
        return (
            f"{self.signal}'s percentile in its history so far {op} {self.threshold.value:g} "
            f"(never among the first {MIN_HISTORY} observations)"
        )

    def interval_caveat(self) -> str | None:
        """A sentence when an event study's 95% interval of a mean return reaches below -100%, a loss no
        return can make: the t interval of so few independent episodes is then no guide; None otherwise."""
        beyond = [
            f"{name} {h} (k = {s['n_independent']})"
            for name, by_h in self.summary.items()
            for h, s in by_h.items()
            if s.get("ci_low") is not None and s["ci_low"] < -1.0
        ]
        if not beyond:
            return None
        return (
            f"The 95% interval of the mean reaches below -100% for {', '.join(beyond)}: no return can, so a t "
            "interval from so few independent episodes is no guide to where the mean lies."
        )

    def stored(self) -> dict[str, Any]:
        """The object written to ``episodes.json``."""
        return {
            "config": self.config,
            "file": self.file,
            "signal": self.signal,
            "direction": self.direction,
            "threshold": {"kind": self.threshold.kind, "value": self.threshold.value},
            "gap": self.gap,
            "synthetic": self.synthetic,
            "data": self.data,
            "observations": self.observations,
            "episodes": self.episodes,
            "summary": self.summary,
            "runs": self.runs,
            "warnings": self.warnings,
            "notes": self.notes,
        }
