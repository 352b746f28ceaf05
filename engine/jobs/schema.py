"""The JSON Schema of a config's ``signals:``: one alternative per registered signal function.

An editor that reads ``seesaw schema`` then knows, for ``{fn: momentum, ...}``, which
parameters ``momentum`` takes, their types and bounds, and which are required.  Any
parameter may instead be written ``$name`` (the value of ``params.name``, see
:mod:`engine.config.refs`), so each parameter also accepts a string starting with ``$``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.config import StrategyConfig
from engine.jobs.signals import formula
from strategies import SignalDef, all_signals

__all__ = ["PARAM_REF", "config_schema", "signal_schema", "signals_schema"]

#: A ``$name`` reference to a key under ``params:``, accepted wherever a parameter value is.
PARAM_REF: dict[str, Any] = {"type": "string", "pattern": "^\\$", "description": "$NAME of a key under params:"}

#: Keys that describe a property rather than constrain it: kept on the property, not the alternative.
_ANNOTATIONS = ("title", "description", "default")


def signal_schema(sdef: SignalDef) -> dict[str, Any]:
    """``{fn: <name>, <parameters>}`` for one signal: its parameter model's schema, no other keys.

    Parameters that name an asset are strings already (a ``$name`` fits them as is); every other
    parameter is ``anyOf`` its own schema or :data:`PARAM_REF`.
    """
    model = sdef.params.model_json_schema()
    if "$defs" in model:
        raise NotImplementedError(f"signal {sdef.name}: parameter types with $defs have no schema here")
    properties: dict[str, Any] = {"fn": {"const": sdef.name, "description": formula(sdef)}}
    for name, prop in model.get("properties", {}).items():
        properties[name] = prop if prop.get("type") == "string" and "enum" not in prop else _or_ref(prop)
    return {
        "type": "object",
        "title": sdef.name,
        "properties": properties,
        "required": ["fn", *model.get("required", [])],
        "additionalProperties": False,
    }


def signals_schema(signals: Mapping[str, SignalDef], base: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (the ``signals`` property of the config's schema) with each value a ``oneOf`` of
    :func:`signal_schema` per registered signal, by name."""
    return {**base, "additionalProperties": {"oneOf": [signal_schema(signals[n]) for n in sorted(signals)]}}


def _or_ref(prop: Mapping[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in prop.items() if k in _ANNOTATIONS}
    return {**kept, "anyOf": [{k: v for k, v in prop.items() if k not in _ANNOTATIONS}, PARAM_REF]}


def config_schema() -> dict[str, Any]:
    """JSON Schema of the config file, for editors; each signal's parameters are those of its ``fn``
    (every registered signal, packages' included: :func:`signals_schema`)."""
    schema = StrategyConfig.model_json_schema()
    schema["properties"]["signals"] = signals_schema(all_signals(), schema["properties"]["signals"])
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Seesaw strategy config (v1)"
    return schema
