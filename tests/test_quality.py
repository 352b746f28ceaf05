"""Lint, types and the public API: the style guide's habits, enforced by the test suite."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys

import pytest

import engine
import strategies
from tests.conftest import REPO


def _modules() -> list[str]:
    names = []
    for pkg in (engine, strategies):
        names.append(pkg.__name__)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_public_names_exist(name: str) -> None:
    """Every name a module exports in ``__all__`` exists (and modules declare ``__all__``)."""
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if name.split(".")[-1].startswith("_"):
        return
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a dev dependency: pip install -e '.[dev]'"
    out = subprocess.run(
        [ruff, "check", "engine", "strategies", "tests", "benchmarks"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_clean() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
