"""engine.store.chunk_assembly.ChunkAssembly: a sweep's chunks, finished or read back, in grid order.

Reference: the chunk files read back one by one, the tables concatenated and sorted by ``combo`` with
pandas, the block sums joined and put in the order of their combinations with numpy.  Each case runs with
the arrays in memory and spilled to unnamed files in a directory (engine/store/spill.py), as a sweep keeps
them: the same table either way.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import StoreError
from engine.store.chunk_assembly import ChunkAssembly
from engine.store.sweeps import chunk_files, save_chunk
from engine.sweep import ChunkResult
from tests.helpers import map_of, on_disk

PARTS = [np.array([7, 2, 9, 0]), np.array([29, 3, 11]), np.arange(12, 29), np.array([1, 4, 5, 6, 8, 10])]


def _saved(tmp_path: Path) -> tuple[pd.DataFrame, list[ChunkResult]]:
    rng = np.random.default_rng(4)
    combos = pd.DataFrame({"window": np.arange(30) * 5, "rebalance": ["on_change", "weekly", "daily"] * 10})
    results = []
    for number, part in enumerate(PARTS):
        table = pd.DataFrame({"sharpe": rng.normal(size=len(part)), "trades": rng.integers(0, 99, len(part))})
        if number == 1:
            table["sharpe"] = np.nan  # a chunk whose column is all NaN
        blocks = rng.normal(size=(4, len(part)))
        results.append(ChunkResult(part, table, blocks, blocks**2, np.full(4, 10.0)))
        save_chunk(tmp_path, number, results[-1], combos)
    return combos, results


def _reference(tmp_path: Path, numbers: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    frames = [pd.read_parquet(chunk_files(tmp_path, i)[0]) for i in numbers]
    table = pd.concat(frames, ignore_index=True).sort_values("combo", kind="stable").reset_index(drop=True)
    index = np.concatenate([np.load(chunk_files(tmp_path, i)[1])["index"] for i in numbers])
    raw = np.hstack([np.load(chunk_files(tmp_path, i)[1])["sum"] for i in numbers])
    return table, raw[:, np.argsort(index)]


@pytest.fixture(params=["memory", "spilled"])
def spill(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    """Where the assembly keeps its arrays: in memory (None), or in a directory of their own."""
    if request.param == "memory":
        return None
    (tmp_path / "spill").mkdir()
    return tmp_path / "spill"


def test_chunks_read_back_out_of_order_come_back_in_grid_order(tmp_path: Path, spill: Path | None) -> None:
    combos, _ = _saved(tmp_path)
    assembly = ChunkAssembly(30, 4, spill)
    for number in [3, 0, 2, 1]:
        assembly.read(*chunk_files(tmp_path, number))
    expected, sums = _reference(tmp_path, [3, 0, 2, 1])
    pd.testing.assert_frame_equal(assembly.table(), expected)
    assert list(assembly.table()["combo"]) == list(range(30))
    assert list(assembly.table()["rebalance"]) == list(combos["rebalance"])
    np.testing.assert_array_equal(assembly.blocks["sum"], sums)
    np.testing.assert_array_equal(assembly.blocks["sq"], sums**2)


def test_finished_chunks_and_read_back_chunks_give_the_same_table(tmp_path: Path, spill: Path | None) -> None:
    # a resumed sweep: two chunks read from disk, two added as they finish (the rows save_chunk wrote)
    combos, results = _saved(tmp_path)
    assembly = ChunkAssembly(30, 4, spill)
    assembly.read(*chunk_files(tmp_path, 2))
    assembly.read(*chunk_files(tmp_path, 0))
    for number in (3, 1):
        rows = save_chunk(tmp_path, number, results[number], combos)
        assembly.add(rows, results[number].block_sum, results[number].block_sq, results[number].block_n)
    expected, sums = _reference(tmp_path, [0, 1, 2, 3])
    pd.testing.assert_frame_equal(assembly.table(), expected)
    np.testing.assert_array_equal(assembly.blocks["sum"], sums)


def test_a_stopped_sweep_has_only_its_finished_rows(tmp_path: Path, spill: Path | None) -> None:
    _saved(tmp_path)
    assembly = ChunkAssembly(30, 4, spill)
    for number in (1, 3):
        assembly.read(*chunk_files(tmp_path, number))
    expected, _ = _reference(tmp_path, [1, 3])
    pd.testing.assert_frame_equal(assembly.table(), expected)
    assert assembly.filled.sum() == 9


def test_a_wider_column_type_in_a_later_chunk_widens_the_column(spill: Path | None) -> None:
    # integers first, then a float with a fraction: the column becomes float, no value is truncated
    assembly = ChunkAssembly(4, 2, spill)
    sums = np.zeros((2, 2))
    assembly.add(pd.DataFrame({"combo": [0, 1], "trades": [3, 4]}), sums, sums, np.ones(2))
    assembly.add(pd.DataFrame({"combo": [2, 3], "trades": [5.5, np.nan]}), sums, sums, np.ones(2))
    table = assembly.table()
    assert table["trades"].dtype == np.float64
    np.testing.assert_array_equal(table["trades"], [3.0, 4.0, 5.5, np.nan])
    assert on_disk(table["trades"].to_numpy()) == (spill is not None)  # widened where it was kept


def test_spilled_arrays_are_files_with_no_name_and_the_table_is_over_them(tmp_path: Path, spill: Path | None) -> None:
    """A sweep's rows and block sums kept on disk, not in the process's memory: the finished table's columns
    and the block sums are maps of files, the table not a copy; strings stay in memory; nothing is left in the
    directory (the files have no name)."""
    _saved(tmp_path)
    assembly = ChunkAssembly(30, 4, spill)
    for number in range(len(PARTS)):
        assembly.read(*chunk_files(tmp_path, number))
    table = assembly.table()
    spilled = spill is not None
    assert on_disk(assembly.blocks["sum"]) == on_disk(assembly.blocks["sq"]) == spilled
    for name in ("combo", "window", "sharpe", "trades"):
        assert on_disk(table[name].to_numpy()) == spilled, name
    assert not on_disk(table["rebalance"].to_numpy())
    if spill is not None:
        assert list(spill.iterdir()) == []
        # one map, so one open file, for all the columns, another for the block sums
        assert len({id(map_of(table[name].to_numpy())) for name in ("combo", "window", "sharpe", "trades")}) == 1
        assert map_of(assembly.blocks["sum"]) is map_of(assembly.blocks["sq"])


def test_a_spill_directory_without_room_is_one_error_naming_it(tmp_path: Path, monkeypatch) -> None:
    """A full disk is found when the arrays are made (their blocks reserved), as a StoreError naming the
    directory, not as a crash at a write into a page the disk has no room for."""

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(
        StoreError, match=r"cannot keep the sweep's table on disk \(1,920 bytes\): No space left"
    ) as caught:
        ChunkAssembly(30, 4, tmp_path)
    assert caught.value.file == str(tmp_path)
    monkeypatch.undo()
    with pytest.raises(StoreError, match="cannot keep the sweep's table on disk") as caught:
        ChunkAssembly(30, 4, tmp_path / "gone")
    assert caught.value.file == str(tmp_path / "gone")


def test_block_sums_that_are_not_the_tables_rows_are_refused(tmp_path: Path) -> None:
    _, results = _saved(tmp_path)
    table_path, blocks_path = chunk_files(tmp_path, 0)
    with open(blocks_path, "wb") as fh:
        np.savez(fh, index=PARTS[0][::-1], sum=results[0].block_sum, sq=results[0].block_sq, n=np.full(4, 10.0))
    with pytest.raises(StoreError, match="not for its rows") as caught:
        ChunkAssembly(30, 4).read(table_path, blocks_path)
    assert caught.value.file == str(table_path)
    table_path.write_bytes(b"not parquet")
    with pytest.raises(StoreError, match="cannot read a stored sweep chunk"):
        ChunkAssembly(30, 4).read(table_path, blocks_path)


def test_block_sums_cut_short_are_refused_naming_force(tmp_path: Path) -> None:
    """An .npz cut short is not a zip file: a StoreError, not numpy's BadZipFile."""
    _saved(tmp_path)
    table_path, blocks_path = chunk_files(tmp_path, 0)
    os.truncate(blocks_path, 100)
    with pytest.raises(StoreError, match=r"cannot read a stored sweep chunk \(.*\); run the sweep with --force"):
        ChunkAssembly(30, 4).read(table_path, blocks_path)
