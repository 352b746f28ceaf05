"""Hand computations for the transforms (``of:`` another signal or an asset), their composed
warm-up, the engine's dependency order and cache keys, and the config errors of signal references.

One tiny series serves the transforms, an asset ``v`` whose price is the input::

    row   0  1  2  3  4  5  6  7  8  9
    v     3  1  4  1  5  9  2  6  5  3

Expected values are plain Python loops and the standard library (``statistics``), never the
numpy code the transforms use.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from statistics import mean, stdev

import numpy as np
import pandas as pd
import pytest

from engine.config import load_config
from engine.config.params import sweep_target
from engine.errors import ConfigError
from engine.signals import compute_signals, signal_key, signal_lookback, signal_order
from strategies import REGISTRY, SignalInputs, SignalRef, signal
from strategies.transforms import EMA_SPANS

NAN = float("nan")
V = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0]


def inputs(values: list[float] | np.ndarray, start: str = "2024-01-02") -> SignalInputs:
    """One asset ``v`` of the US market, traded every date, priced ``values``."""
    n = len(values)
    return SignalInputs(
        dates=pd.bdate_range(start, periods=n),
        prices={"v": np.array(values, dtype="float64")},
        traded={"v": np.ones(n, dtype=bool)},
        markets={"v": "us"},
        close_order={"us": 0},
    )


def run(fn: str, values: list[float] | np.ndarray = V, **params) -> np.ndarray:
    sdef = REGISTRY[fn]
    return sdef(inputs(values), **sdef.params(of="v", **params).model_dump())


def check(got: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-12, atol=1e-15, equal_nan=True)


# ----------------------------------------------------------------------------- each transform


def test_sma():
    # sma_t = (v[t-2] + v[t-1] + v[t]) / 3
    expected = [NAN, NAN] + [(V[t - 2] + V[t - 1] + V[t]) / 3 for t in range(2, 10)]
    assert expected[2:4] == [8 / 3, 6 / 3]
    check(run("sma", window=3), expected)


def test_zscore_uses_the_sample_std_of_the_window_including_today():
    expected = [NAN, NAN, NAN]
    for t in range(3, 10):
        w = V[t - 3 : t + 1]
        expected.append((V[t] - mean(w)) / stdev(w))
    # row 3: window 3 1 4 1, mean 9/4, sample std sqrt(((3/4)^2 + (5/4)^2 + (7/4)^2 + (5/4)^2) / 3)
    assert expected[3] == pytest.approx((1 - 9 / 4) / math.sqrt((0.5625 + 1.5625 + 3.0625 + 1.5625) / 3))
    check(run("zscore", window=4), expected)


def test_zscore_is_nan_on_a_flat_window():
    # rows 2 and 3 see 2 2 2 (std 0): NaN, not +-inf; row 4 sees 2 2 5
    got = run("zscore", [2.0, 2.0, 2.0, 2.0, 5.0], window=3)
    check(got, [NAN, NAN, NAN, NAN, (5 - 3) / stdev([2.0, 2.0, 5.0])])


def test_zscore_refuses_a_window_of_one():
    with pytest.raises(ValueError):
        REGISTRY["zscore"].params(of="v", window=1)


def test_ema_is_a_finite_window_of_four_spans():
    # span 2: alpha = 2/3, weights (1/3)^i for i = 0..7 (L = 4 * 2 rows), normalised
    raw = [(1 / 3) ** i for i in range(8)]
    expected = [NAN] * 7 + [sum(raw[i] * V[t - i] for i in range(8)) / sum(raw) for t in range(7, 10)]
    check(run("ema", span=2), expected)


def test_ema_of_span_one_is_the_series_itself_after_its_window():
    # alpha = 1: weights 1, 0, 0, 0; the window is still 4 rows long
    check(run("ema", span=1), [NAN, NAN, NAN, *V[3:]])


def test_lag():
    check(run("lag", n=2), [NAN, NAN, *V[:-2]])


def test_diff():
    check(run("diff", n=3), [NAN, NAN, NAN] + [V[t] - V[t - 3] for t in range(3, 10)])


def test_percentile_counts_the_window_values_at_or_below_today():
    expected = [NAN, NAN, NAN]
    for t in range(3, 10):
        window = V[t - 3 : t + 1]
        expected.append(sum(1 for w in window if w <= V[t]) / 4)
    # row 3: window 3 1 4 1, today 1: the two 1s are <= 1 (ties count), so 2/4
    # row 5: window 1 5 9 ... today 9 is the high: 4/4
    assert expected[3] == 0.5
    assert expected[5] == 1.0
    check(run("percentile", window=4), expected)


def test_a_nan_inside_the_window_gives_nan():
    values = [1.0, 2.0, NAN, 4.0, 5.0, 6.0, 7.0]
    for fn, params, first_clean in (
        ("sma", {"window": 3}, 5),
        ("zscore", {"window": 3}, 5),
        ("percentile", {"window": 3}, 5),
        ("ema", {"span": 1}, 6),
    ):
        got = run(fn, values, **params)
        assert np.isnan(got[:first_clean]).all(), fn
        assert np.isfinite(got[first_clean:]).all(), fn


def test_a_panel_shorter_than_the_window_is_all_nan():
    for fn, params in (("sma", {"window": 5}), ("zscore", {"window": 5}), ("percentile", {"window": 5}),
                       ("ema", {"span": 2}), ("lag", {"n": 5}), ("diff", {"n": 5})):  # fmt: skip
        got = run(fn, [1.0, 2.0, 3.0], **params)
        assert got.shape == (3,)
        assert np.isnan(got).all(), fn


def test_level_is_the_price():
    sdef = REGISTRY["level"]
    check(sdef(inputs(V), a="v"), V)
    assert sdef.lookback({"a": "v"}) == 0


def test_values_prefers_a_computed_signal_over_an_asset():
    x = inputs(V)
    assert x.values("v").tolist() == V
    other = SignalInputs(**{**x.__dict__, "signals": {"v": np.zeros(10), "s": np.ones(10)}})
    assert other.values("v").tolist() == [0.0] * 10
    assert other.values("s").index.equals(x.dates)
    with pytest.raises(KeyError, match="'w'"):
        x.values("w")


# ----------------------------------------------------------------------------- composition


SPECS = {
    "z": {"fn": "zscore", "of": "m", "window": 4},  # reads m, written before it
    "m": {"fn": "momentum", "a": "v", "window": 3},
    "e": {"fn": "ema", "of": "z", "span": 2},
    "raw": {"fn": "sma", "of": "v", "window": 2},  # an asset: nothing to add
}


def test_order_puts_what_is_read_first_and_keeps_the_config_order_otherwise():
    assert signal_order(SPECS) == ["m", "z", "e", "raw"]


def test_lookback_composes_along_of():
    assert signal_lookback(SPECS, "m") == 3
    assert signal_lookback(SPECS, "z") == 3 + 3  # zscore's window - 1 after m's 3
    assert signal_lookback(SPECS, "e") == 3 + 3 + EMA_SPANS * 2 - 1
    assert signal_lookback(SPECS, "raw") == 1
    assert signal_lookback(SPECS) == 13
    assert signal_lookback({}) == 0


def test_composed_signals_are_nan_exactly_during_the_composed_warm_up():
    values = 100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, 60)))
    out = compute_signals(SPECS, inputs(values))
    assert list(out) == list(SPECS)  # config order
    for name, got in out.items():
        k = signal_lookback(SPECS, name)
        assert np.isnan(got[:k]).all(), name
        assert np.isfinite(got[k:]).all(), name
    # z is the z-score of m's values, by hand for the last row
    m = [values[t] / values[t - 3] - 1 for t in range(60)]
    assert out["z"][-1] == pytest.approx((m[-1] - mean(m[-4:])) / stdev(m[-4:]), rel=1e-10)


@pytest.mark.parametrize(
    "spec",
    [
        {"fn": "ema", "of": "v", "span": 5},
        {"fn": "ema", "of": "z", "span": 3},
        {"fn": "sma", "of": "z", "window": 7},
        {"fn": "zscore", "of": "v", "window": 9},
        {"fn": "percentile", "of": "z", "window": 6},
    ],
    ids=lambda s: f"{s['fn']}-of-{s['of']}",
)
def test_values_do_not_depend_on_how_much_history_precedes(spec):
    # panels are cut at different warm-up lengths: the rows they share must agree bit for bit
    values = 100 * np.exp(np.cumsum(np.random.default_rng(5).normal(0, 0.01, 300)))
    specs = {"z": {"fn": "zscore", "of": "v", "window": 5}, "t": spec}
    full = compute_signals(specs, inputs(values))["t"]
    for cut in (1, 37, 120):
        later = compute_signals(
            specs, inputs(values[cut:], start=str(pd.bdate_range("2024-01-02", periods=300)[cut].date()))
        )
        k = signal_lookback(specs, "t")
        assert np.isfinite(later["t"][k:]).all()
        assert np.array_equal(later["t"][k:], full[cut + k :]), cut  # exact, not approx


def test_a_recursive_ema_would_depend_on_the_history():
    # why ema has a finite window: pandas' recursive ewm changes with where the data starts
    values = pd.Series(100 * np.exp(np.cumsum(np.random.default_rng(5).normal(0, 0.01, 300))))
    full = values.ewm(span=5, adjust=True).mean().to_numpy()
    later = values.iloc[37:].ewm(span=5, adjust=True).mean().to_numpy()
    assert not np.array_equal(full[37 + 19 :], later[19:])


def test_cache_key_includes_every_spec_read_transitively():
    longer = {**SPECS, "m": {"fn": "momentum", "a": "v", "window": 4}}
    assert signal_key(SPECS, "e") != signal_key(longer, "e")  # m is read through z
    assert signal_key(SPECS, "z") != signal_key(longer, "z")
    assert signal_key(SPECS, "raw") == signal_key(longer, "raw")  # reads no signal
    spelled_out = {**SPECS, "m": {"fn": "momentum", "a": "v", "window": 3}, "e": {"fn": "ema", "of": "z", "span": 2}}
    assert signal_key(SPECS, "e") == signal_key(spelled_out, "e")


def test_a_shared_cache_never_returns_a_value_computed_from_another_dependency():
    values = 100 * np.exp(np.cumsum(np.random.default_rng(4).normal(0, 0.01, 80)))
    x = inputs(values)
    longer = {**SPECS, "m": {"fn": "momentum", "a": "v", "window": 4}}
    cache: dict[str, np.ndarray] = {}
    first = compute_signals(SPECS, x, cache=cache)
    second = compute_signals(longer, x, cache=cache)
    alone = compute_signals(longer, x)
    for name in SPECS:
        assert np.array_equal(second[name], alone[name], equal_nan=True), name
    assert not np.array_equal(first["e"], second["e"], equal_nan=True)
    assert second["raw"] is first["raw"]  # the same spec: computed once
    assert len(cache) == 7  # m, z, e twice each and raw once


def test_a_signal_from_a_package_is_checked_against_the_contract_before_it_is_used():
    from strategies.errors import SignalContractError

    def peeks(x: SignalInputs, *, of: SignalRef) -> np.ndarray:
        v = x.values(of).to_numpy(dtype="float64")
        return np.append(v[1:], v[-1])  # tomorrow's value: look-ahead

    values = 100 * np.exp(np.cumsum(np.random.default_rng(6).normal(0, 0.01, 80)))
    specs = {"m": {"fn": "momentum", "a": "v", "window": 3}, "p": {"fn": "_peeks", "of": "m"}}
    signal("_peeks", lookback=lambda p: 0)(peeks)
    try:
        # built in (origin seesaw): trusted, its contract is the battery's business
        assert np.array_equal(
            compute_signals(specs, inputs(values))["p"][3:-1], compute_signals(specs, inputs(values))["m"][4:]
        )
        REGISTRY["_peeks"] = dataclasses.replace(REGISTRY["_peeks"], origin="acme-signals")
        with pytest.raises(SignalContractError) as info:
            compute_signals(specs, inputs(values))
        assert info.value.signal == "_peeks"
    finally:
        REGISTRY.pop("_peeks", None)


# ----------------------------------------------------------------------------- config errors


BASE = """\
name: mini
data: {source: synthetic, start: 2020-01-01, end: 2020-06-30}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  mom: {fn: relative_momentum, a: us, b: hk, window: 10}
  fast: {fn: ema, of: mom, span: 5}
  z: {fn: zscore, of: fast, window: 20}
