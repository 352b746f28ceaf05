"""engine.store.spill: arrays in one unnamed file under one memory map, and a Parquet table read back a column
at a time. Reference: ``pandas.read_parquet`` of the same file, compared exactly (values, types, NaN)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.store.spill import spilled_arrays, spilled_table
from tests.helpers import map_of, on_disk


def _combos(tmp_path: Path) -> Path:
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
    return path


@pytest.mark.parametrize(("free", "spilled"), [(10**12, False), (None, False), (1_000, True)])
def test_a_table_read_back_is_read_parquets(tmp_path: Path, free: int | None, spilled: bool) -> None:
    """Its columns of numbers on disk only when they would take more than a quarter of the memory free."""
    path = _combos(tmp_path)
    (tmp_path / "spill").mkdir()
    with path.open("rb") as fh:
        table = spilled_table(fh, tmp_path / "spill", free=free)
    pd.testing.assert_frame_equal(table, pd.read_parquet(path), check_exact=True)
    kept = [name for name in table if on_disk(table[name].to_numpy())]
    assert kept == (["combo", "sharpe", "trades", "tied"] if spilled else [])
    assert len({id(map_of(table[name].to_numpy())) for name in kept}) == (1 if spilled else 0)  # one map, one file
    assert list((tmp_path / "spill").iterdir()) == []


def test_an_empty_table_reads_back_empty(tmp_path: Path) -> None:
    frame = pd.DataFrame({"combo": np.arange(0), "sharpe": np.zeros(0)})
    path = tmp_path / "combos.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    with path.open("rb") as fh:
        table = spilled_table(fh, tmp_path, free=0)
    pd.testing.assert_frame_equal(table, pd.read_parquet(path), check_exact=True)


def test_arrays_share_one_file_and_keep_what_is_written(tmp_path: Path) -> None:
    a, b, c = spilled_arrays(tmp_path, [((3, 5), np.float64), ((7,), np.int32), ((0,), np.float64)])
    assert (a.shape, b.shape, c.shape) == ((3, 5), (7,), (0,)) and (a.dtype, b.dtype) == (np.float64, np.int32)
    assert map_of(a) is map_of(b) and map_of(a) is not None
    assert a.ctypes.data % 64 == 0 and b.ctypes.data % 64 == 0  # each starts on a cache line
    a[...] = np.arange(15).reshape(3, 5)
    b[...] = -1
    np.testing.assert_array_equal(a, np.arange(15).reshape(3, 5))  # the int32s did not overwrite the floats
    np.testing.assert_array_equal(b, np.full(7, -1))
    assert list(tmp_path.iterdir()) == []
