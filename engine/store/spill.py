"""Arrays kept in a file on the sweep's own disk rather than in the process's memory.

A sweep keeps every finished combination's row and block sums until it is written (0.46 KB a combination);
kept in memory, a grid of a few million combinations passed 1.5 GB and a machine's free memory.  Arrays from
:func:`spilled_arrays` share one memory map of one file with no name in the directory given (``O_TMPFILE``;
where the system has none, a named file deleted as soon as it is made): their pages are the kernel's page
cache, written back to disk and dropped when memory is short, rather than memory the process holds until it
ends, and a table of any number of columns holds one file descriptor.  The file's blocks are reserved when
the arrays are made, so a disk too small for them is one error then, not a crash (``SIGBUS``) at a write into
a page that has no block.  Nothing is left on disk when the process ends.  A stored sweep's table too big for
the memory free is read back the same way, a column at a time (:func:`spilled_table`).
"""

from __future__ import annotations

import mmap
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from engine.errors import StoreError
from engine.plural import byte_size

__all__ = ["spilled_arrays", "spilled_table"]

#: Each array of a file starts at a multiple of this many bytes (a cache line).
_ALIGN = 64


def spilled_arrays(directory: Path, specs: Sequence[tuple[tuple[int, ...], Any]]) -> list[np.ndarray]:
    """Uninitialised arrays of the ``(shape, dtype)`` of ``specs``, in one unnamed file in ``directory`` under one
    memory map (see the module).  A directory that cannot hold them (full, read-only, gone) is a
    :class:`StoreError` naming it."""
    dtypes = [np.dtype(dtype) for _, dtype in specs]
    counts = [int(np.prod(shape, dtype=np.int64)) for shape, _ in specs]
    offsets, total = [], 0
    for count, dtype in zip(counts, dtypes, strict=True):
        offsets.append(total)
        total += -(-count * dtype.itemsize // _ALIGN) * _ALIGN
    if total == 0:  # mmap cannot map an empty file
        return [np.empty(shape, dtype=dtype) for (shape, _), dtype in zip(specs, dtypes, strict=True)]
    try:
        with tempfile.TemporaryFile(dir=directory, prefix=".spill-") as fh:
            _reserve(fh.fileno(), total)
            mapped = mmap.mmap(fh.fileno(), total)  # its own handle on the file: the file object may close
    except OSError as exc:
        raise StoreError(
            f"cannot keep the sweep's table on disk ({byte_size(total)}): {exc.strerror or exc}",
            file=str(directory),
            expected="a directory with room for the sweep",
        ) from None
    return [
        np.frombuffer(mapped, dtype=dtype, count=count, offset=offset).reshape(shape)
        for (shape, _), dtype, count, offset in zip(specs, dtypes, counts, offsets, strict=True)
    ]


def spilled_table(source: IO[bytes], directory: Path, *, free: int | None) -> pd.DataFrame:
    """The frame ``pandas.read_parquet(source)`` gives, read a column at a time; when its columns of numbers
    would take more than a quarter of ``free`` bytes of memory (None: not known, never), they are copied into
    :func:`spilled_arrays` in ``directory``, so the table is never whole in memory (a sweep's of four million
    combinations is 0.8 GB).  Where ``directory`` cannot hold them (read-only, full), they stay in memory."""
    parquet = pq.ParquetFile(source)
    names = parquet.schema_arrow.names
    types = {
        c.get("name"): c.get("numpy_type") for c in (parquet.schema_arrow.pandas_metadata or {}).get("columns", [])
    }
    numbers = [name for name in names if types.get(name) in _NUMBERS]
    rows = parquet.metadata.num_rows
    need = sum(rows * np.dtype(types[name]).itemsize for name in numbers)
    kept: dict[str, np.ndarray] = {}
    if free is not None and rows and need > free // 4:
        try:
            arrays = spilled_arrays(directory, [((rows,), types[name]) for name in numbers])
            kept = dict(zip(numbers, arrays, strict=True))
        except StoreError:  # read where the results cannot be written: as read_parquet, in memory
            kept = {}
    columns: dict[str, Any] = {}
    for name in names:
        series = parquet.read(columns=[name]).to_pandas()[name]  # the file's pandas types, as read_parquet's
        target = kept.get(name)
        if target is not None and series.dtype == target.dtype:
            target[...] = series.to_numpy()
            columns[name] = target
        else:
            columns[name] = series
        del series
    return pd.DataFrame(columns, copy=False)


#: The numpy types of columns :func:`spilled_table` keeps on disk (pandas' metadata names them so).
_NUMBERS = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "bool"}
)


def _reserve(fd: int, nbytes: int) -> None:
    """The file's ``nbytes`` given disk blocks now (``posix_fallocate``); where the system has no such call, its
    length set (a sparse file: a full disk then shows at a write)."""
    allocate = getattr(os, "posix_fallocate", None)
    if allocate is not None:
        allocate(fd, 0, nbytes)
    else:  # pragma: no cover - macOS, Windows
        os.ftruncate(fd, nbytes)
