"""CSV files parsed before, kept on disk by the digest of their bytes, so an unchanged file is not parsed again.

Parsing a Yahoo-style file (:mod:`engine.data.csv`: every date and number checked as text first)
took 15-90 ms a file on the real data, 90 ms for ``^GSPC``'s 24,780 rows, and every command that
loads data parsed its files again.  The provider already reads and hashes a file's bytes (the
data's key, :mod:`engine.data.inputs`); with that digest it looks here first.

An entry is the frame the parser returned (its dates, its values, the order of its columns) and the
notes it made, in ``<root>/csv/<file name>-<key>.npz``.  The key is a digest of the file's bytes, the
symbol and the file's name (both appear in the notes), the source of the parsing code
(``engine/data/csv.py``, ``engine/data/base.py``) and the versions of pandas and numpy: a changed
file, parser or library never meets an entry of the old one.  A parse that fails is never kept (the
error is raised again on the next read).  Entries are written to a temporary file and renamed into
place, and writing one removes the older entries of the same file name, so the cache holds one
entry per file.  An entry that cannot be read (cut short, corrupt: the archive checks each member's
CRC) or has the wrong shape is treated as missing and replaced.  The cache only saves time: when it
cannot be written the file is parsed as before, and nothing is reported.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ParsedCache"]

#: Bumped when an entry's layout changes.
LAYOUT = 1


class ParsedCache:
    """Parsed CSV frames under ``<root>/csv`` (module docstring)."""

    def __init__(self, root: Path) -> None:
        self.folder = Path(root) / "csv"

    def get(self, symbol: str, file_name: str, digest: bytes) -> tuple[pd.DataFrame, list[str]] | None:
        """The frame and notes parsed from a file with these bytes, or None."""
        path = self._path(symbol, file_name, digest)
        try:
            with np.load(path, allow_pickle=False) as entry:
                dates, values = entry["dates"], entry["values"]
                columns, notes = entry["columns"].tolist(), entry["notes"].tolist()
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            return None
        if dates.dtype.kind != "M" or values.dtype != np.float64 or values.shape != (len(dates), len(columns)):
            return None
        frame = pd.DataFrame(values, index=pd.DatetimeIndex(dates, name="Date"), columns=columns)
        return frame, [str(n) for n in notes]

    def put(self, symbol: str, file_name: str, digest: bytes, frame: pd.DataFrame, notes: list[str]) -> None:
        """Keep what a file with these bytes parsed to; older entries of ``file_name`` are removed."""
        path = self._path(symbol, file_name, digest)
        arrays = {
            "dates": frame.index.to_numpy(),
            "values": np.ascontiguousarray(frame.to_numpy(dtype=np.float64)),
            "columns": np.array([str(c) for c in frame.columns]),
            "notes": np.array(notes, dtype=str),
        }
        staging: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, staging = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".npz")
            with os.fdopen(fd, "wb") as out:
                np.savez(out, **arrays)
            os.replace(staging, path)
            staging = None
            for older in self.folder.glob(f"{glob.escape(file_name)}-*.npz"):
                if older != path:
                    older.unlink(missing_ok=True)
        except OSError:
            if staging is not None:
                Path(staging).unlink(missing_ok=True)

    def _path(self, symbol: str, file_name: str, digest: bytes) -> Path:
        h = hashlib.sha256(_code_digest())
        for part in (symbol.encode(), file_name.encode(), digest):
            h.update(len(part).to_bytes(8, "little") + part)
        return self.folder / f"{file_name}-{h.hexdigest()[:32]}.npz"


@functools.cache
def _code_digest() -> bytes:
    """What the parse depends on besides the file: the parser's source, pandas', numpy's versions, the layout."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(f"{LAYOUT}\0{pd.__version__}\0{np.__version__}".encode())
    for name in ("csv.py", "base.py"):
        h.update((here / name).read_bytes())
    return h.digest()
