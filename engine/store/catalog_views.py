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

A statement a user runs (``seesaw runs query``) reads numbers from those files, so the files behind the
views it names are checked first (:func:`unsound_files`): one whose size or CRC-32 is not what its run's
``run.json`` (a sweep's ``sweep.json``) records (cut short, changed on disk, replaced by another run's:
:mod:`engine.store.run_check`), or that is missing, is left out of the views the statement runs on, and named,
instead of read as numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from engine.errors import StoreError
from engine.store.parquet_check import whole_parquet
from engine.store.readonly import RUN_TABLES
from engine.store.run_check import AGAIN, check_file, read_checked, sums_of
from engine.sweep_columns import SWEEP_COLUMNS

__all__ = ["RUN_FILES_SCHEMA", "file_schemas", "refresh_views", "unsound_files"]

#: The table of each indexed run's Parquet files and their schema keys.
RUN_FILES_SCHEMA = "CREATE TABLE IF NOT EXISTS run_files (run_id VARCHAR, table_name VARCHAR, schema_key VARCHAR);"
#: The view over every indexed sweep's ``combos.parquet``.
SWEEP_VIEW = "sweep_combos"
#: Each view with no file to read yet (no run, or no sweep, stored): empty, with the columns every such file has
#: (the others' ``run_id`` and ``date``; columns named after assets, signals or sweep keys come with the files).
_EMPTY = {
    "equity": "run_id VARCHAR, date DATE, value DOUBLE, cash DOUBLE, cash_index DOUBLE",
    "weights": "run_id VARCHAR, date DATE, rule BIGINT",
    "trades": "run_id VARCHAR, date DATE, asset VARCHAR, side VARCHAR, quantity DOUBLE, price DOUBLE, value DOUBLE, "
    "fees DOUBLE, quoted_price DOUBLE",
    SWEEP_VIEW: "sweep_id VARCHAR, combo BIGINT, "
    + ", ".join(f"{c} {'BIGINT' if c == 'trades' else 'DOUBLE'}" for c in SWEEP_COLUMNS),
}
#: Each indexed run's directory and the tables it has a file of: the files behind the views.
_VIEW_FILES = (
    "SELECT r.run_dir, f.table_name FROM run_files AS f JOIN runs AS r USING (run_id) ORDER BY r.run_id, f.table_name"
)


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


def refresh_views(con: Any, leave_out: Collection[str] = ()) -> None:
    """(Re)create one view per table of :data:`RUN_TABLES` over the indexed runs' files (module
    docstring), and ``sweep_combos`` over the indexed sweeps' ``combos.parquet``; the files ``leave_out``
    (paths as :func:`unsound_files` names them) are not read."""
    sweep_dirs = [r[0] for r in con.execute("SELECT sweep_dir FROM sweeps ORDER BY sweep_id").fetchall()]
    files = [
        f for f in (os.path.join(d, "combos.parquet") for d in sweep_dirs) if f not in leave_out and whole_parquet(f)
    ]
    if files:
        con.execute(
            "CREATE OR REPLACE VIEW sweep_combos AS SELECT "
            "regexp_extract(filename, '([^/]+)/combos\\.parquet$', 1) AS sweep_id, * EXCLUDE (filename) "
            f"FROM read_parquet([{_listed(files)}], filename = true, union_by_name = true)"
        )
    else:
        con.execute(f"CREATE OR REPLACE VIEW sweep_combos AS {_empty(SWEEP_VIEW)}")
    groups: dict[str, list[list[str]]] = {table: [] for table in RUN_TABLES}
    rows = con.execute(
        "SELECT f.table_name, list(r.run_dir ORDER BY r.run_id) FROM run_files AS f JOIN runs AS r USING (run_id) "
        "GROUP BY f.table_name, f.schema_key ORDER BY f.table_name, min(r.run_id)"
    ).fetchall()
    for table, run_dirs in rows:
        found = [os.path.join(d, f"{table}.parquet") for d in run_dirs]
        # a file deleted or damaged by hand is left out, not an error
        found = [f for f in found if f not in leave_out and whole_parquet(f)]
        if found and table in groups:
            groups[table].append(found)
    for table, parts in groups.items():
        if not parts:
            con.execute(f"CREATE OR REPLACE VIEW {table} AS {_empty(table)}")
            continue
        selects = [
            f"SELECT regexp_extract(filename, '([^/]+)/{table}\\.parquet$', 1) AS run_id, * EXCLUDE (filename) "
            f"FROM read_parquet([{_listed(part)}], filename = true)"
            for part in parts
        ]
        con.execute(f"CREATE OR REPLACE VIEW {table} AS {' UNION ALL BY NAME '.join(selects)}")


