"""The Python API's arguments, checked as the command line's parser checks its options.

``seesaw compare --top 0`` is refused by the parser; ``compare(top=0)`` would otherwise cut every
strategy row and return only the benchmarks, and ``force="no"`` would count as true.  Each check
raises :class:`~engine.errors.UserError` naming the argument, what was expected and what was given.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from engine.errors import UserError

__all__ = [
    "check_counts",
    "check_env",
    "check_flags",
    "check_optional_counts",
    "check_texts",
    "config_paths",
    "optional_path",
    "runs_text",
]


def check_counts(**values: tuple[object, int]) -> None:
    """Each of ``values``, (value, least), is an int of at least ``least``: a whole number (numpy's integers
    too), never a bool, a float or text."""
    for name, (value, least) in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise UserError(f"{name}: expected a whole number, got {value!r}")
        if value < least:
            raise UserError(f"{name}: expected at least {least}, got {value}")


def check_optional_counts(**values: tuple[object, int]) -> None:
    """:func:`check_counts`, each value None allowed."""
    check_counts(**{name: pair for name, pair in values.items() if pair[0] is not None})


def check_flags(**values: object) -> None:
    """Each of ``values`` is True or False (numpy's bools too): text such as ``"no"`` would count as true."""
    for name, value in values.items():
        if not isinstance(value, bool | np.bool_):
            raise UserError(f"{name}: expected True or False, got {value!r}")


def _kind(value: object) -> str:
    return repr(value) if isinstance(value, str | int | float | bool | None) else f"a {type(value).__name__}"


def config_paths(configs: Sequence[object], name: str = "configs") -> list[Path]:
    """The config files given as argument ``name``, each a path (text or ``os.PathLike``): a loaded config is not
    one."""
    for c in configs:
        if not isinstance(c, str | os.PathLike):
            raise UserError(f"{name}: expected config files (paths), got {_kind(c)}")
    return [Path(c) for c in configs]  # type: ignore[arg-type]


def optional_path(name: str, value: object) -> Path | None:
    """Argument ``name``, a path (text or ``os.PathLike``) or None."""
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise UserError(f"{name}: expected a path (text or os.PathLike), got {_kind(value)}")
    return Path(value)


def check_env(env: object) -> None:
    """``env`` is None or a mapping of text to text (the environment a call reads instead of ``os.environ``)."""
    if env is not None and not (
        isinstance(env, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
    ):
        raise UserError(f"env: expected a mapping of names to text (like os.environ), got {_kind(env)}")


def runs_text(runs: object) -> str | None:
    """``runs``: None, ``"latest"``, or run ids or run directories (comma-separated text, a path, or a sequence of
    them), as ``--runs``."""
    if runs is None or isinstance(runs, str):
        return runs
    if isinstance(runs, os.PathLike):
        return os.fspath(runs)
    if isinstance(runs, Sequence) and all(isinstance(r, str | os.PathLike) for r in runs):
        if not runs:
            raise UserError("runs: no run id (give 'latest', run ids or run directories)")
        return ",".join(os.fspath(r) for r in runs)
    raise UserError(f"runs: expected 'latest', run ids or run directories (text or paths), got {_kind(runs)}")


def check_texts(**values: object) -> None:
    """Each of ``values`` is None or text (a ``when:`` expression, a benchmark's name, a column, a currency)."""
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise UserError(f"{name}: expected text, got {_kind(value)}")
