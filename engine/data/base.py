"""What every price provider returns, and how symbols map to file names.

A provider turns a ticker into a *raw frame*: a ``DataFrame`` indexed by a
tz-naive ``DatetimeIndex`` of trading dates (normalised to midnight, ascending,
unique) with exactly the float columns of :data:`RAW_COLUMNS`.  Missing values
are NaN, never zero.  Rows are those the source has inside ``[start, end]``
(both inclusive; ``None`` means unbounded).  A provider never forward-fills,
never invents rows and never adjusts prices: validation, repairs and alignment
happen later, in :mod:`engine.data.validate` and :mod:`engine.data.panel`.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

import pandas as pd

__all__ = ["RAW_COLUMNS", "Provider", "between", "empty_raw_frame", "symbol_to_filename"]

RAW_COLUMNS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close", "Volume")


@runtime_checkable
class Provider(Protocol):
    """Source of daily price history for one ticker at a time."""

    #: Short name shown in outputs and fingerprints: ``csv``, ``yahoo``, ``synthetic``.
    name: str
    #: True when the data is generated, not observed; every output then says SYNTHETIC.
    synthetic: bool

    def fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """Return the raw frame for ``symbol`` restricted to ``[start, end]``.

        Raises :class:`engine.errors.DataError` with a one-line, actionable
        message when the symbol cannot be had.
        """
        ...


def symbol_to_filename(symbol: str) -> str:
    """Yahoo ticker to the file name used by Yahoo-style CSV directories.

    ``^GSPC`` -> ``GSPC.csv``, ``2800.HK`` -> ``2800_HK.csv``, ``HKD=X`` -> ``HKD_X.csv``.

    >>> symbol_to_filename("^HSI"), symbol_to_filename("2800.HK"), symbol_to_filename("HKD=X")
    ('HSI.csv', '2800_HK.csv', 'HKD_X.csv')
    """
    stem = symbol.lstrip("^").replace(".", "_").replace("=", "_")
    return f"{stem}.csv"


def empty_raw_frame() -> pd.DataFrame:
    """A raw frame with no rows and the standard columns."""
    return pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in RAW_COLUMNS},
        index=pd.DatetimeIndex([], name="Date"),
    )


def between(frame: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """A copy of the rows of ``frame`` dated within ``[start, end]`` (inclusive; None is unbounded)."""
    lo = pd.Timestamp(start) if start is not None else None
    hi = pd.Timestamp(end) if end is not None else None
    return frame.loc[lo:hi].copy()
