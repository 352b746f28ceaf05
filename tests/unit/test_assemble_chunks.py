"""engine.store.sweeps.assemble_chunks: a stopped or finished sweep's chunk files back in grid order.

Reference: the chunk files read back one by one, the tables concatenated and sorted by ``combo`` with
pandas, the block sums joined and put in the order of their combinations with numpy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.store.sweeps import assemble_chunks, chunk_files, save_chunk
from engine.sweep import ChunkResult


def test_chunks_saved_out_of_order_come_back_in_grid_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    combos = pd.DataFrame({"window": np.arange(30) * 5, "rebalance": ["on_change", "weekly", "daily"] * 10})
    parts = [np.array([7, 2, 9, 0]), np.array([29, 3, 11]), np.arange(12, 29), np.array([1, 4, 5, 6, 8, 10])]
    for number, part in enumerate(parts):
        table = pd.DataFrame({"sharpe": rng.normal(size=len(part)), "trades": rng.integers(0, 99, len(part))})
        if number == 1:
            table["sharpe"] = np.nan  # a chunk whose column is all NaN
        blocks = rng.normal(size=(4, len(part)))
        save_chunk(tmp_path, number, ChunkResult(part, table, blocks, blocks**2, np.full(4, 10.0)), combos)
    table, sums = assemble_chunks(tmp_path, [3, 0, 2, 1], 4)

    frames = [pd.read_parquet(chunk_files(tmp_path, i)[0]) for i in [3, 0, 2, 1]]
    expected = pd.concat(frames, ignore_index=True).sort_values("combo", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(table, expected)
    assert list(table["combo"]) == list(range(30))
    assert list(table["rebalance"]) == list(combos["rebalance"])
    index = np.concatenate([np.load(chunk_files(tmp_path, i)[1])["index"] for i in [3, 0, 2, 1]])
    raw = np.hstack([np.load(chunk_files(tmp_path, i)[1])["sum"] for i in [3, 0, 2, 1]])
    np.testing.assert_array_equal(sums["sum"], raw[:, np.argsort(index)])
