"""Compute a config's ``signals:`` on a price panel (the SignalFrame: dates x signal)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from strategies import get_signal
from strategies.registry import SignalInputs

__all__ = ["compute_signals", "signal_lookback"]


def _params(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "fn"}


def signal_lookback(signals: Mapping[str, Mapping[str, Any]]) -> int:
    """The longest warm-up (rows of leading NaN) among the config's signals; 0 without signals."""
    out = 0
    for spec in signals.values():
        sdef = get_signal(spec["fn"])
        params = sdef.params(**_params(spec)).model_dump()
        out = max(out, int(sdef.lookback(params)))
    return out


def compute_signals(signals: Mapping[str, Mapping[str, Any]], inputs: SignalInputs) -> dict[str, np.ndarray]:
    """Each named signal as a float array over ``inputs.dates``.

    Every signal is a trailing function: its value at row t depends on rows
    <= t only (see the contract tests).
    """
    out: dict[str, np.ndarray] = {}
    for name, spec in signals.items():
        sdef = get_signal(spec["fn"])
        params = sdef.params(**_params(spec)).model_dump()
        out[name] = sdef(inputs, **params)
    return out
