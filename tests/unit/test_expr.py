"""Tests for ``engine.expr``: the whitelist parser, the tree, and vectorised evaluation.

Evaluation tables are hand-computed; the arithmetic is in the comments.  ``F``/``T`` stand for
False/True so the expected rows line up with the inputs.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine.expr as ex
from engine.errors import ExpressionError
from engine.expr import (
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
    evaluate,
    names,
    parse_condition,
    to_text,
)

T, F = True, False
NAN = np.nan
KNOWN = frozenset({"a", "b", "x", "y", "corr", "mom", "ratio", "z", "k"})


def run(text: str, **env: np.ndarray | float) -> list[bool]:
    result = evaluate(parse_condition(text, KNOWN), {k: np.asarray(v, dtype=float) for k, v in env.items()})
    assert result.dtype == np.bool_
    return result.tolist()


def rejected(text: str, known: frozenset[str] = KNOWN) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_condition(text, known)
    err = info.value
    assert "\n" not in err.message
    assert err.file is None and err.path is None  # the caller adds them with err.located()
    return err


def depth(e: Expr) -> int:
    """Independent oracle: nodes on the longest root-to-leaf path."""
    children = [v for f in dataclasses.fields(e) for v in _as_tuple(getattr(e, f.name))]
    return 1 + max((depth(c) for c in children if isinstance(c, Expr)), default=0)


def _as_tuple(value: object) -> tuple[object, ...]:
    return value if isinstance(value, tuple) else (value,)


# ---------------------------------------------------------------------------------------------
# evaluation tables


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        #            a = 1  2  3  nan   against b = 2
        ("<", [T, F, F, F]),
        ("<=", [T, T, F, F]),
        (">", [F, F, T, F]),
        (">=", [F, T, T, F]),
        ("==", [F, T, F, F]),
        ("!=", [T, F, T, F]),  # numpy alone would give True for nan != 2
    ],
)
def test_comparison_table_with_nan_is_false(op: str, expected: list[bool]) -> None:
    assert run(f"a {op} b", a=[1, 2, 3, NAN], b=[2, 2, 2, 2]) == expected
    assert run(f"b {op} a", a=[2, 2, 2, 2], b=[1, 2, 3, NAN]) == expected  # NaN on the left too


def test_and_or_not_table() -> None:
    a, b = [1, 1, 3, 3, NAN], [2, 0, 2, 0, 2]
    # p = a < 2:  T T F F F      q = b > 1:  T F T F T
    assert run("a < 2 and b > 1", a=a, b=b) == [T, F, F, F, F]
    assert run("a < 2 or b > 1", a=a, b=b) == [T, T, T, F, T]
    # not is plain negation at the language level: not (nan < 2) is True.
    assert run("not a < 2", a=a, b=b) == [F, F, T, T, T]
    assert run("a < 2 and b > 1 and a > 0", a=a, b=b) == [T, F, F, F, F]


def test_arithmetic_table_without_warnings() -> None:
    a, b = [1, 2, NAN, -3], [4, 0, 1, 0]
    assert run("a + b > 4", a=a, b=b) == [T, F, F, F]  # 5, 2, nan, -3
    assert run("a - b < 0", a=a, b=b) == [T, F, F, T]  # -3, 2, nan, -3
    assert run("a * b == 4", a=a, b=b) == [T, F, F, F]  # 4, 0, nan, -0
    assert run("a / b > 100", a=a, b=b) == [F, T, F, F]  # 0.25, inf, nan, -inf
    assert run("a / b < -100", a=a, b=b) == [F, F, F, T]
    assert run("0 / b == 0", a=a, b=b) == [T, F, T, F]  # 0/0 is nan: no RuntimeWarning (-W error)
    assert run("-a < -1.5", a=a, b=b) == [F, T, F, F]  # -1, -2, nan, 3
    assert run("+a > 1.5", a=a, b=b) == [F, T, F, F]
    assert run("abs(a) >= 2", a=a, b=b) == [F, T, F, T]


def test_numeric_expression_evaluates_to_floats() -> None:
    tree = BinOp("/", Name("a"), Number(2.0))
    result = evaluate(tree, {"a": np.array([1.0, NAN])})
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, [0.5, NAN])


@pytest.mark.parametrize(
    ("text", "canonical", "env", "expected"),
    [
        # * binds tighter than +: 1 + 4 * 2 = 9, whereas (1 + 4) * 2 = 10
        ("a + b * 2 == 9", "((a + (b * 2)) == 9)", {"a": 1, "b": 4}, T),
        # left associative: (1 - 4) - 1 = -4, whereas 1 - (4 - 1) = -2
        ("a - b - 1 == -4", "(((a - b) - 1) == -4)", {"a": 1, "b": 4}, T),
        ("a / b / 2 == 0.125", "(((a / b) / 2) == 0.125)", {"a": 1, "b": 4}, T),
        # unary minus binds tighter than *: (-1) * 4
        ("-a * b == -4", "(((-a) * b) == -4)", {"a": 1, "b": 4}, T),
        # not binds looser than <, tighter than and: (not (1 < 1)) and (4 > 2)
        ("not a < 1 and b > 2", "((not (a < 1)) and (b > 2))", {"a": 1, "b": 4}, T),
        # and binds tighter than or: (1 < 1) or ((4 < 1) and (1 > 0)) = F or (F and T)
        ("a < 1 or b < 1 and a > 0", "((a < 1) or ((b < 1) and (a > 0)))", {"a": 1, "b": 4}, F),
        ("(a < 1 or b > 1) and a > 0", "(((a < 1) or (b > 1)) and (a > 0))", {"a": 1, "b": 4}, T),
    ],
)
def test_precedence(text: str, canonical: str, env: dict[str, float], expected: bool) -> None:
    tree = parse_condition(text, KNOWN)
    assert to_text(tree) == canonical
    assert evaluate(tree, env).item() is expected


def test_chained_comparison_means_and() -> None:
    tree = parse_condition("0 < a < 2", KNOWN)
    assert tree == BoolOp("and", (Compare("<", Number(0.0), Name("a")), Compare("<", Name("a"), Number(2.0))))
    assert run("0 < a < 2", a=[-1, 0, 1, 2, NAN]) == [F, F, T, F, F]
    #                 a <  b <=  3:  1<2<=3  1<5>3  2<2
    assert run("a < b <= 3", a=[1, 1, 2], b=[2, 5, 2]) == [T, F, F]


def test_crosses_above_table() -> None:
    x = [0, 2, 1, 3, NAN, 3, 0, 2]
    # t0 no previous date; t1 0<=1 -> 2>1; t2 1>1 false; t3 1<=1 -> 3>1 (touching counts);
    # t4 nan now; t5 nan before; t6 0>1 false; t7 0<=1 -> 2>1
    assert run("crosses_above(x, 1)", x=x) == [F, T, F, T, F, F, F, T]


def test_crosses_below_table() -> None:
    x = [2, 0, 1, -1, NAN, -1, 2, 0]
    # mirror of the table above around 1
    assert run("crosses_below(x, 1)", x=x) == [F, T, F, T, F, F, F, T]


def test_crosses_is_false_at_t0_and_next_to_nan_in_either_series() -> None:
    assert run("crosses_above(x, y)", x=[5.0], y=[0.0]) == [F]  # above at t=0 is not a cross
    assert run("crosses_above(x, y)", x=[], y=[]) == []
    #                                 y nan at t-1   y nan at t   clean cross
    x, y = [0, 2, 0, 2, 0, 2], [NAN, 1, 1, NAN, 1, 1]
    assert run("crosses_above(x, y)", x=x, y=y) == [F, F, F, F, F, T]
    assert run("crosses_below(y, x)", x=x, y=y) == [F, F, F, F, F, T]


def test_crosses_of_two_scalars_is_false() -> None:
    assert evaluate(parse_condition("crosses_above(a, b)", KNOWN), {"a": 2.0, "b": 1.0}).tolist() is False


def test_two_dimensional_inputs_work_along_dates() -> None:
    # dates x columns
    x = np.array([[0.0, 2.0], [2.0, 2.0], [NAN, 0.0], [3.0, 3.0]])
    y = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    env = {"x": x, "y": y}
    # col 0: t1 0<=1 -> 2>1; t2 nan; t3 nan before.   col 1: never below before t2; t3 0<=1 -> 3>1
    expected_cross = [[F, F], [T, F], [F, F], [F, T]]
    assert evaluate(parse_condition("crosses_above(x, y)", KNOWN), env).tolist() == expected_cross
    assert evaluate(parse_condition("x > y and not x > 2.5", KNOWN), env).tolist() == [
        [F, T],
        [T, T],
        [F, F],
        [F, F],
    ]


def test_scalar_parameters_broadcast() -> None:
    env = {"x": np.array([[0.5, 1.5], [2.5, NAN]]), "k": 1.0}
    assert evaluate(parse_condition("x > k", KNOWN), env).tolist() == [[F, T], [T, F]]
    assert evaluate(parse_condition("crosses_above(x, k + 1)", KNOWN), env).tolist() == [[F, F], [T, F]]
    only_scalars = evaluate(parse_condition("k < 2", KNOWN), {"k": 1.0})
    assert only_scalars.shape == ()
    assert only_scalars.item() is True


def test_missing_name_in_env_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        evaluate(parse_condition("a < b", KNOWN), {"a": np.array([1.0])})


# ---------------------------------------------------------------------------------------------
# hostile and malformed input


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os').system('ls')", "attribute access is not allowed"),
        ("__import__('os')", "'__import__' is not allowed: names starting with '_' are reserved"),
        ("().__class__.__bases__", "attribute access is not allowed"),
        ("corr.__class__", "attribute access is not allowed ('corr.__class__' at column 1)"),
        ("x.y(1) < 2", "attribute access is not allowed"),
        ("open('x')", "function 'open' is not allowed (allowed: abs, clip, crosses_above, crosses_below, max, min)"),
        ("eval('1')", "function 'eval' is not allowed"),
        ("(x)(1) < 1", "function 'x' is not allowed"),
        ("abs(x)(1) < 1", "only calls of abs, clip, crosses_above, crosses_below, max, min are allowed"),
        ("[x for x in y]", "comprehensions are not allowed"),
        ("lambda: 1", "lambdas are not allowed"),
        ("corr if mom else 1", "'if' expressions are not allowed"),
        ("x[0]", "subscripts are not allowed"),
        ("f'{x}'", "f-strings are not allowed"),
        ("(y := 1)", "assignment expressions (':=') are not allowed"),
        ("'a' < 'b'", "a string is not allowed"),
        ("x < b'a'", "not allowed"),
        ("(x, y)", "tuples are not allowed"),
        ("{'a': 1}", "dicts are not allowed"),
        ("corr in mom", "'in' comparisons are not allowed"),
        ("corr is None", "'is' comparisons are not allowed"),
        ("x < None", "None is not allowed"),
        ("True", "use a comparison"),
        ("x < 1 and False", "use a comparison"),
        ("x < 1j", "complex"),
        ("x < 1e999", "number is too large"),
        ("x < 0x1", "number '0x1' at column 5 is not a plain decimal"),
        ("x < 0o1", "is not a plain decimal"),
        ("x < 0b1", "is not a plain decimal"),
        ("x < 0.000_2", "is not a plain decimal"),
        ("x < 00.2", "is not a plain decimal"),
        ("x < 007", "a number with a leading zero is not a plain decimal at column 5"),
        ("x < 1e-400", "number '1e-400' at column 5 is too small: it would be read as 0"),
        ("_x < 1", "names starting with '_' are reserved"),
        ("abs(x, y) > 1", "abs() takes 1 argument, got 2"),
        ("crosses_above(x)", "crosses_above() takes 2 arguments, got 1"),
        ("abs(x=1) > 1", "keyword arguments are not allowed"),
        ("crosses_above(x, y=1)", "keyword arguments are not allowed"),
        ("abs(**x) > 1", "keyword arguments are not allowed"),
        ("abs(*x) > 1", "'*' unpacking is not allowed"),
        ("x ** 2 > 1", "operator '**' is not allowed"),
        ("-x ** 2 > 1", "operator '**' is not allowed"),
        ("x // 2 > 1", "operator '//' is not allowed"),
        ("x % 2 > 1", "operator '%' is not allowed"),
        ("(x < 1) & (y < 1)", "operator '&' is not allowed, use 'and'"),
        ("~(x < 1)", "operator '~' is not allowed, use 'not'"),
        ("x < 1; y", "unexpected ';' at column 6"),
        ("x < 1)", "unexpected ')' at column 6"),
        ("  x < 1)", "unexpected ')' at column 8"),  # columns count the caller's leading spaces
        ("(x < 1", "'(' at column 1 is never closed"),
        ("x <", "expression ends unexpectedly"),
        ("import os", "unexpected 'import' at column 1"),
        ("x < 1\n__import__('os')", "line breaks are not allowed"),
        ("(x < 1\n or y > 2)", "line breaks are not allowed"),
        ("x < 1 \\\n or y > 2", "line breaks are not allowed"),
        ("x < 1 # or y > 2", "comments ('#') are not allowed"),
        ("x \u2264 1", "is not printable ASCII"),
        ("x < 1\x00", "is not printable ASCII"),
        ("", "expression is empty"),
        ("  \t ", "expression is empty"),
    ],
)
def test_hostile_and_malformed_input_is_rejected(text: str, fragment: str) -> None:
    assert fragment in rejected(text).message


def test_length_cap_is_checked_on_the_raw_text() -> None:
    text = " or ".join(["x < 1"] * 56)
    assert len(text) == MAX_LENGTH
    parse_condition(text, KNOWN)
    err = rejected(text + "0")
    assert "too long" in err.message
    assert err.got == MAX_LENGTH + 1


def test_bracket_nesting_cap() -> None:
    parse_condition("(" * MAX_DEPTH + "x < 1" + ")" * MAX_DEPTH, KNOWN)
    err = rejected("(" * (MAX_DEPTH + 1) + "x < 1" + ")" * (MAX_DEPTH + 1))
    assert f"nested more than {MAX_DEPTH}" in err.message


def test_a_long_flat_chain_is_said_to_count_one_level_per_operator() -> None:
    # a + b + c parses as ((a + b) + c): a flat sum of 40 terms is 39 levels deep, which the message explains
    err = rejected("+".join(["x"] * 40) + " < 1")
    assert f"nested more than {MAX_DEPTH} levels" in err.message
    assert "each operator of a chain such as a + b + c is a level" in err.message


@pytest.mark.parametrize("prefix", ["not ", "-", "+"])
def test_tree_depth_cap(prefix: str) -> None:
    # 30 prefixes + the comparison + its leaf: exactly MAX_DEPTH levels ("+" is dropped but counted)
    ok = parse_condition(prefix * 30 + "x < 1", KNOWN)
    if prefix != "+":
        assert depth(ok) == MAX_DEPTH
    err = rejected(prefix * 31 + "x < 1")
    assert f"nested more than {MAX_DEPTH} levels" in err.message


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000 + "x < 1" + ")" * 10_000,
        "-" * 10_000 + "x < 1",
        "not " * 10_000 + "x < 1",
        "x" + " + x" * 50_000 + " < 1",
        "abs(" * 10_000 + "x" + ")" * 10_000 + " < 1",
    ],
)
def test_huge_nesting_is_an_expression_error_even_without_the_length_cap(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rejected(text)  # the length cap alone
    monkeypatch.setattr(ex, "MAX_LENGTH", 10**7)  # the nesting guards and the parser's own errors
    rejected(text)


def test_unknown_name_lists_known_names_and_suggests() -> None:
    err = rejected("cor < 0.2", frozenset({"mom", "corr"}))
    assert err.message == "unknown name 'cor' (did you mean 'corr'? known: corr, mom)"
    assert err.got == "cor"
    err = rejected("zzz < 0.2", frozenset({"mom", "corr"}))
    assert err.message == "unknown name 'zzz' (known: corr, mom)"


def test_unknown_function_suggests() -> None:
    assert "did you mean 'crosses_above'?" in rejected("crosses_abov(x, y)").message


def test_error_can_be_located_by_the_caller() -> None:
    located = rejected("cor < 1", frozenset({"corr"})).located(file="x.yaml", path="rules[0].when")
    assert located.one_line().startswith("x.yaml: rules[0].when: unknown name 'cor'")


@pytest.mark.parametrize(
    ("text", "expected", "got"),
    [
        ("corr", "a condition", "a number"),
        ("corr + 1", "a condition", "a number"),
        ("abs(corr)", "a condition", "a number"),
        ("corr and mom", "a condition", "a number"),
        ("not corr", "a condition", "a number"),
        ("corr < 1 or 2", "a condition", "a number"),
        ("(corr < 1) + 1", "a number", "a condition"),
        ("-(corr < 1) > 0", "a number", "a condition"),
        ("abs(corr < 1) > 0", "a number", "a condition"),
        ("crosses_above(corr < 1, mom)", "a number", "a condition"),
        ("(corr < 1) < 2", "a number", "a condition"),
    ],
)
def test_type_errors(text: str, expected: str, got: str) -> None:
    err = rejected(text)
    assert (err.expected, err.got) == (expected, got)


def test_top_level_number_message() -> None:
    assert "expected a condition (a comparison), got a number" in rejected("corr + 1").message


# ---------------------------------------------------------------------------------------------
# the tree, names() and to_text()


def test_tree_shape() -> None:
    tree = parse_condition("crosses_above(ratio, 0.05) or not (abs(z) <= 2) and -mom > -1", KNOWN)
    assert tree == BoolOp(
        "or",
        (
            Call("crosses_above", (Name("ratio"), Number(0.05))),
            BoolOp(
                "and",
                (
                    Not(Compare("<=", Call("abs", (Name("z"),)), Number(2.0))),
                    Compare(">", Neg(Name("mom")), Number(-1.0)),  # -1 is folded into the literal
                ),
            ),
        ),
    )


def test_nodes_are_frozen_and_hashable() -> None:
    node = Name("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.id = "y"  # type: ignore[misc]
    assert len({Name("x"), Name("x"), Number(1.0)}) == 2


def test_names_excludes_functions() -> None:
    tree = parse_condition("crosses_above(ratio, z) or abs(mom) > corr + k", KNOWN)
    assert names(tree) == frozenset({"ratio", "z", "mom", "corr", "k"})
    assert names(parse_condition("1 < 2", KNOWN)) == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "corr < 0.2 and mom > 0",
        "crosses_above(ratio, 0.05) or not (abs(z) <= 2)",
        "-mom > 0.1",
        "0 < corr < 0.5",
        "-(-1) < x",
        "x - -1.5e-07 > 1e+20",
        "(a < 1 and b < 1) and x < 1",
        "a < 1 and (b < 1 and x < 1)",
        "crosses_below(x * 2, y / 3 + k)",
        "not not a != b",
    ],
)
def test_to_text_round_trip(text: str) -> None:
    tree = parse_condition(text, KNOWN)
    assert parse_condition(to_text(tree), KNOWN) == tree
    assert to_text(parse_condition(to_text(tree), KNOWN)) == to_text(tree)


_numbers = st.floats(allow_nan=False, allow_infinity=False, width=64).map(lambda v: Number(v))
_numeric: st.SearchStrategy[Expr] = st.recursive(
    st.one_of(st.sampled_from(sorted(KNOWN)).map(Name), _numbers),
    lambda inner: st.one_of(
        st.builds(BinOp, st.sampled_from(["+", "-", "*", "/"]), inner, inner).filter(
            lambda b: not (b.op == "/" and isinstance(b.right, Number) and b.right.value == 0)  # refused when parsed
        ),
        inner.filter(lambda e: not isinstance(e, Number)).map(Neg),  # -<literal> is folded
        inner.map(lambda e: Call("abs", (e,))),
    ),
    max_leaves=4,
)
_conditions: st.SearchStrategy[Expr] = st.recursive(
    st.one_of(
        st.builds(Compare, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), _numeric, _numeric),
        st.builds(
            lambda f, a, b: Call(f, (a, b)), st.sampled_from(["crosses_above", "crosses_below"]), _numeric, _numeric
        ),
    ),
    lambda inner: st.one_of(
        inner.map(Not),
        st.builds(
            lambda op, items: BoolOp(op, tuple(items)),
            st.sampled_from(["and", "or"]),
            st.lists(inner, min_size=2, max_size=3),
        ),
    ),
    max_leaves=3,
)


@given(_conditions)
def test_to_text_round_trip_property(tree: Expr) -> None:
    text = to_text(tree)
    if len(text) <= MAX_LENGTH and depth(tree) <= MAX_DEPTH:
        assert parse_condition(text, KNOWN) == tree


# ---------------------------------------------------------------------------------------------
# property: comparisons against a pure-Python oracle

_PY_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_values = st.floats(-3, 3) | st.sampled_from([0.0, 1.0, NAN, math.inf, -math.inf])


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 12))
    a = draw(hnp.arrays(np.float64, n, elements=_values))
    b = draw(hnp.arrays(np.float64, n, elements=_values))
    return a, b


@pytest.mark.parametrize("op", sorted(_PY_OPS))
@given(pair=_pairs())
def test_comparison_matches_python_with_nan_false(op: str, pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    oracle = [
        False if math.isnan(p) or math.isnan(q) else _PY_OPS[op](p, q)
        for p, q in zip(a.tolist(), b.tolist(), strict=True)
    ]
    assert evaluate(parse_condition(f"a {op} b", KNOWN), {"a": a, "b": b}).tolist() == oracle
    # `not` is plain negation at the language level, so `not (nan < 1)` is True; the rules layer
    # (not this module) masks the dates where a referenced signal is NaN.
    negated = evaluate(parse_condition(f"not (a {op} b)", KNOWN), {"a": a, "b": b}).tolist()
    assert negated == [not v for v in oracle]


# ---------------------------------------------------------------------------------------------
# the module itself


def test_public_api() -> None:
    assert set(ex.__all__) >= {
        "Expr",
        "MAX_LENGTH",
        "MAX_DEPTH",
        "FUNCTIONS",
        "parse_condition",
        "names",
        "evaluate",
        "to_text",
    }
    assert all(hasattr(ex, name) for name in ex.__all__)
    assert ex.FUNCTIONS == ("abs", "clip", "crosses_above", "crosses_below", "max", "min")
    assert (MAX_LENGTH, MAX_DEPTH) == (500, 32)


def test_module_never_calls_a_python_evaluator() -> None:
    import engine.expr_eval
    import engine.expr_parse
    import engine.expr_tree

    source = "".join(inspect.getsource(mod) for mod in (ex, engine.expr_tree, engine.expr_parse, engine.expr_eval))
    for token in ("eval(", "exec(", "compile(", "import pandas", "import numexpr", "builtins"):
        assert token not in source


def test_clip_min_and_max_are_numbers_that_propagate_nan() -> None:
    x = np.array([-1.0, 0.25, 3.0, np.nan])
    env = {"x": x, "k": 0.5}
    assert ex.evaluate(ex.parse_number("clip(x, 0, 1)", ["x"]), env).tolist()[:3] == [0.0, 0.25, 1.0]
    assert np.isnan(ex.evaluate(ex.parse_number("clip(x, 0, 1)", ["x"]), env)[3])
    assert ex.evaluate(ex.parse_number("min(x, k, 2)", ["x", "k"]), env).tolist()[:3] == [-1.0, 0.25, 0.5]
    assert ex.evaluate(ex.parse_number("max(x, k)", ["x", "k"]), env).tolist()[:3] == [0.5, 0.5, 3.0]
    assert ex.evaluate(ex.parse_condition("clip(x, 0, 1) >= 1", ["x"]), env).tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    ("text", "parse", "says"),
    [
        ("x > 1", "number", "expected a number, got a condition"),
        ("clip(x, 0, 1)", "condition", "expected a condition"),
        ("clip(x, 0)", "number", "clip() takes 3 arguments, got 2"),
        ("max(x)", "number", "max() takes 2 or more arguments, got 1"),
        ("min(x > 1, 2)", "number", "min() needs a number, got a condition"),
    ],
)
def test_weights_are_numbers_and_conditions_are_conditions(text: str, parse: str, says: str) -> None:
    parser = ex.parse_number if parse == "number" else ex.parse_condition
    with pytest.raises(ExpressionError) as info:
        parser(text, ["x"])
    assert says in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "x > k and not (abs(x) - k < 0.01 or x != y)",
        "crosses_above(x, k) or crosses_below(y, -k)",
        "clip(x, -k, k) * 2 / (k + 1) >= min(x, y, k) - max(y, 0.5)",
        "x == y or x <= k",
    ],
)
def test_order_f_changes_the_layout_and_no_value(text: str) -> None:
    # a sweep's (dates, 1) signals against (1, K) parameters: order="F" lays the result out column by column
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(60, 1)), rng.normal(size=(60, 1))
    x[[0, 5, 6]] = NAN
    y[[3, 6]] = NAN
    y[10:14] = x[10:14]  # equal values for ==
    env = {"x": x, "y": y, "k": np.linspace(0.0, 1.5, 9)[None, :]}
    known = frozenset(env)
    tree = ex.parse_condition(text, known)
    c_order, f_order = ex.evaluate(tree, env), ex.evaluate(tree, env, order="F")
    assert c_order.shape == f_order.shape == (60, 9)
    assert f_order.flags.f_contiguous and not f_order.flags.c_contiguous
    assert c_order.dtype == f_order.dtype and np.array_equal(c_order, f_order, equal_nan=c_order.dtype != bool)
    assert c_order.any() and not c_order.all()
    number = ex.parse_number("clip(x, -k, k) * 2 / (k + 1) - abs(y)", known)
    np.testing.assert_array_equal(ex.evaluate(number, env, order="F"), ex.evaluate(number, env))


@pytest.mark.parametrize("text", ["corr / 0 < 0.2", "corr / 0.0 > 1", "(mom / 0) > 0 or corr < 0"])
def test_division_by_the_number_0_is_refused(text: str) -> None:
    """Every date would give inf or NaN (a comparison then false): a mistake, said at parse time."""
    with pytest.raises(ExpressionError, match="division by the number 0"):
        parse_condition(text, {"corr", "mom"})


def test_division_by_a_signal_that_may_be_0_is_allowed() -> None:
    assert isinstance(parse_condition("corr / mom < 0.2", {"corr", "mom"}), Compare)
