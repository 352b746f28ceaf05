"""engine.store.float_text writes each float64 as Python's ``repr`` does (NaN as the empty cell).

The oracle is CPython's ``repr`` (David Gay's ``dtoa``, shortest round-trip digits, nearest and
ties to even, exponent below 1e-4 and from 1e16 on, ``.0`` after whole numbers): on the edges of
every rule (zeros, subnormals, the largest float, each power of ten and of two with its two
neighbours), on random bit patterns over the whole range, on curves of money and on weights, and on
generated floats.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.store.float_text import float_cells


def _expected(values: np.ndarray) -> list[str]:
    return ["" if math.isnan(v) else repr(v) for v in values.tolist()]


def _with_neighbours(values: list[float]) -> np.ndarray:
    x = np.array(values, dtype=np.float64)
    with np.errstate(over="ignore"):  # the largest float's next is inf, also an edge
        return np.concatenate([x, np.nextafter(x, np.inf), np.nextafter(x, -np.inf)])


def test_edges_are_written_as_repr_writes_them() -> None:
    edges = [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, math.inf, -math.inf, math.nan]
    edges += [1e-4, 1e-5, 9.999999999999999e-5, 1e15, 1e16, 9999999999999998.0, 2.0**53, 0.1 + 0.2, 123.0, -1.5]
    # each rule's boundary: the exponent thresholds, the digit counts, the exponent of two's steps
    powers = [b * 10.0**p for p in range(-323, 308) for b in (1.0, 2.0, 5.0, 9.5)]
    powers += [2.0**p for p in range(-1074, 1024)]
    x = _with_neighbours(edges + powers)
    x = np.concatenate([x, -x])
    assert float_cells(x) == _expected(x)


def test_random_bit_patterns_are_written_as_repr_writes_them() -> None:
    bits = np.random.default_rng(20261205).integers(0, 2**64, 300_000, dtype=np.uint64, endpoint=False)
    x = bits.view(np.float64)
    assert float_cells(x) == _expected(x)


def test_money_and_weights_are_written_as_repr_writes_them() -> None:
    rng = np.random.default_rng(5)
    value = 1e5 * np.cumprod(1 + rng.normal(0.0003, 0.01, 20_000))  # 17 significant digits, mostly
    # whole numbers and halves near 2**52, where a float's digits end one place either side of the point
    near_2_52 = rng.integers(2**50, 2**54, 20_000) * np.array([1.0, 0.5, 0.25, 0.125]).repeat(5_000)
    x = np.concatenate([value, rng.random(20_000), np.round(rng.random(20_000), 4), near_2_52])
    assert float_cells(x) == _expected(x)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=50))
def test_generated_floats_are_written_as_repr_writes_them(values: list[float]) -> None:
    x = np.array(values, dtype=np.float64)
    assert float_cells(x) == _expected(x)
