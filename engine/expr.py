"""The ``when:`` expression language: whitelist parser, small immutable AST, vectorised evaluation.

A rule says *when* it applies, e.g. ``corr < 0.2 and mom > 0``.  Configs are untrusted data, so the
text is never handed to Python's evaluator, nor to pandas' or numexpr's expression engines: those run
arbitrary code (``__import__('os').system(...)``), and "restricted" variants are escapable through
attribute access on literals (``().__class__.__bases__``).  Instead the text is read by
:func:`ast.parse` (which only builds a tree, it runs nothing), every node is checked against a
whitelist and converted to the frozen dataclasses below, types are checked, and :func:`evaluate`
interprets that tree with numpy.

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
    call        = "abs" "(" sum ")" | ( "crosses_above" | "crosses_below" ) "(" sum "," sum ")" ;

``NAME`` is a signal or parameter name (names starting with ``_`` are reserved); ``NUMBER`` is an int
or float literal.  Types: an expression is a number or a condition.  Comparisons and ``crosses_*``
take numbers and give a condition; ``and``/``or``/``not`` take conditions; arithmetic and ``abs``
take numbers.  ``0 < x < 1`` means ``0 < x and x < 1``.  Limits: at most :data:`MAX_LENGTH`
characters, printable ASCII on one line, no comments, brackets and tree at most :data:`MAX_DEPTH`
levels deep (a dropped unary ``+`` still counts as a level).

NaN semantics of :func:`evaluate`:

* arithmetic propagates NaN; ``x / 0`` gives ``inf`` or NaN; no numpy warnings are emitted;
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

import ast
import difflib
import functools
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal, NoReturn, get_args

import numpy as np

from engine.errors import ExpressionError

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
    "to_text",
]

MAX_LENGTH = 500
"""Longest accepted expression text, in characters."""
MAX_DEPTH = 32
"""Deepest accepted nesting, of brackets in the text and of nodes in the tree."""
FUNCTIONS = ("abs", "crosses_above", "crosses_below")
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


_ARITH: dict[type[ast.operator], ArithOp] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_COMPARE_TYPES = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_COMPARE: dict[type[ast.cmpop], CompareOp] = dict(zip(_COMPARE_TYPES, get_args(CompareOp), strict=True))
_CONSTRUCTS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "subscripts are",
    ast.Lambda: "lambdas are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.JoinedStr: "f-strings are",
    ast.NamedExpr: "assignment expressions (':=') are",
    ast.IfExp: "'if' expressions are",
    ast.List: "lists are",
    ast.Tuple: "tuples are",
    ast.Dict: "dicts are",
    ast.Set: "sets are",
    ast.Starred: "'*' unpacking is",
}
_LITERALS = {str: "a string", bytes: "a bytes literal", complex: "a complex number"}
_ARITY = {"abs": 1, "crosses_above": 2, "crosses_below": 2}
_BRACKETS = {")": "(", "]": "[", "}": "{"}


def _hint(word: str, options: Collection[str], label: str) -> str:
    """``(did you mean 'corr'? known: corr, mom)``, or without the guess when nothing is close."""
    listed = ", ".join(sorted(options)) or "none"
    close = difflib.get_close_matches(word, sorted(options), n=1)
    guess = f"did you mean '{close[0]}'? " if close else ""
    return f"({guess}{label}: {listed})"


def _is_condition(expr: Expr) -> bool:
    return isinstance(expr, Compare | BoolOp | Not) or (isinstance(expr, Call) and expr.func != "abs")


def _kind(expr: Expr) -> str:
    return "a condition" if _is_condition(expr) else "a number"


class _Converter:
    """Checks the text, runs :func:`ast.parse` and turns the whitelisted Python tree into ours."""

    def __init__(self, text: str, known: Collection[str]) -> None:
        if len(text) > MAX_LENGTH:
            raise ExpressionError(
                f"expression is too long ({len(text)} characters, at most {MAX_LENGTH})",
                expected=f"at most {MAX_LENGTH} characters",
                got=len(text),
            )
        self.text = text.strip(" \t\r\n")
        self.lead = len(text) - len(text.lstrip(" \t\r\n"))
        self.known = known
        if not self.text:
            raise ExpressionError("expression is empty", expected="a condition", got=text)
        self._check_characters()
        self._check_brackets()

    def _column(self, offset: int) -> int:
        """1-based column in the caller's text of a 0-based offset into the stripped text."""
        return offset + self.lead + 1

    def _check_characters(self) -> None:
        for i, ch in enumerate(self.text):
            if ch in "\r\n":
                message = f"line breaks are not allowed (column {self._column(i)}); write one line"
            elif ch == "#":
                message = f"comments ('#') are not allowed (column {self._column(i)})"
            elif not (" " <= ch <= "~" or ch == "\t"):
                message = f"character {ch!r} at column {self._column(i)} is not printable ASCII"
            else:
                continue
            raise ExpressionError(message, got=ch)

    def _check_brackets(self) -> None:
        """Match brackets and cap their depth before Python's recursive parser sees the text."""
        stack: list[tuple[str, int]] = []
        for i, ch in enumerate(self.text):
            if ch in "([{":
                stack.append((ch, i))
                if len(stack) > MAX_DEPTH:
                    raise ExpressionError(
                        f"brackets nested more than {MAX_DEPTH} deep at column {self._column(i)}",
                        expected=f"at most {MAX_DEPTH} levels",
                        got=len(stack),
                    )
            elif ch in _BRACKETS:
                if not stack or stack[-1][0] != _BRACKETS[ch]:
                    raise ExpressionError(f"unexpected '{ch}' at column {self._column(i)}", got=ch)
                stack.pop()
        if stack:
            ch, i = stack[-1]
            raise ExpressionError(f"'{ch}' at column {self._column(i)} is never closed", got=ch)

    def parse(self) -> Expr:
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as err:
            raise self._syntax_error(err) from None
        except (RecursionError, MemoryError, ValueError):
            raise ExpressionError("expression is too complex to parse", got=self.text) from None
        return self._convert(tree.body, 1)

    def _syntax_error(self, err: SyntaxError) -> ExpressionError:
        offset, end = err.offset or 0, err.end_offset or 0
        if not 1 <= offset <= len(self.text):
            return ExpressionError("expression ends unexpectedly", got=self.text)
        message = (err.msg or "invalid syntax").split(". ")[0]
        if message == "invalid syntax":
            token = self.text[offset - 1 : max(end - 1, offset)]
            message = f"unexpected '{token}'"
        return ExpressionError(f"{message} at column {self._column(offset - 1)}", got=self.text)

    @staticmethod
    def _fail(message: str, *, expected: str | None = None, got: object = None) -> NoReturn:
        raise ExpressionError(message, expected=expected, got=got)

    def _source(self, node: ast.AST) -> str:
        source = ast.get_source_segment(self.text, node) or ""
        return source if len(source) <= 40 else source[:37] + "..."

    def _where(self, node: ast.AST) -> str:
        """``'os.system' at column 1``: the node's source, shortened, and its column."""
        source = self._source(node)
        quoted = f'"{source}"' if "'" in source else f"'{source}'"
        return f"{quoted} at column {self._column(getattr(node, 'col_offset', 0))}"

    def _typed(self, node: ast.expr, depth: int, want_condition: bool, user: str) -> Expr:
        expr = self._convert(node, depth)
        if _is_condition(expr) != want_condition:
            want = "a condition" if want_condition else "a number"
            self._fail(
                f"{user} needs {want}, got {_kind(expr)} ({self._where(node)})",
                expected=want,
                got=_kind(expr),
            )
        return expr

    def _convert(self, node: ast.expr, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            self._fail(
                f"expression is nested more than {MAX_DEPTH} levels deep ({self._where(node)})",
                expected=f"at most {MAX_DEPTH} levels",
                got=depth,
            )
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant):
            return Number(self._number(node, node.value))
        if isinstance(node, ast.UnaryOp):
            return self._unary(node, depth)
        if isinstance(node, ast.BinOp):
            op = _ARITH.get(type(node.op))
            if op is None:  # the operator's text sits between the operands
                symbol = self.text[node.left.end_col_offset or 0 : node.right.col_offset].strip(" \t()")
                hint = {"&": ", use 'and'", "|": ", use 'or'"}.get(symbol, "")
                self._fail(f"operator '{symbol}' is not allowed{hint} ({self._where(node)})", got=symbol)
            left = self._typed(node.left, depth + 1, False, f"'{op}'")
            return BinOp(op, left, self._typed(node.right, depth + 1, False, f"'{op}'"))
        if isinstance(node, ast.BoolOp):
            bool_op: BoolOpName = "and" if isinstance(node.op, ast.And) else "or"
            values = tuple(self._typed(v, depth + 1, True, f"'{bool_op}'") for v in node.values)
            return BoolOp(bool_op, values)
        if isinstance(node, ast.Compare):
            return self._compare(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        what = _CONSTRUCTS.get(type(node), f"'{type(node).__name__}' is")
        self._fail(f"{what} not allowed ({self._where(node)})", got=self._source(node))

    def _name(self, node: ast.Name) -> Name:
        if node.id.startswith("_"):
            self._fail(
                f"'{node.id}' is not allowed: names starting with '_' are reserved ({self._where(node)})",
                got=node.id,
            )
        if node.id not in self.known:
            self._fail(
                f"unknown name '{node.id}' {_hint(node.id, self.known, 'known')}",
                expected="one of: " + ", ".join(sorted(self.known)),
                got=node.id,
            )
        return Name(node.id)

    def _number(self, node: ast.Constant, value: object, sign: float = 1.0) -> float:
        if isinstance(value, bool):
            self._fail(f"'{value}' is not allowed: use a comparison ({self._where(node)})", got=value)
        if not isinstance(value, int | float):
            what = _LITERALS.get(type(value), repr(value))
            self._fail(f"{what} is not allowed, only numbers ({self._where(node)})", got=self._source(node))
        try:
            number = sign * float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            self._fail(f"number is too large ({self._where(node)})", got=self._source(node))
        return number

    def _unary(self, node: ast.UnaryOp, depth: int) -> Expr:
        if isinstance(node.op, ast.Not):
            return Not(self._typed(node.operand, depth + 1, True, "'not'"))
        if isinstance(node.op, ast.Invert):
            self._fail(f"operator '~' is not allowed, use 'not' ({self._where(node)})", got="~")
        if isinstance(node.op, ast.UAdd):  # dropped, but counted as a level
            return self._typed(node.operand, depth + 1, False, "'+'")
        if isinstance(node.operand, ast.Constant):  # fold "-1" into a literal
            return Number(self._number(node.operand, node.operand.value, sign=-1.0))
        return Neg(self._typed(node.operand, depth + 1, False, "'-'"))

    def _compare(self, node: ast.Compare, depth: int) -> Expr:
        ops: list[CompareOp] = []
        for op in node.ops:
            if isinstance(op, ast.Is | ast.IsNot | ast.In | ast.NotIn):
                word = "'is'" if isinstance(op, ast.Is | ast.IsNot) else "'in'"
                self._fail(f"{word} comparisons are not allowed ({self._where(node)})", got=word)
            ops.append(_COMPARE[type(op)])
        chained = len(ops) > 1  # a < b < c becomes BoolOp("and", (a < b, b < c)): one level more
        below = depth + (2 if chained else 1)
        items = [self._typed(n, below, False, "a comparison") for n in [node.left, *node.comparators]]
        compares = tuple(Compare(op, a, b) for op, a, b in zip(ops, items, items[1:], strict=False))
        return BoolOp("and", compares) if chained else compares[0]

    def _call(self, node: ast.Call, depth: int) -> Call:
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, ast.Attribute):
                self._fail(f"attribute access is not allowed ({self._where(func)})", got=self._source(func))
            self._fail(f"only calls of {', '.join(FUNCTIONS)} are allowed ({self._where(node)})")
        if func.id.startswith("_"):
            self._name(func)
        if func.id not in FUNCTIONS:
            self._fail(
                f"function '{func.id}' is not allowed {_hint(func.id, FUNCTIONS, 'allowed')}",
                expected="one of: " + ", ".join(FUNCTIONS),
                got=func.id,
            )
        if node.keywords:
            self._fail(f"keyword arguments are not allowed in {func.id}() ({self._where(node)})")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            self._fail(f"'*' unpacking is not allowed in {func.id}() ({self._where(node)})")
        arity = _ARITY[func.id]
        if len(node.args) != arity:
            plural = "s" if arity > 1 else ""
            self._fail(
                f"{func.id}() takes {arity} argument{plural}, got {len(node.args)} ({self._where(node)})",
                expected=f"{arity} argument{plural}",
                got=len(node.args),
            )
        return Call(func.id, tuple(self._typed(a, depth + 1, False, f"{func.id}()") for a in node.args))


