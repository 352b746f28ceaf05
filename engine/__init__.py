"""Seesaw: backtest rotation rules between the US and Hong Kong stock markets."""

from pathlib import Path as _Path

from engine.kernel_cache import keep_in_step as _keep_in_step

__version__ = "0.1.0"

_keep_in_step(_Path(__file__).parent)  # before any compiled kernel loads (engine/kernel_cache.py)

__all__ = ["__version__"]
