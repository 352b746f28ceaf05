"""Seesaw: backtest rotation rules between the US and Hong Kong stock markets."""

__version__ = "0.1.0"

__all__ = ["__version__"]
