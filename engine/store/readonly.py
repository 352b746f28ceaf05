"""What a read of the results catalog may do: one statement, on a sealed connection, with a row cap.

``seesaw runs query`` runs a user's SQL on the catalog (:class:`engine.store.catalog.Catalog`);
every reading connection is sealed first (:func:`seal`), so the statement sees the catalog's tables
and the Parquet files its views list, and nothing else.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from engine.errors import StoreError

__all__ = ["CONNECT_CONFIG", "MAX_QUERY_ROWS", "RUN_TABLES", "check_read_only_sql", "first_line", "read", "seal"]

#: The Parquet files of a run directory that the catalog's views read.
RUN_TABLES = ("equity", "weights", "trades", "benchmarks", "prices", "quotes", "signals", "fx")

#: ``seesaw runs query`` refuses a result larger than this (a LIMIT keeps it small).
MAX_QUERY_ROWS = 1_000_000
#: What a reading connection may use: DuckDB's memory limit and threads.
_READ_MEMORY_LIMIT = "2GB"
_ALLOWED_STATEMENTS = ("SELECT", "EXPLAIN")


#: DuckDB never installs or loads an extension behind the catalog's back.
CONNECT_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def check_read_only_sql(sql: str, *, file: str | None = None) -> None:
    """Refuse anything but one ``SELECT`` (``WITH``, ``FROM``, ``DESCRIBE``, ``SHOW``, ``VALUES`` included)
    or ``EXPLAIN`` statement: no ``COPY``, ``EXPORT``, ``ATTACH``, ``INSTALL``, ``LOAD``, ``SET``,
    ``PRAGMA``, ``CALL`` or anything that writes.

    >>> check_read_only_sql("SELECT 1")
    >>> check_read_only_sql("COPY runs TO 'x.csv'")
    Traceback (most recent call last):
    ...
    engine.errors.StoreError: runs query takes one read-only SELECT statement, not COPY
    """
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise StoreError(f"query failed: {first_line(exc)}", file=file) from None
    if len(statements) != 1:
        raise StoreError(
            f"runs query takes one read-only SELECT statement, got {len(statements)} statements",
            file=file,
            expected="one SELECT statement",
        )
    try:
        kind = statements[0].type.name
    except ValueError:  # a statement type DuckDB's Python enum does not list (UPDATE EXTENSIONS): not a SELECT
        kind = "UNKNOWN"
    if kind == "MULTI":  # DuckDB makes a PIVOT without its values listed two statements (a type, then the query)
        raise StoreError(
            "runs query takes one read-only SELECT statement, and DuckDB runs this one as several: a PIVOT names "
            "the values it makes columns of (PIVOT runs ON data_source IN ('csv', 'synthetic') USING count(*))",
            file=file,
            expected="one SELECT statement",
        )
    if kind not in _ALLOWED_STATEMENTS:
        # DuckDB's type of INSTALL is LOAD, and UPDATE EXTENSIONS has none: those are named by their keywords
        text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", statements[0].query, flags=re.S)  # comments apart
        word = re.match(r"\s*((?:FORCE\s+)?INSTALL|UPDATE\s+EXTENSIONS)\b", text, re.I)
        said = " ".join(word.group(1).upper().split()) if word else kind
        raise StoreError(
            f"runs query takes one read-only SELECT statement, not {said}",
            file=file,
            expected="one SELECT statement",
        )


def seal(con: Any, leave_out: Collection[str] = ()) -> None:
    """Confine a read-only connection to the catalog: its tables and the Parquet files its views list (not the
    files ``leave_out``, which a statement then cannot read by their paths either).

    DuckDB's ``enable_external_access = false`` refuses every other file (``read_csv``, ``read_text``,
    ``glob``, ``COPY ... TO``, ``EXPORT DATABASE``, ``ATTACH``) and every extension install or load;
    ``allowed_paths`` lets the views read their own files; ``lock_configuration`` keeps a statement from
    undoing any of it.  Memory and threads are capped so one query cannot take the machine.
    """
    import duckdb

    files: list[str] = []
    with contextlib.suppress(duckdb.Error):  # an empty or old catalog has no such tables: nothing to allow
        for (run_dir,) in con.execute("SELECT run_dir FROM runs").fetchall():
            files += [str(Path(run_dir) / f"{t}.parquet") for t in RUN_TABLES]
    with contextlib.suppress(duckdb.Error):
        files += [str(Path(d) / "combos.parquet") for (d,) in con.execute("SELECT sweep_dir FROM sweeps").fetchall()]
    files = [f for f in files if f not in leave_out]
    if files:
        con.execute("SET allowed_paths = ?", [files])
    con.execute(f"SET memory_limit = '{_READ_MEMORY_LIMIT}'")
    con.execute("SET temp_directory = ''")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


#: DuckDB types whose Python value loses what their text says: an INTERVAL of months becomes days (14 months,
#: 420 days), a BLOB Python's bytes repr; such a value is read as DuckDB's text, in a list, struct or map too
#: (:func:`_text_leaves`).
_AS_TEXT = ("interval", "blob")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text_leaves(sql: str, kind: Any, depth: int = 0) -> str | None:
    """``sql``, an expression of DuckDB type ``kind``, with each INTERVAL and BLOB in it as DuckDB's text and the
    lists, structs and maps around them kept (so JSON shows them value by value); None when it holds neither.
    Any other type that holds one (a fixed-size array, a union) becomes its text as a whole."""
    if kind.id in _AS_TEXT:
        return f"CAST({sql} AS VARCHAR)"
    v = f"v{depth}"
    if kind.id == "list":
        inner = _text_leaves(v, kind.children[0][1], depth + 1)
        return None if inner is None else f"list_transform({sql}, lambda {v}: {inner})"
    if kind.id == "struct":
        parts = [(name, f"struct_extract({sql}, {_literal(name)})", t) for name, t in kind.children]
        shown = [(name, _text_leaves(field, t, depth), field) for name, field, t in parts]
        if all(text is None for _, text, _ in shown):
            return None
        packed = ", ".join(f'"{name.replace(chr(34), chr(34) * 2)}" := {text or field}' for name, text, field in shown)
        return f"CASE WHEN {sql} IS NULL THEN NULL ELSE struct_pack({packed}) END"
    if kind.id == "map":
        key, value = (_text_leaves(f"{v}.{part}", t, depth + 1) for part, t in kind.children)
        if key is None and value is None:
            return None
        entry = f"{{'key': {key or v + '.key'}, 'value': {value or v + '.value'}}}"
        return f"map_from_entries(list_transform(map_entries({sql}), lambda {v}: {entry}))"
    if any(t.upper() in str(kind) for t in _AS_TEXT):
        return f"CAST({sql} AS VARCHAR)"
    return None


def _without_final_semicolon(sql: str) -> str:
    """``sql`` cut before the ``;`` that ends it, if one does (a comment may follow it), to be a subquery."""
    import duckdb

    tokens = [(at, kind) for at, kind in duckdb.tokenize(sql) if kind != duckdb.token_type.comment]
    if tokens and sql[tokens[-1][0]] == ";":
        return sql[: tokens[-1][0]]
    return sql


def read(con: Any, sql: str, params: list[Any] | None, *, file: str) -> tuple[list[str], list[tuple]]:
    """Run ``sql`` on the sealed ``con``: (column names, rows); a one-line error for a refused or failed
    statement, or for more than :data:`MAX_QUERY_ROWS` rows."""
    import duckdb

    try:
        cur = con.execute(sql, params or [])
        if cur.description is None:
            return [], []
        columns = [d[0] for d in cur.description]
        names = [f"c{i}" for i in range(len(cur.description))]
        texts = [_text_leaves(c, d[1]) for c, d in zip(names, cur.description, strict=True)]
        if any(texts):  # Python's values would lose what DuckDB's text keeps: the same query, those values as text
            shown = ", ".join(text or c for c, text in zip(names, texts, strict=True))
            statement = _without_final_semicolon(sql)
            cur = con.execute(f"SELECT {shown} FROM ({statement}\n) AS q({', '.join(names)})", params or [])
        rows = cur.fetchmany(MAX_QUERY_ROWS + 1)
    except duckdb.PermissionException as exc:
        raise StoreError(
            f"query refused: {first_line(exc)} (a query reads only the catalog's tables and views)",
            file=file,
            expected="a query of the catalog's tables and views",
        ) from None
    except duckdb.Error as exc:
        raise StoreError(f"query failed: {first_line(exc)}", file=file) from None
    if len(rows) > MAX_QUERY_ROWS:
        raise StoreError(
            f"the query returns more than {MAX_QUERY_ROWS:,} rows",
            file=file,
            expected="a LIMIT, a WHERE or an aggregate",
        )
    return columns, rows
