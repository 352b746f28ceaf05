"""When a walk-forward fold's first decision is an event (docs/sweeps.md "Walk-forward validation"): only when it
changes the targets ordered last, or on a date its own rebalance mode trades; with a band, never (the scheduler
trades the drift and a change of targets)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.walkforward import _first_row_event

DATES = pd.bdate_range("2024-01-01", "2024-03-29")  # a fold starts on row 22 (2024-01-31, a month's last date)
MONTH_END, MID_MONTH, FRIDAY = 22, 27, 29  # 2024-01-31, 2024-02-07 (a Wednesday), 2024-02-09


def _events_and_targets(new: tuple[float, float], row: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets 0.5/0.5 ordered on row 0, decided unchanged until ``row``, where the next fold decides ``new``."""
    targets = np.full((len(DATES), 2), 0.5)
    targets[row:] = new
    events = np.zeros(len(DATES), dtype=bool)
    events[0] = True
    return events, targets


@pytest.mark.parametrize(
    ("mode", "new", "row", "event"),
    [
        ("on_change", (0.5, 0.5), MID_MONTH, False),  # the same targets: nothing to trade
        ("on_change", (1.0, 0.0), MID_MONTH, True),
        ("daily", (0.5, 0.5), MID_MONTH, True),  # daily trades back to target every date
        ("monthly", (0.5, 0.5), MID_MONTH, False),
        ("monthly", (0.5, 0.5), MONTH_END, True),  # a month's last date: the mode's own event
        ("monthly", (1.0, 0.0), MID_MONTH, True),  # a new combination's new targets trade at once
        ("weekly", (0.5, 0.5), MID_MONTH, False),  # a Wednesday
        ("weekly", (0.5, 0.5), FRIDAY, True),
        ("band", (0.5, 0.5), MID_MONTH, False),  # the scheduler trades a drift past the band
        ("band", (1.0, 0.0), MID_MONTH, False),  # and a change of targets past it
        ("banded monthly", (1.0, 0.0), MID_MONTH, False),  # a band with every: monthly
        ("banded monthly", (0.5, 0.5), MONTH_END, True),  # its schedule's date
    ],
)
def test_a_later_folds_first_decision(mode: str, new: tuple[float, float], row: int, event: bool) -> None:
    events, targets = _events_and_targets(new, row)
    banded = mode.startswith("banded ") or mode == "band"
    got = _first_row_event(DATES, targets, events, row, mode.removeprefix("banded "), banded=banded)
    assert got is event


@pytest.mark.parametrize("mode", ["on_change", "daily", "weekly", "monthly", "band"])
def test_the_runs_first_decision_is_always_an_event(mode: str) -> None:
    targets = np.full((len(DATES), 2), 0.5)
    nothing_ordered = np.zeros(len(DATES), dtype=bool)
    assert _first_row_event(DATES, targets, nothing_ordered, MID_MONTH, mode, banded=mode == "band") is True
