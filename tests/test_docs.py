"""The README documents what the code does: config fields, signals, JSON keys, and the CI command."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from engine.config import models
from engine.render.text import JSON_KEYS
from strategies import REGISTRY
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
TEST_COMMAND = "pip install -e '.[dev]' && python -m pytest"
RUN_COMMAND = "pip install -e . && seesaw compare configs/*.yaml --source synthetic"


def _fields() -> list[tuple[str, str]]:
    out = []
    for name in models.__all__:
        model = getattr(models, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            out += [(name, field) for field in model.model_fields]
    return out


@pytest.mark.parametrize(("model", "field"), _fields())
def test_every_config_field_is_documented(model: str, field: str) -> None:
    assert f"`{field}`" in README, f"{model}.{field} is not documented in README.md"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_signal_is_documented(name: str) -> None:
    assert f"`{name}`" in README


@pytest.mark.parametrize("key", JSON_KEYS)
def test_every_json_key_is_documented(key: str) -> None:
    assert re.search(rf"\b{key}\b", README), key


def test_readme_gives_the_two_commands_near_the_top() -> None:
    head = README[: README.index("## What a run gives you")]
    assert RUN_COMMAND in head
    assert TEST_COMMAND in head


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == TEST_COMMAND


def test_readme_has_no_unfilled_placeholders() -> None:
    assert "MEASURED_" not in README
