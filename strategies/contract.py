"""The signal contract, checked on the data a signal from another package is used on.

The built-in signals are held to the contract by the test battery (``tests/contracts``); a
signal from an installed package (:mod:`strategies.plugins`) has no such tests here, so the
engine calls :func:`check_signal` each time it computes one.  The checks, on the run's own
inputs:

* the output is a numpy float64 array with one value per date of the panel;
* the first ``lookback(params)`` rows are NaN, and every later row is finite where the inputs
  are complete (every price, and every signal the parameters name, finite over the rows the
  lookback reaches back);
* the input arrays are left as they were, and a second call gives the same values;
* it does not look ahead: for three cut rows t spread over the rows after warm-up, the inputs
  cut off after t, and the inputs whose rows after t are random, give the same values on
  rows <= t.

A broken check raises :class:`~strategies.errors.SignalContractError`: one line naming the
signal and its package, such as ``signal peek (package my-signals) looks ahead: its value on
2015-03-02 changes when later prices change``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NoReturn

import numpy as np

from strategies.errors import SignalContractError
from strategies.registry import SignalDef, SignalInputs

__all__ = ["CUTS", "call_signal", "check_signal"]

#: How many cut rows the look-ahead check tries, spread evenly over the rows after warm-up.
CUTS = 3
#: Seed of the random prices the look-ahead check puts after a cut (the check is deterministic).
_SEED = 20_240_601


def check_signal(sdef: SignalDef, inputs: SignalInputs, params: Mapping[str, Any], value: Any) -> None:
    """Raise :class:`SignalContractError` if signal ``sdef`` breaks the contract on ``inputs``.

    ``value`` is what ``sdef.func(inputs, **params)`` returned (validated ``params``).  The
    function is called again, up to ``2 * CUTS + 1`` times, on copies of ``inputs``.
    """
    n = len(inputs.dates)
    full = _values(sdef, value, n)
    lookback = max(int(sdef.lookback(params)), 0)
    before, again = _copy(inputs), _copy(inputs)
    second = call_signal(sdef, again, params, "when called again on the same data")
    if not _unchanged(before, again):
        _fail(sdef, "modifies its input arrays (prices, traded flags or signals)", "input modified")
    differ = np.flatnonzero(~_same(full, second))
    if len(differ):
        when = inputs.dates[differ[0]].date()
        _fail(sdef, f"gives different values on {when} in two calls on the same data", "not deterministic")
    _check_trailing(sdef, inputs, params, full, lookback)
    _check_warmup(sdef, inputs, params, full, lookback)


def _fail(sdef: SignalDef, what: str, got: object) -> NoReturn:
    origin = getattr(sdef, "origin", "seesaw")
    raise SignalContractError(
        f"signal {sdef.name} (package {origin}) {what}", signal=sdef.name, distribution=origin, got=got
    )


def call_signal(sdef: SignalDef, x: SignalInputs, params: Mapping[str, Any], why: str) -> np.ndarray:
    """The signal's values on ``x`` (checked by :func:`_values`); an exception it raises is its contract error."""
    try:
        raw = sdef.func(x, **params)
    except Exception as exc:  # the package's code failed on inputs a signal must accept
        said = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        if isinstance(exc, ValueError) and str(exc) == "assignment destination is read-only":  # numpy's refusal
            _fail(sdef, f"writes into a read-only array (its input arrays, prices, traded flags and signals, are "
                        f"read-only: a signal may not modify them) ({said})", "input modified")  # fmt: skip
        _fail(sdef, f"fails {why}: {said}", type(exc).__name__)
    return _values(sdef, raw, len(x.dates))


def _values(sdef: SignalDef, raw: Any, n: int) -> np.ndarray:
    """``raw`` if it is a float64 numpy array of ``n`` values; else the contract error."""
    if not isinstance(raw, np.ndarray):
        _fail(sdef, f"returned {type(raw).__name__}, expected a numpy float64 array of {n} values", type(raw).__name__)
    if raw.dtype != np.float64 or raw.shape != (n,):
        _fail(sdef, f"returned {raw.dtype} values of shape {raw.shape}, expected float64 of shape ({n},)", raw.shape)
    return raw


