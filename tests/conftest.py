"""Shared fixtures: where the real data lives, and small helpers to run configs in memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
SHIPPED_CONFIGS = sorted(CONFIGS.rglob("*.yaml"))  # configs/hkd/ included


def real_data_dir() -> Path:
    """``SEESAW_DATA_DIR`` or ``../shared/data`` next to the repository."""
    return Path(os.environ.get("SEESAW_DATA_DIR") or REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real CSV history.  Missing: skip locally, *fail* under CI (``CI`` set)."""
    path = real_data_dir()
    if not (path / "GSPC.csv").is_file():
        message = f"real data not found in {path} (set SEESAW_DATA_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


#: The configs of the report tests' stored runs: two signals and three rules, one signal with
#: thresholds either side of zero, and one config without signals.
REPORT_CONFIGS = ("corr_breakdown", "spread_reversion", "static_60_40")


@pytest.fixture(scope="session")
def report_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results directory (with its catalog) holding synthetic runs of :data:`REPORT_CONFIGS`, 2010-2014."""
    import datetime as dt

    from engine.jobs import RunOptions, run_configs

    results = tmp_path_factory.mktemp("report") / "results"
    opts = RunOptions(source="synthetic", start=dt.date(2010, 1, 1), end=dt.date(2014, 12, 31), results_dir=results)
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    run_configs([CONFIGS / f"{name}.yaml" for name in REPORT_CONFIGS], opts, env={}, now=now)
    return results


def stored_run_dir(results: Path, config_name: str) -> Path:
    """The single run directory of ``config_name`` under ``results``."""
    (run_dir,) = [p for p in (results / config_name).iterdir() if not p.name.startswith(".")]
    return run_dir