def _empty(view: str) -> str:
    """A query of no rows with the columns every file of ``view`` has (:data:`_EMPTY`)."""
    columns = [column.rsplit(" ", 1) for column in _EMPTY.get(view, "run_id VARCHAR, date DATE").split(", ")]
    return "SELECT " + ", ".join(f"NULL::{kind} AS {name}" for name, kind in columns) + " WHERE false"


def _views_read(sql: str, names: set[str] | None) -> list[str]:
    """The views over stored files (:data:`RUN_TABLES`, ``sweep_combos``) that ``sql`` reads, from the tables it
    names as DuckDB parses it (``names``, :func:`_table_names`; a CTE named like a view counts too, which only
    checks more files).  A statement with a table function (``read_parquet`` of a stored file by its path) may read
    any stored file: every view.  One DuckDB cannot serialise (``names`` None): every view whose name is a word
    of it."""
    if names is None:
        names = {word.lower() for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}
    return [view for view in (*RUN_TABLES, SWEEP_VIEW) if view in names or "" in names]


def _table_names(sql: str) -> set[str] | None:
    """The tables ``sql`` names, lower-cased, as DuckDB parses it (``json_serialize_sql``, after a leading
    ``EXPLAIN``), "" for a table function; None when DuckDB cannot serialise it."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        query = re.sub(r"(?is)^\s*explain(\s+analyze)?\s", "", sql)
        row = con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
        tree = json.loads(row[0]) if row is not None else {"error": True}
    except duckdb.Error:
        return None
    finally:
        con.close()
    if tree.get("error"):
        return None
    refs: list[tuple[str, str]] = []
    _table_refs(tree, refs)
    return {"" if kind == "TABLE_FUNCTION" else name.lower() for kind, name in refs}


def _table_refs(node: Any, out: list[tuple[str, str]]) -> None:
    """Every (BASE_TABLE or TABLE_FUNCTION, table name) in DuckDB's serialised parse tree ``node``."""
    if isinstance(node, dict):
        if node.get("type") in ("BASE_TABLE", "TABLE_FUNCTION"):
            out.append((node["type"], str(node.get("table_name") or "")))
        for value in node.values():
            _table_refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _table_refs(value, out)


def unsound_files(
    query: Callable[[str], tuple[list[str], list[tuple]]], sql: str, warn: Callable[[str, str], None] | None = None
) -> dict[str, str]:
    """{file: why (one line, naming the file in its directory)} of the Parquet files behind the views ``sql``
    names (:func:`_views_read`) that are not as their run (or sweep) wrote them: of another size or CRC-32 than
    its ``run.json`` (``sweep.json``) records, or missing or unreadable; one written before those recorded the
    sums, by Parquet's magic bytes.  ``query``: the catalog's read-only query (it lists the files).  Reads each
    such file through: about 0.4 ms a megabyte.  ``warn(file, why)`` is told of each."""
    named = _table_names(sql)  # parsed once: the views it reads, and those it names as tables
    views = _views_read(sql, named)
    files: dict[str, tuple[str, list[str]]] = {}  # each directory: who wrote it, and its files to check
    for run_dir, table in query(_VIEW_FILES)[1] if set(views) - {SWEEP_VIEW} else ():
        if table in views:
            files.setdefault(run_dir, ("run", []))[1].append(f"{table}.parquet")
    for (sweep_dir,) in query("SELECT sweep_dir FROM sweeps")[1] if SWEEP_VIEW in views else ():
        files[sweep_dir] = ("sweep", ["combos.parquet"])
    out = {}
    for where, (writer, names) in files.items():
        again = AGAIN if writer == "run" else "--force computes it again"
        try:
            manifest = json.loads(read_checked(Path(where), f"{writer}.json", {}))
            sums = sums_of(Path(where), manifest, doc=f"{writer}.json", writer=writer, again=again)
        except (StoreError, ValueError):  # unreadable since it was indexed: its files by their bytes
            sums = {}
        for name in names:
            file = os.path.join(where, name)
            try:
                if name in sums:
                    check_file(Path(where), name, sums, writer=writer, again=again)
                elif not whole_parquet(file):
                    out[file] = f"{name} is missing, or not a whole Parquet file"
            except StoreError as err:
                out[file] = err.message
            if file in out and warn is not None:
                warn(file, out[file])
    for view in (v for v in views if v in (named or ())):  # a view it names left empty: one line, not "does not exist"
        behind = [
            os.path.join(where, name)
            for where, (writer, names) in files.items()
            for name in names
            if (SWEEP_VIEW if writer == "sweep" else name.removesuffix(".parquet")) == view
        ]
        if behind and all(f in out for f in behind):
            raise StoreError(
                f"every stored file behind the view {view} is left out (damaged or missing: the warnings name "
                "them); run their configs again with --force",
                expected="a query of views with files as their runs wrote them",
            )
    return out


def _listed(files: list[Path] | list[str]) -> str:
    """``files`` as a SQL list of string literals."""
    return ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
