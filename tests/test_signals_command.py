"""``seesaw signals`` (the listing, one signal's page, JSON) and the per-signal schema of ``seesaw schema``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.config import read_yaml
from engine.jobs.signals import lookback_cases
from strategies import REGISTRY, AssetRef, SignalInputs, signal

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "configs").rglob("*.yaml"))
_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")
BUILT_IN = sorted(name for name, sdef in REGISTRY.items() if sdef.func.__module__.startswith("strategies."))


def invoke(*args: str, columns: int | None = None):
    env: dict[str, str | None] = dict.fromkeys(_RICH_ENV)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _listed() -> dict[str, dict[str, Any]]:
    result = invoke("signals", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {d["name"]: d for d in json.loads(result.stdout)}


# ----------------------------------------------------------------------------- the listing


def test_the_built_ins_are_found() -> None:
    assert {"momentum", "relative_momentum", "rolling_corr", "drawdown", "spread_zscore"} <= set(BUILT_IN)


@pytest.mark.parametrize("columns", [None, 100, 80])
def test_the_table_lists_every_built_in_and_fits_the_width(columns: int | None) -> None:
    result = invoke("signals", columns=columns)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= (columns or 100)
    first_cells = {line.split()[0] for line in lines if line.strip()}
    assert set(BUILT_IN) <= first_cells
    assert "lookback (rows)" in lines[0]


def test_json_describes_each_signal() -> None:
    listed = _listed()
    assert set(BUILT_IN) <= set(listed)
    assert all(listed[n]["origin"] == "seesaw" for n in BUILT_IN)
    momentum = listed["momentum"]
    assert [(p["name"], p["kind"], p["required"], p["text"]) for p in momentum["parameters"]] == [
        ("a", "asset", True, "a: asset"),
        ("window", "value", True, "window: int > 0"),
    ]
    assert momentum["lookback"] == [{"when": {}, "rows": "window"}]
    assert momentum["formula"] == "Trailing simple return of a over window rows: P[t] / P[t-window] - 1."
    assert not any("``" in s["formula"] + s["doc"] for s in listed.values())  # plain text, as the table shows
    assert listed["drawdown"]["lookback"] == [{"when": {}, "rows": "window - 1"}]
    assert listed["realized_vol"]["parameters"][1]["text"] == "window: int >= 2"


def test_the_lookback_of_each_choice_is_evaluated() -> None:
    """rolling_corr: window rows of returns (window - 1 of levels), plus one when aligned async, plus
    window // 4 + 10 on common dates; the currency changes nothing, so it is not a case."""
    corr = _listed()["rolling_corr"]
    assert corr["lookback"] == [
        {"when": {"on": on, "align": align, "dates": dates}, "rows": rows}
        for on, align, dates, rows in [
            ("returns", "async", "union", "window + 1"),
            ("returns", "async", "common", "window + window // 4 + 11"),
            ("returns", "sync", "union", "window"),
            ("returns", "sync", "common", "window + window // 4 + 10"),
            ("levels", "async", "union", "window"),
            ("levels", "async", "common", "window + window // 4 + 10"),
            ("levels", "sync", "union", "window - 1"),
            ("levels", "sync", "common", "window + window // 4 + 9"),
        ]
    ]
    assert [p["text"] for p in corr["parameters"]][3:] == [
        "on: returns|levels = returns",
        "align: async|sync = async",
        "dates: union|common = union",
        "currency: local|base = local",
    ]


def test_a_lookback_that_is_no_sum_of_parameters_shows_its_code() -> None:
    def capped(x: SignalInputs, *, a: AssetRef, window: int) -> Any:
        raise AssertionError("never called")

    signal("_capped", lookback=lambda p: min(p["window"], 50))(capped)
    try:
        assert lookback_cases(REGISTRY["_capped"]) == [{"when": {}, "rows": "min(p['window'], 50)"}]
    finally:
        REGISTRY.pop("_capped")


def test_one_signal_shows_its_whole_docstring() -> None:
    result = invoke("signals", "rolling_corr")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("rolling_corr (origin: seesaw)\n")
    assert "  window - 1 (on=levels, align=sync, dates=union)\n" in result.stdout
    for line in REGISTRY["rolling_corr"].doc.replace("``", "").splitlines():
        assert line in result.stdout
    one = json.loads(invoke("signals", "rolling_corr", "--format", "json").stdout)
    assert one["doc"] == REGISTRY["rolling_corr"].doc.replace("``", "")  # plain text in every format


def test_an_unknown_signal_is_one_line_with_a_hint() -> None:
    result = invoke("signals", "momentun")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown signal function 'momentun' (did you mean 'momentum'?")
    assert len(result.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- the schema, one alternative per fn


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_each_signal_fn_has_its_own_alternative(validator) -> None:
    alternatives = validator.schema["properties"]["signals"]["additionalProperties"]["oneOf"]
    by_fn = {alt["properties"]["fn"]["const"]: alt for alt in alternatives}
    assert set(BUILT_IN) <= set(by_fn)
    momentum = by_fn["momentum"]
    assert momentum["required"] == ["fn", "a", "window"]
    assert momentum["additionalProperties"] is False
    assert momentum["properties"]["window"]["anyOf"][0] == {"exclusiveMinimum": 0, "type": "integer"}
    assert momentum["properties"]["window"]["anyOf"][1]["pattern"] == "^\\$"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_config_fits_the_schema(validator, path: Path) -> None:
    data, _ = read_yaml(path)
    assert [e.message for e in validator.iter_errors(data)] == []


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({"window": 63}, True),
        ({"window": "$lookback"}, True),  # a reference to params.lookback
        ({"windw": 63}, False),  # unknown parameter
        ({"window": "63"}, False),  # a string is not a number
        ({"window": 0}, False),  # momentum's window is > 0
        ({"fn": "momentun"}, False),  # no such signal
        ({"on": "levels"}, False),  # a parameter of rolling_corr, not of momentum
    ],
)
def test_a_signal_spec_is_checked_against_its_fn(validator, change: dict[str, Any], valid: bool) -> None:
    data, _ = read_yaml(REPO / "configs" / "relative_momentum.yaml")
    data = copy.deepcopy(data)
    data["signals"]["mom_us"] = {"fn": "momentum", "a": "us", "window": 126} | change
    assert validator.is_valid(data) is valid


def test_a_missing_required_parameter_is_refused(validator) -> None:
    data, _ = read_yaml(REPO / "configs" / "relative_momentum.yaml")
    data["signals"]["mom_us"] = {"fn": "momentum", "a": "us"}
    assert not validator.is_valid(data)
