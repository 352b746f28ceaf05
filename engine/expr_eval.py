"""Vectorised evaluation of the ``when:`` language's tree with numpy ufuncs (NaN rules in :mod:`engine.expr`).

>>> import numpy as np
>>> from engine.expr_tree import Compare, Name, Number
>>> evaluate(Compare(">", Name("x"), Number(0.0)), {"x": np.array([-1.0, np.nan, 2.0])}).tolist()
[False, False, True]
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import get_args

import numpy as np

from engine.expr_tree import BinOp, BoolOp, Call, Compare, CompareOp, Expr, Name, Neg, Not, Number

__all__ = ["evaluate"]

_ARITH_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}
_COMPARE_UFUNCS = (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)
_COMPARE_BY_OP = dict(zip(get_args(CompareOp), _COMPARE_UFUNCS, strict=True))


def evaluate(expr: Expr, env: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """Evaluate ``expr`` elementwise over the arrays in ``env``.

    Arrays share one shape, ``(dates,)`` or ``(dates, columns)``; floats broadcast.  Returns a bool
    array for a condition and a float array for a number (0-d when ``env`` holds only scalars).  See
    :mod:`engine.expr` for the NaN rules.  A name missing from ``env`` raises :class:`KeyError`:
    names are checked at parse time, so that is a programming error.

    >>> from engine.expr_parse import parse_condition
    >>> evaluate(parse_condition("crosses_above(x, 0)", ["x"]), {"x": np.array([-1.0, 1.0, 2.0])})
    array([False,  True, False])
    """
    with np.errstate(all="ignore"):
        return np.asarray(_evaluate(expr, env))


def _evaluate(expr: Expr, env: Mapping[str, np.ndarray | float]) -> np.ndarray:
    match expr:
        case Name(id=name):
            return np.asarray(env[name], dtype=np.float64)
        case Number(value=value):
            return np.asarray(value, dtype=np.float64)
        case Neg(operand=x):
            return np.negative(_evaluate(x, env))
        case BinOp(op=op, left=a, right=b):
            return _ARITH_UFUNCS[op](_evaluate(a, env), _evaluate(b, env))
        case Compare(op=op, left=a, right=b):
            left, right = _evaluate(a, env), _evaluate(b, env)
            result = _COMPARE_BY_OP[op](left, right)
            if op == "!=":  # numpy says NaN != x is True; in this language every NaN comparison is False
                result = result & ~(np.isnan(left) | np.isnan(right))
            return np.asarray(result)
        case BoolOp(op=op, operands=items):
            combine = np.logical_and if op == "and" else np.logical_or
            return np.asarray(functools.reduce(combine, (_evaluate(x, env) for x in items)))
        case Not(operand=x):
            return np.logical_not(_evaluate(x, env))
        case Call(func="abs", args=(x,)):
            return np.abs(_evaluate(x, env))
        case Call(func="clip", args=(x, lo, hi)):
            return np.minimum(np.maximum(_evaluate(x, env), _evaluate(lo, env)), _evaluate(hi, env))
        case Call(func="min", args=items):
            return functools.reduce(np.minimum, (_evaluate(x, env) for x in items))
        case Call(func="max", args=items):
            return functools.reduce(np.maximum, (_evaluate(x, env) for x in items))
        case Call(func=func, args=(a, b)) if func in ("crosses_above", "crosses_below"):
            return _crosses(_evaluate(a, env), _evaluate(b, env), above=func == "crosses_above")
    raise TypeError(f"not an expression node: {expr!r}")


def _crosses(x: np.ndarray, y: np.ndarray, *, above: bool) -> np.ndarray:
    """``x`` crosses ``y`` between t-1 and t, along axis 0; False at t=0 and around NaN."""
    x, y = np.broadcast_arrays(x, y)
    out = np.zeros(x.shape, dtype=bool)
    if x.ndim == 0:
        return out
    if above:
        out[1:] = (x[1:] > y[1:]) & (x[:-1] <= y[:-1])
    else:
        out[1:] = (x[1:] < y[1:]) & (x[:-1] >= y[:-1])
    return out
