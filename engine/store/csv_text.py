"""A run's table as CSV text: byte for byte what ``frame.to_csv(index=False, lineterminator="\\n")`` writes.

pandas writes each float64 as numpy's ``astype(str)`` does: the shortest string that reads back as the
same number, with an exponent below 1e-4 and from 1e16 on, which is Python's ``repr`` of the float;
then the standard library's ``csv.writer`` (minimal quoting) joins the cells.  Both cost about half
a microsecond a number, which made most of the time of writing a run's four CSV files.  Here the rows
are written by one compiled pass: float64 cells by :func:`engine.store.float_text.write_float` (NaN as
the empty string, pandas' default ``na_rep``), the other cells copied from text made beforehand:
int64 and bool columns with ``str``, text columns as they are, a text cell the writer would quote
(one holding a comma, a quote or a line break) quoted by the writer itself.
A frame with a column of any other type, a column name that is not text, or a single column (whose
empty cells the writer quotes) is written by pandas.
``tests/unit/test_csv_text.py`` compares the bytes with pandas' on generated frames and on frames
shaped like a run's tables.
"""

from __future__ import annotations

import csv
import io
import re

import numba
import numpy as np
import pandas as pd

from engine.store.float_text import WIDEST, write_float

__all__ = ["csv_text"]

#: Characters that can make the ``csv`` writer quote a cell (the delimiter, the quote and line breaks).
_NEEDS_WRITER = re.compile('[,"\r\n]')


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as pandas' CSV text without the index, ``\\n`` line ends (module docstring)."""
    n_cols = frame.shape[1]
    columns = [_column(frame.iloc[:, i]) for i in range(n_cols)]
    if n_cols < 2 or any(c is None for c in columns) or not all(isinstance(c, str) for c in frame.columns):
        return frame.to_csv(index=False, lineterminator="\n")
    header = ",".join(_quoted(str(name)) for name in frame.columns) + "\n"
    if len(frame) == 0:
        return header
    n = len(frame)
    floats: list[np.ndarray] = []
    texts: list[list[str]] = []
    kinds = np.empty(n_cols, dtype=np.int64)  # a float column's row in values, or -1 - a text column's
    for i, c in enumerate(columns):
        if isinstance(c, np.ndarray):
            kinds[i] = len(floats)
            floats.append(c)
        elif c is not None:
            kinds[i] = -1 - len(texts)
            texts.append(c)
    cells = [cell for column in texts for cell in column]
    joined = "".join(cells)
    ascii_only = joined.isascii()
    # UTF-8 bytes, a lone surrogate (which a Python string may hold) passed through and restored at the end
    sizes = map(len, cells) if ascii_only else (len(cell.encode("utf-8", "surrogatepass")) for cell in cells)
    lengths = np.fromiter(sizes, dtype=np.int64, count=len(cells))
    starts = np.cumsum(lengths) - lengths
    text = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    values = (np.stack(floats) if floats else np.empty((0, n))).view(np.uint64)
    out = np.empty(n * (n_cols + len(floats) * WIDEST) + len(text), dtype=np.uint8)
    end = _rows_nb(n, kinds, values, text, starts.reshape(len(texts), n), lengths.reshape(len(texts), n), out)
    return header + out[:end].tobytes().decode("ascii" if ascii_only else "utf-8", "surrogatepass")


def _column(column: pd.Series) -> np.ndarray | list[str] | None:
    """One column's float64 values, or its cells as text, or None for a type left to pandas."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype == np.float64:
            return column.to_numpy()
        if dtype == np.int64:
            return list(map(str, column.to_numpy().tolist()))
        if dtype == np.bool_:
            return ["True" if x else "False" for x in column.to_numpy().tolist()]
        return None
    if isinstance(dtype, pd.StringDtype):
        cells: list[str] = column.to_numpy(dtype=object, na_value="").tolist()
        return [_quoted(x) for x in cells] if _NEEDS_WRITER.search("".join(cells)) else cells
    return None


def _quoted(cell: str) -> str:
    """``cell`` as the ``csv`` writer writes it in a row of several cells (minimal quoting)."""
    if not _NEEDS_WRITER.search(cell):
        return cell
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([cell, ""])
    return out.getvalue()[: -len(",\n")]


@numba.njit(cache=True, nogil=True)
def _rows_nb(n, kinds, values, text, starts, lengths, out):  # pragma: no cover - compiled
    """Write the n rows into ``out``; return the length.  Column c is float row ``kinds[c]`` of ``values``
    (bits) when ``kinds[c] >= 0``, else text column t = -1 - kinds[c], whose cell r is ``lengths[t, r]``
    bytes of ``text`` from ``starts[t, r]``."""
    digits = np.empty(17, dtype=np.uint8)
    pos = 0
    for r in range(n):
        for c in range(len(kinds)):
            if c > 0:
                out[pos] = 44  # ","
                pos += 1
            kind = kinds[c]
            if kind >= 0:
                pos = write_float(values[kind, r], out, pos, digits)
            else:
                t = -1 - kind
                start = starts[t, r]
                for j in range(lengths[t, r]):
                    out[pos + j] = text[start + j]
                pos += lengths[t, r]
        out[pos] = 10  # "\n"
        pos += 1
    return pos
