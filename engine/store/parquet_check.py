"""Whether a Parquet file is whole, from its first and last four bytes.

Every Parquet file begins and ends with the magic bytes ``PAR1``; a file cut short, or overwritten with
something else, does not end with them.  A stored run about to be reused and every file the catalog's views
list are checked so (8 bytes read, not the file): DuckDB binds a view to all its files, so one damaged file
would fail every query of the view, and a run reused from a damaged file would be reported from what is left.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["whole_parquet"]


def whole_parquet(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a file that begins and ends with Parquet's magic bytes (False when it is missing,
    unreadable or shorter than them)."""
    try:
        with Path(path).open("rb") as f:
            head = f.read(4)
            f.seek(-4, os.SEEK_END)
            return head == b"PAR1" and f.read(4) == b"PAR1"
    except OSError:  # missing, unreadable, or shorter than 4 bytes (the seek)
        return False
