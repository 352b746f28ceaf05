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