def parse_condition(text: str, known: Collection[str]) -> Expr:
    """Parse a ``when:`` condition; every name must be in ``known`` (signals and parameters).

    Raises :class:`~engine.errors.ExpressionError` (without file or YAML path: the caller adds them
    with ``err.located(...)``) for text outside the grammar, unknown names, type errors and
    expressions that are numbers rather than conditions.

    >>> to_text(parse_condition("not mom > -0.1", known=["mom"]))
    '(not (mom > -0.1))'
    """
    converter = _Converter(text, known)
    expr = converter.parse()
    if not _is_condition(expr):
        raise ExpressionError(
            f"expected a condition (a comparison), got a number ('{converter.text}')",
            expected="a condition",
            got="a number",
        )
    return expr


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


_ARITH_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}
_COMPARE_UFUNCS = (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)
_COMPARE_BY_OP = dict(zip(get_args(CompareOp), _COMPARE_UFUNCS, strict=True))


def evaluate(expr: Expr, env: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """Evaluate ``expr`` elementwise over the arrays in ``env``.

    Arrays share one shape, ``(dates,)`` or ``(dates, columns)``; floats broadcast.  Returns a bool
    array for a condition and a float array for a number (0-d when ``env`` holds only scalars).  See
    the module docstring for the NaN rules.  A name missing from ``env`` raises :class:`KeyError`:
    names are checked at parse time, so that is a programming error.

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
