"""Read Yahoo-style CSV files from a directory.

Files are named after the ticker (:func:`engine.data.base.symbol_to_filename`:
``^GSPC`` -> ``GSPC.csv``) with the header ``Date,Open,High,Low,Close,Adj Close,Volume``.
An empty field is a missing value (NaN), never zero.  Extra columns are
ignored (but a header naming a misspelt ``Date`` or ``Close``, ``Klose`` with no
``Close``, is refused); a missing standard column becomes all-NaN and is recorded in
:attr:`CsvProvider.notes`, so a file with only ``Adj Close`` loads and the
choice of price column is made, and checked, later.

What the file itself must be, checked here with the data row and date named
(the values are checked later, in :mod:`engine.data.validate`):

* the symbol is a ticker and its file lies in the data directory
  (:func:`engine.data.base.check_symbol`); the file exists, is a regular file
  (not a pipe, device or directory) of at most :data:`MAX_FILE_BYTES` (no more is
  ever read), is readable, is UTF-8 (a byte-order mark is ignored) without NUL
  bytes, names each column once and has a ``Date`` column and data rows;
* a last line that does not end in a newline and has fewer fields than the
  header, an unparsable date, or a price further (in log terms) from the
  previous line's than 0.2 and than any move of that column over the
  :data:`MOVES_SEEN` lines before (a rate near 0, such as ^IRX in 2014, moves
  more than 20% in a day) is a write cut short: it is dropped (noted).  A
  complete last line without a newline is read as is;
* any other row has the header's fields (a row with fewer, cut short or damaged
  in the middle of the file, is refused rather than read with missing values);
* dates are ``YYYY-MM-DD`` (four, two and two digits) between 1900-01-01 and
  2100-12-31; numbers are numbers or empty fields, never ``inf``;
* rows out of date order are sorted (noted, naming the first row out of order).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import math
import os
import stat
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.data.base import RAW_COLUMNS, between, file_inside, symbol_to_filename
from engine.errors import DataError, MissingSeries

if TYPE_CHECKING:
    from engine.data.parsed_cache import ParsedCache

__all__ = ["CsvProvider"]


#: Dates outside these bounds are refused (the earliest real file starts in 1927).
FIRST_DATE = pd.Timestamp("1900-01-01")
LAST_DATE = pd.Timestamp("2100-12-31")
#: A last line without a newline whose price is further than this (absolute log move) from the line before, and
#: than any move of the :data:`MOVES_SEEN` lines before it, is cut short.
TRUNCATED_MOVE = 0.2
MOVES_SEEN = 250
_PRICES = ("Open", "High", "Low", "Close", "Adj Close")
#: :meth:`CsvProvider.input_key`'s digest of a file that does not exist.
_MISSING = b"missing"
#: The largest data file read: a daily history of a century is about 3 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: How much of a line a note or an error quotes.
_QUOTED = 60


class CsvProvider:
    """Provider over a directory of Yahoo-style CSVs (see the module docstring)."""

    name = "csv"
    synthetic = False

    def __init__(self, data_dir: Path | str, parsed: ParsedCache | None = None) -> None:
        """``parsed``: where files parsed before are kept by their bytes' digest (none: every file is parsed)."""
        self.data_dir = Path(data_dir)
        self.parsed = parsed
        self.notes: list[str] = []
        self._frames: dict[str, pd.DataFrame] = {}
        self._file_notes: dict[str, list[str]] = {}
        self._digests: dict[str, bytes] = {}  # sha256 of each file's bytes as read (input_key, then parsed)
        self._unparsed: dict[str, bytes] = {}  # bytes input_key read that no fetch has parsed yet

    def input_key(self, symbols: Iterable[str]) -> str | None:
        """sha256 of the bytes of each symbol's file (a missing file counts as missing): what a load of
        ``symbols`` reads (:mod:`engine.data.inputs`).  None when a file cannot be read or a symbol is
        not a ticker; the load then reports why.  A file is read once per provider: the bytes hashed
        are the bytes parsed, even if the file changes meanwhile."""
        h = hashlib.sha256(b"csv\0")
        for symbol in sorted(set(symbols)):
            if symbol not in self._digests:
                try:
                    data = _read_file(self.path_for(symbol))
                except FileNotFoundError:
                    self._digests[symbol] = _MISSING  # and missing for the fetches of this provider too
                    h.update(symbol.encode() + b"\0" + _MISSING)
                    continue
                except (OSError, DataError):
                    return None
                self._unparsed[symbol] = data
                self._digests[symbol] = hashlib.sha256(data).digest()
            h.update(symbol.encode() + b"\0" + self._digests[symbol])
        return h.hexdigest()

    def _file_bytes(self, symbol: str, path: Path) -> bytes:
        """The bytes of ``symbol``'s file: those :meth:`input_key` read and hashed (so the key names what
        is parsed, and a file missing then is missing now), else read here."""
        if not self.data_dir.is_dir():
            what = "is not a directory" if self.data_dir.exists() else "does not exist"
            raise DataError(
                f"data directory {self.data_dir} {what}",
                expected="a directory of Yahoo-style CSVs (--data-dir DIR or SEESAW_DATA_DIR)",
            )
        if self._digests.get(symbol) == _MISSING or not path.exists():  # a pipe or device: _read_file says so
            near = f" ({path.name} is a link to {os.readlink(path)}, which does not exist)" if path.is_symlink() else ""
            raise MissingSeries(
                f"no file {path.name} for symbol '{symbol}' in {self.data_dir}{near or self._near(path.name)}",
                file=str(path),
                expected=f"{path.name} with columns Date,{','.join(RAW_COLUMNS)}",
            )
        data = self._unparsed.pop(symbol, None)
        if data is None:
            try:
                data = _read_file(path)
            except OSError as exc:
                raise DataError(f"cannot read the file ({exc.strerror or exc})", file=str(path)) from None
            self._digests[symbol] = hashlib.sha256(data).digest()
        return data

    def _near(self, name: str) -> str:
        """`` (did you mean X.csv?)`` for the data directory's file closest to ``name`` (case aside), if one is."""
        import difflib

        try:
            files = {p.name.lower(): p.name for p in self.data_dir.glob("*.csv")}
        except OSError:
            return ""
        close = difflib.get_close_matches(name.lower(), list(files), n=1, cutoff=0.75)
        return f" (did you mean {files[close[0]]}?)" if close else ""

    def path_for(self, symbol: str) -> Path:
        """The file that holds ``symbol`` (a DataError for a symbol that is not a ticker)."""
        return file_inside(self.data_dir, symbol_to_filename(symbol))

    def fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """Rows of ``symbol`` inside ``[start, end]`` (inclusive; None is unbounded).

        The notes on the file (repairs, missing columns) are added to :attr:`notes` on every fetch.
        """
        if symbol not in self._frames:
            notes: list[str] = []
            self._frames[symbol] = self._read(symbol, notes)
            self._file_notes[symbol] = notes
        self.notes += self._file_notes[symbol]
        return between(self._frames[symbol], start, end)

    def _read(self, symbol: str, notes: list[str]) -> pd.DataFrame:
        """The file's frame, parsed, or as the same bytes parsed before (:mod:`engine.data.parsed_cache`)."""
        path = self.path_for(symbol)
        data = self._file_bytes(symbol, path)
        digest = self._digests[symbol]
        kept = self.parsed.get(symbol, path.name, digest) if self.parsed is not None else None
        if kept is not None:
            notes.extend(kept[1])
            return kept[0]
        frame = _parse(data, symbol, path, notes)
        if self.parsed is not None:
            self.parsed.put(symbol, path.name, digest, frame, notes)
        return frame


