"""The results catalog's tables: their schema and its version, and the statements that fill them.

The catalog is derived data (:mod:`engine.store.catalog`): a file of an older schema is dropped and rebuilt
from the run directories, and reads of a missing or stale one copy its tables into memory first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from engine.metrics.specs import CATALOG_COLUMNS, spec
from engine.store.catalog_views import RUN_FILES_SCHEMA

__all__ = [
    "METRIC_COLUMNS", "METRIC_JSON", "RUN_COLUMNS", "SCHEMA_VERSION", "copy_tables", "ensure_schema", "insert_rows",
    "transaction",
]  # fmt: skip

RUN_COLUMNS = (
    "run_id", "config_name", "config_hash", "data_fingerprint", "data_source", "symbols", "synthetic",
    "seesaw_version", "code_hash", "input_key", "loaded_key", "start", "end", "created_at", "status", "run_dir",
)  # fmt: skip
METRIC_COLUMNS = ("kind", "name", "start", "end", *CATALOG_COLUMNS)
_FLOATS = {c for c in CATALOG_COLUMNS if spec(c).fmt != "int"}
_INTS = set(CATALOG_COLUMNS) - _FLOATS
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, config_name VARCHAR, config_hash VARCHAR, data_fingerprint VARCHAR,
    data_source VARCHAR, symbols VARCHAR, synthetic BOOLEAN, seesaw_version VARCHAR, code_hash VARCHAR,
    input_key VARCHAR, loaded_key VARCHAR, start DATE, "end" DATE,
    created_at TIMESTAMPTZ, status VARCHAR, run_dir VARCHAR);
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id VARCHAR PRIMARY KEY, config_name VARCHAR, combinations BIGINT, keys VARCHAR,
    data_fingerprint VARCHAR, data_source VARCHAR, synthetic BOOLEAN, code_hash VARCHAR,
    start DATE, "end" DATE, created_at TIMESTAMPTZ, status VARCHAR, pbo DOUBLE, best_dsr DOUBLE,
    simulator VARCHAR, sweep_dir VARCHAR);
CREATE TABLE IF NOT EXISTS metrics (
    run_id VARCHAR, synthetic BOOLEAN, position INTEGER, kind VARCHAR, name VARCHAR, start DATE, "end" DATE,
    {", ".join(f"{c} DOUBLE" for c in METRIC_COLUMNS if c in _FLOATS)},
    {", ".join(f"{c} BIGINT" for c in METRIC_COLUMNS if c in _INTS)}, avg_weight VARCHAR, decisions VARCHAR,
    financing VARCHAR);
{RUN_FILES_SCHEMA}
"""

#: Bump when the tables change: the catalog is derived data, so an old one is dropped and rebuilt.
SCHEMA_VERSION = 12

#: The metrics columns held as JSON text (null: none).
METRIC_JSON = ("avg_weight", "decisions", "financing")


def insert_rows(con: Any, table: str, columns: Sequence[str], rows: list[list[Any]]) -> None:
    """``rows`` (each a value per column of ``columns``) inserted into ``table`` by one statement."""
    if not rows:
        return
    one = f"({', '.join('?' * len(columns))})"
    names = ", ".join(f'"{c}"' for c in columns)
    con.execute(f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(rows))}", [v for r in rows for v in r])


def ensure_schema(con: Any) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or row[0] != str(SCHEMA_VERSION):
        con.execute(
            "DROP TABLE IF EXISTS runs; DROP TABLE IF EXISTS metrics; DROP TABLE IF EXISTS sweeps; "
            "DROP TABLE IF EXISTS run_files"
        )
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    con.execute(_SCHEMA)


@contextlib.contextmanager
def transaction(con: Any) -> Iterator[None]:
    """All statements of one indexing step commit together, or not at all (a kill rolls back)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def copy_tables(con: Any, db_path: Path) -> None:
    """Copy the catalog file's tables into the in-memory ``con`` when its schema is the current one."""
    import duckdb

    try:
        con.execute(f"ATTACH '{str(db_path).replace(chr(39), chr(39) * 2)}' AS disk (READ_ONLY)")
    except duckdb.Error:
        return  # unreadable: rebuilt from the directories alone
    try:
        row = con.execute("SELECT value FROM disk.meta WHERE key = 'schema_version'").fetchone()
        if row is not None and row[0] == str(SCHEMA_VERSION):
            for table in ("runs", "metrics", "sweeps", "run_files"):
                con.execute(f"INSERT INTO {table} SELECT * FROM disk.{table}")
    except duckdb.Error:
        pass  # an old or foreign schema: rebuilt from the directories alone
    finally:
        con.execute("DETACH disk")
