"""The benchmarks under ``benchmarks/`` still import: they reach into the engine's modules, and a
renamed function would otherwise only show when someone next measures (they are run by hand)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


def _module(path: Path) -> Any:
    """The benchmark at ``path``, imported: top-level imports only, each runs under ``if __name__ == "__main__"``."""
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_benchmark_imports(path: Path) -> None:
    assert callable(_module(path).main)


def test_latency_times_a_command_in_one_process(tmp_path: Path) -> None:
    latency = _module(next(p for p in BENCHMARKS if p.stem == "latency"))
    env = {**os.environ, "PYTHONPATH": str(latency.REPO)}
    config = str(latency.REPO / "configs" / "corr_breakdown.yaml")
    seconds = latency.in_process(["validate", config], env, 2)
    assert len(seconds) == 2 and all(0 < s < 60 for s in seconds)
    # a command's own lines on stderr (episodes says where it stored its table) are not timings
    episodes = str(latency.REPO / "configs" / "episodes" / "hsi_spx_divergence.yaml")
    argv = ["episodes", episodes, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(tmp_path)]
    assert len(latency.in_process([*argv, "--format", "json"], env, 2)) == 2
    assert list(tmp_path.rglob("episodes.json"))
    with pytest.raises(SystemExit, match="in one process failed"):
        latency.in_process(["validate", config + ".missing"], env, 1)


def test_the_switch_benchmark_varies_only_the_grid_s_third_rule_and_rebalancing(tmp_path: Path) -> None:
    from engine.config import load_config

    bench = _module(next(p for p in BENCHMARKS if p.stem == "sweep_switches"))
    seen = []
    for i, (text, half, monthly) in enumerate(bench.shapes(bench.CONFIG).values()):
        path = tmp_path / f"shape{i}.yaml"
        path.write_text(text, encoding="utf-8")
        cfg = load_config(path)
        seen.append((dict(cfg.rules[-1].target), cfg.execution.rebalance, half, monthly))
    assert seen == [
        ({"us": 0.5, "hk": 0.5}, "on_change", True, False),
        ({"us": 1.0}, "on_change", False, False),
        ({"us": 1.0}, "monthly", False, True),
    ]


def test_the_single_run_benchmark_times_every_shipped_config_or_says_why_not(data_dir: Path) -> None:
    """Each shipped config's engine run equals a bare ``from_orders`` call on its orders (the benchmark stops at
    a mismatch), or is named as one a bare call cannot express (a margin account)."""
    import subprocess
    import sys

    path = next(p for p in BENCHMARKS if p.stem == "single_run")
    env = {**os.environ, "SEESAW_DATA_DIR": str(data_dir), "PYTHONPATH": str(path.parents[1])}
    done = subprocess.run([sys.executable, str(path), "--repeat", "1"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    listed = {line.split()[0] for line in done.stdout.splitlines()[2:-2]}
    assert listed == {p.stem for p in (path.parents[1] / "configs").glob("*.yaml")}
    assert [line.split()[0] for line in done.stdout.splitlines() if "skipped" in line] == ["hk_us_spread"]


def test_the_stage_benchmark_times_every_stage_a_chunk_goes_through(tmp_path: Path) -> None:
    """Each stage it names is a function a sweep chunk calls (a renamed or skipped one would go unseen
    until someone next measures), the stages and the rest add up to the whole, and the wrappers go."""
    import datetime as dt

    from engine.config import load_config
    from engine.config.params import grid
    from engine.data.panel import load_for_config
    from engine.data.synthetic import SyntheticProvider
    from engine.sweep import chunks, grid_frame, prepare, sweep_warmup

    bench = _module(next(p for p in BENCHMARKS if p.stem == "chunk_stages"))
    path = tmp_path / "grid.yaml"
    text = bench.CONFIG
    for old, new in [
        ("source: csv, start: 2002-01-01", "source: synthetic, start: 2012-01-01"),
        ("stop: 260, step: 1", "stop: 60, step: 20"),
    ]:
        assert old in text  # the benchmark's grid, made small and synthetic
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    g = grid(cfg)
    provider = SyntheticProvider({"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}, first=dt.date(2010, 1, 4))
    ctx = prepare(cfg, load_for_config(provider, cfg, warmup_rows=sweep_warmup(cfg, g)), engine="rust")
    originals = [getattr(module, name) for module, name, _ in bench.STAGES]
    whole, stages = bench.stage_times(ctx, chunks(cfg, g, 20)[:2], grid_frame(g), 1)
    assert set(stages) == {label for _, _, label in bench.STAGES} | {"the rest"}
    assert all(seconds > 0 for label, seconds in stages.items() if label != "the rest")
    assert 0 <= stages["the rest"] < whole
    assert [getattr(module, name) for module, name, _ in bench.STAGES] == originals