def _check_warmup(sdef: SignalDef, x: SignalInputs, params: Mapping[str, Any], out: np.ndarray, lookback: int) -> None:
    """NaN on rows < lookback; finite on later rows whose inputs are complete back to ``row - lookback``."""
    early = np.flatnonzero(~np.isnan(out[:lookback]))
    if len(early):
        r = int(early[0])
        _fail(sdef, f"is not NaN during its warm-up of {lookback} rows: {x.dates[r].date()} is {float(out[r])!r}", r)
    complete = _complete_rows(x, params, sdef, lookback)
    gaps = np.flatnonzero(complete & ~np.isfinite(out))
    if len(gaps):
        r = int(gaps[0])
        when = x.dates[r].date()
        _fail(sdef, f"is {float(out[r])!r} on {when}, after its warm-up of {lookback} rows and with complete prices", r)


def _complete_rows(x: SignalInputs, params: Mapping[str, Any], sdef: SignalDef, lookback: int) -> np.ndarray:
    """Rows r >= lookback where every price (and every signal a parameter names) is finite on rows r-lookback..r."""
    arrays = [np.asarray(p, dtype="float64") for p in x.prices.values()]
    named = getattr(x, "signals", {})
    arrays += [
        np.asarray(named[params[p]], dtype="float64") for p in getattr(sdef, "signal_params", ()) if params[p] in named
    ]
    n = len(x.dates)
    bad = np.zeros(n, dtype=bool)
    for a in arrays:
        bad |= ~np.isfinite(a)
    seen = np.concatenate([[0], np.cumsum(bad)])  # seen[r + 1]: bad rows among 0..r
    rows = np.arange(n)
    start = np.maximum(rows - lookback, 0)
    return (rows >= lookback) & (seen[rows + 1] - seen[start] == 0)


def _check_trailing(
    sdef: SignalDef, x: SignalInputs, params: Mapping[str, Any], full: np.ndarray, lookback: int
) -> None:
    """Rows <= t are the same when the inputs after t are cut off or replaced by random values."""
    n = len(x.dates)
    first = lookback
    if first >= n - 1:
        return
    cuts = sorted({first + (n - 1 - first) * k // (CUTS + 1) for k in range(1, CUTS + 1)})
    rng = np.random.default_rng(_SEED)
    for t in cuts:
        for other in (_truncated(x, t), _garbage_after(x, t, rng)):
            got = call_signal(sdef, other, params, f"on the data up to {x.dates[t].date()}")[: t + 1]
            differ = np.flatnonzero(~_same(full[: t + 1], got))
            if len(differ):
                when = x.dates[differ[0]].date()
                _fail(sdef, f"looks ahead: its value on {when} changes when later prices change", when)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise: equal, or both NaN."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _arrays(x: SignalInputs) -> dict[str, Mapping[str, np.ndarray]]:
    """The array fields of ``x``: prices, traded flags and the signals computed before."""
    return {"prices": x.prices, "traded": x.traded, "signals": x.signals}


def _copy(x: SignalInputs) -> SignalInputs:
    fields: dict[str, Any] = {k: {a: np.array(v, copy=True) for a, v in m.items()} for k, m in _arrays(x).items()}
    return dataclasses.replace(
        x, dates=x.dates.copy(), markets=dict(x.markets), close_order=dict(x.close_order), **fields
    )


def _unchanged(a: SignalInputs, b: SignalInputs) -> bool:
    """Same dates, and the same arrays under the same keys."""
    if not a.dates.equals(b.dates):
        return False
    right = _arrays(b)
    for field_name, arrays in _arrays(a).items():
        other = right[field_name]
        if set(arrays) != set(other):
            return False
        for key, v in arrays.items():
            if not np.array_equal(v, other[key], equal_nan=np.asarray(v).dtype.kind == "f"):
                return False
    return True


def _truncated(x: SignalInputs, t: int) -> SignalInputs:
    fields: dict[str, Any] = {k: {a: np.array(v[: t + 1]) for a, v in m.items()} for k, m in _arrays(x).items()}
    return dataclasses.replace(x, dates=x.dates[: t + 1], **fields)


def _garbage_after(x: SignalInputs, t: int, rng: np.random.Generator) -> SignalInputs:
    """A copy of ``x`` whose rows after ``t`` are random: positive prices from 0.05 to 160,000,
    random traded flags, standard normal signal values."""
    out = _copy(x)
    k = len(x.dates) - t - 1
    for a in out.prices:
        out.prices[a][t + 1 :] = np.exp(rng.uniform(-3.0, 12.0, k))
        out.traded[a][t + 1 :] = rng.random(k) < 0.5
    for s in out.signals:
        out.signals[s][t + 1 :] = rng.normal(0.0, 1.0, k)
    return out
