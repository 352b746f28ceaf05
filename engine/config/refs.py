"""``$name`` references: a signal argument written as ``$name`` takes the value of ``params.name``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.config.messages import unknown
from engine.errors import ConfigError

__all__ = ["resolve_refs"]


def resolve_refs(signals: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The signal specs with every ``$name`` argument replaced by the parameter's value.

    An unknown name raises :class:`ConfigError` at the argument's YAML path.

    >>> resolve_refs({"mom": {"fn": "momentum", "a": "us", "window": "$w"}}, {"w": 63})
    {'mom': {'fn': 'momentum', 'a': 'us', 'window': 63}}
    """
    out: dict[str, dict[str, Any]] = {}
    for name, spec in signals.items():
        resolved = {}
        for key, value in spec.items():
            if isinstance(value, str) and value.startswith("$"):
                ref = value[1:]
                if ref not in params:
                    raise ConfigError(
                        unknown("parameter", ref, params),
                        path=f"signals.{name}.{key}",
                        expected="$NAME of a key under params:",
                        got=value,
                    )
                value = params[ref]
            resolved[key] = value
        out[name] = resolved
    return out
