"""The engine's rule state (engine.rules) against the independent reference (tests/decision_reference.py)
on random rule sets: latches, minimum holds, cooldowns, NaN signals and first decision dates drawn by
hypothesis.  The reference imports nothing from the engine; this test is the only place both meet."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.models import Rule
from engine.rules import compile_rules, decisions
from tests import decision_reference as ref

ASSETS = ["us", "hk", "ewh"]


@st.composite
def cases(draw):
    n = draw(st.integers(8, 40))
    n_rules = draw(st.integers(1, 4))  # plus otherwise
    signals = {}
    for i in range(n_rules):
        for name in (f"w{i}", f"u{i}"):
            bits = draw(st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=n, max_size=n))
            signals[name] = np.array(bits)
    untils = [draw(st.booleans()) for _ in range(n_rules)]
    first = draw(st.integers(0, 6))
    return n, n_rules, signals, untils, first, draw(st.integers(0, 6)), draw(st.integers(0, 6))


@settings(max_examples=300, deadline=None)
@given(cases())
def test_the_state_kernel_decides_as_the_reference(case) -> None:
    n, n_rules, signals, untils, first, min_hold, cooldown = case
    rules, references = [], []
    for i in range(n_rules):
        asset = ASSETS[i % len(ASSETS)]
        until = f"u{i} > 0.5" if untils[i] else None
        rules.append(Rule(when=f"w{i} > 0.5", until=until, weights={asset: 1.0}))
        when = ref.condition(lambda s, i=i: s[f"w{i}"] > 0.5, signals, [f"w{i}"])
        exit_ = ref.condition(lambda s, i=i: s[f"u{i}"] > 0.5, signals, [f"u{i}"]) if untils[i] else None
        references.append(ref.Rule(when=when, until=exit_, weights={asset: 1.0}))
    rules.append(Rule(otherwise={}))
    references.append(ref.Rule(when=None, weights={}))
    compiled = compile_rules(rules, ASSETS, list(signals))
    mine = decisions(compiled, signals, n, first=first, min_hold=min_hold, cooldown=cooldown)
    theirs = ref.decide(references, ASSETS, n, first=first, min_hold=min_hold, cooldown=cooldown)
    assert (mine.rule[first:] + 1).tolist() == theirs.rule[first:].tolist()  # the reference counts from 1
    np.testing.assert_array_equal(mine.targets[first:], theirs.targets[first:])
    assert (int(mine.held[0]), int(mine.cooled[0])) == (theirs.counts["held"], theirs.counts["cooled"])
