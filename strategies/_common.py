"""Small numeric helpers shared by the signal modules (trailing-only, NaN-aware)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from strategies.registry import SignalInputs

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["later_closing", "log_of", "log_returns", "prices_in"]


def log_of(s: pd.Series) -> pd.Series:
    """Natural log of a positive series (NaN stays NaN; no warnings)."""
    import pandas as pd  # imported on use: `seesaw validate` loads the signal library without pandas

    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.log(s.to_numpy(dtype="float64")), index=s.index)


def log_returns(x: SignalInputs, asset: str) -> pd.Series:
    """r[t] = ln(P[t] / P[t-1]) on the union timeline (0 on the asset's holidays, NaN at t=0)."""
    p = x.series(asset)
    return log_of(p / p.shift(1))


def prices_in(x: SignalInputs, asset: str, currency: str) -> pd.Series:
    """``asset``'s known prices in its own currency (``local``) or converted to the base currency (``base``).

    A price of date d is converted at the rate known on d.  Raises ValueError when the data holds
    no rate for the asset's currency.
    """
    p = x.series(asset)
    if currency == "local":
        return p
    if asset not in x.fx:
        raise ValueError(f"currency: base needs an exchange rate for {asset!r}, and the data holds none")
    return p * np.asarray(x.fx[asset], dtype="float64")


def later_closing(x: SignalInputs, a: str, b: str) -> str | None:
    """Which of two assets' markets closes later on a date (None when the same market)."""
    oa, ob = x.close_order[x.markets[a]], x.close_order[x.markets[b]]
    if oa == ob:
        return None
    return a if oa > ob else b