def _read_file(path: Path) -> bytes:
    """The bytes of the regular file ``path`` (a symbolic link followed), at most :data:`MAX_FILE_BYTES`; a
    pipe, device or directory, or a larger file, is a DataError before anything is read (a pipe is opened
    without waiting for a writer)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)  # before any read: io.open refuses a directory with an error of its own
        if not stat.S_ISREG(info.st_mode):
            raise DataError("not a regular file (a pipe, device or directory)", file=str(path), expected="a CSV file")
        if info.st_size > MAX_FILE_BYTES:
            raise DataError(
                f"{info.st_size:,} bytes, more than the {MAX_FILE_BYTES:,} a data file may have",
                file=str(path),
                expected="a daily history of at most 64 MB",
            )
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:  # grew while being read
        raise DataError(f"more than the {MAX_FILE_BYTES:,} bytes a data file may have", file=str(path))
    return data


def _quoted(line: str) -> str:
    """A line as a note or an error quotes it: its first :data:`_QUOTED` characters, escaped."""
    return repr(line if len(line) <= _QUOTED else line[:_QUOTED] + "…")


def _parse(data: bytes, symbol: str, path: Path, notes: list[str]) -> pd.DataFrame:
    """The frame of a file's bytes, every date and number checked (module docstring); notes appended."""
    text = _decode(data, path)
    _check_header(text, path)
    text = _without_truncated_last_line(text, data, symbol, path, notes)
    _check_field_counts(text, path)
    try:
        with warnings.catch_warnings():  # rows ending in empty fields beyond the header (checked above): dropped
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        what = "the file is empty" if not text.strip() else f"cannot read CSV: {exc}".splitlines()[0]
        raise DataError(what, file=str(path), expected=f"header Date,{','.join(RAW_COLUMNS)}") from None
    _check_column_names(list(map(str, raw.columns)), path)
    if "Date" not in raw.columns:
        raise DataError(
            "no 'Date' column",
            file=str(path),
            expected="header Date,Open,High,Low,Close,Adj Close,Volume",
        )
    if raw.empty:
        raise DataError("the file has a header but no data rows", file=str(path), expected="data rows")
    dates = pd.to_datetime(raw["Date"], format="%Y-%m-%d", errors="coerce")
    iso = raw["Date"].str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).to_numpy(dtype=bool)  # not 2007-1-4
    bad = raw["Date"][dates.isna() | ~iso | (dates < FIRST_DATE) | (dates > LAST_DATE)]
    if len(bad):
        raise DataError(
            f"unparsable or out-of-range date {_quoted(str(bad.iloc[0]))} on data row {int(bad.index[0]) + 1}: "
            f"expected YYYY-MM-DD from {FIRST_DATE.date()} to {LAST_DATE.date()}",
            file=str(path),
            expected=f"dates as YYYY-MM-DD from {FIRST_DATE.date()} to {LAST_DATE.date()}",
            got=bad.iloc[0],
        )
    out = pd.DataFrame(index=pd.DatetimeIndex(dates.to_numpy(), name="Date"))
    for col in RAW_COLUMNS:
        if col not in raw.columns:
            out[col] = np.nan
            notes.append(f"{symbol}: {path.name} has no '{col}' column (treated as missing)")
            continue
        values = pd.to_numeric(raw[col], errors="coerce")
        bad_num = raw[col][(values.isna() & raw[col].notna()) | np.isinf(values)]
        if len(bad_num):
            row = int(bad_num.index[0])
            raise DataError(
                f"non-numeric or infinite {col} {_quoted(str(bad_num.iloc[0]))} on data row {row + 1} "
                f"({raw['Date'].iloc[row]})",
                file=str(path),
                expected="numbers or empty fields",
                got=bad_num.iloc[0],
            )
        out[col] = values.to_numpy(dtype="float64")
    return _sorted(out, symbol, path, notes)


