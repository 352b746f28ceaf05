"""Table cells: a value that rounds to zero is shown without a minus sign, in every kind of cell."""

from __future__ import annotations

import pytest

from engine.render.sweep_text import sweep_cell
from engine.render.text import format_value


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (-0.004, "num", "0.00"),
        (-0.006, "num", "-0.01"),
        (-0.0004, "pct", "0.0%"),
        (-0.0006, "pct", "-0.1%"),
        (-0.4, "money", "0"),
        (-1234.4, "money", "-1,234"),
        (-0.0, "num", "0.00"),
    ],
)
def test_format_value_drops_the_sign_of_a_rounded_zero(value: float, kind: str, shown: str) -> None:
    assert format_value(value, kind) == shown


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("calmar", -0.001, "0.00"),
        ("calmar", -0.02, "-0.02"),
        ("total_return", -1e-5, "0.0%"),
        ("cagr", -0.002, "-0.2%"),
    ],
)
def test_sweep_cell_drops_the_sign_of_a_rounded_zero(key: str, value: float, shown: str) -> None:
    assert sweep_cell(key, value) == shown
