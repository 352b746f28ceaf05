"""On-disk cache of raw frames, one entry per (provider, symbol).

Layout (``root`` is :func:`default_cache_dir` unless given)::

    <root>/<provider>/<symbol_to_filename(symbol)>     e.g. yahoo/GSPC.csv
    <root>/<provider>/<same stem>.json                 e.g. yahoo/GSPC.json

The CSV is Yahoo-style (``Date,Open,High,Low,Close,Adj Close,Volume``, dates as
``YYYY-MM-DD``, an empty field for NaN) and written with Python's shortest
round-trip float repr, so a frame read back is bit-for-bit the frame written.
The JSON sidecar describes the CSV::

    {"symbol": "^GSPC", "provider": "yahoo", "downloaded_at": "2026-11-20T10:00:00Z",
     "first": "1927-12-30", "last": "2026-11-19", "rows": 24850,
     "sha256": "<hex digest of the CSV bytes>", "seesaw_cache_version": 1}

Writes are atomic (temp file in the same directory, fsync, ``os.replace``).  A
``put`` first removes the old sidecar, then replaces the CSV, then writes the
new sidecar, so a crash at any point leaves either a complete entry or a CSV
without a sidecar, which :meth:`FrameCache.get` treats as absent.  A CSV whose
bytes no longer match the sidecar's checksum was corrupted or edited by hand:
that is an error, never silently used.

The cache does not read the clock: ``downloaded_at`` is passed in by the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.cache_dir import default_cache_dir
from engine.data.base import RAW_COLUMNS, file_inside, symbol_to_filename
from engine.errors import DataError

__all__ = ["CACHE_VERSION", "FrameCache", "default_cache_dir", "parse_downloaded_at"]

#: Bumped when the layout changes; entries of another version are treated as absent.
CACHE_VERSION = 1

_META_KEYS = ("symbol", "provider", "downloaded_at", "first", "last", "rows", "sha256")


class FrameCache:
    """Raw frames on disk under ``root`` (layout and guarantees in the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def csv_path(self, provider: str, symbol: str) -> Path:
        """The CSV file of the entry for ``symbol`` from ``provider``.

        Raises :class:`DataError` for a symbol that is not a ticker, so no entry lies outside ``root``.
        """
        return file_inside(file_inside(self.root, provider), symbol_to_filename(symbol))

    def get(self, provider: str, symbol: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        """The cached raw frame and its sidecar metadata, or None when there is no entry.

        An entry without a sidecar, of another cache version, or recorded for a
        different symbol that maps to the same file name (``^GSPC`` and ``GSPC``)
        is absent.  Raises :class:`DataError` naming the file when the CSV does
        not match its checksum or cannot be read.
        """
        csv_path = self.csv_path(provider, symbol)
        json_path = csv_path.with_suffix(".json")
        if not (csv_path.is_file() and json_path.is_file()):
            return None
        try:
            meta = json.loads(json_path.read_text(encoding="utf-8"))
            data = csv_path.read_bytes()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _broken(json_path, f"unreadable cache entry ({exc})") from None
        if not isinstance(meta, dict) or any(k not in meta for k in _META_KEYS):
            raise _broken(json_path, "cache metadata lacks fields", expected=", ".join(_META_KEYS))
        if meta.get("seesaw_cache_version") != CACHE_VERSION or meta["symbol"] != symbol:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if digest != meta["sha256"]:
            raise _broken(csv_path, "cached file does not match its checksum (corrupted or edited?)", got=digest)
        return _read_csv_bytes(data, csv_path), meta

    def put(self, provider: str, symbol: str, frame: pd.DataFrame, downloaded_at: dt.datetime) -> None:
        """Store ``frame`` (a raw frame) as the entry for ``symbol``, atomically.

        ``downloaded_at`` must be timezone-aware; it is stored in UTC.
        """
        if downloaded_at.tzinfo is None:
            raise ValueError("downloaded_at must be timezone-aware")
        csv_path = self.csv_path(provider, symbol)
        json_path = csv_path.with_suffix(".json")
        data = _csv_bytes(frame)
        meta = {
            "symbol": symbol,
            "provider": provider,
            "downloaded_at": downloaded_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "first": frame.index[0].strftime("%Y-%m-%d") if len(frame) else None,
            "last": frame.index[-1].strftime("%Y-%m-%d") if len(frame) else None,
            "rows": len(frame),
            "sha256": hashlib.sha256(data).hexdigest(),
            "seesaw_cache_version": CACHE_VERSION,
        }
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.unlink(missing_ok=True)  # a crash below must not pair the old sidecar with a new CSV
        _atomic_write(csv_path, data)
        _atomic_write(json_path, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))


def parse_downloaded_at(meta: Mapping[str, Any]) -> dt.datetime:
    """The sidecar's ``downloaded_at`` as an aware UTC datetime."""
    return dt.datetime.fromisoformat(str(meta["downloaded_at"])).astimezone(dt.UTC)


def _broken(path: Path, what: str, *, expected: str | None = None, got: object = None) -> DataError:
    return DataError(
        f"{what}: delete it to refresh the cache",
        file=str(path),
        expected=expected,
        got=got,
    )


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    missing = [c for c in RAW_COLUMNS if c not in frame.columns]
    if missing or not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError(f"not a raw frame (missing columns {missing} or no DatetimeIndex)")
    # float_format=None writes repr(), the shortest string that parses back to the same float.
    text = frame.loc[:, list(RAW_COLUMNS)].to_csv(
        index_label="Date", date_format="%Y-%m-%d", na_rep="", lineterminator="\n"
    )
    return text.encode("utf-8")


def _read_csv_bytes(data: bytes, path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
        index = pd.DatetimeIndex(pd.to_datetime(raw["Date"], format="%Y-%m-%d"), name="Date")
        # Python's float() on the text is exact on every pandas version (read_csv's own parser
        # only round-trips by default from pandas 3).
        columns = {c: raw[c].to_numpy(dtype=object, na_value=np.nan).astype("float64") for c in RAW_COLUMNS}
        frame = pd.DataFrame(columns, index=index)
    except (ValueError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _broken(path, f"unreadable cache file ({exc})".splitlines()[0]) from None
    return frame


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable where the platform allows it (POSIX; a no-op elsewhere)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
