"""A run's table as CSV text: byte for byte what ``frame.to_csv(index=False, lineterminator="\\n")`` writes.

pandas turns a float column into text with numpy's ``astype(str)``, which took most of the time of
writing a run's four CSV files (about 1 s of the 1.6 s they took for the 15 shipped configs, under
cProfile).  For a float64 that text is the shortest string that reads back as the same number, with exponent
notation below 1e-4 and from 1e16 on: what Python's ``repr`` of the float gives, at a fraction of
the cost.  So float64 columns are formatted with ``repr`` (NaN as the empty string, pandas'
default ``na_rep``), int64 and bool columns with ``str``, text columns as they are, by the writer
pandas itself uses (the standard library's ``csv.writer``, minimal quoting), which formats floats
with ``repr`` and other numbers with ``str``.
A frame with a column of any other type, or a column name that is not text, is written by pandas.
``tests/unit/test_csv_text.py`` compares the bytes with pandas' on generated frames and on frames
shaped like a run's tables.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

__all__ = ["csv_text"]


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as pandas' CSV text without the index, ``\\n`` line ends (module docstring)."""
    columns = [_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if not columns or any(c is None for c in columns) or not all(isinstance(c, str) for c in frame.columns):
        return frame.to_csv(index=False, lineterminator="\n")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(frame.columns)
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def _cells(column: pd.Series) -> list[object] | None:
    """One column's cells for the writer, or None for a type left to pandas.

    The writer formats a float with ``repr`` and an int or bool with ``str`` itself (in C, a tenth
    faster than formatting them here), and writes None as the empty field, pandas' ``na_rep``.
    """
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype == np.float64:
            values = column.to_numpy()
            cells: list[object] = values.tolist()
            for i in np.flatnonzero(np.isnan(values)).tolist():
                cells[i] = None
            return cells
        if dtype == np.int64 or dtype == np.bool_:
            return column.to_numpy().tolist()
        return None
    if isinstance(dtype, pd.StringDtype):
        return [x if isinstance(x, str) else None for x in column.to_numpy(dtype=object).tolist()]
    return None
