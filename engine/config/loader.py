"""Read strategy YAML safely and turn it into validated :class:`StrategyConfig` objects.

* YAML 1.2 booleans: only ``true``/``false`` are booleans, so a key such as
  ``on: returns`` stays the string ``"on"`` (PyYAML's YAML 1.1 default would
  turn it into ``True``).
* Duplicate keys are an error (YAML silently keeps the last one).
* Line numbers are kept for every YAML path so errors can say where.
* Total: only plain YAML is read (no explicit tags beyond the core scalar ones, string keys), with
  caps on nesting, on values after alias expansion and on integer length, so any bytes give data
  or one error, in bounded time and memory.
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

from engine.config.checks import check_config
from engine.config.messages import first_error, format_loc, pydantic_message
from engine.config.models import StrategyConfig
from engine.config.params import check_sweep
from engine.config.unread import check_costs, check_unread
from engine.errors import ConfigError, UserError

__all__ = ["load_config", "load_configs", "read_yaml"]

MAX_CONFIG_BYTES = 1_000_000


# libyaml's parser when PyYAML has it (its wheels do): the same events and nodes, ten times faster
# than the pure-Python one, which needs seconds for a file near MAX_CONFIG_BYTES.
_SafeBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):
    """SafeLoader (on libyaml when available) with YAML 1.2 booleans and no duplicate keys."""


# Booleans are re-added below as YAML 1.2's true/false only.  Timestamps stay strings, so a bad date
# such as 2020-13-01 reaches pydantic and is reported at its YAML path (PyYAML would raise a bare
# ValueError while constructing it).
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.2 floats with an exponent and no sign or dot (1e12, 2.5e6): PyYAML's 1.1 rule reads them as text.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


#: Limits that keep reading total: real configs nest about 5 levels and hold a few hundred values.
MAX_DEPTH = 50  # nested lists/mappings (PyYAML's composer recurses: about 500 levels overflow the stack)
MAX_NODES = 100_000  # values after expanding aliases (a 500-byte "billion laughs" file expands to 10^9)
MAX_INT_DIGITS = 100  # digits of an integer (Python refuses to parse more than 4,300)
_STD = "tag:yaml.org,2002:"
#: How a number is written: decimal digits without a leading zero, a fraction, an exponent, or YAML's
#: infinities and NaN (refused later with their YAML path); never octal, binary, hex, base 60 or digit groups.
_PLAIN_NUMBER = re.compile(
    r"^[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
)
_SCALAR_TAGS = frozenset(_STD + t for t in ("str", "int", "float", "bool", "null"))
_TAGS = {yaml.ScalarNode: _SCALAR_TAGS, yaml.SequenceNode: {_STD + "seq"}, yaml.MappingNode: {_STD + "map"}}


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


def _check_shape(text: str, file: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and more than MAX_NODES values, aliases expanded.

    Runs over PyYAML's event stream, which is produced without recursion, so it is safe on any input;
    an alias counts as the size of the node it repeats.
    """
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, levels) of its node, aliases expanded
    stack: list[list] = []  # per open collection: [values, levels below it, anchor]
    total = 0
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([1, 0, event.anchor])
            if len(stack) > MAX_DEPTH:
                raise ConfigError(f"lists and mappings nest deeper than {MAX_DEPTH} levels", file=file, line=line)
            added = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            size, below, anchor = stack.pop()
            if anchor is not None:
                sizes[anchor] = (size, below + 1)
            if stack:  # its values were counted in ``total`` as they came
                stack[-1][0] += size
                stack[-1][1] = max(stack[-1][1], below + 1)
            continue
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = (1, 0)
            added = 1
            if stack:
                stack[-1][0] += 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                raise ConfigError(
                    f"alias *{event.anchor} names no finished anchor (undefined, or it contains itself)",
                    file=file,
                    line=line,
                )
            added, levels = sizes[event.anchor]
            if len(stack) + levels > MAX_DEPTH:
                raise ConfigError(
                    f"alias *{event.anchor} nests lists and mappings deeper than {MAX_DEPTH} levels",
                    file=file,
                    line=line,
                )
            if stack:
                stack[-1][0] += added
                stack[-1][1] = max(stack[-1][1], levels)
        else:
            continue
        total += added
        if total > MAX_NODES:
            raise ConfigError(
                f"the file holds more than {MAX_NODES:,} values (an alias counts as every value it repeats)",
                file=file,
                line=line,
            )


