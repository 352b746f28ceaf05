"""The key of what a config's data load would read, computed without loading anything.

A stored run is reused when its resolved config, its data and Seesaw's code are the command's
(:func:`engine.jobs.run.run_configs`).  Loading the data to fingerprint it costs from a tenth of a
second to a second per command (parsing the files, cleaning, checking sessions), so the data is
first matched by this key instead: the bytes of every file a CSV load of the config reads (or the
synthetic generator's seed, span and markets), with the versions of the packages that turn those
bytes into prices and sessions.  The same key means the load would give the same panel, so a run
stored under it is reused without reading the data.  A source that cannot name its inputs without
fetching them (Yahoo: a download may bring new rows) has no key; its configs are loaded and matched
by the loaded data's fingerprint, as every config is when no run has its key.
"""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import PackageNotFoundError, version

from engine.config import StrategyConfig
from engine.data.base import Provider

__all__ = ["config_markets", "config_symbols", "input_key"]

#: The packages that read the files into prices and sessions (parsing, calendars).
_READERS = ("numpy", "pandas", "exchange-calendars")


def config_markets(cfg: StrategyConfig) -> dict[str, str]:
    """Every symbol a load of ``cfg`` may read, with what it is: its assets (their markets), the exchange
    rate (``fx``) and a named cash rate (``rate``); what the synthetic generator makes of each."""
    markets = {spec.symbol: spec.market for spec in cfg.assets.values()} | {cfg.data.fx_symbol: "fx"}
    if isinstance(cfg.cash_rate, str):
        markets[cfg.cash_rate] = "rate"
    return markets


def config_symbols(cfg: StrategyConfig) -> list[str]:
    """Every symbol a load of ``cfg`` may read (:func:`config_markets`)."""
    return list(config_markets(cfg))


def input_key(cfg: StrategyConfig, provider: Provider) -> str | None:
    """The key of the data ``provider`` would load for ``cfg`` (module docstring), or None when the
    provider cannot name its inputs without fetching them."""
    name_inputs = getattr(provider, "input_key", None)
    if name_inputs is None:
        return None
    files = name_inputs(config_symbols(cfg))
    if files is None:
        return None
    return hashlib.sha256(f"{provider.name}|{files}|{_reader_versions()}".encode()).hexdigest()[:16]


@functools.cache
def _reader_versions() -> str:
    """``numpy=2.4.0,pandas=3.0.0,...`` of :data:`_READERS`, read from their installed metadata."""

    def installed(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "absent"

    return ",".join(f"{p}={installed(p)}" for p in _READERS)
