"""The contract battery, run on every registered signal (STYLE.md, principles 2 and 4).

For every entry of ``strategies.REGISTRY``, with sample parameters derived from its
parameter model, on real data (^GSPC as ``us``, ^HSI as ``hk``, 2004-2012) and on a clean
synthetic panel with holidays:

* the output is a float64 numpy array as long as the panel;
* it is NaN exactly during warm-up: the first ``lookback(params)`` rows, and finite after;
* the inputs are untouched;
* two calls give equal results;
* it is trailing-only: for several cut rows t, the panel truncated after t, and the panel
  whose prices after t are random garbage, give the same values on rows <= t (bit for bit).

Each check is a function returning a list of problems, so the planted-bug tests at the
bottom can show that every check reports a signal that breaks it.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pandas as pd
import pytest
from pydantic import PositiveInt

from strategies import REGISTRY, AssetRef, SignalDef, SignalInputs, signal
from tests.helpers import panel_from_closes, real_frames

#: Assets of the panels; asset parameters take these values in every order.
ASSETS = ("us", "hk")
MARKETS = {"us": "us", "hk": "hk"}
#: Values of a parameter that names another signal or an asset (a SignalRef): the battery runs a
#: signal on its own, so it reads an asset's price series (composition is tested in tests/unit).
SIGNAL_REF_SAMPLES = ASSETS
#: Sample value of an integer parameter (a window, in rows).
SAMPLE_INT = 20
#: Sample values for parameters whose type cannot be derived generically: {signal: {param: [values]}}.
EXTRA_SAMPLES: dict[str, dict[str, list[Any]]] = {}


# ----------------------------------------------------------------------------- sample parameters


def _field_values(sdef: SignalDef, name: str, annotation: Any) -> list[Any]:
    extra = EXTRA_SAMPLES.get(sdef.name, {})
    if name in extra:
        return list(extra[name])
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    if annotation is bool:
        return [False, True]
    if annotation is int:
        return [SAMPLE_INT]
    raise TypeError(
        f"signal {sdef.name}: cannot derive a sample for parameter {name!r} ({annotation!r}); add it to EXTRA_SAMPLES"
    )


def sample_params(sdef: SignalDef) -> list[dict[str, Any]]:
    """Validated parameter sets for ``sdef``: asset parameters in every order of ``us``/``hk``,
    each of ``us``/``hk`` for a SignalRef, every choice of a ``Literal`` or ``bool``, ``SAMPLE_INT``
    for integers (a window)."""
    fields = sdef.params.model_fields
    others = [n for n in fields if n not in sdef.asset_params]
    asset_choices = list(itertools.permutations(ASSETS, len(sdef.asset_params)))
    if not asset_choices:
        raise TypeError(f"signal {sdef.name}: more asset parameters than the panels have assets")
    value_choices = [
        list(SIGNAL_REF_SAMPLES) if n in sdef.signal_params else _field_values(sdef, n, fields[n].annotation)
        for n in others
    ]
    out = []
    for assets in asset_choices:
        for values in itertools.product(*value_choices):
            raw = dict(zip(sdef.asset_params, assets, strict=True)) | dict(zip(others, values, strict=True))
            out.append(sdef.params(**raw).model_dump())
    return out


CASES = [(name, p) for name in sorted(REGISTRY) for p in sample_params(REGISTRY[name])]
CASE_IDS = [f"{name}-" + "-".join(str(v) for v in p.values()) for name, p in CASES]


# ----------------------------------------------------------------------------- panels


def _copy(x: SignalInputs) -> SignalInputs:
    return SignalInputs(
        dates=x.dates.copy(),
        prices={a: np.array(p, copy=True) for a, p in x.prices.items()},
        traded={a: np.array(t, copy=True) for a, t in x.traded.items()},
        markets=dict(x.markets),
        close_order=dict(x.close_order),
        fx={a: np.array(f, copy=True) for a, f in x.fx.items()},
    )


def synthetic_inputs(n: int = 600, seed: int = 7) -> SignalInputs:
    """Clean random-walk prices for ``us`` and ``hk`` on ``n`` business days, each with its own holidays.

    Row 0 is a session of both; every date is a session of at least one market (so the
    panel has ``n`` rows); a holiday carries the previous price forward; one three-day
    Hong Kong closure (like Lunar New Year) is included.  The arrays are writable copies
    (the panel's own ``known`` is read-only), so that a signal writing into its input
    changes it and the untouched check can see it.
    """
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2010-01-04", periods=n)
    us_open = rng.random(n) >= 0.03
    hk_open = (rng.random(n) >= 0.04) | ~us_open
    us_open[300:303], hk_open[300:303] = True, False
    us_open[0] = hk_open[0] = True
    closes = {}
    for asset, level, vol, is_open in (("us", 1000.0, 0.011, us_open), ("hk", 20000.0, 0.015, hk_open)):
        price = level * np.exp(np.cumsum(rng.normal(0.0002, vol, n)))
        closes[asset] = pd.Series(price[is_open], index=dates[is_open])
    return _copy(panel_from_closes(closes, MARKETS).signal_inputs())


@pytest.fixture(scope="module")
def real_inputs(data_dir) -> SignalInputs:
    """^GSPC as us, ^HSI as hk, 2004-2012, from the first date both traded."""
    frames = real_frames(data_dir, ["^GSPC", "^HSI"])
    closes = {
        a: frames[s].loc["2004-01-01":"2012-12-31", "Close"].dropna() for a, s in (("us", "^GSPC"), ("hk", "^HSI"))
    }
    panel = panel_from_closes(closes, MARKETS)
    first = int(np.flatnonzero(panel.traded.all(axis=1))[0])
    return panel.slice(first).signal_inputs()


@pytest.fixture(params=["real", "synthetic"])
def inputs(request) -> SignalInputs:
    """A fresh, writable copy of each panel, so a signal that writes into its input cannot spoil other tests."""
    if request.param == "real":
        return _copy(request.getfixturevalue("real_inputs"))
    return synthetic_inputs()


# ----------------------------------------------------------------------------- the checks


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise: equal, or both NaN."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def output_problems(sdef: SignalDef, params: Mapping[str, Any], x: SignalInputs) -> list[str]:
    """The function returns a float64 numpy array with one value per date."""
    raw = sdef.func(x, **params)
    if not isinstance(raw, np.ndarray):
        return [f"returned {type(raw).__name__}, expected a numpy array"]
    problems = []
    if raw.dtype != np.float64:
        problems.append(f"dtype {raw.dtype}, expected float64")
    if raw.shape != (len(x.dates),):
        problems.append(f"shape {raw.shape}, expected ({len(x.dates)},)")
    return problems


def warmup_problems(sdef: SignalDef, params: Mapping[str, Any], x: SignalInputs) -> list[str]:
    """Rows ``< lookback`` are NaN and rows ``>= lookback`` are finite (on clean data)."""
    lookback = int(sdef.lookback(params))
    out = sdef(x, **params)
    problems = []
    not_nan = np.flatnonzero(~np.isnan(out[:lookback]))
    if len(not_nan):
        problems.append(f"lookback {lookback} but row {not_nan[0]} is {float(out[not_nan[0]])!r}, expected NaN")
    bad = np.flatnonzero(~np.isfinite(out[lookback:]))
    if len(bad):
        row = lookback + bad[0]
        problems.append(f"lookback {lookback} but row {row} ({x.dates[row].date()}) is {float(out[row])!r}")
    return problems


def untouched_problems(sdef: SignalDef, params: Mapping[str, Any], x: SignalInputs) -> list[str]:
    """The call leaves dates, prices and traded flags as they were."""
    before = _copy(x)
    sdef(x, **params)
    problems = [] if x.dates.equals(before.dates) else ["dates changed"]
    for a in before.prices:
        if not np.array_equal(x.prices[a], before.prices[a], equal_nan=True):
            problems.append(f"prices[{a!r}] changed")
        if not np.array_equal(x.traded[a], before.traded[a]):
            problems.append(f"traded[{a!r}] changed")
    return problems


def determinism_problems(sdef: SignalDef, params: Mapping[str, Any], x: SignalInputs) -> list[str]:
    """Two calls on the same inputs give the same values."""
    first, second = sdef(x, **params), sdef(x, **params)
    differ = np.flatnonzero(~_same(first, second))
    if not len(differ):
        return []
    r = differ[0]
    return [f"row {r}: {float(first[r])!r} then {float(second[r])!r}"]


def cut_rows(lookback: int, n: int) -> list[int]:
    """Cut rows to test: the last warm-up row, the first valid row, and three rows further on."""
    rows = {lookback - 1, lookback, n // 3, (2 * n) // 3, n - 2}
    return sorted(r for r in rows if 0 <= r < n - 1)


def _truncated(x: SignalInputs, t: int) -> SignalInputs:
    return SignalInputs(
        dates=x.dates[: t + 1],
        prices={a: np.array(p[: t + 1]) for a, p in x.prices.items()},
        traded={a: np.array(v[: t + 1]) for a, v in x.traded.items()},
        markets=dict(x.markets),
        close_order=dict(x.close_order),
        fx={a: np.array(f[: t + 1]) for a, f in x.fx.items()},
    )


def _garbage_after(x: SignalInputs, t: int, rng: np.random.Generator) -> SignalInputs:
    out = _copy(x)
    k = len(x.dates) - t - 1
    for a in out.prices:
        out.prices[a][t + 1 :] = np.exp(rng.uniform(-3.0, 12.0, k))  # positive prices from 0.05 to 160,000
        out.traded[a][t + 1 :] = rng.random(k) < 0.5
    for a in out.fx:
        out.fx[a][t + 1 :] = rng.uniform(0.1, 10.0, k)
    return out


def trailing_problems(sdef: SignalDef, params: Mapping[str, Any], x: SignalInputs, *, seed: int = 0) -> list[str]:
    """Rows <= t are the same when the data after t is cut off, or replaced by random garbage."""
    full = sdef(x, **params)
    rng = np.random.default_rng(seed)
    problems = []
    for t in cut_rows(int(sdef.lookback(params)), len(x.dates)):
        for label, other in (("truncated", _truncated(x, t)), ("garbage", _garbage_after(x, t, rng))):
            got = sdef(other, **params)[: t + 1]
            differ = np.flatnonzero(~_same(full[: t + 1], got))
            if len(differ):
                r = differ[0]
                problems.append(
                    f"data after row {t} {label}: row {r} is {float(got[r])!r}, with the full data {float(full[r])!r}"
                )
    return problems


# ----------------------------------------------------------------------------- the battery


def test_every_registered_signal_is_in_the_battery():
    """The parametrisation (built at import) covers exactly what is registered when tests run."""
    assert sorted({name for name, _ in CASES}) == sorted(REGISTRY)
    for name, sdef in REGISTRY.items():
        assert sample_params(sdef), name


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
class TestContract:
    def test_output_is_float64_per_date(self, name, params, inputs):
        assert output_problems(REGISTRY[name], params, inputs) == []

    def test_nan_exactly_during_warmup(self, name, params, inputs):
        assert warmup_problems(REGISTRY[name], params, inputs) == []

    def test_inputs_untouched(self, name, params, inputs):
        assert untouched_problems(REGISTRY[name], params, inputs) == []

    def test_deterministic(self, name, params, inputs):
        assert determinism_problems(REGISTRY[name], params, inputs) == []

    def test_trailing_only(self, name, params, inputs):
        assert trailing_problems(REGISTRY[name], params, inputs) == []


# ----------------------------------------------------------------------------- planted bugs


@contextlib.contextmanager
def planted(name: str, lookback: Callable[[Mapping[str, Any]], int], func: Callable[..., Any]) -> Iterator[SignalDef]:
    """Register ``func`` as signal ``name`` for the duration of the block only."""
    signal(name, lookback=lookback)(func)
    try:
        yield REGISTRY[name]
    finally:
        REGISTRY.pop(name, None)


def _trailing_return(x: SignalInputs, a: str, window: int) -> np.ndarray:
    p = x.series(a)
    return (p / p.shift(window) - 1.0).to_numpy(dtype="float64")


def test_trailing_check_catches_a_signal_that_peeks_at_tomorrow():
    def peek(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
        p = x.series(a)
        return (p.shift(-1) / p.shift(window) - 1.0).to_numpy(dtype="float64")  # tomorrow's price: biased

    with planted("_planted_peek", lambda p: p["window"], peek) as sdef:
        problems = trailing_problems(sdef, {"a": "us", "window": 5}, synthetic_inputs())
    assert "_planted_peek" not in REGISTRY
    # every cut after the warm-up (row 4 is still NaN either way) is reported: the value of
    # row t uses row t+1, which is gone (truncated) or random (garbage)
    cuts = [t for t in cut_rows(5, 600) if t >= 5]
    expected = [f"data after row {t} {label}: row {t} is" for t in cuts for label in ("truncated", "garbage")]
    assert [p[: len(e)] for p, e in zip(problems, expected, strict=False)] == expected
    assert len(problems) == len(expected)


def test_warmup_check_catches_a_wrong_lookback():
    def momentum_off_by_one(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
        return _trailing_return(x, a, window)

    x = synthetic_inputs()
    with planted("_planted_lookback", lambda p: p["window"] - 1, momentum_off_by_one) as sdef:
        problems = warmup_problems(sdef, {"a": "us", "window": 5}, x)
    assert problems == [f"lookback 4 but row 4 ({x.dates[4].date()}) is nan"]


def test_warmup_check_catches_nan_after_warmup():
    def gappy(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
        return np.where(x.traded[a], _trailing_return(x, a, window), np.nan)  # NaN on holidays

    with planted("_planted_gappy", lambda p: p["window"], gappy) as sdef:
        problems = warmup_problems(sdef, {"a": "hk", "window": 5}, synthetic_inputs())
    assert len(problems) == 1
    assert "is nan" in problems[0]


def test_untouched_check_catches_a_signal_that_writes_into_its_input():
    def scribbles(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
        p = x.prices[a]
        p[-1] = p[-1] * 2.0  # edits the caller's array
        return _trailing_return(x, a, window)

    with planted("_planted_scribble", lambda p: p["window"], scribbles) as sdef:
        problems = untouched_problems(sdef, {"a": "hk", "window": 5}, synthetic_inputs())
    assert problems == ["prices['hk'] changed"]


def test_determinism_check_catches_hidden_state():
    calls = itertools.count(1)

    def drifts(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
        return _trailing_return(x, a, window) * next(calls)  # depends on how often it was called

    with planted("_planted_state", lambda p: p["window"], drifts) as sdef:
        problems = determinism_problems(sdef, {"a": "us", "window": 5}, synthetic_inputs())
    assert len(problems) == 1
    assert problems[0].startswith("row 5:")


@pytest.mark.parametrize(
    ("convert", "expected"),
    [
        (lambda v, x: v.astype("float32"), ["dtype float32, expected float64"]),
        (lambda v, x: pd.Series(v, index=x.dates), ["returned Series, expected a numpy array"]),
        (lambda v, x: v[1:], ["shape (599,), expected (600,)"]),
    ],
    ids=["float32", "series", "short"],
)
def test_output_check_catches_wrong_type_or_length(convert, expected):
    def wrong(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> Any:
        return convert(_trailing_return(x, a, window), x)

    with planted("_planted_output", lambda p: p["window"], wrong) as sdef:
        problems = output_problems(sdef, {"a": "us", "window": 5}, synthetic_inputs())
    assert problems == expected
