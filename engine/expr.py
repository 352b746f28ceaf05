"""The ``when:`` expression language: whitelist parser, small immutable AST, vectorised evaluation.

A rule says *when* it applies, e.g. ``corr < 0.2 and mom > 0``.  Configs are untrusted data, so the
text is never handed to Python's evaluator, nor to pandas' or numexpr's expression engines: those run
arbitrary code (``__import__('os').system(...)``), and "restricted" variants are escapable through
attribute access on literals (``().__class__.__bases__``).  Instead the text is read by
:func:`ast.parse` (which only builds a tree, it runs nothing), every node is checked against a
whitelist and converted to small frozen dataclasses, types are checked, and :func:`evaluate`
interprets that tree with numpy.

The code lives in three modules, re-exported here (import the language from ``engine.expr``):
:mod:`engine.expr_tree` (the nodes, the limits, :func:`names`, :func:`to_text`),
:mod:`engine.expr_parse` (the checks and the conversion, :func:`parse_condition`) and
:mod:`engine.expr_eval` (:func:`evaluate`).

Grammar (EBNF; anything else is rejected with an :class:`~engine.errors.ExpressionError`)::

    condition   = disjunction ;                                  (* must be boolean *)
    disjunction = conjunction { "or" conjunction } ;
    conjunction = negation { "and" negation } ;
    negation    = "not" negation | comparison ;
    comparison  = sum { ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) sum } ;   (* chains: a < b < c *)
    sum         = product { ( "+" | "-" ) product } ;
    product     = unary { ( "*" | "/" ) unary } ;
    unary       = ( "-" | "+" ) unary | atom ;
    atom        = NAME | NUMBER | call | "(" disjunction ")" ;
    call        = "abs" "(" sum ")" | ( "crosses_above" | "crosses_below" ) "(" sum "," sum ")"
                | "clip" "(" sum "," sum "," sum ")" | ( "min" | "max" ) "(" sum "," sum { "," sum } ")" ;

``NAME`` is a signal or parameter name (names starting with ``_`` are reserved); ``NUMBER`` is an int
or float literal.  Types: an expression is a number or a condition.  Comparisons and ``crosses_*``
take numbers and give a condition; ``and``/``or``/``not`` take conditions; arithmetic, ``abs``,
``clip(x, lo, hi)`` (``min(max(x, lo), hi)``), ``min`` and ``max`` take numbers and give a number.
A ``when:`` must be a condition (:func:`parse_condition`); a weight must be a number
(:func:`parse_number`).  ``0 < x < 1`` means ``0 < x and x < 1``.  Limits: at most :data:`MAX_LENGTH`
characters, printable ASCII on one line, no comments, brackets and tree at most :data:`MAX_DEPTH`
levels deep (a dropped unary ``+`` still counts as a level).

NaN semantics of :func:`evaluate`:

* arithmetic, ``clip``, ``min`` and ``max`` propagate NaN; ``x / 0`` gives ``inf`` or NaN; no numpy
  warnings are emitted;
* every comparison involving NaN is False, ``!=`` included (numpy alone would say True there);
* ``not`` is plain negation, so ``not (x < 1)`` is True where ``x`` is NaN; the rules layer masks the
  dates where a referenced signal is NaN;
* ``crosses_above(x, y)[t] = x[t] > y[t] and x[t-1] <= y[t-1]``, False at ``t = 0`` and wherever any of
  the four values is NaN (``crosses_below`` mirrors it); along axis 0 (dates) for 2-D inputs.

Example:

>>> import numpy as np
>>> cond = parse_condition("0 < corr < 0.5", known={"corr"})
>>> to_text(cond)
'((0 < corr) and (corr < 0.5))'
>>> evaluate(cond, {"corr": np.array([0.1, np.nan, 0.7])}).tolist()
[True, False, False]
"""

from __future__ import annotations

from engine.expr_eval import evaluate
from engine.expr_parse import parse_condition, parse_number
from engine.expr_tree import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    BinOp,
    BoolOp,
    Call,
    Compare,
    Expr,
    Name,
    Neg,
    Not,
    Number,
    names,
    to_text,
)
from engine.expr_tree import ArithOp as ArithOp
from engine.expr_tree import BoolOpName as BoolOpName
from engine.expr_tree import CompareOp as CompareOp

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "BinOp",
    "BoolOp",
    "Call",
    "Compare",
    "Expr",
    "Name",
    "Neg",
    "Not",
    "Number",
    "evaluate",
    "names",
    "parse_condition",
    "parse_number",
    "to_text",
]
