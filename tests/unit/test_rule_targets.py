"""Targets given by rule plan exactly as the same targets spelled out.

A sweep of rules whose weights are numbers hands the scheduler each date's rule and the rules' weights
(:class:`engine.rule_targets.RuleTargets`) instead of an (n, K, A) array.  The plan must not notice:
the same events (a change of rule whose weights are alike is no event), legs, fills, switches and
unfilled legs, bit for bit, in every rebalancing mode, with lags and bands.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.config.models import Rule
from engine.execution import event_mask
from engine.rule_targets import MAX_RULES, RuleTargets
from engine.rules import compile_rules, deciding_rules
from engine.rules_nb import mark_nb
from tests.helpers import plan_on, plan_prices, random_three_asset_panel

DISTINCT = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.3, 0.3, 0.4], [0.5, 0, 0.2], [0, 0, 0]]
# rules 1 and 4 alike, 2 and 5 apart by less than the scheduler's tolerance (1e-12): no event between them
ALIKE = [[1, 0, 0], [0, 1, 0], [0.3, 0.3, 0.4], [0.5, 0, 0.2], [0, 1, 0], [0.3, 0.3, 0.4 + 1e-13]]


def _rules(seed: int, n: int, k: int, r: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.repeat(rng.integers(0, r, size=(n // 7 + 1, k)), 7, axis=0)[:n]  # runs of 7 dates


@pytest.mark.parametrize("menu", [DISTINCT, ALIKE], ids=["distinct", "alike"])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_plan_by_rule_is_the_plan_of_the_targets_spelled_out(menu: list[list[float]], seed: int) -> None:
    panel = random_three_asset_panel(seed)
    n, a, k = len(panel.dates), len(panel.assets), 6
    table = np.array(menu, dtype=float)
    by_rule = RuleTargets(_rules(seed, n, k, len(table)), table)
    prices = plan_prices(panel, start=5)

    def plan(targets: np.ndarray | RuleTargets):
        return plan_on(
            panel,
            prices,
            targets,
            first_decision=np.full(k, 4),
            lag=np.array([1, 2, 1, 3, 1, 0]),
            rebalance=["on_change", "daily", "weekly", "on_change", "band", "on_change"],
            band=np.array([np.nan, np.nan, 0.05, np.nan, 0.03, np.nan]),
        )

    dense = by_rule.dense()
    assert dense.shape == by_rule.shape == (n, k, a)
    np.testing.assert_array_equal(dense, table[by_rule.rule])
    want, got = plan(dense), plan(by_rule)
    for field in ("events", "leg_slot", "leg_column", "leg_target", "leg_decision", "switches", "targets"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)
    assert got.fills.tobytes() == want.fills.tobytes()
    assert got.unfilled == want.unfilled
    assert len(want.fills) > 100  # the plan trades


@pytest.mark.parametrize("menu", [DISTINCT, ALIKE], ids=["distinct", "alike"])
def test_events_by_rule_are_the_changes_of_the_weights(menu: list[list[float]]) -> None:
    panel = random_three_asset_panel(3)
    n, k = len(panel.dates), 5
    table = np.array(menu, dtype=float)
    by_rule = RuleTargets(_rules(3, n, k, len(table)), table)
    modes = ["on_change", "on_change", "monthly", "on_change", "daily"]
    first = np.array([0, 3, 4, 10, 2])
    got = event_mask(panel.dates, by_rule, first, modes)
    np.testing.assert_array_equal(got, event_mask(panel.dates, by_rule.dense(), first, modes))
    changed = by_rule.changed(slice(None), 1e-12)
    rule = by_rule.rule
    if menu is ALIKE:  # a change between alike rules is none
        alike = ((rule[1:] == 1) & (rule[:-1] == 4)) | ((rule[1:] == 2) & (rule[:-1] == 5))
        assert alike.any()
        assert not changed[1:][alike].any()
    else:
        np.testing.assert_array_equal(changed[1:], rule[1:] != rule[:-1])
    assert not changed[0].any()


def test_a_rule_outside_the_table_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        RuleTargets(np.array([[0, 3]]), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="integers"):
        RuleTargets(np.array([[0.0, 1.0]]), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=f"at most {MAX_RULES} rules"):  # the kernels read a rule as a byte
        RuleTargets(np.array([[0, 1]]), np.zeros((MAX_RULES + 1, 2)))
    widest = RuleTargets(np.array([[0, MAX_RULES - 1]]), np.arange(2.0 * MAX_RULES).reshape(MAX_RULES, 2))
    np.testing.assert_array_equal(widest.kernel_rule(), [[0], [MAX_RULES - 1]])  # (K, n); the last rule, unwrapped
    np.testing.assert_array_equal(widest.dense(), [[[0.0, 1.0], [2.0 * MAX_RULES - 2, 2.0 * MAX_RULES - 1]]])


def test_rules_written_column_after_column_are_the_rules_written_date_by_date() -> None:
    # a sweep writes each chunk's rules (K, n), seen as an (n, K) view laid out column after column; its conditions
    # are then computed in that layout and the rules marked by a compiled loop: the same rules as by date
    rules = [
        Rule(when="x > c", weights={"us": 1.0}),
        Rule(when="x < -c and y > 0", weights={"hk": 1.0}),
        Rule(when="abs(y) > 2 * c", weights={"us": 0.5}),
        Rule(otherwise={"us": 0.5, "hk": 0.5}),
    ]
    compiled = compile_rules(rules, ["us", "hk"], ["x", "y", "c"])
    rng = np.random.default_rng(11)
    n, k = 300, 13
    x, y = rng.normal(0, 0.05, (n, 1)), rng.normal(0, 0.05, (n, 1))
    x[:20] = np.nan  # warming up: otherwise
    y[50:55] = np.nan
    env = {"x": x, "y": y, "c": np.linspace(0.0, 0.1, k)[None, :]}
    by_date, _, _ = deciding_rules(compiled, env, n, k)
    block = np.full((k + 4, n), 99, dtype=np.int8)  # the chunk's rules; this group's columns 2 .. 2 + k
    view = block[2 : 2 + k].T
    written, _, _ = deciding_rules(compiled, env, n, k, out=view)
    assert written is view
    np.testing.assert_array_equal(block[2 : 2 + k].T, by_date)
    assert (block[:2] == 99).all() and (block[2 + k :] == 99).all()  # nothing outside the group's columns
    assert set(np.unique(by_date)) == {0, 1, 2, 3}


def test_the_compiled_mark_is_a_masked_assignment() -> None:
    rng = np.random.default_rng(5)
    rule = rng.integers(0, 4, (7, 50)).astype(np.int8)
    holds = rng.random((7, 50)) < 0.3
    want = rule.copy()
    want[holds] = 9
    mark_nb(rule, holds, 9)
    np.testing.assert_array_equal(rule, want)
