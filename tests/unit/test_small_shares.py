"""A small non-zero share never prints as zero: today's relative distance and an episode's percentile."""

from __future__ import annotations

import pytest

from engine.cli.today import _relative
from engine.render.episodes_text import percentile_text


@pytest.mark.parametrize(
    ("share", "shown"),
    [
        (0.0003077 / 0.2042, "+0.15%"),  # a distance of 0.0003 from a value of 0.2042 (it printed "+0%")
        (-0.004, "-0.4%"),
        (0.0099, "+0.99%"),
        (1e-7, "+<0.01%"),
        (-1e-7, "-<0.01%"),
        (0.5, "+50%"),
        (-0.015, "-2%"),
        (0.0, "+0%"),
    ],
)
def test_a_relative_distance_below_one_percent_keeps_two_digits(share: float, shown: str) -> None:
    assert _relative(share) == shown


@pytest.mark.parametrize(
    ("percentile", "shown"),
    [
        (100 / 9430, "0.011"),
        (100 / 2000, "0.05"),
        (100 / 300, "0.3"),
        (0.1, "0.1"),
        (5.0, "5.0"),
        (99.95, "100.0"),
        (0.0, "0.0"),
    ],
)
def test_a_records_percentile_is_not_shown_as_zero(percentile: float, shown: str) -> None:
    assert percentile_text(percentile) == shown
