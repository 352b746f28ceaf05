"""The wording of config errors: YAML paths, pydantic errors as one line, did-you-mean suggestions.

Pure functions shared by the config reader, its checks and the sweep grid.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from pydantic import ValidationError

__all__ = ["first_error", "format_loc", "pydantic_message", "unknown"]


def format_loc(loc: tuple[str | int, ...]) -> str:
    """``("rules", 1, "when")`` -> ``rules[1].when``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def first_error(exc: ValidationError) -> Mapping:
    """The error to report: an unknown key first (a misspelt key also makes its correct one 'missing'),
    its location without the tags of a tagged union (``<band>``: not a YAML key)."""
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("<") and p.endswith(">")))
    return {**err, "loc": loc}


def unknown(kind: str, name: str, known: list[str] | Mapping[str, object]) -> str:
    """``unknown signal 'corrr' (did you mean 'corr'? known: corr, mom)``."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {kind} {name!r} ({hint}known: {', '.join(names) or 'none'})"


def pydantic_message(err: Mapping, known_keys: list[str]) -> str:
    """One readable line for a pydantic error dict."""
    kind = err["type"]
    loc = err["loc"]
    if kind == "extra_forbidden":
        return unknown("key", str(loc[-1]), known_keys)
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    got = err.get("input")
    if kind not in ("value_error", "assertion_error") and not isinstance(got, dict | list):
        msg += f" (got {got!r})"
    return msg
