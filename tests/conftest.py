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
