"""The ``when:`` language's tree: small frozen dataclasses, the language's limits, and text.

:mod:`engine.expr_parse` builds these nodes from checked text, :mod:`engine.expr_eval` interprets
them; :mod:`engine.expr` documents the language and re-exports the public names.

>>> to_text(BoolOp("and", (Compare("<", Number(0.0), Name("corr")), Compare("<", Name("corr"), Number(0.5)))))
'((0 < corr) and (corr < 0.5))'
>>> sorted(names(Call("crosses_above", (Name("mom"), Neg(Name("k"))))))
['k', 'mom']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "ArithOp",
    "BinOp",
    "BoolOp",
    "BoolOpName",
    "Call",
    "Compare",
    "CompareOp",
    "Expr",
    "Name",
    "Neg",
    "Not",
    "Number",
    "names",
    "to_text",
]

MAX_LENGTH = 500
"""Longest accepted expression text, in characters."""
MAX_DEPTH = 32
"""Deepest accepted nesting, of brackets in the text and of nodes in the tree."""
FUNCTIONS = ("abs", "clip", "crosses_above", "crosses_below", "max", "min")
"""The only callable names."""

ArithOp = Literal["+", "-", "*", "/"]
CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]
BoolOpName = Literal["and", "or"]


@dataclass(frozen=True, slots=True)
class Expr:
    """Base of the expression tree's nodes: immutable, hashable, compared by value."""


@dataclass(frozen=True, slots=True)
class Name(Expr):
    id: str  # a signal or parameter, looked up in the evaluation environment


@dataclass(frozen=True, slots=True)
class Number(Expr):
    value: float  # a numeric literal ("-1" is folded into Number(-1.0))


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    operand: Expr  # unary minus of a number


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    op: ArithOp  # arithmetic "left op right" on numbers
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    op: CompareOp  # one comparison of two numbers (chains become BoolOp("and", ...))
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class BoolOp(Expr):
    op: BoolOpName  # "and" / "or" over two or more conditions
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr  # logical negation of a condition


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: str  # a call of one of :data:`FUNCTIONS`
    args: tuple[Expr, ...]


def names(expr: Expr) -> frozenset[str]:
    """All signal and parameter names ``expr`` refers to (function names excluded)."""
    match expr:
        case Name(id=name):
            return frozenset((name,))
        case Neg(operand=x) | Not(operand=x):
            return names(x)
        case BinOp(left=a, right=b) | Compare(left=a, right=b):
            return names(a) | names(b)
        case BoolOp(operands=items) | Call(args=items):
            return frozenset[str]().union(*(names(x) for x in items))
    return frozenset()


def _format_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def to_text(expr: Expr) -> str:
    """Canonical, fully parenthesised text of ``expr``; parsing it gives back an equal tree.

    The canonical text can be longer than the original, so very long expressions may exceed
    :data:`MAX_LENGTH` once re-rendered.
    """
    match expr:
        case Name(id=name):
            return name
        case Number(value=value):
            return _format_number(value)
        case Neg(operand=x):
            return f"(-{to_text(x)})"
        case Not(operand=x):
            return f"(not {to_text(x)})"
        case BinOp(op=op, left=a, right=b) | Compare(op=op, left=a, right=b):
            return f"({to_text(a)} {op} {to_text(b)})"
        case BoolOp(op=op, operands=items):
            return "(" + f" {op} ".join(to_text(x) for x in items) + ")"
        case Call(func=func, args=items):
            return f"{func}({', '.join(to_text(x) for x in items)})"
    raise TypeError(f"not an expression node: {expr!r}")
