"""Arrays kept in a file on the sweep's own disk rather than in the process's memory.

A sweep keeps every finished combination's row and block sums until it is written (0.46 KB a combination);
kept in memory, a grid of a few million combinations passed 1.5 GB and a machine's free memory.  An array
from :func:`spilled` is a memory map of a file with no name in the directory given (``O_TMPFILE``, or a file
deleted once mapped): its pages are the kernel's page cache, written back to disk and dropped when memory is
short, rather than memory the process holds until it ends.  The file's blocks are reserved when the array is
made, so a full disk is one error then, not a crash (``SIGBUS``) at a write into a page that has no block.
Nothing is left on disk when the process ends, however it ends.  A stored sweep's table is read back the same
way, a column at a time (:func:`spilled_table`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from engine.errors import StoreError

__all__ = ["spilled", "spilled_table"]


def spilled(directory: Path, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """An uninitialised array of ``shape`` and ``dtype`` kept in an unnamed file in ``directory`` (see the module).

    A directory that cannot hold it (full, read-only, gone) is a :class:`StoreError` naming it."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes == 0:  # mmap cannot map an empty file
        return np.empty(shape, dtype=dtype)
    try:
        with tempfile.TemporaryFile(dir=directory, prefix=".spill-") as fh:
            _reserve(fh.fileno(), nbytes)
            mapped = np.memmap(fh, dtype=dtype, mode="r+", shape=shape)  # the map keeps its own handle on the file
    except OSError as exc:
        raise StoreError(
            f"cannot keep the sweep's table on disk ({_size(nbytes)}): {exc.strerror or exc}",
            file=str(directory),
            expected="a directory with room for the sweep",
        ) from None
    return np.asarray(mapped)  # a plain array over the map: operations on it give arrays, not memmaps


def spilled_table(source: IO[bytes], directory: Path) -> pd.DataFrame:
    """The frame ``pandas.read_parquet(source)`` gives, read a column at a time, each column of numbers copied into
    an array from :func:`spilled` in ``directory``: never the whole table in memory (a sweep's of four million
    combinations is 0.8 GB).  Where ``directory`` cannot hold them (read-only, full), the columns stay in memory."""
    parquet = pq.ParquetFile(source)
    room = True
    columns: dict[str, pd.Series | np.ndarray] = {}
    for name in parquet.schema_arrow.names:
        series = parquet.read(columns=[name]).to_pandas()[name]  # the file's pandas types, as read_parquet's
        values = series.to_numpy()
        if not (room and isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf" and len(values)):
            columns[name] = series
            continue
        try:
            kept = spilled(directory, values.shape, values.dtype)
        except StoreError:  # read where the results cannot be written: as read_parquet, in memory
            room, columns[name] = False, series
            continue
        kept[...] = values
        columns[name] = kept
        del series, values
    return pd.DataFrame(columns, copy=False)


def _size(n: int) -> str:
    """``n`` bytes as ``960 bytes``, ``850.3 MB`` or ``1.2 GB``."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n:,} bytes"


def _reserve(fd: int, nbytes: int) -> None:
    """The file's ``nbytes`` given disk blocks now (``posix_fallocate``); where the system has no such call, its
    length set (a sparse file: a full disk then shows at a write)."""
    allocate = getattr(os, "posix_fallocate", None)
    if allocate is not None:
        allocate(fd, 0, nbytes)
    else:  # pragma: no cover - macOS, Windows
        os.ftruncate(fd, nbytes)
