"""The exception tree.

``SeesawError`` is the root.  ``UserError`` and its subclasses describe a
mistake the user can fix (a bad config, missing data, an unreadable file): the
CLI prints them as one line and exits with code 2.  Anything else is a bug and
is allowed to show a traceback.

Every user error carries data, not only prose: the file, the YAML path, what
was expected and what was found, so tests can assert on fields rather than on
wording.

``SeesawError``, ``UserError`` and :func:`printable` are defined in :mod:`strategies.errors`
and re-exported here: a signal package's errors are raised in ``strategies/`` (which never
imports the engine) and are user errors too (:class:`strategies.errors.PluginError`,
:class:`strategies.errors.SignalContractError`).
"""

from __future__ import annotations

from strategies.errors import SeesawError, UserError, printable

__all__ = [
    "ConfigError",
    "DataError",
    "ExpressionError",
    "MissingSeries",
    "SeesawError",
    "StoreError",
    "UserError",
    "printable",
]


class ConfigError(UserError):
    """A config file is unreadable, or breaks the schema or a cross-field rule."""


class ExpressionError(UserError):
    """A ``when:`` expression is not in the whitelist grammar or names unknown things."""


class DataError(UserError):
    """Price data is missing, unreachable or fails validation."""


class MissingSeries(DataError):
    """A symbol the config names has no series in the source (no such file): a mistake in the config's symbol
    or in the data directory, so the loader names the config's YAML path (``assets.<name>.symbol``,
    ``data.fx_symbol`` or ``cash_rate``)."""


class StoreError(UserError):
    """The results directory cannot be written or read."""
