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
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from engine.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_SYMBOL_LENGTH",
    "RAW_COLUMNS",
    "SYNTHETIC_LABEL",
    "TICKER_RULE",
    "Provider",
    "between",
    "check_symbol",
    "empty_raw_frame",
    "file_inside",
    "is_ticker",
    "symbol_to_filename",
]

RAW_COLUMNS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close", "Volume")

#: What every output made from a provider whose data is ``synthetic`` says about it.
SYNTHETIC_LABEL = "SYNTHETIC DATA: generated prices, not market history."

#: Longest accepted ticker (Yahoo's longest are about 20 characters).
MAX_SYMBOL_LENGTH = 32
# Letters, digits and ^ . - = _, starting with none of "." (so never a hidden file, "." or "..").
_SYMBOL = re.compile(r"[A-Za-z0-9^=_-][A-Za-z0-9^.=_-]*")


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

    Raises :class:`~engine.errors.DataError` for anything that is not a ticker
    (:func:`check_symbol`), so no symbol can name a path.
    """
    stem = check_symbol(symbol).lstrip("^").replace(".", "_").replace("=", "_")
    return f"{stem}.csv"


def is_ticker(symbol: object) -> bool:
    """Whether ``symbol`` is a plausible Yahoo ticker: the one rule for every symbol Seesaw accepts.

    1 to :data:`MAX_SYMBOL_LENGTH` letters, digits and ``^ . - = _``, not starting with ``.``,
    no ``..``, at least one letter or digit: never a path separator, a NUL, a newline or a
    parent-directory step, so a symbol can never name a file outside its directory.

    >>> is_ticker("^GSPC"), is_ticker("2800.HK"), is_ticker("HKD=X"), is_ticker("../etc/passwd")
    (True, True, True, False)
    """
    return (
        isinstance(symbol, str)
        and len(symbol) <= MAX_SYMBOL_LENGTH
        and _SYMBOL.fullmatch(symbol) is not None
        and ".." not in symbol
        and any(c.isalnum() for c in symbol)
    )


#: What :func:`is_ticker` accepts, in words (for error messages).
TICKER_RULE = f"1-{MAX_SYMBOL_LENGTH} letters, digits and ^ . - = _ (no leading '.', no '..', no '/')"


def check_symbol(symbol: str) -> str:
    """``symbol`` itself if it is a ticker (:func:`is_ticker`), else a :class:`~engine.errors.DataError`.

    >>> check_symbol("^GSPC"), check_symbol("2800.HK"), check_symbol("HKD=X")
    ('^GSPC', '2800.HK', 'HKD=X')
    """
    if not is_ticker(symbol):
        shown = repr(symbol) if len(repr(symbol)) <= 60 else repr(symbol)[:57] + "..."
        raise DataError(f"symbol {shown} is not a ticker", expected=TICKER_RULE, got=symbol)
    return symbol


def file_inside(directory: Path, name: str) -> Path:
    """``directory / name``, checked to lie directly inside ``directory`` (else a DataError).

    The check is on the absolute, normalised path (``..`` and ``/`` resolved
    lexically); symbolic links are not followed, so a data directory whose files
    are links to elsewhere keeps working.
    """
    root = Path(os.path.abspath(directory))
    path = Path(os.path.abspath(root / name))
    if path.parent != root or not path.name or path.name in (".", ".."):
        raise DataError(f"file name {name!r} leaves the directory {directory}", file=str(path), got=name)
    return path


def empty_raw_frame() -> pd.DataFrame:
    """A raw frame with no rows and the standard columns."""
    import pandas as pd  # imported on use: config validation reads the ticker rules here without pandas

    return pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in RAW_COLUMNS},
        index=pd.DatetimeIndex([], name="Date"),
    )


def between(frame: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """A copy of the rows of ``frame`` dated within ``[start, end]`` (inclusive; None is unbounded)."""
    import pandas as pd

    lo = pd.Timestamp(start) if start is not None else None
    hi = pd.Timestamp(end) if end is not None else None
    return frame.loc[lo:hi].copy()
