"""The Python API's arguments, checked as the command line's parser checks its options.

``seesaw compare --top 0`` is refused by the parser; ``compare(top=0)`` would otherwise cut every
strategy row and return only the benchmarks, and ``force="no"`` would count as true.  Each check
raises :class:`~engine.errors.UserError` naming the argument, what was expected and what was given.
"""

from __future__ import annotations

import numbers

import numpy as np

from engine.errors import UserError

__all__ = ["check_counts", "check_flags", "check_optional_counts"]


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
