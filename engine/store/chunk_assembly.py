"""A sweep's table and block sums put together in grid order, one chunk at a time.

Each chunk of a sweep is a frame of rows (``combo``, the swept keys, the metrics) and two
(blocks, rows) arrays of block sums, for combinations scattered over the grid.  :class:`ChunkAssembly`
writes each chunk's rows and sums straight into their grid positions as the chunk finishes (or, when
a stopped sweep resumes, as its file is read back), so the finished table is the arrays filled here:
no chunk is read back after it ran, and no per-chunk frames are joined and sorted.  On a million
combinations (10,000 chunks), reading the chunks back and joining them took about 20 s and left
about 300 MB of the small frames' memory behind.

Given a directory (the sweep's staging directory), the arrays are kept in unnamed files there
(:func:`engine.store.spill.spilled_arrays`: one for the block sums, one for the columns) rather than in
memory, so a grid's size is bounded by the disk, not by the memory free; columns of Python objects (strings)
stay in memory.

Column types are the first chunk's; a later chunk whose column has a wider type (a float where the
first had integers) widens the column, never the reverse, so no value is cast to a narrower type.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import StoreError
from engine.store.readonly import first_line
from engine.store.spill import spilled_arrays

__all__ = ["ChunkAssembly"]


class ChunkAssembly:
    """Rows and block sums of a sweep of ``size`` combinations, ``n_blocks`` blocks of dates.

    ``blocks`` is the dict the sweep stores as ``blocks.npz``: ``sum`` and ``sq`` (n_blocks, size), and
    ``n`` (n_blocks,) dates per block.  Sums of a combination no chunk has filled are undefined.
    """

    def __init__(self, size: int, n_blocks: int, spill: Path | None = None) -> None:
        self._spill = spill
        self.filled = np.zeros(size, dtype=bool)
        block_sum, block_sq = self._arrays([((n_blocks, size), np.float64)] * 2)
        self.blocks = {"sum": block_sum, "sq": block_sq, "n": np.zeros(n_blocks)}
        self._columns: dict[str, np.ndarray] = {}
        self._dtypes: dict[str, Any] = {}  # pandas dtypes of the first chunk, given back by table()

    def add(self, frame: pd.DataFrame, block_sum: np.ndarray, block_sq: np.ndarray, block_n: np.ndarray) -> None:
        """One chunk: ``frame``'s rows (a ``combo`` column of grid positions) and their block sums, column
        j of the sums for row j of the frame."""
        where = frame["combo"].to_numpy()
        if not self._columns:
            types = {name: column.to_numpy().dtype for name, column in frame.items()}
            self._dtypes = {name: column.dtype for name, column in frame.items()}
            arrays = self._arrays([((len(self.filled),), dtype) for dtype in types.values()])
            self._columns = dict(zip(types, arrays, strict=True))
        if list(frame.columns) != list(self._columns):
            raise ValueError(f"chunk columns {list(frame.columns)} differ from {list(self._columns)}")
        for name, column in frame.items():
            values = column.to_numpy()
            target = self._columns[name]
            wider = np.result_type(target.dtype, values.dtype)
            if wider != target.dtype:
                target = self._columns[name] = self._widened(target, wider)
                self._dtypes[name] = wider
            target[where] = values
        self.blocks["sum"][:, where] = block_sum
        self.blocks["sq"][:, where] = block_sq
        self.blocks["n"] = np.asarray(block_n, dtype=float)
        self.filled[where] = True

    def _arrays(self, specs: list[tuple[tuple[int, ...], Any]]) -> list[np.ndarray]:
        """Uninitialised arrays of the ``(shape, dtype)`` of ``specs``: in one file in the spill directory when
        there is one (:func:`engine.store.spill.spilled_arrays`), but those of Python objects, in memory."""
        spill = self._spill
        on_disk = [i for i, (_, dtype) in enumerate(specs) if spill is not None and not np.dtype(dtype).hasobject]
        mapped = dict(zip(on_disk, spilled_arrays(spill, [specs[i] for i in on_disk]), strict=True)) if spill else {}
        return [mapped[i] if i in mapped else np.empty(shape, dtype=dtype) for i, (shape, dtype) in enumerate(specs)]

    def _widened(self, values: np.ndarray, dtype: Any) -> np.ndarray:
        """``values`` as the wider ``dtype``, kept where :meth:`_arrays` keeps it."""
        (wider,) = self._arrays([(values.shape, dtype)])
        wider[...] = values
        return wider

    def read(self, table_path: Path, blocks_path: Path) -> None:
        """A chunk saved to disk: its rows (Parquet) and its block sums (``.npz``, columns in ``index`` order).

        An unreadable chunk, or one whose two files disagree, is a :class:`StoreError` naming the file
        (delete the sweep's ``.partial-*`` directory, or run with ``--force``, to compute it again)."""
        try:
            frame = pd.read_parquet(table_path)
            with open(blocks_path, "rb") as fh, np.load(fh) as z:  # np.load leaves its own file open on a bad zip
                index, block_sum, block_sq, block_n = z["index"], z["sum"], z["sq"], z["n"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:  # a file cut short: not a zip
            why = first_line(exc)
            raise StoreError(
                f"cannot read a stored sweep chunk ({why}); run the sweep with --force", file=str(table_path)
            ) from None
        if "combo" not in frame or not np.array_equal(index, frame["combo"].to_numpy()):
            raise StoreError(
                f"the chunk's block sums ({blocks_path.name}) are not for its rows; run the sweep with --force",
                file=str(table_path),
            )
        self.add(frame, block_sum, block_sq, block_n)

    def table(self) -> pd.DataFrame:
        """The filled rows in grid order; when every row is filled, a frame over the arrays themselves."""
        every = bool(self.filled.all())
        rows = np.flatnonzero(self.filled)
        data = {name: values if every else values[rows] for name, values in self._columns.items()}
        frame = pd.DataFrame(data, copy=False)
        for name, dtype in self._dtypes.items():
            if frame[name].dtype != dtype:  # e.g. strings, kept as objects while filling
                frame[name] = frame[name].astype(dtype)
        return frame
