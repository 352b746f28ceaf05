"""The ``when:`` language's whitelist parser: checked text -> :func:`ast.parse` -> our tree.

The text's characters, length and bracket depth are checked before Python's parser sees it;
:func:`ast.parse` only builds a tree (it runs nothing); every node of that tree is checked against a
whitelist and converted to the frozen nodes of :mod:`engine.expr_tree`, with types checked on the
way.  The grammar and limits are documented in :mod:`engine.expr`.

>>> from engine.expr_tree import to_text
>>> to_text(parse_condition("0 < corr < 0.5", known={"corr"}))
'((0 < corr) and (corr < 0.5))'
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from collections.abc import Collection
from typing import NoReturn, get_args

from engine.errors import ExpressionError
from engine.expr_tree import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    ArithOp,
    BinOp,
    BoolOp,
    BoolOpName,
    Call,
    Compare,
    CompareOp,
    Expr,
    Name,
    Neg,
    Not,
    Number,
)
from engine.plural import counted

__all__ = ["parse_condition", "parse_number"]

#: A number as the language writes it: decimal digits, a point, an exponent (no 0x, 0o, 0b, '_' nor leading zeros).
_PLAIN_NUMBER = r"(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
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
#: Arguments each function takes: an exact count, or (at least, None) for min and max.
_ARITY: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "crosses_above": (2, 2),
    "crosses_below": (2, 2),
    "clip": (3, 3),
    "min": (2, None),
    "max": (2, None),
}
_NUMBER_FUNCTIONS = frozenset({"abs", "clip", "min", "max"})
_BRACKETS = {")": "(", "]": "[", "}": "{"}


def _hint(word: str, options: Collection[str], label: str) -> str:
    """``(did you mean 'corr'? known: corr, mom)``, or without the guess when nothing is close."""
    listed = ", ".join(sorted(options)) or "none"
    close = difflib.get_close_matches(word, sorted(options), n=1)
    guess = f"did you mean '{close[0]}'? " if close else ""
    return f"({guess}{label}: {listed})"


def _is_condition(expr: Expr) -> bool:
    return isinstance(expr, Compare | BoolOp | Not) or (isinstance(expr, Call) and expr.func not in _NUMBER_FUNCTIONS)


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
        if message.startswith("leading zeros in decimal integer literals"):  # 007: not Python's advice on octals
            message = "a number with a leading zero is not a plain decimal"
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
                f"expression is nested more than {MAX_DEPTH} levels deep ({self._where(node)}; each operator of a"
                " chain such as a + b + c is a level)",
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
            right = self._typed(node.right, depth + 1, False, f"'{op}'")
            if op == "/" and isinstance(right, Number) and right.value == 0:
                self._fail(f"division by the number 0 ({self._where(node)}): every date would give inf or NaN", got=0)
            return BinOp(op, left, right)
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
        written = ast.get_source_segment(self.text, node) or ""
        if not re.fullmatch(_PLAIN_NUMBER, written):  # 0x10, 0o7, 0b1, 1_000, 00.5: Python's forms, not a plain decimal
            self._fail(
                f"number {self._where(node)} is not a plain decimal",
                expected="digits like 10, 0.5 or 1e-3",
                got=written,
            )
        try:
            number = sign * float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            self._fail(f"number is too large ({self._where(node)})", got=self._source(node))
        if number == 0.0 and any(ch in "123456789" for ch in written.lower().partition("e")[0]):
            self._fail(f"number {self._where(node)} is too small: it would be read as 0", got=written)
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
        least, most = _ARITY[func.id]
        if len(node.args) < least or (most is not None and len(node.args) > most):
            count = counted(least, "arguments") if most == least else f"{least} or more arguments"
            self._fail(
                f"{func.id}() takes {count}, got {len(node.args)} ({self._where(node)})",
                expected=count,
                got=len(node.args),
            )
        return Call(func.id, tuple(self._typed(a, depth + 1, False, f"{func.id}()") for a in node.args))


def parse_number(text: str, known: Collection[str]) -> Expr:
    """Parse a number-valued expression (a weight such as ``clip(0.4 + 0.1 * z, 0, 1)``).

    The grammar is the ``when:`` language's; the result must be a number, not a condition.

    >>> from engine.expr_tree import to_text
    >>> to_text(parse_number("clip(0.4 + 0.1 * z, 0, 1)", known=["z"]))
    'clip((0.4 + (0.1 * z)), 0, 1)'
    """
    converter = _Converter(text, known)
    expr = converter.parse()
    if _is_condition(expr):
        raise ExpressionError(
            f"expected a number, got a condition ('{converter.text}')",
            expected="a number (a weight)",
            got="a condition",
        )
    return expr


def parse_condition(text: str, known: Collection[str]) -> Expr:
    """Parse a ``when:`` condition; every name must be in ``known`` (signals and parameters).

    Raises :class:`~engine.errors.ExpressionError` (without file or YAML path: the caller adds them
    with ``err.located(...)``) for text outside the grammar, unknown names, type errors and
    expressions that are numbers rather than conditions.

    >>> from engine.expr_tree import to_text
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
