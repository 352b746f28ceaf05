"""The examples in docstrings run and give what they show (STYLE.md: docstrings teach)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import engine
import strategies


def _modules() -> list[str]:
    names = []
    for package in (engine, strategies):
        names.append(package.__name__)
        names += [m.name for m in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + ".")]
    return sorted(n for n in names if not n.endswith("__main__"))  # importing __main__ runs the CLI


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_there_are_examples_to_run() -> None:
    attempted = sum(doctest.testmod(importlib.import_module(n)).attempted for n in _modules())
    assert attempted >= 10
