"""Vectorised evaluation of the ``when:`` language's tree with numpy ufuncs (NaN rules in :mod:`engine.expr`).

>>> import numpy as np
>>> from engine.expr_tree import Compare, Name, Number
>>> evaluate(Compare(">", Name("x"), Number(0.0)), {"x": np.array([-1.0, np.nan, 2.0])}).tolist()
[False, False, True]
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Literal, get_args

import numpy as np

from engine.expr_tree import BinOp, BoolOp, Call, Compare, CompareOp, Expr, Name, Neg, Not, Number

__all__ = ["Order", "evaluate"]

#: The memory layout of the arrays :func:`evaluate` computes (numpy's ``order``).
Order = Literal["K", "F"]

_ARITH_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}
_COMPARE_UFUNCS = (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)
_COMPARE_BY_OP = dict(zip(get_args(CompareOp), _COMPARE_UFUNCS, strict=True))


def evaluate(expr: Expr, env: Mapping[str, np.ndarray | float], *, order: Order = "K") -> np.ndarray:
    """Evaluate ``expr`` elementwise over the arrays in ``env``.

    Arrays share one shape, ``(dates,)`` or ``(dates, columns)``; floats broadcast.  Returns a bool
    array for a condition and a float array for a number (0-d when ``env`` holds only scalars).  See
    :mod:`engine.expr` for the NaN rules.  A name missing from ``env`` raises :class:`KeyError`:
    names are checked at parse time, so that is a programming error.

    ``order``: the memory layout of every array computed (numpy's ``order``: ``"K"`` as the inputs,
    ``"F"`` column after column).  It changes no value.  A sweep's (dates, 1) signals against (1, K)
    parameters are about eight times faster to compare in ``"F"`` (each column one long run of dates)
    than in the inputs' layout (a run of K per date).

    >>> from engine.expr_parse import parse_condition
    >>> evaluate(parse_condition("crosses_above(x, 0)", ["x"]), {"x": np.array([-1.0, 1.0, 2.0])})
    array([False,  True, False])
    """
    with np.errstate(all="ignore"):
        return np.asarray(_evaluate(expr, env, order))


def _evaluate(expr: Expr, env: Mapping[str, np.ndarray | float], order: Order) -> np.ndarray:
    def sub(x: Expr) -> np.ndarray:
        return _evaluate(x, env, order)

    match expr:
        case Name(id=name):
            return np.asarray(env[name], dtype=np.float64)
        case Number(value=value):
            return np.asarray(value, dtype=np.float64)
        case Neg(operand=x):
            return np.negative(sub(x), order=order)
        case BinOp(op=op, left=a, right=b):
            return _ARITH_UFUNCS[op](sub(a), sub(b), order=order)
        case Compare(op=op, left=a, right=b):
            left, right = sub(a), sub(b)
            result = _COMPARE_BY_OP[op](left, right, order=order)
            if op == "!=":  # numpy says NaN != x is True; in this language every NaN comparison is False
                unknown = np.logical_or(np.isnan(left), np.isnan(right), order=order)
                result = np.logical_and(result, np.logical_not(unknown, order=order), order=order)
            return np.asarray(result)
        case BoolOp(op=op, operands=items):
            combine = np.logical_and if op == "and" else np.logical_or
            return np.asarray(functools.reduce(lambda x, y: combine(x, y, order=order), map(sub, items)))
        case Not(operand=x):
            return np.logical_not(sub(x), order=order)
        case Call(func="abs", args=(x,)):
            return np.abs(sub(x), order=order)
        case Call(func="clip", args=(x, lo, hi)):
            return np.minimum(np.maximum(sub(x), sub(lo), order=order), sub(hi), order=order)
        case Call(func="min", args=items):
            return functools.reduce(lambda x, y: np.minimum(x, y, order=order), map(sub, items))
        case Call(func="max", args=items):
            return functools.reduce(lambda x, y: np.maximum(x, y, order=order), map(sub, items))
        case Call(func=func, args=(a, b)) if func in ("crosses_above", "crosses_below"):
            return _crosses(sub(a), sub(b), above=func == "crosses_above", order=order)
    raise TypeError(f"not an expression node: {expr!r}")


def _crosses(x: np.ndarray, y: np.ndarray, *, above: bool, order: Order) -> np.ndarray:
    """``x`` crosses ``y`` between t-1 and t, along axis 0; False at t=0 and around NaN."""
    x, y = np.broadcast_arrays(x, y)
    out = np.zeros(x.shape, dtype=bool, order="F" if order == "F" else "C")
    if x.ndim == 0:
        return out
    if above:
        out[1:] = (x[1:] > y[1:]) & (x[:-1] <= y[:-1])
    else:
        out[1:] = (x[1:] < y[1:]) & (x[:-1] >= y[:-1])
    return out