rules:
  - when: z > 1
    weights: {us: 1.0}
  - otherwise: {us: 0.5, hk: 0.5}
"""


def load(tmp_path: Path, old: str = "", new: str = ""):
    assert old in BASE
    path = tmp_path / "x.yaml"
    path.write_text(BASE.replace(old, new, 1), encoding="utf-8")
    return load_config(path)


def test_references_to_signals_and_assets_load(tmp_path):
    cfg = load(tmp_path, "of: mom, span: 5", "of: hk, span: 5")
    assert cfg.signals["fast"]["of"] == "hk"
    cfg = load(tmp_path)
    assert signal_lookback(cfg.resolved_signals, "z") == 10 + 19 + 19


@pytest.mark.parametrize(
    ("old", "new", "path", "says", "got"),
    [
        ("of: mom,", "of: mon,", "signals.fast.of", "did you mean 'mom'", "mon"),
        ("of: fast,", "of: nothing,", "signals.z.of", "unknown signal or asset 'nothing'", "nothing"),
        ("of: fast,", "of: z,", "signals.z.of", "'z' reads itself", "z"),
        # fast -> z -> fast: fast is visited first, so z's reference closes the cycle
        ("of: mom,", "of: z,", "signals.z.of", "fast -> z -> fast", "fast"),
    ],
    ids=["misspelt", "unknown", "itself", "cycle"],
)
def test_reference_errors_point_at_the_argument(tmp_path, old, new, path, says, got):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, old, new)
    err = info.value
    assert err.path == path
    assert says in err.message
    assert err.got == got
    assert "\n" not in err.one_line()


def test_a_misspelt_reference_is_never_told_to_read_its_own_signal(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "of: fast,", "of: zz,")  # closest to 'z' itself, which it may not read
    assert "unknown signal or asset 'zz'" in info.value.message
    assert "did you mean 'z'" not in info.value.message and "known: fast, hk, mom, us)" in info.value.message


def test_a_cycle_through_three_signals_is_reported_at_its_last_link(tmp_path):
    # fast reads w, w reads z, z reads fast: visited from fast (the first in the file), z closes it
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "of: mom, span: 5}", "of: w, span: 5}\n  w: {fn: lag, of: z, n: 1}")
    assert info.value.path == "signals.z.of"
    assert "fast -> w -> z -> fast" in info.value.message


def test_a_reference_is_not_a_sweep_argument(tmp_path):
    cfg = load(tmp_path)
    assert sweep_target(cfg, "signals.z.window") == ("signals", "z", "window")
    with pytest.raises(ConfigError) as info:
        sweep_target(cfg, "signals.z.of")
    assert info.value.path == "sweep.signals.z.of"
    assert "window" in info.value.message
