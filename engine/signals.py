"""Compute a config's ``signals:`` on a price panel (the SignalFrame: dates x signal).

A signal may read another one: a parameter annotated
:data:`~strategies.registry.SignalRef` (``of:`` of the transforms) names a signal of the
same config, or an asset whose price series is then the input.  Signals are computed in
dependency order, and warm-ups compose: ``{fn: zscore, of: mom, window: 20}`` with
``mom = {fn: momentum, a: us, window: 63}`` needs 19 + 63 rows.

``signals`` below is always the config's resolved specs, ``{name: {fn: ..., <params>}}``
(``$name`` references already replaced), and has been validated
(:func:`engine.config.checks.check_signals`: known references, no cycles).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from strategies import SignalDef, get_signal
from strategies.registry import SignalInputs

__all__ = [
    "compute_signals",
    "rows_lacking",
    "signal_dependencies",
    "signal_key",
    "signal_lookback",
    "signal_order",
]

Specs = Mapping[str, Mapping[str, Any]]


def _validated(spec: Mapping[str, Any]) -> tuple[SignalDef, dict[str, Any]]:
    sdef = get_signal(str(spec["fn"]))
    params = sdef.params(**{k: v for k, v in spec.items() if k != "fn"}).model_dump()
    return sdef, params


def signal_dependencies(signals: Specs, name: str) -> list[str]:
    """The signals of ``signals`` that signal ``name`` reads directly (its SignalRefs that name a signal).

    >>> specs = {"m": {"fn": "momentum", "a": "us", "window": 5}, "z": {"fn": "zscore", "of": "m", "window": 3}}
    >>> signal_dependencies(specs, "z"), signal_dependencies(specs, "m")
    (['m'], [])
    """
    sdef, params = _validated(signals[name])
    return [params[p] for p in sdef.signal_params if params[p] in signals]


def signal_order(signals: Specs) -> list[str]:
    """The signal names with every signal after the ones it reads (otherwise in config order).

    Raises ``ValueError`` on a cycle (a validated config has none).
    """
    order: list[str] = []
    state: dict[str, str] = {}  # name -> "open" while its dependencies are visited, then "done"

    def visit(name: str) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            raise ValueError(f"signal {name!r} depends on itself")
        state[name] = "open"
        for dep in signal_dependencies(signals, name):
            visit(dep)
        state[name] = "done"
        order.append(name)

    for name in signals:
        visit(name)
    return order


def signal_lookback(signals: Specs, name: str | None = None) -> int:
    """Rows of leading NaN of signal ``name`` (its own warm-up plus the longest of what it reads),
    or the longest among all the signals when ``name`` is None (0 without signals).

    A name that a SignalRef gives and that is not among ``signals`` is an asset: warm-up 0.

    >>> specs = {"m": {"fn": "momentum", "a": "us", "window": 5}, "z": {"fn": "zscore", "of": "m", "window": 3}}
    >>> signal_lookback(specs, "m"), signal_lookback(specs, "z"), signal_lookback(specs)
    (5, 7, 7)
    """
    composed: dict[str, int] = {}
    for sig in signal_order(signals):
        sdef, params = _validated(signals[sig])
        before = max((composed[dep] for dep in signal_dependencies(signals, sig)), default=0)
        composed[sig] = int(sdef.lookback(params)) + before
    if name is not None:
        return composed[name]
    return max(composed.values(), default=0)


def signal_key(signals: Specs, name: str) -> str:
    """A cache key of signal ``name``: its validated spec and those of every signal it reads, transitively.

    Equal keys give equal values on the same panel, so a sweep may share them between its combinations.
    """
    specs: dict[str, Any] = {}
    todo = [name]
    while todo:
        sig = todo.pop()
        if sig in specs:
            continue
        sdef, params = _validated(signals[sig])
        specs[sig] = {"fn": sdef.name, **params}
        todo.extend(signal_dependencies(signals, sig))
    own = specs.pop(name)
    return json.dumps({"spec": own, "reads": specs}, sort_keys=True, default=str)


def compute_signals(
    signals: Specs, inputs: SignalInputs, *, cache: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Each named signal as a float array over ``inputs.dates``, in the order of ``signals``.

    Signals are computed in :func:`signal_order`; a signal reads the ones computed before it
    through :meth:`SignalInputs.values`.  With ``cache``, each value is looked up and stored
    under :func:`signal_key`, so repeated calls with other specs (a sweep) compute each distinct
    signal once.  A cache belongs to one panel.

    The output of a signal that is not built in (``origin`` other than ``seesaw``) is checked
    against the signal contract (:func:`strategies.contract.check_signal`) before it is used.
    Every signal is a trailing function: its value at row t depends on rows <= t only (see the
    contract tests).
    """
    done: dict[str, np.ndarray] = {}
    for name in signal_order(signals):
        key = signal_key(signals, name) if cache is not None else ""
        value = cache.get(key) if cache is not None else None  # one lookup: another thread may clear it
        if value is None:
            sdef, params = _validated(signals[name])
            x = dataclasses.replace(inputs, signals=dict(done))
            if sdef.origin != "seesaw":
                from strategies.contract import call_signal, check_signal
                from strategies.errors import SignalError

                try:  # an exception the package's code raises is its signal's error, in one line
                    raw = call_signal(sdef, x, params, "on the config's data")
                    check_signal(sdef, x, params, raw)
                except SignalError as err:
                    raise err.located(path=f"signals.{name}") from None
                value = np.asarray(raw, dtype="float64")
            else:
                value = sdef(x, **params)
            if cache is not None:
                cache[key] = value
        done[name] = value
    return {name: done[name] for name in signals}


def rows_lacking(signals: Mapping[str, np.ndarray] | None, first: int) -> dict[str, int | None]:
    """Each signal (by name) without a value at row ``first``: the rows from there until its first value,
    or None when it has none from there on.  Signals with a value at ``first`` are left out."""
    out: dict[str, int | None] = {}
    for name, values in (signals or {}).items():
        column = np.asarray(values, dtype=np.float64).reshape(len(values), -1)[:, 0]
        if first >= len(column) or not np.isnan(column[first]):
            continue
        finite = np.flatnonzero(~np.isnan(column[first:]))
        out[name] = int(finite[0]) if len(finite) else None
    return out