def _number_form(loader: _Loader, node: yaml.Node) -> bool:
    """Whether ``node``'s text is what YAML reads as a number when untagged (``!!float abc`` is not: that is a
    bad value for its tag, reported as such)."""
    return loader.resolve(yaml.ScalarNode, node.value, (True, False)) in (_STD + "int", _STD + "float")


class _Builder:
    """Python values from a composed YAML node, checking each value at its YAML path."""

    def __init__(self, loader: _Loader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[tuple, int] = {}

    def error(self, message: str, path: tuple, node: yaml.Node, got: object = None) -> ConfigError:
        return ConfigError(
            message, file=self.file, path=format_loc(path) or None, line=node.start_mark.line + 1, got=got
        )

    def build(self, node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        allowed = _TAGS.get(type(node), set())
        if node.tag not in allowed:
            raise self.error(f"YAML tag {_short_tag(node.tag)!r} is not allowed here", path, node, node.tag)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == _STD + "int" and sum(c.isdigit() for c in node.value) > MAX_INT_DIGITS:
            raise self.error(f"a number of more than {MAX_INT_DIGITS} digits", path, node)
        if (
            node.tag in (_STD + "int", _STD + "float")
            and _number_form(self.loader, node)
            and not _PLAIN_NUMBER.match(node.value)
        ):
            raise self.error(
                f"{node.value!r} is a YAML 1.1 number form (a leading zero, 0b, 0x, ':' or '_') that YAML "
                "readers read differently (010 is 8 to one, 10 to another); expected a plain decimal number (quote "
                "it for text)",
                path,
                node,
                node.value,
            )
        if node.tag == _STD + "bool" and self.loader.resolve(yaml.ScalarNode, node.value, (True, False)) != node.tag:
            raise self.error(  # !!bool yes: YAML 1.1's words, which the plain form refuses too
                f"{node.value!r} is not a valid !!bool value; expected true or false", path, node, node.value
            )
        try:
            return self.loader.construct_object(node, deep=True)
        except Exception:  # PyYAML raises ValueError, KeyError, ... for a bad explicit tag
            raise self.error(
                f"{node.value!r} is not a valid {_short_tag(node.tag)} value", path, node, node.value
            ) from None

    def _mapping(self, node: yaml.MappingNode, path: tuple[str | int, ...]) -> dict[str, Any]:
        seen: set[str] = set()
        merges = [(key_node, value) for key_node, value in node.value if key_node.tag == _STD + "merge"]
        if len(merges) > 1:  # a repeated key like any other (one <<: takes a list to merge several)
            raise self.error("duplicate key '<<' (merge several mappings with <<: [*a, *b])", path, merges[1][0])
        for key_node, _ in node.value:
            if key_node.tag == _STD + "merge":
                continue
            key = self._key(key_node, path)
            if key in seen:
                raise self.error(f"duplicate key {key!r}", (*path, key), key_node, key)
            seen.add(key)
        self._check_merged([value for _, value in merges], seen, path, node)
        try:
            self.loader.flatten_mapping(node)  # resolves ``<<: *base`` merge keys
        except yaml.YAMLError as exc:
            raise self.error(f"invalid merge key: {getattr(exc, 'problem', exc)}", path, node) from None
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _check_merged(self, merges: list[yaml.Node], own: set[str], path: tuple, node: yaml.Node) -> None:
        """Refuse a key two mappings merged by one ``<<: [*a, *b]`` both give, unless the mapping sets it itself:
        YAML readers disagree on which wins (PyYAML 6.0.3 the first, 6.0.4 the last)."""
        items = merges[0].value if merges and isinstance(merges[0], yaml.SequenceNode) else []
        given: set[str] = set()
        for item in items:
            if not isinstance(item, yaml.MappingNode):
                continue  # not a mapping: flatten_mapping says so
            keys = {k.value for k, _ in item.value if isinstance(k, yaml.ScalarNode) and k.tag != _STD + "merge"}
            both = sorted((keys & given) - own)
            if both:
                raise self.error(
                    f"{', '.join(map(repr, both))} is given by more than one mapping merged with <<:, and YAML readers "
                    "disagree on which wins; set it in the mapping itself",
                    path,
                    node,
                )
            given |= keys

    def _key(self, node: yaml.Node, path: tuple[str | int, ...]) -> str:
        if not isinstance(node, yaml.ScalarNode):
            kind = "list" if isinstance(node, yaml.SequenceNode) else "mapping"
            raise self.error(f"a key must be a name, not a {kind}", path, node)
        key = self.build(node, path)
        if not isinstance(key, str):
            raise self.error(f"a key must be a name, got {key!r}; quote it to use it as text", path, node, key)
        return key


def read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Parse ``path``; return (data, {yaml path tuple: line number}).

    Total: any bytes give data or one :class:`ConfigError`.  Only plain YAML is read: strings,
    numbers, booleans, null, lists and mappings with string keys; explicit tags other than those
    (``!!binary``, ``!!set``, ``!!python/...``, ``!foo``) are refused, and so are nesting deeper than
    :data:`MAX_DEPTH`, more than :data:`MAX_NODES` values once aliases are expanded, and integers
    of more than :data:`MAX_INT_DIGITS` digits.
    """
    file = str(path)
    try:
        if path.exists() and not path.is_file():
            raise ConfigError("not a regular file", file=file, expected="a YAML file")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)  # never more: a device or a huge file is refused below
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror or exc}", file=file) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"file is larger than {MAX_CONFIG_BYTES} bytes", file=file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", file=file) from None
    try:
        _check_shape(text, file)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            builder = _Builder(loader, file)
            data = builder.build(node, ()) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark is not None else None
        position = getattr(exc, "position", None)  # a ReaderError (a control character) has only this
        if line is None and isinstance(position, int):
            # libyaml counts bytes, PyYAML characters
            line = (
                raw.count(b"\n", 0, position) + 1
                if _SafeBase is not yaml.SafeLoader
                else text.count("\n", 0, position) + 1
            )
        if "nesting depth" in str(problem):  # libyaml 0.2.5's own cap (about 1,000 levels), met before ours
            raise ConfigError(f"lists and mappings nest deeper than {MAX_DEPTH} levels", file=file, line=line) from None
        raise ConfigError(f"invalid YAML: {problem}", file=file, line=line) from None
    return data, builder.lines if node is not None else {}


def _line_for(lines: dict[tuple, int], loc: tuple) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _unwrap_optional(tp: Any) -> Any:
    """``X | None`` -> X; a union with one model among its members (a tagged union) -> that model."""
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        args = [typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a for a in args]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(args) == 1:
            return args[0]
        if len(models) == 1:
            return models[0]
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
            pydantic_message(err, known),
            file=file,
            path=format_loc(loc) or None,
            line=_line_for(lines, loc),
            got=None if isinstance(got, dict | list) else got,
        ) from None
    try:
        check_config(cfg)
        check_costs(cfg)
        check_unread(cfg)
        check_sweep(cfg)
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


def check_configs(paths: Iterable[str | Path]) -> list[tuple[Path, StrategyConfig | UserError]]:
    """Each config file with its config, or the error that refuses it, every file checked: on its
    own, then for a name that an earlier valid file already uses."""
    out: list[tuple[Path, StrategyConfig | UserError]] = []
    seen: dict[str, str] = {}
    for file in map(Path, paths):
        try:
            cfg = load_config(file)
        except UserError as err:
            out.append((file, err))
            continue
        if cfg.name in seen:
            if Path(seen[cfg.name]).resolve() == file.resolve():
                out.append((file, ConfigError("given twice; name each config once", file=str(file))))
                continue
            message = f"name {cfg.name!r} is also used by {seen[cfg.name]}; config names must be unique in one run"
            out.append((file, ConfigError(message, file=str(file), path="name")))
            continue
        seen[cfg.name] = str(file)
        out.append((file, cfg))
    return out


def load_configs(paths: Iterable[str | Path]) -> list[StrategyConfig]:
    """Load every file; the first error raises, before anything runs."""
    configs = []
    for _, found in check_configs(paths):
        if isinstance(found, UserError):
            raise found
        configs.append(found)
    return configs
