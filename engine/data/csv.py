"""Read Yahoo-style CSV files from a directory.

Files are named after the ticker (:func:`engine.data.base.symbol_to_filename`:
``^GSPC`` -> ``GSPC.csv``) with the header ``Date,Open,High,Low,Close,Adj Close,Volume``.
An empty field is a missing value (NaN), never zero.  Extra columns are
ignored; a missing standard column becomes all-NaN and is recorded in
:attr:`CsvProvider.notes`, so a file with only ``Adj Close`` loads and the
choice of price column is made, and checked, later.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.base import RAW_COLUMNS, between, symbol_to_filename
from engine.errors import DataError

__all__ = ["CsvProvider"]


class CsvProvider:
    """Provider over a directory of Yahoo-style CSVs (see the module docstring)."""

    name = "csv"
    synthetic = False

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.notes: list[str] = []
        self._frames: dict[str, pd.DataFrame] = {}

    def path_for(self, symbol: str) -> Path:
        """The file that holds ``symbol``."""
        return self.data_dir / symbol_to_filename(symbol)

    def fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """Rows of ``symbol`` inside ``[start, end]`` (inclusive; None is unbounded)."""
        if symbol not in self._frames:
            self._frames[symbol] = self._read(symbol)
        return between(self._frames[symbol], start, end)

    def _read(self, symbol: str) -> pd.DataFrame:
        path = self.path_for(symbol)
        if not self.data_dir.is_dir():
            raise DataError(
                f"data directory {self.data_dir} does not exist",
                expected="a directory of Yahoo-style CSVs (--data-dir DIR or SEESAW_DATA_DIR)",
            )
        if not path.is_file():
            raise DataError(
                f"no file {path.name} for symbol '{symbol}' in {self.data_dir}",
                file=str(path),
                expected=f"{path.name} with columns Date,{','.join(RAW_COLUMNS)}",
            )
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"cannot read CSV: {exc}".splitlines()[0], file=str(path)) from None
        if "Date" not in raw.columns:
            raise DataError(
                "no 'Date' column",
                file=str(path),
                expected="header Date,Open,High,Low,Close,Adj Close,Volume",
            )
        dates = pd.to_datetime(raw["Date"], format="%Y-%m-%d", errors="coerce")
        bad = raw["Date"][dates.isna()]
        if len(bad):
            raise DataError(
                f"unparsable date {bad.iloc[0]!r} on data row {int(bad.index[0]) + 1}",
                file=str(path),
                expected="dates as YYYY-MM-DD",
            )
        out = pd.DataFrame(index=pd.DatetimeIndex(dates.to_numpy(), name="Date"))
        for col in RAW_COLUMNS:
            if col not in raw.columns:
                out[col] = np.nan
                self.notes.append(f"{symbol}: {path.name} has no '{col}' column (treated as missing)")
                continue
            values = pd.to_numeric(raw[col], errors="coerce")
            bad_num = raw[col][values.isna() & raw[col].notna()]
            if len(bad_num):
                raise DataError(
                    f"non-numeric {col} {bad_num.iloc[0]!r} on data row {int(bad_num.index[0]) + 1}",
                    file=str(path),
                    expected="numbers or empty fields",
                )
            out[col] = values.to_numpy(dtype="float64")
        return out
