"""engine.sweep.grid_frame: the grid as a table. Reference: pandas' frame of the grid's combinations as iterating
the grid gives them (one dict a combination, in grid order), compared exactly, types included."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.config.params import Grid
from engine.sweep import grid_frame

GRIDS = [
    Grid(("mom_window", "cut", "rebalance"), ((20, 25, 30), (0.0, 0.0025), ("weekly", "on_change"))),
    Grid(("allow_short",), ((True, False),)),
    Grid(("a", "b"), ((1, 2.5), (True, 1))),  # mixed types: float, and objects
    Grid(("lag", "window"), ((1,), (5, 10, 15, 20))),  # a key of one value
    Grid(("x", "y", "z"), ((1, 2), (3, 4, 5), (6, 7, 8, 9))),
]


@pytest.mark.parametrize("g", GRIDS, ids=lambda g: "-".join(g.keys))
def test_the_table_is_the_grids_combinations_in_order(g: Grid) -> None:
    expected = pd.DataFrame(list(g), columns=list(g.keys))
    pd.testing.assert_frame_equal(grid_frame(g), expected, check_exact=True)
