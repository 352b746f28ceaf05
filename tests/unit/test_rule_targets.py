"""Targets given by rule plan exactly as the same targets spelled out.

A sweep of rules whose weights are numbers hands the scheduler each date's rule and the rules' weights
(:class:`engine.rule_targets.RuleTargets`) instead of an (n, K, A) array.  The plan must not notice:
the same events (a change of rule whose weights are alike is no event), legs, fills, switches and
unfilled legs, bit for bit, in every rebalancing mode, with lags and bands.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.calendar import market_rank
from engine.execution import event_mask, plan_batch
from engine.rule_targets import MAX_RULES, RuleTargets
from engine.valuation import simulation_prices, valuation
from tests.helpers import random_three_asset_panel

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
    val = valuation(panel, dividend_yields=np.zeros(a), cash_rate=0.02, start=5)
    ranks = market_rank(list(panel.markets))
    m = len(ranks)
    close, order = simulation_prices(val, panel.traded, np.array([ranks[x] for x in panel.markets]), m, "close")
    first_slot = 5 * m

    def plan(targets: np.ndarray | RuleTargets):
        return plan_batch(
            targets=targets,
            traded=panel.traded,
            markets=panel.markets,
            dates=panel.dates,
            first_decision=np.full(k, 4),
            lag=np.array([1, 2, 1, 3, 1, 0]),
            rebalance=["on_change", "daily", "weekly", "on_change", "band", "on_change"],
            band=np.array([np.nan, np.nan, 0.05, np.nan, 0.03, np.nan]),
            close=close[first_slot:],
            order_price=order[first_slot:],
            fees=np.full((n * m - first_slot, a), 7e-4),
            slippage=np.array([2e-4, 3e-4, 5e-4]),
            init_cash=100_000.0,
            first_slot=first_slot,
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
    np.testing.assert_array_equal(widest.kernel_rule(), [[0, MAX_RULES - 1]])  # the last rule, not a wrapped byte
    np.testing.assert_array_equal(widest.dense(), [[[0.0, 1.0], [2.0 * MAX_RULES - 2, 2.0 * MAX_RULES - 1]]])
