"""engine.store.spill.spilled_table: a Parquet table read a column at a time, its columns of numbers kept in
unnamed files. Reference: ``pandas.read_parquet`` of the same file, compared exactly (values, types, NaN)."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.store.spill import spilled_table


def _on_disk(values: np.ndarray) -> bool:
    base: object = values
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            return True
        base = base.base
    return isinstance(base, mmap.mmap)


def test_a_table_read_back_is_read_parquets_with_its_numbers_on_disk(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 1_000
    frame = pd.DataFrame(
        {
            "combo": np.arange(n),
            "rebalance": np.where(rng.random(n) < 0.5, "weekly", "on_change"),
            "sharpe": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            "trades": rng.integers(0, 500, n).astype(np.int32),
            "tied": rng.random(n) < 0.3,
            "start": pd.date_range("2001-01-01", periods=n, freq="D"),
        }
    )
    path = tmp_path / "combos.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=300)
    (tmp_path / "spill").mkdir()
    with path.open("rb") as fh:
        table = spilled_table(fh, tmp_path / "spill")
    expected = pd.read_parquet(path)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    assert [name for name in table if _on_disk(table[name].to_numpy())] == ["combo", "sharpe", "trades", "tied"]
    assert list((tmp_path / "spill").iterdir()) == []


def test_an_empty_table_reads_back_empty(tmp_path: Path) -> None:
    frame = pd.DataFrame({"combo": np.arange(0), "sharpe": np.zeros(0)})
    path = tmp_path / "combos.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    with path.open("rb") as fh:
        table = spilled_table(fh, tmp_path)
    pd.testing.assert_frame_equal(table, pd.read_parquet(path), check_exact=True)
