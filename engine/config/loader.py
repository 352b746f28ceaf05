"""Read strategy YAML safely and turn it into validated :class:`StrategyConfig` objects.

* YAML 1.2 booleans: only ``true``/``false`` are booleans, so a key such as
  ``on: returns`` stays the string ``"on"`` (PyYAML's YAML 1.1 default would
  turn it into ``True``).
* Duplicate keys are an error (YAML silently keeps the last one).
* Line numbers are kept for every YAML path so errors can say where.
* Every problem becomes one :class:`~engine.errors.ConfigError` line:
  ``configs/x.yaml: rules[1].when: unknown name 'cor' (known: corr, mom) (line 14)``.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from engine.config.checks import _pydantic_message, check_config, first_error, format_loc
from engine.config.models import StrategyConfig
from engine.errors import ConfigError, UserError

__all__ = ["load_config", "load_configs", "read_yaml"]

MAX_CONFIG_BYTES = 1_000_000


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and no duplicate keys."""


# Booleans are re-added below as YAML 1.2's true/false only.  Timestamps stay strings, so a bad date
# such as 2020-13-01 reaches pydantic and is reported at its YAML path (PyYAML would raise a bare
# ValueError while constructing it).
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: dict[tuple, int], file: str) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise ConfigError(
                    f"duplicate key {key!r}",
                    file=file,
                    path=format_loc((*path, key)),
                    line=key_node.start_mark.line + 1,
                )
            seen.add(key)
            _walk(value_node, (*path, key), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, file)


def read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Parse ``path``; return (data, {yaml path tuple: line number})."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror or exc}", file=file) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"file is larger than {MAX_CONFIG_BYTES} bytes", file=file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", file=file) from None
    try:
        node = yaml.compose(text, Loader=_Loader)
        lines: dict[tuple, int] = {}
        if node is not None:
            _walk(node, (), lines, file)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark is not None else None
        ) from None
    return data, lines


def _line_for(lines: dict[tuple, int], loc: tuple) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _unwrap_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of ``loc`` (for 'known keys' hints)."""
    current: Any = model
    for part in loc:
        current = _unwrap_optional(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap_optional(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def load_config(path: str | Path) -> StrategyConfig:
    """Read, validate and cross-check one config file."""
    p = Path(path)
    file = str(path)
    data, lines = read_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of config keys (name, assets, rules, ...)", file=file, line=1)
    try:
        cfg = StrategyConfig.model_validate(data)
    except ValidationError as exc:
        err = first_error(exc)
        loc = tuple(err["loc"])
        owner = _model_at(StrategyConfig, loc[:-1]) if err["type"] == "extra_forbidden" else None
        known = sorted(owner.model_fields) if owner is not None else []
        got = err.get("input")
        raise ConfigError(
            _pydantic_message(err, known),
            file=file,
            path=format_loc(loc) or None,
            line=_line_for(lines, loc),
            got=None if isinstance(got, dict | list) else got,
        ) from None
    try:
        check_config(cfg)
    except UserError as exc:
        loc = _parse_path(exc.path or "")
        raise exc.located(file=file, line=_line_for(lines, loc)) from None
    return cfg


def _parse_path(path: str) -> tuple:
    """``rules[1].when`` -> ``("rules", 1, "when")``."""
    out: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        out.append(int(index) if index else name)
    return tuple(out)


def load_configs(paths: Iterable[str | Path]) -> list[StrategyConfig]:
    """Load every file; the first error raises, before anything runs."""
    files = list(paths)
    configs = [load_config(p) for p in files]
    seen: dict[str, str] = {}
    for file, cfg in zip(files, configs, strict=True):
        if cfg.name in seen:
            raise ConfigError(
                f"name {cfg.name!r} is also used by {seen[cfg.name]}; config names must be unique in one run",
                file=str(file),
                path="name",
            )
        seen[cfg.name] = str(file)
    return configs
