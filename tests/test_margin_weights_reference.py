"""Margin-account weights (docs/rules.md *Weights*, last paragraph; docs/shorts.md *Weights*).

Part a: the reference (tests/decision_reference.py ``valid_weights(..., max_gross=G)``, interpretation
I12) by hand, each expected value written out as literal arithmetic.
Part b: a hypothesis property comparing the reference with ``engine.rules.valid_weights(raw, rest,
max_gross)`` on random (m, A) arrays (NaN allowed), a ``rest`` column or none, and a scalar or per-row G.
The reference was written from the docs only; a disagreement is a finding, not a reason to change it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.decision_reference import REST, valid_weights

NAN = math.nan


# =============================================================================================
# a. hand-computed cases of the reference


def check(raw: dict, assets: list[str], g: float | None, expected: list[float], changed: bool) -> None:
    w, c = valid_weights(raw, assets, max_gross=g)
    np.testing.assert_allclose(w, expected, rtol=0, atol=1e-15)
    assert c is changed


def test_inside_the_bounds_nothing_changes_and_shorts_are_kept() -> None:
    # |0.5| + |-0.3| = 0.8 <= 2
    check({"a": 0.5, "b": -0.3}, ["a", "b"], 2.0, [0.5, -0.3], False)


def test_nan_becomes_zero_and_each_weight_is_clipped_to_plus_minus_g() -> None:
    # a: 3 -> 2 (clip), b: NaN -> 0; gross 2 is not above 2
    check({"a": 3.0, "b": NAN}, ["a", "b"], 2.0, [2.0, 0.0], True)
    # a: -7 -> -2; gross 2
    check({"a": -7.0}, ["a", "b"], 2.0, [-2.0, 0.0], True)


def test_a_negative_rest_inside_the_bounds_is_not_a_change() -> None:
    # rest = 1 - (1.5 + 0.5) = -1; gross 1.5 + 0.5 + 1 = 3, not above 3
    check({"a": 1.5, "b": 0.5, "c": REST}, ["a", "b", "c"], 3.0, [1.5, 0.5, -1.0], False)


def test_rest_is_one_minus_the_others_and_the_gross_is_scaled_to_g() -> None:
    # rest = 1 - (1 - 1) = 1; gross 1 + 1 + 1 = 3 > 1.5 -> each x 1.5/3 = 0.5
    check({"a": 1.0, "b": -1.0, "c": REST}, ["a", "b", "c"], 1.5, [0.5, -0.5, 0.5], True)


def test_rest_is_computed_from_the_clipped_others_then_clipped_itself() -> None:
    # a: -3 -> -2; rest = 1 - (-2) = 3 -> 2; gross 4 > 2 -> each x 2/4
    check({"a": -3.0, "b": REST}, ["a", "b"], 2.0, [-1.0, 1.0], True)


def test_a_clipped_rest_alone_counts_as_changed() -> None:
    # I12: rest = 1 - 0 = 1 -> clipped to G = 0.5; gross 0.5 is not above 0.5, so only the clip changed it
    check({"a": REST}, ["a", "b"], 0.5, [0.5, 0.0], True)


def test_the_gross_tolerance_is_1e_9() -> None:
    # gross 1 + 5e-10: within tolerance, untouched
    check({"a": 0.6, "b": -(0.4 + 5e-10)}, ["a", "b"], 1.0, [0.6, -(0.4 + 5e-10)], False)
    # gross 1 + 2e-9: scaled by 1 / (1 + 2e-9)
    g = 1.0 + 2e-9
    check({"a": 0.6, "b": -(0.4 + 2e-9)}, ["a", "b"], 1.0, [0.6 / g, -(0.4 + 2e-9) / g], True)


def test_negative_zero_is_not_a_change() -> None:
    check({"a": -0.0, "b": 0.25}, ["a", "b"], 1.0, [0.0, 0.25], False)


def test_without_max_gross_the_cash_account_is_unchanged() -> None:
    # cash: -0.5 -> 0 (clipped), rest = 1 - 0 = 1
    w, c = valid_weights({"a": -0.5, "b": REST}, ["a", "b"])
    np.testing.assert_array_equal(w, [0.0, 1.0])
    assert c is True
    w, c = valid_weights({"a": 0.7, "b": 0.6}, ["a", "b"])  # 1.3 > 1 -> divided by 1.3
    np.testing.assert_allclose(w, [0.7 / 1.3, 0.6 / 1.3], rtol=0, atol=1e-15)
    assert c is True


# =============================================================================================
# b. the reference against the engine


def reference_rows(raw: np.ndarray, rest: int | None, gs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, a = raw.shape
    assets = [f"x{j}" for j in range(a)]
    out = np.zeros((m, a))
    changed = np.zeros(m, dtype=bool)
    for i in range(m):
        row: dict[str, float | str] = {assets[j]: (REST if j == rest else float(raw[i, j])) for j in range(a)}
        out[i], changed[i] = valid_weights(row, assets, max_gross=float(gs[i]))
    return out, changed


value = st.one_of(
    st.floats(-5.0, 5.0, allow_nan=False),
    st.sampled_from([-5.0, -2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0, 5.0]),
    st.just(NAN),
)
gross = st.one_of(
    st.floats(0.0, 5.0, exclude_min=True, allow_nan=False),
    st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 5.0]),
)


@st.composite
def cases(draw):
    a = draw(st.integers(1, 4))
    m = draw(st.integers(1, 6))
    raw = np.array([[draw(value) for _ in range(a)] for _ in range(m)], dtype=float)
    rest = draw(st.one_of(st.none(), st.integers(0, a - 1)))
    per_row = draw(st.booleans())
    g = np.array([draw(gross) for _ in range(m)], dtype=float) if per_row else draw(gross)
    return raw, rest, g


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_engine_valid_weights_agrees_with_the_reference(case) -> None:
    rules = pytest.importorskip("engine.rules")
    raw, rest, g = case
    gs = np.asarray(g, dtype=float) if isinstance(g, np.ndarray) else np.full(raw.shape[0], g)
    expected, expected_changed = reference_rows(raw, rest, gs)
    weights, changed = rules.valid_weights(raw.copy(), rest, g)
    weights = np.asarray(weights, dtype=float)
    changed = np.asarray(changed)
    assert weights.shape == raw.shape
    assert changed.shape == (raw.shape[0],)
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(changed.astype(bool), expected_changed)