def _check_field_counts(text: str, path: Path) -> None:
    """A DataError naming the first data row with fewer fields than the header: a line cut short or damaged in
    the middle of the file, whose missing fields would otherwise be read as missing values and a cut number as a
    number (``20025`` for ``20025.58``).  A last line cut short was dropped before (noted)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return
    counts = [len(r) for r in csv.reader(lines)] if '"' in text else [line.count(",") + 1 for line in lines]
    header = next(csv.reader(lines[:1]))
    named = max((i + 1 for i, h in enumerate(header) if h.strip()), default=0)  # a trailing comma names nothing
    rows = (lambda i: next(csv.reader([lines[i]]))) if '"' in text else (lambda i: lines[i].split(","))
    long = next((i for i in range(1, len(counts)) if counts[i] > len(header) and any(rows(i)[len(header) :])), None)
    if long is not None:
        raise DataError(
            f"data row {long} ({_quoted(lines[long][:60])}) has {counts[long]} fields, more than the header's "
            f"{len(header)}: which column a value belongs to cannot be told",
            file=str(path),
            expected="every row with the header's fields",
        )
    short = next((i for i in range(1, len(counts)) if counts[i] < named), None)
    if short is not None:
        raise DataError(
            f"data row {short} ({_quoted(lines[short][:60])}) has {counts[short]} of the header's {named} fields: "
            "a line cut short or damaged",
            file=str(path),
            expected="every row with the header's fields (an empty field for a missing value)",
        )


def _check_column_names(columns: list[str], path: Path) -> None:
    """A DataError for a standard column named with a space around it, or misspelt (:func:`_misspelt`): read as
    another column, ``Close `` or ``Klose`` would leave Close empty and its error point elsewhere."""
    padded = [c for c in columns if c != c.strip() and c.strip() in ("Date", *RAW_COLUMNS)]
    if padded:
        raise DataError(
            f"the header names {padded[0]!r}, with a space around {padded[0].strip()!r}",
            file=str(path),
            expected=f"column names without spaces: Date,{','.join(RAW_COLUMNS)}",
        )
    for got, meant in _misspelt(columns):
        raise DataError(
            f"the header names {got!r} but no {meant!r} column: a misspelt {meant!r}?",
            file=str(path),
            expected=f"header Date,{','.join(RAW_COLUMNS)}",
        )


def _misspelt(columns: list[str]) -> list[tuple[str, str]]:
    """(column, standard name) for a header without ``Date`` or ``Close`` that names a column nearly like it (the
    same letters in another case, or a similarity ratio of 0.8 or more: ``Klose``, ``close``, ``Dte``): read as
    an extra column, it would leave the dates or the default price empty and the error point elsewhere.  Only
    those two: a file may lack ``Adj Close`` and carry columns like it (Quandl's ``Adj. Close``, ``Unadj Close``)."""
    import difflib

    missing = [c for c in ("Date", "Close") if c not in columns]
    extra = [c for c in columns if c not in ("Date", *RAW_COLUMNS)]
    return [
        (got, meant)
        for meant in missing
        for got in extra
        if got.lower() == meant.lower() or difflib.SequenceMatcher(None, got, meant).ratio() >= 0.8
    ]


def _check_header(text: str, path: Path) -> None:
    """A DataError when the header (the first line that is not blank) names a column twice: which of two
    ``Close`` columns holds the prices cannot be told."""
    header = next((line for line in io.StringIO(text) if line.strip()), "")  # not every line split for one
    names = [name.strip() for name in header.split(",")]
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise DataError(
            f"the header names {', '.join(map(repr, twice))} more than once",
            file=str(path),
            expected=f"each column once: Date,{','.join(RAW_COLUMNS)}",
        )


def _decode(data: bytes, path: Path) -> str:
    """``data`` as UTF-8 text without a byte-order mark; a DataError naming the line otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (data[:2].count(b"\0") == 1 == data[2:4].count(b"\0")):
        raise DataError("UTF-16 text (as Excel or PowerShell may save it): save it as UTF-8", file=str(path))
    if b"\r" in data and b"\n" not in data:  # every row on one line to a CSV reader
        raise DataError(
            "its lines end in a carriage return alone (old Mac line endings): save it with LF or CRLF line endings",
            file=str(path),
            expected="a UTF-8 CSV",
        )
    nul = data.find(b"\0")
    if nul >= 0:
        line = data[:nul].count(b"\n") + 1
        raise DataError(
            f"a NUL byte on line {line} ({'the header' if line == 1 else f'data row {line - 1}'}): a binary or "
            "damaged file",
            file=str(path),
            expected="a UTF-8 CSV",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
            f"({'the header' if line == 1 else f'data row {line - 1}'})",
            file=str(path),
            expected="a UTF-8 CSV",
        ) from None


def _without_truncated_last_line(text: str, data: bytes, symbol: str, path: Path, notes: list[str]) -> str:
    """``text`` without its last line when that line was cut short (see the module docstring)."""
    if not data or data.endswith((b"\n", b"\r")):
        return text
    lines = text.splitlines()
    body = [i for i, line in enumerate(lines) if line.strip()]
    if len(body) < 3:  # header, one row to compare with, the last row
        return text
    header = lines[body[0]].split(",")
    seen = [lines[i].split(",") for i in body[max(1, len(body) - 2 - MOVES_SEEN) : -1]]  # prev last
    reason = _truncation(header, lines[body[-1]].split(","), seen)
    if reason is None:
        return text
    notes.append(
        f"{symbol}: {path.name}: the last line {_quoted(lines[body[-1]])} (data row {len(body) - 1}) ends without a "
        f"newline and {reason}: dropped as cut short"
    )
    return "\n".join(lines[: body[-1]]) + "\n"


def _truncation(header: list[str], last: list[str], seen: list[list[str]]) -> str | None:
    """Why the last line looks cut short, or None; ``seen``: the lines before it, the previous one last."""
    if len(last) < len(header):
        return f"has {len(last)} of {len(header)} fields"
    if "Date" in header and pd.isna(pd.to_datetime(last[header.index("Date")], format="%Y-%m-%d", errors="coerce")):
        return "its date is unparsable"
    prev = seen[-1]
    for col in _PRICES:
        if col not in header or len(prev) < len(header):
            continue
        j = header.index(col)
        a, b = _number(prev[j]), _number(last[j])
        if a is not None and b is not None and a > 0 and b > 0 and abs(math.log(b / a)) > _usual_move(seen, j):
            return f"its {col} {last[j]} is far from the previous line's {prev[j]}"
    return None


def _usual_move(seen: list[list[str]], j: int) -> float:
    """The larger of :data:`TRUNCATED_MOVE` and the largest absolute log move of column ``j`` over ``seen``."""
    values = [_number(line[j]) if j < len(line) else None for line in seen]
    moves = [abs(math.log(b / a)) for a, b in itertools.pairwise(values) if a and b and a > 0 and b > 0]
    return max([TRUNCATED_MOVE, *moves])


def _number(field: str) -> float | None:
    try:
        value = float(field)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _sorted(frame: pd.DataFrame, symbol: str, path: Path, notes: list[str]) -> pd.DataFrame:
    """``frame`` in date order (stable: equal dates keep their file order), noted when it was not."""
    if frame.index.is_monotonic_increasing:
        return frame
    step = np.flatnonzero(np.diff(frame.index.asi8) < 0)[0]
    before, after = frame.index[step].date(), frame.index[step + 1].date()
    notes.append(
        f"{symbol}: {path.name}: rows were not in date order (data row {step + 2}, {after}, follows {before}); sorted"
    )
    return frame.sort_index(kind="stable")
