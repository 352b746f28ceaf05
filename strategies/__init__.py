"""The signal library that configs name in ``signals:``.

Importing this package registers every built-in signal.  Adding a signal is
one decorated function in a module here (see :mod:`strategies.registry`), or in
a package of your own that declares an entry point of group ``seesaw.signals``
(:mod:`strategies.plugins`): those are loaded the first time a signal is looked
up with :func:`get_signal` or :func:`all_signals`, not at import.
"""

from strategies import correlation, momentum, risk, spread, transforms  # noqa: F401  (registration side effect)
from strategies.plugins import all_signals, get_signal, load_plugins
from strategies.registry import REGISTRY, AssetRef, SignalDef, SignalInputs, SignalRef, signal

__all__ = [
    "REGISTRY",
    "AssetRef",
    "SignalDef",
    "SignalInputs",
    "SignalRef",
    "all_signals",
    "get_signal",
    "load_plugins",
    "signal",
]
