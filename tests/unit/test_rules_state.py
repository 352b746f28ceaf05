"""Hand-computed tables for the rule keys of docs/rules.md: until (hysteresis), min_hold, cooldown,
weight expressions with clip and rest, and sizing (target_vol, inverse_vol, equal_risk, the gross cap).

Every expected row is written out by hand with the reason next to it; the engine's functions are
called on tiny arrays.  The independent reference of tests/decision_reference.py covers the same
contract on real data.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.config.models import Rule, Sizing
from engine.rules import compile_rules, deciding_rules, decisions
from engine.sizing import SizingPlan, equal_risk_shares, size_targets
from engine.strategy import DecisionKnobs, decide_columns, sizing_plan

NAN = np.nan
ASSETS = ["us", "hk"]


def _rules(*rules: Rule):
    return compile_rules(list(rules), ASSETS, ["x", "y", "z", "c"])


HYST = _rules(Rule(when="x < 0.2", until="x > 0.4", weights={"hk": 1.0}), Rule(otherwise={"us": 1.0}))


def test_a_latched_rule_holds_until_its_exit_and_a_nan_never_releases_it() -> None:
    x = np.array([0.5, 0.1, 0.3, 0.39, 0.41, 0.3, 0.1, NAN, 0.45, 0.1])
    expected = [
        1,  # 0.5: not entered -> otherwise
        0,  # 0.1 < 0.2: enter
        0,  # 0.3: when false, until false (0.3 <= 0.4): latched
        0,  # 0.39: still latched
        1,  # 0.41 > 0.4: released
        1,  # 0.3: when false, not latched
        0,  # 0.1: enter again
        0,  # NaN: until is false where its signal is NaN, so it never releases
        1,  # 0.45: released
        0,  # 0.1: enter
    ]
    d = decisions(HYST, {"x": x}, len(x))
    assert d.rule.tolist() == expected
    assert d.targets[:, 1].tolist() == [1.0 if r == 0 else 0.0 for r in expected]


def test_when_wins_on_a_date_both_when_and_until_hold() -> None:
    rules = _rules(Rule(when="x < 0.2", until="y > 0", weights={"hk": 1.0}), Rule(otherwise={"us": 1.0}))
    x = np.array([0.1, 0.1, 0.5])
    y = np.array([1.0, 1.0, 1.0])  # until holds every date
    assert decisions(rules, {"x": x, "y": y}, 3).rule.tolist() == [0, 0, 1]  # in force while when holds


def test_a_rule_above_takes_precedence_and_the_latched_rule_resumes() -> None:
    rules = _rules(
        Rule(when="y > 0", weights={}),  # risk off: all cash
        Rule(when="x < 0.2", until="x > 0.4", weights={"hk": 1.0}),
        Rule(otherwise={"us": 1.0}),
    )
    x = np.array([0.1, 0.3, 0.3, 0.3, 0.5])
    y = np.array([-1.0, 1.0, 1.0, -1.0, -1.0])
    # 0: rule 1 enters; 1-2: rule 0's when holds (first match), rule 1 stays latched behind it;
    # 3: rule 0 false -> latched rule 1 decides again; 4: 0.5 > 0.4 releases rule 1 -> otherwise
    assert decisions(rules, {"x": x, "y": y}, 5).rule.tolist() == [1, 0, 0, 1, 2]


def test_the_state_starts_fresh_on_the_first_decision_date() -> None:
    x = np.array([0.1, 0.3, 0.3, 0.3])
    # Before row 2 the first match alone decides (rule 0 on row 0, otherwise on row 1); on row 2 the
    # latch starts unset, and 0.3 does not enter, so otherwise decides from there.
    assert decisions(HYST, {"x": x}, 4, first=2).rule.tolist() == [0, 1, 1, 1]
    assert decisions(HYST, {"x": x}, 4, first=0).rule.tolist() == [0, 0, 0, 0]


def test_min_hold_blocks_a_one_day_flip_and_counts_it() -> None:
    rules = _rules(Rule(when="x < 0.2", weights={"hk": 1.0}), Rule(otherwise={"us": 1.0}))
    x = np.array([0.5, 0.1, 0.5, 0.5, 0.5, 0.1, 0.1, 0.5])
    assert decisions(rules, {"x": x}, 8).rule.tolist() == [1, 0, 1, 1, 1, 0, 0, 1]  # no hold: flips
    d = decisions(rules, {"x": x}, 8, min_hold=3)
    # 0: otherwise begins (spell from 0); 1: candidate hk but 1 - 0 < 3 -> held; 2: candidate us = prev;
    # 3-4: us; 5: candidate hk, 5 - 0 >= 3 -> switch, spell from 5; 6: hk; 7: candidate us, 7 - 5 < 3 -> held
    assert d.rule.tolist() == [1, 1, 1, 1, 1, 0, 0, 0]
    assert d.held.tolist() == [2]
    for h in (0, 1):  # 0 and 1 hold nothing
        assert decisions(rules, {"x": x}, 8, min_hold=h).rule.tolist() == [1, 0, 1, 1, 1, 0, 0, 1]


def test_cooldown_blocks_reentry_and_the_next_rule_decides() -> None:
    rules = _rules(
        Rule(when="x < 0.2", weights={"hk": 1.0}),
        Rule(when="x < 0.3", weights={"us": 0.5, "hk": 0.5}),
        Rule(otherwise={"us": 1.0}),
    )
    x = np.array([0.1, 0.5, 0.1, 0.1, 0.1, 0.1])
    d = decisions(rules, {"x": x}, 6, cooldown=3)
    # 0: rule 0; 1: otherwise (rule 0 stopped on 1: cools on 1, 2, 3); 2-3: rule 0 cooling -> the next
    # rule in force, rule 1, decides (counted: cooled); 4: rule 0 no longer cools -> decides again.
    # Rule 1 stopped on 4, so it cools on 4-6 (unseen); 5: rule 0.
    assert d.rule.tolist() == [0, 2, 1, 1, 0, 0]
    assert d.cooled.tolist() == [2]


def test_weight_expressions_clip_rest_and_count() -> None:
    rules = _rules(
        Rule(when="x < 0.2", weights={"hk": "clip(0.5 + z, 0, 1)", "us": "rest"}),
        Rule(otherwise={"us": "z", "hk": "max(c, 0.3)"}),
    )
    x = np.array([0.1, 0.1, 0.5, 0.5, 0.5])
    z = np.array([0.2, 0.9, 0.1, -2.0, 0.9])
    d = decisions(rules, {"x": x, "z": z, "c": 0.5}, 5)
    expected = [
        [0.3, 0.7],  # hk = 0.5 + 0.2; us = rest
        [0.0, 1.0],  # hk = clip(1.4) = 1 (clip is the config's own: not counted); us = rest = 0
        [0.1, 0.5],  # us = z, hk = max(0.5, 0.3)
        [0.0, 0.5],  # us = -2 -> 0: clipped
        [0.9 / 1.4, 0.5 / 1.4],  # 0.9 + 0.5 > 1: scaled to sum 1, clipped
    ]
    np.testing.assert_allclose(d.targets, expected, rtol=1e-15)
    assert d.clipped.tolist() == [2]


def test_a_margin_account_clips_weights_to_plus_minus_g_and_scales_to_gross_g() -> None:
    """docs/rules.md, Weights, in a margin account with G = 2: [-G, G] per weight, rest 1 minus the others
    (clipped to [-G, G]), the set divided by gross / G above G; a cash account of the same rules as before."""
    rules = _rules(
        Rule(when="x < 0.2", weights={"hk": "z", "us": "rest"}),
        Rule(otherwise={"us": "z", "hk": "-z"}),
    )
    x = np.array([0.1, 0.1, 0.1, 0.5, 0.5])
    z = np.array([-0.5, 1.5, 2.5, 0.5, 1.5])
    d = decisions(rules, {"x": x, "z": z}, 5, max_gross=2.0)
    expected = [
        [1.5, -0.5],  # us = rest = 1 - (-0.5) = 1.5; gross 2: kept
        [-0.5 * 2 / 2.0, 1.5 * 2 / 2.0],  # us = -0.5, hk 1.5: gross 2, kept
        [-1.0 * 2 / 3.0, 2.0 * 2 / 3.0],  # hk 2.5 -> 2 (clipped), us = rest = -1: gross 3 -> scaled by 2/3
        [0.5, -0.5],  # gross 1
        [1.5 * 2 / 3.0, -1.5 * 2 / 3.0],  # gross 3 -> scaled by 2/3
    ]
    np.testing.assert_allclose(d.targets, expected, rtol=1e-15)
    assert d.clipped.tolist() == [2]
    cash = decisions(rules, {"x": x, "z": z}, 5)  # the same rules in a cash account
    np.testing.assert_allclose(cash.targets[0], [1.0, 0.0])  # hk -0.5 -> 0, us = rest = 1
    assert (cash.targets >= 0).all() and (cash.targets.sum(axis=1) <= 1 + 1e-12).all()
    cols = decisions(rules, {"x": x[:, None], "z": z[:, None]}, 5, max_gross=np.array([2.0, np.nan]))
    np.testing.assert_allclose(cols.targets[:, 0], d.targets, rtol=1e-15)  # per column: margin ...
    np.testing.assert_allclose(cols.targets[:, 1], cash.targets, rtol=1e-15)  # ... and cash side by side


def test_a_nan_weight_keeps_its_rule_out_of_force_and_otherwise_gets_zero() -> None:
    rules = _rules(Rule(when="x < 0.2", weights={"hk": "z"}), Rule(otherwise={"us": "z", "hk": 0.2}))
    d = decisions(rules, {"x": np.array([0.1, 0.1]), "z": np.array([0.4, NAN])}, 2)
    assert d.rule.tolist() == [0, 1]  # NaN z: rule 0 is not in force
    np.testing.assert_array_equal(d.targets, [[0.0, 0.4], [0.0, 0.2]])  # otherwise's NaN us -> 0
    assert d.clipped.tolist() == [1]


def test_parameters_as_columns_decide_each_column_as_its_own_run() -> None:
    rules = _rules(Rule(when="x < c", until="x > 0.4", weights={"hk": 1.0}), Rule(otherwise={"us": 1.0}))
    x = np.array([0.5, 0.1, 0.3, 0.5, 0.15])
    many = decisions(rules, {"x": x[:, None], "c": np.array([[0.2, 0.12]])}, 5, min_hold=np.array([0, 2]))
    for k, (c, hold) in enumerate([(0.2, 0), (0.12, 2)]):
        one = decisions(rules, {"x": x, "c": c}, 5, min_hold=hold)
        np.testing.assert_array_equal(many.rule[:, k], one.rule)
        np.testing.assert_array_equal(many.targets[:, k], one.targets)


@pytest.mark.parametrize("stateful", [False, True])
def test_deciding_rules_write_into_a_view_of_a_bigger_array(stateful: bool) -> None:
    """A sweep passes a slice of its chunk's rule array: the rules land there, the other columns keep
    theirs, and the numbers are those of the rules returned without ``out``."""
    until = "x > 0.4" if stateful else None
    rules = _rules(
        Rule(when="x < c", until=until, weights={"hk": 1.0}),
        Rule(when="x > 0.45", weights={"us": 1.0}),
        Rule(otherwise={"us": 0.5, "hk": 0.5}),
    )
    x = np.array([0.5, 0.1, 0.3, 0.5, 0.15, np.nan, 0.42])
    env = {"x": x[:, None], "c": np.array([[0.2, 0.12, 0.35]])}
    alone = deciding_rules(rules, env, 7, 3)[0]
    big = np.full((7, 6), -7, dtype=np.int64)
    got = deciding_rules(rules, env, 7, 3, out=big[:, 2:5])[0]
    np.testing.assert_array_equal(got, alone)
    np.testing.assert_array_equal(big[:, 2:5], alone)
    assert (big[:, [0, 1, 5]] == -7).all()
    assert len(np.unique(alone)) == 3


# ------------------------------------------------------------------------------------------- sizing

DAYS = np.arange("2020-01-01", "2020-01-08", dtype="datetime64[D]")  # 7 calendar days, one row each


def _plan(**kw) -> SizingPlan:
    s = Sizing.model_validate(kw)
    plan = sizing_plan([s], ASSETS)
    assert plan is not None
    return plan


def test_target_vol_scales_by_the_windows_own_dates_per_year() -> None:
    # us returns over rows 1..3 (window 3 on row 3): +1%, -1%, +2%; hk flat.  Rows are consecutive
    # calendar days, so ppy = 3 / (3 / 365.25) = 365.25.
    us = np.array([100.0, 101.0, 99.99, 101.9898, 101.9898, 101.9898, 101.9898])
    unit = np.column_stack([us, np.full(7, 50.0)])
    r = np.diff(us[:4]) / us[:3]
    sigma = np.std(r, ddof=1) * np.sqrt(365.25)  # the portfolio is all us: its volatility is us's
    targets = np.zeros((7, 1, 2))
    targets[:, 0, 0] = 1.0
    sized, unsized, clipped = size_targets(targets, unit, DAYS, np.array([3]), _plan(target_vol=0.1, window=3))
    assert sized[3, 0, 0] == pytest.approx(min(0.1 / sigma, 1.0), rel=1e-12)
    assert sized[3, 0, 0] < 1.0  # 15%+ daily swings: scaled down
    r4 = np.diff(us[1:5]) / us[1:4]  # row 4's window: -1%, +2%, 0
    assert sized[4, 0, 0] == pytest.approx(min(0.1 / (np.std(r4, ddof=1) * np.sqrt(365.25)), 1.0), rel=1e-12)
    assert sized[6, 0, 0] == 1.0  # window of zero returns: sigma 0 -> unsized, weights kept
    assert unsized.tolist() == [1] and not clipped.any()
    assert sized[2, 0, 0] == 1.0  # before the window is full: kept (before first: not counted)


def test_inverse_vol_shares_the_held_assets_total() -> None:
    unit = np.column_stack(
        [
            [100.0, 101.0, 100.0, 101.0, 100.0],  # about +1% / -1%: twice hk's volatility
            [100.0, 100.5, 100.0, 100.5, 100.0],
        ]
    )
    days = DAYS[:5]
    r = unit[1:] / unit[:-1] - 1.0
    s_us, s_hk = np.std(r[-3:, 0], ddof=1), np.std(r[-3:, 1], ddof=1)
    targets = np.array([[[0.4, 0.4]]] * 5)
    sized, unsized, _ = size_targets(targets, unit, days, np.array([3]), _plan(window=3, inverse_vol=["us", "hk"]))
    w_us = 0.8 * (1 / s_us) / (1 / s_us + 1 / s_hk)
    np.testing.assert_allclose(sized[4, 0], [w_us, 0.8 - w_us], rtol=1e-12)
    assert sized[4, 0].sum() == pytest.approx(0.8, rel=1e-15)  # the total the rule gave them is kept
    one = np.array([[[0.0, 0.7]]] * 5)  # holding one listed asset: unchanged
    kept = size_targets(one, unit, days, np.array([3]), _plan(window=3, inverse_vol=["us", "hk"]))[0]
    np.testing.assert_array_equal(kept, one)
    assert unsized.tolist() == [0]


def test_equal_risk_contributions_are_equal_and_two_assets_equal_inverse_vol() -> None:
    cov = np.array([[0.04, 0.006, 0.0], [0.006, 0.09, 0.01], [0.0, 0.01, 0.01]])
    b = equal_risk_shares(cov)
    contributions = b * (cov @ b)
    assert b.sum() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(contributions, contributions.mean(), rtol=1e-10)
    two = equal_risk_shares(np.array([[0.04, 0.01], [0.01, 0.01]]))
    np.testing.assert_allclose(two, [1 / 3, 2 / 3], rtol=1e-10)  # 1/0.2 : 1/0.1


def test_the_gross_cap_scales_down_and_counts_without_target_vol() -> None:
    unit = np.column_stack([100 + np.arange(5.0), 50 + np.arange(5.0)])
    targets = np.array([[[0.6, 0.4]]] * 5)
    sized, _, capped = size_targets(targets, unit, DAYS[:5], np.array([2]), _plan(window=2, max_gross=0.5))
    np.testing.assert_allclose(sized[:, 0], [[0.3, 0.2]] * 5, rtol=1e-15)
    assert capped[:, 0].tolist() == [True] * 5  # every date was scaled; decide_columns counts from the first


def test_a_date_clipped_and_capped_counts_once() -> None:
    rules = _rules(Rule(otherwise={"us": "z", "hk": 0.0}))
    z = np.full(5, 1.5)  # clipped to 1 on every date, then capped to 0.5 by max_gross
    unit = np.column_stack([100 + np.arange(5.0), 50 + np.arange(5.0)])
    d = decide_columns(
        rules, {"z": z}, 5, DecisionKnobs(np.array([2]), np.array([0]), np.array([0]), _plan(window=2, max_gross=0.5)),
        unit_value=unit, dates=DAYS[:5],
    )  # fmt: skip
    np.testing.assert_allclose(d.targets[:, 0], [[0.5, 0.0]] * 5, rtol=1e-15)
    assert d.column_counts(0)["clipped"] == 3  # rows 2, 3 and 4, each once


def test_an_unusable_volatility_keeps_the_risk_weights_and_still_caps_the_gross() -> None:
    """hk is flat over the window: its volatility is 0, so inverse_vol cannot share the weight (unsized), but
    the gross cap still applies (docs/rules.md: the step that needs the volatility is skipped, not the rest)."""
    unit = np.column_stack([[100.0, 101.0, 100.0, 101.0, 100.0], [50.0] * 5])
    targets = np.array([[[0.5, 0.5]]] * 5)
    sized, unsized, capped = size_targets(
        targets, unit, DAYS[:5], np.array([3]), _plan(window=3, max_gross=0.6, inverse_vol=["us", "hk"])
    )
    np.testing.assert_allclose(sized[3:, 0], [[0.3, 0.3]] * 2, rtol=1e-15)
    assert unsized.tolist() == [2] and capped[3:, 0].all()


def test_an_otherwise_that_is_not_the_last_rule_decides_as_the_stateful_scan_does() -> None:
    """``compile_rules`` takes rules in any order (only a checked config puts ``otherwise`` last): an
    ``otherwise`` first is always in force, so it decides every date, with or without state."""
    rules = [
        Rule.model_validate({"otherwise": {"us": 1.0}}),
        Rule.model_validate({"when": "x > 0", "weights": {"hk": 1.0}}),
    ]
    compiled = compile_rules(rules, ["us", "hk"], ["x"])
    env = {"x": np.array([-1.0, 1.0, -1.0, 2.0])}
    plain = decisions(compiled, env, 4).rule
    with_state = decisions(compiled, env, 4, min_hold=2).rule  # the compiled scan
    np.testing.assert_array_equal(plain, [0, 0, 0, 0])
    np.testing.assert_array_equal(with_state, plain)
