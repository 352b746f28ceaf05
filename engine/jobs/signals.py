"""What ``seesaw signals`` shows: every registered signal, built-in or from a package, described.

A description is plain data (names, strings, JSON-schema fragments), so the table and
``--format json`` read the same thing.  The warm-up is shown as a formula of the parameters
(``window``, ``window - 1``): the signal's ``lookback`` is called with symbols in place of its
numeric parameters, once per choice of its ``Literal`` and ``bool`` parameters.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

from engine.errors import UserError
from strategies import SignalDef, all_signals, get_signal
from strategies.plugins import BUILTIN_ORIGIN

__all__ = ["describe_signal", "describe_signals", "formula", "lookback_cases", "parameter_text"]

#: More choices than this of the Literal/bool parameters: the lookback is shown for the defaults only.
MAX_CASES = 16


def formula(sdef: SignalDef) -> str:
    """The first paragraph of the signal's docstring (its formula), on one line."""
    first = sdef.doc.strip().split("\n\n", 1)[0]
    return " ".join(first.split())


def describe_signals() -> list[dict[str, Any]]:
    """Every registered signal (packages' entry points loaded first), by name."""
    return [describe_signal(name) for name in all_signals()]


def describe_signal(name: str) -> dict[str, Any]:
    """One signal: ``name``, ``origin``, ``parameters``, ``lookback`` (cases), ``formula`` and ``doc``.

    An unknown name is a :class:`UserError` with a did-you-mean hint.
    """
    try:
        sdef = get_signal(name)
    except KeyError as exc:
        raise UserError(str(exc.args[0]), got=name) from None
    schema = sdef.params.model_json_schema()
    required = set(schema.get("required", []))
    return {
        "name": sdef.name,
        "origin": getattr(sdef, "origin", BUILTIN_ORIGIN),
        "parameters": [
            _parameter(sdef, pname, prop, pname in required) for pname, prop in schema.get("properties", {}).items()
        ],
        "lookback": lookback_cases(sdef),
        "formula": _plain(formula(sdef)),
        "doc": _plain(sdef.doc),
    }


def _plain(text: str) -> str:
    """Docstring text without reStructuredText's double backticks (``of``), in every format."""
    return text.replace("``", "")


def _parameter(sdef: SignalDef, name: str, prop: Mapping[str, Any], required: bool) -> dict[str, Any]:
    kind = "asset" if name in sdef.asset_params else "signal" if name in sdef.signal_params else "value"
    out: dict[str, Any] = {"name": name, "kind": kind, "required": required}
    if "default" in prop:
        out["default"] = prop["default"]
    out["schema"] = {k: v for k, v in prop.items() if k not in ("title", "default")}
    out["text"] = parameter_text(out)
    return out


