"""What a sweep keeps in memory until it is written (engine/sweep_memory.py): the estimate against the arrays a
real sweep keeps, the machine's free memory read from /proc and the control group, and the note before a grid
that would not fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.config.params import grid
from engine.errors import StoreError
from engine.jobs import sweep as sweep_job
from engine.store import spill
from engine.store import sweeps as store_sweeps
from engine.store.chunk_assembly import ChunkAssembly
from engine.store.sweeps import load_sweep
from engine.sweep import BLOCKS, chunks, grid_frame
from engine.sweep_memory import CSCV_WORK, available_bytes, kept_bytes, memory_note
from tests.helpers import on_disk

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "sweeps" / "corr_breakdown_sweep.yaml"
WINDOW = {"source": "synthetic", "start": "2015-01-01", "end": "2016-12-31"}


def test_a_sweeps_rows_and_block_sums_are_on_disk_and_the_estimate_counts_the_rest(tmp_path: Path) -> None:
    """The finished sweep's table is over files (engine/store/spill.py), not in memory, and nothing of them is
    left in the sweep's directory; the estimate counts what stays in memory: the grid's values, the
    chunks' order, a flag and CSCV's work a combination."""
    swept = api.sweep(CONFIG, **WINDOW, top=1, reps=100, results_dir=tmp_path, env={})
    table = swept.combinations
    numeric = [name for name in table if table[name].dtype.kind in "fiub"]
    assert {"combo", "sharpe", "final_value"} <= set(numeric)
    assert all(on_disk(table[name].to_numpy()) for name in numeric)
    assert sorted(p.name for p in swept.sweep_dir.iterdir()) == [
        "blocks.npz", "combos.parquet", "config.yaml", "meta.json", "sweep.json"
    ]  # fmt: skip
    cfg = api.load_config(CONFIG)
    g = grid(cfg, max_combos=10**6)
    in_memory = (  # what a sweep holds in memory until it is written: the grid's values, the chunks' order, a flag
        int(grid_frame(g).memory_usage(index=False, deep=True).sum())
        + sum(part.nbytes for part in chunks(cfg, g, 50))
        + ChunkAssembly(len(table), BLOCKS, tmp_path).filled.nbytes
    )
    assert kept_bytes(len(table), len(g.keys)) == in_memory + CSCV_WORK * len(table)
    assert kept_bytes(1_000_000, 4) == 141_000_000  # docs/sweeps.md, "Big grids"
    _read_back(swept.sweep_dir)


def _read_back(sweep_dir: Path) -> None:
    """A stored sweep read back (shown again, reused) gives read_parquet's frame, its columns of numbers over
    files, as it was computed; where the results directory cannot hold them, in memory."""
    expected = pd.read_parquet(sweep_dir / "combos.parquet")
    numeric = [name for name in expected if expected[name].dtype.kind in "fiub"]
    assert len(numeric) > 20
    table = load_sweep(sweep_dir).table  # small against the memory free: in memory, nothing written
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    assert not any(on_disk(table[name].to_numpy()) for name in numeric)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_sweeps, "available_bytes", lambda: 1_000)  # too big for the memory free: on disk
        table = load_sweep(sweep_dir).table
        pd.testing.assert_frame_equal(table, expected, check_exact=True)
        assert all(on_disk(table[name].to_numpy()) for name in numeric)
        patch.setattr(spill, "spilled_arrays", _no_room)  # and where they cannot be written, in memory
        table = load_sweep(sweep_dir).table
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    assert not any(on_disk(table[name].to_numpy()) for name in numeric)


def _no_room(directory: Path, specs: object) -> list[np.ndarray]:
    raise StoreError("cannot keep the sweep's table on disk: Read-only file system", file=str(directory))


def _proc(tmp_path: Path, available_kb: int, cgroup_line: str = "0::/") -> Path:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(f"MemTotal: 99999999 kB\nMemFree: 1 kB\nMemAvailable: {available_kb} kB\n")
    (proc / "self" / "cgroup").write_text(cgroup_line + "\n")
    return proc


def _group(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text + "\n")


def test_free_memory_is_the_systems_or_what_a_control_group_leaves(tmp_path: Path) -> None:
    """MemAvailable, or less: the limit of the process's group (read from /proc/self/cgroup) or of an ancestor,
    less its usage without the page cache the kernel can drop."""
    assert available_bytes(_proc(tmp_path / "a", 2_000_000), tmp_path / "none") == 2_048_000_000
    v2 = tmp_path / "v2"
    _group(v2 / "user" / "job", {"memory.max": "1500000000", "memory.current": "500000000",
                                 "memory.stat": "anon 1\ninactive_file 100000000"})  # fmt: skip
    _group(v2 / "user", {"memory.max": "max", "memory.current": "900000000"})
    proc = _proc(tmp_path / "b", 2_000_000, "0::/user/job")
    assert available_bytes(proc, v2) == 1_500_000_000 - (500_000_000 - 100_000_000)  # the cache does not count
    _group(v2 / "user", {"memory.max": "1000000000", "memory.current": "900000000"})  # an ancestor's limit
    assert available_bytes(proc, v2) == 100_000_000
    v1 = tmp_path / "v1"
    _group(v1 / "memory" / "a", {"memory.limit_in_bytes": "9223372036854771712", "memory.usage_in_bytes": "1"})
    _group(v1 / "memory", {"memory.limit_in_bytes": "800000000", "memory.usage_in_bytes": "100000000",
                           "memory.stat": "cache 5\ntotal_inactive_file 50000000"})  # fmt: skip
    assert available_bytes(_proc(tmp_path / "c", 2_000_000, "4:memory:/a"), v1) == 750_000_000
    namespaced = _proc(tmp_path / "d", 2_000_000, "4:memory:/not/mounted/here")  # the mount shows it as the root
    assert available_bytes(namespaced, v1) == 750_000_000
    no_limit = _proc(tmp_path / "e", 2_000_000, "4:memory:/a")
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert available_bytes(no_limit, v1) == 2_048_000_000
    assert available_bytes(tmp_path / "nowhere", v1) is None
    broken = _proc(tmp_path / "f", 2_000_000)
    (broken / "meminfo").write_text("MemTotal: 5 kB\n")
    assert available_bytes(broken, tmp_path / "none") is None


def test_the_note_only_when_the_grid_would_not_fit() -> None:
    assert memory_note(1_000, None) is None and memory_note(1_000, 1_000) is None
    note = memory_note(2_300_000_000, 850_000_000)
    assert note is not None and "about 2.3 GB in memory" in note and "about 850 MB is free" in note


@pytest.mark.parametrize(("free", "said"), [(10**12, False), (1_000, True)])
def test_sweep_says_so_before_its_chunks(free: int, said: bool, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sweep_job, "available_bytes", lambda: free)
    args = ["sweep", str(CONFIG), "--source", "synthetic", "--start", "2015-01-01", "--end", "2016-12-31"]
    out = CliRunner().invoke(app, [*args, "--results-dir", str(tmp_path), "--top", "1", "--reps", "100"])
    assert out.exit_code == 0, out.output
    assert ("this grid keeps about" in out.stderr) is said
    again = CliRunner().invoke(app, [*args, "--results-dir", str(tmp_path), "--top", "1", "--reps", "100"])
    assert "this grid keeps about" not in again.stderr  # a stored sweep is read back, not computed
