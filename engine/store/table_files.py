"""A run's tables as its files hold them: Parquet with typed dates, CSV text, each labelled when synthetic.

Every Parquet file stores ``date`` as a typed date (Arrow ``date32``, DuckDB ``DATE``); the CSV files hold
the same dates as ``YYYY-MM-DD`` text (:mod:`engine.store.csv_text`).  A table of synthetic data says so
when read apart from its run: a CSV file ends in a column ``synthetic`` (``True`` on every row), a Parquet
file holds :data:`~engine.data.base.SYNTHETIC_LABEL` under the key :data:`LABEL_KEY` of its metadata (a sweep's
``combos.parquet`` too, :func:`labelled`).  A table of market data has neither.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.data.base import SYNTHETIC_LABEL
from engine.store.csv_text import csv_text

__all__ = ["LABEL_KEY", "csv_file", "labelled", "parquet_bytes", "parquet_table", "parsed_text"]

#: The key of a Parquet file's metadata that holds :data:`~engine.data.base.SYNTHETIC_LABEL` when its data is
#: generated (absent otherwise).
LABEL_KEY = b"seesaw.data"


def parquet_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table, its ``date`` column (``YYYY-MM-DD`` text or datetimes) a typed ``date32``.

    Without pandas' schema metadata: it would turn the dates back into the frame's text when read.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    if "date" in frame.columns:
        i = table.schema.get_field_index("date")
        dates = parsed_text(table.column(i), pa.date32())
        if dates is None:
            dates = pa.array(pd.to_datetime(frame["date"], format="ISO8601").to_numpy(dtype="datetime64[D]"))
        table = table.set_column(i, pa.field("date", pa.date32()), dates.cast(pa.date32()))
    return table


def parsed_text(text: pa.Array | pa.ChunkedArray, to: pa.DataType) -> pa.Array | pa.ChunkedArray | None:
    """``YYYY-MM-DD`` text parsed by Arrow (six times faster than pandas), or None when it is not all such text."""
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)) or text.null_count:
        return None
    try:
        return text.cast(to)
    except pa.ArrowInvalid:
        return None


def labelled(table: pa.Table, synthetic: bool) -> pa.Table:
    """``table`` with :data:`LABEL_KEY` in its metadata when its data is ``synthetic`` (else as it is)."""
    if not synthetic:
        return table
    return table.replace_schema_metadata({**(table.schema.metadata or {}), LABEL_KEY: SYNTHETIC_LABEL.encode()})


def parquet_bytes(frame: pd.DataFrame, synthetic: bool) -> bytes:
    """A run's Parquet file of ``frame``: :func:`parquet_table`, :func:`labelled`."""
    sink = pa.BufferOutputStream()
    pq.write_table(labelled(parquet_table(frame), synthetic), sink)
    return bytes(sink.getvalue().to_pybytes())


def csv_file(frame: pd.DataFrame, synthetic: bool) -> str:
    """A run's CSV text of ``frame``: a last column ``synthetic`` (``True``) when its data is ``synthetic``."""
    return csv_text(frame.assign(synthetic=True) if synthetic else frame)