_BOUNDS = (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"), ("maximum", "<="))
_TYPES = {"integer": "int", "number": "float", "string": "str", "boolean": "bool"}


def parameter_text(param: Mapping[str, Any]) -> str:
    """``window: int > 0``, ``a: asset``, ``on: returns|levels = returns``: a parameter on one line.

    >>> parameter_text({"name": "window", "kind": "value", "schema": {"type": "integer", "minimum": 2}})
    'window: int >= 2'
    """
    schema = param.get("schema", {})
    if param["kind"] == "asset":
        kind = "asset"
    elif param["kind"] == "signal":
        kind = "signal or asset"
    elif "enum" in schema:
        kind = "|".join(str(v) for v in schema["enum"])
    else:
        kind = _TYPES.get(str(schema.get("type")), str(schema.get("type", "any")))
    bounds = [f"{op} {schema[key]}" for key, op in _BOUNDS if key in schema]
    text = " ".join([f"{param['name']}: {kind}", *bounds])
    return f"{text} = {param['default']}" if "default" in param else text


class _Linear:
    """``sum(coef * name) + const``: what a lookback computes from symbolic window lengths."""

    def __init__(self, terms: Mapping[str, int], const: int = 0) -> None:
        self.terms = {k: v for k, v in terms.items() if v}
        self.const = const

    @staticmethod
    def of(x: object) -> _Linear:
        if isinstance(x, _Linear):
            return x
        if isinstance(x, int) and not isinstance(x, bool):
            return _Linear({}, x)
        raise TypeError(f"not a whole number: {x!r}")

    def __add__(self, other: object) -> _Linear:
        o = _Linear.of(other)
        return _Linear(
            {k: self.terms.get(k, 0) + o.terms.get(k, 0) for k in {**self.terms, **o.terms}}, self.const + o.const
        )

    __radd__ = __add__

    def __mul__(self, other: object) -> _Linear:
        if isinstance(other, int) and not isinstance(other, bool):
            return _Linear({k: v * other for k, v in self.terms.items()}, self.const * other)
        raise TypeError("only a whole-number multiple of a parameter has a formula")

    __rmul__ = __mul__

    def __floordiv__(self, other: object) -> _Linear:
        """``window // 4``: a term of its own, for a lone parameter divided by a whole number."""
        whole = isinstance(other, int) and not isinstance(other, bool) and other > 0
        if whole and not self.const and list(self.terms.values()) == [1]:
            return _Linear({f"{next(iter(self.terms))} // {other}": 1})
        raise TypeError("only a parameter divided by a whole number has a formula")

    def __neg__(self) -> _Linear:
        return self * -1

    def __sub__(self, other: object) -> _Linear:
        return self + -_Linear.of(other)

    def __rsub__(self, other: object) -> _Linear:
        return _Linear.of(other) + -self

    def __str__(self) -> str:
        parts = [(v, k if abs(v) == 1 else f"{abs(v)} * {k}") for k, v in self.terms.items()]
        if self.const or not parts:
            parts.append((self.const, str(abs(self.const))))
        text = ("-" if parts[0][0] < 0 else "") + parts[0][1]
        return text + "".join(f" {'-' if v < 0 else '+'} {t}" for v, t in parts[1:])


def _choices(sdef: SignalDef) -> dict[str, list[Any]]:
    """The parameters whose every value can be tried: Literal and bool ones."""
    out: dict[str, list[Any]] = {}
    for name, field in sdef.params.model_fields.items():
        if get_origin(field.annotation) is Literal:
            out[name] = list(get_args(field.annotation))
        elif field.annotation is bool:
            out[name] = [False, True]
    return out


def _example(sdef: SignalDef) -> dict[str, Any]:
    """Parameter values for a symbolic call: numbers are symbols, other parameters their default or name."""
    out: dict[str, Any] = {}
    for name, field in sdef.params.model_fields.items():
        if field.annotation in (int, float) and name not in sdef.asset_params:
            out[name] = _Linear({name: 1})
        else:
            out[name] = name if field.is_required() else field.default
    return out


def lookback_cases(sdef: SignalDef) -> list[dict[str, Any]]:
    """The warm-up in rows as a formula of the parameters: ``[{"when": {...}, "rows": "window - 1"}]``.

    One case per choice of the Literal/bool parameters (equal formulas merged: ``when`` holds only
    the choices that matter); the lookback's source text when it is not a sum of parameters.
    """
    choices = _choices(sdef)
    combos = [dict(zip(choices, vals, strict=True)) for vals in itertools.product(*choices.values())]
    if len(combos) > MAX_CASES:
        combos = [{}]
    try:
        rows = [str(_Linear.of(sdef.lookback({**_example(sdef), **combo}))) for combo in combos]
    except Exception:  # not a sum of parameters (int(), max(), a comparison): show the code
        return [{"when": {}, "rows": _source(sdef)}]
    if len(set(rows)) == 1:
        return [{"when": {}, "rows": rows[0]}]
    by_combo = {tuple(c.values()): r for c, r in zip(combos, rows, strict=True)}
    keys = list(choices)

    def matters(i: int) -> bool:  # changing this choice alone changes the warm-up somewhere
        return any(by_combo[(*k[:i], v, *k[i + 1 :])] != r for k, r in by_combo.items() for v in choices[keys[i]])

    kept = [i for i in range(len(keys)) if matters(i)]
    out: dict[tuple, dict[str, Any]] = {}
    for combo, r in by_combo.items():
        out.setdefault(tuple(combo[i] for i in kept), {"when": {keys[i]: combo[i] for i in kept}, "rows": r})
    return list(out.values())


def _source(sdef: SignalDef) -> str:
    """The lookback's code: a lambda's body, a one-line function's return value, else its name."""
    fn = sdef.lookback
    name = f"{getattr(fn, '__name__', 'lookback')}(p)"
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)).strip().lstrip("@"))
    except (OSError, TypeError, SyntaxError):
        return name
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            return ast.unparse(node.body)
        if isinstance(node, ast.FunctionDef) and len(node.body) == 1 and isinstance(node.body[0], ast.Return):
            return ast.unparse(node.body[0].value) if node.body[0].value else name
    return name
