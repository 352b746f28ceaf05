"""The catalog's views over the run directories' Parquet files, and what they need to be built quickly.

A view such as ``equity`` lists the files of the indexed runs explicitly (never a glob, so a staging
directory or another writer's half-written file is never read).  Runs of different configs have
different columns (one per asset), so the files cannot be read as one table by position.  Reading
them with DuckDB's ``union_by_name`` made DuckDB open every listed file's footer each time a view was
created: with 1,200 stored runs, 0.45 s of every command that writes.  So the catalog keeps, for each
run and table, a key of the file's schema (its column names and types, in order, read once when the
run is indexed: table ``run_files``), and a view is the ``UNION ALL BY NAME`` of one ``read_parquet``
per distinct schema, each of which DuckDB binds from its first file.  The columns (and their order
and types) and the rows are those ``union_by_name`` over the same files gives: the groups come in
the order of their first run, and within a group every file has the same schema.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from engine.store.parquet_check import whole_parquet
from engine.store.readonly import RUN_TABLES

__all__ = ["RUN_FILES_SCHEMA", "file_schemas", "refresh_views"]

#: The table of each indexed run's Parquet files and their schema keys.
RUN_FILES_SCHEMA = "CREATE TABLE IF NOT EXISTS run_files (run_id VARCHAR, table_name VARCHAR, schema_key VARCHAR);"


def file_schemas(run_dir: Path) -> list[tuple[str, str]]:
    """(table, schema key) of each of :data:`RUN_TABLES` whose Parquet file ``run_dir`` holds (a file that is
    missing or cannot be read as Parquet is left out, as it would fail every query of its view)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = []
    for table in RUN_TABLES:
        path = run_dir / f"{table}.parquet"
        try:
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException):  # missing, or not Parquet (damaged by hand): left out of the views
            continue
        text = "\n".join(f"{field.name}\t{field.type}" for field in schema)
        out.append((table, hashlib.sha256(text.encode()).hexdigest()[:16]))
    return out


def refresh_views(con: Any) -> None:
    """(Re)create one view per table of :data:`RUN_TABLES` over the indexed runs' files (module
    docstring), and ``sweep_combos`` over the indexed sweeps' ``combos.parquet``."""
    sweep_dirs = [Path(r[0]) for r in con.execute("SELECT sweep_dir FROM sweeps ORDER BY sweep_id").fetchall()]
    files = [d / "combos.parquet" for d in sweep_dirs if whole_parquet(d / "combos.parquet")]
    if files:
        con.execute(
            "CREATE OR REPLACE VIEW sweep_combos AS SELECT "
            "regexp_extract(filename, '([^/]+)/combos\\.parquet$', 1) AS sweep_id, * EXCLUDE (filename) "
            f"FROM read_parquet([{_listed(files)}], filename = true, union_by_name = true)"
        )
    else:
        con.execute("DROP VIEW IF EXISTS sweep_combos")
    groups: dict[str, list[list[str]]] = {table: [] for table in RUN_TABLES}
    rows = con.execute(
        "SELECT f.table_name, list(r.run_dir ORDER BY r.run_id) FROM run_files AS f JOIN runs AS r USING (run_id) "
        "GROUP BY f.table_name, f.schema_key ORDER BY f.table_name, min(r.run_id)"
    ).fetchall()
    for table, run_dirs in rows:
        found = [os.path.join(d, f"{table}.parquet") for d in run_dirs]
        found = [f for f in found if whole_parquet(f)]  # a file deleted or damaged by hand is left out, not an error
        if found and table in groups:
            groups[table].append(found)
    for table, parts in groups.items():
        if not parts:
            con.execute(f"DROP VIEW IF EXISTS {table}")
            continue
        selects = [
            f"SELECT regexp_extract(filename, '([^/]+)/{table}\\.parquet$', 1) AS run_id, * EXCLUDE (filename) "
            f"FROM read_parquet([{_listed(part)}], filename = true)"
            for part in parts
        ]
        con.execute(f"CREATE OR REPLACE VIEW {table} AS {' UNION ALL BY NAME '.join(selects)}")


def _listed(files: list[Path] | list[str]) -> str:
    """``files`` as a SQL list of string literals."""
    return ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
