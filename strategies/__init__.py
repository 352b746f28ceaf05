"""The signal library that configs name in ``signals:``.

Importing this package registers every built-in signal.  Adding a signal is
one decorated function in a module here (see :mod:`strategies.registry`).
"""

from strategies import correlation, momentum, risk, spread  # noqa: F401  (registration side effect)
from strategies.registry import REGISTRY, AssetRef, SignalDef, SignalInputs, get_signal, signal

__all__ = ["REGISTRY", "AssetRef", "SignalDef", "SignalInputs", "get_signal", "signal"]
