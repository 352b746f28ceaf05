"""The results catalog: a DuckDB database indexing the run directories.

Design, for DuckDB's one-writer rule (a process holding the file for writing
blocks even read-only openers):

* The run directories are the source of truth.  Each is written to a staging
  directory and renamed into place (:mod:`engine.store.rundir`), with its
  Parquet files (``equity``, ``weights``, ``trades``, ``benchmarks``) and a
  ``run.json`` manifest.  Nothing is ever overwritten in place.
* ``seesaw.duckdb`` holds tables ``runs``, ``metrics`` and ``run_files``, rebuilt from the manifests, and a
  view over each kind of the runs' Parquet files (:mod:`engine.store.catalog_views`).  Every open of the
  database happens under a ``fcntl`` file lock next to it (exclusive to write, shared to read), so Seesaw
  processes never meet DuckDB's own lock; the lock dies with its process, so a killed writer cannot leave it held.
* Finished sweeps (``<results>/<config>/sweeps/<sweep-id>/sweep.json``) are indexed in a ``sweeps``
  table, and a view ``sweep_combos`` holds every combination of every indexed sweep.
* ``sync`` reconciles the tables with the directories: a run whose directory
  landed but whose process died before indexing it is added; rows whose
  directory is gone are dropped.  Every write path syncs first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from engine.errors import ConfigError, StoreError
from engine.store.catalog_schema import (
    METRIC_COLUMNS,
    METRIC_JSON,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    copy_tables,
    ensure_schema,
    insert_rows,
    transaction,
)
from engine.store.catalog_views import file_schemas, refresh_views, unsound_files
from engine.store.readonly import CONNECT_CONFIG, MAX_QUERY_ROWS, check_read_only_sql, read, seal
from engine.store.run_check import check_shapes, read_checked, sums_of
from engine.store.staging import clean_stale

__all__ = ["MANIFEST", "MAX_QUERY_ROWS", "Catalog", "check_read_only_sql", "default_store_path"]

MANIFEST = "run.json"

#: The columns a stored run's data is matched by (:meth:`Catalog.find`).
DataKey = Literal["data_fingerprint", "input_key", "loaded_key"]


#: Runs indexed by one statement (its parameters: about 16 per run and 31 per metrics row).
_ROWS_PER_STATEMENT = 200


def _forget(con: Any, run_ids: Sequence[str]) -> None:
    """Every row of the runs ``run_ids`` (in ``runs``, ``metrics`` and ``run_files``) deleted."""
    for start in range(0, len(run_ids), _ROWS_PER_STATEMENT):
        part = list(run_ids[start : start + _ROWS_PER_STATEMENT])
        marks = ", ".join("?" * len(part))
        for table in ("runs", "metrics", "run_files"):
            con.execute(f"DELETE FROM {table} WHERE run_id IN ({marks})", part)


def default_store_path(results_dir: Path, env: dict[str, str] | None = None) -> Path:
    """``$SEESAW_STORE`` if set, else ``<results_dir>/seesaw.duckdb``."""
    override = (env or {}).get("SEESAW_STORE")
    return Path(override) if override else results_dir / "seesaw.duckdb"


def _as_directory(text: str) -> Path | None:
    """``text`` as a run directory (one holding :data:`MANIFEST`), else None; a directory that is not one is
    refused naming it, and a name the system cannot look up (too long, not readable) is no directory."""
    path = Path(text)
    try:
        if (path / MANIFEST).is_file():
            return path
        directory = _spelled_as_path(text) and path.is_dir()
    except OSError:
        return None
    if directory:
        raise StoreError(f"{text!r} is a directory but not a run directory (it has no {MANIFEST})")
    if _spelled_as_path(text) and not path.exists():
        raise StoreError(f"{text!r}: no such run directory")
    return None


def _spelled_as_path(text: str) -> bool:
    """Whether ``text`` reads as a path (a separator, or ``.``/``..`` first) rather than a run id."""
    return "/" in text or os.sep in text or text.startswith(".")


class Catalog:
    """The DuckDB catalog at ``db_path`` over the run directories under ``results_dir``."""

    def __init__(self, db_path: Path, results_dir: Path) -> None:
        self.db_path = Path(db_path)
        self.results_dir = Path(results_dir)
        self.lock_path = self.db_path.with_name(self.db_path.name + ".lock")

    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[Any]:
        """A connection under the file lock; a reading one is sealed (:func:`engine.store.readonly.seal`) first.

        Only a writing connection creates anything (the directory, the lock, the database); a reading
        one opens an existing database read-only.
        """
        import duckdb

        with self._lock(write=write):
            try:
                con = duckdb.connect(str(self.db_path), read_only=not write, config=CONNECT_CONFIG)
            except duckdb.Error as exc:
                damaged = ("not a valid DuckDB database file", "Could not read enough bytes")  # or cut short
                if any(words in str(exc) for words in damaged):  # damaged, or another program's file
                    raise StoreError(
                        "the results store is not a DuckDB database: move it away, and the next command "
                        "rebuilds it from the run and sweep directories (it only indexes them)",
                        file=str(self.db_path),
                    ) from None
                raise StoreError(
                    f"cannot open the results store: {str(exc).splitlines()[0]} "
                    "(another program may hold it open; Seesaw's own processes take turns)",
                    file=str(self.db_path),
                ) from None
            try:
                if write:
                    ensure_schema(con)
                else:
                    seal(con)
                yield con
            except (duckdb.IOException, duckdb.TransactionException) as exc:
                if not write:
                    raise
                then = "the next command that can write it indexes them"
                if "Could not read enough bytes" in str(exc):  # cut short: no later writer could use it either
                    then = "it is damaged: move it away, and the next command rebuilds it from them"
                raise StoreError(  # a full disk, a read-only file: the catalog only indexes the directories
                    f"cannot write the results store: {str(exc).splitlines()[0]} (the run and sweep directories "
                    f"are kept: {then})",
                    file=str(self.db_path),
                ) from None
            finally:
                con.close()

    @contextlib.contextmanager
    def _lock(self, *, write: bool) -> Iterator[None]:
        """The ``fcntl`` lock next to the database: exclusive to write, shared to read.  A reader of a
        database that has no lock file yet (never written by Seesaw) reads without one."""
        if not write and not self.lock_path.exists():
            yield
            return
        try:
            if write:
                self.db_path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self.lock_path, "a+" if write else "r")  # noqa: SIM115 - held for the whole block
        except OSError as exc:
            raise StoreError(
                f"cannot open the results store lock: {exc.strerror or exc}", file=str(self.lock_path)
            ) from None
        with lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            yield

    def own_files(self) -> tuple[Path, ...]:
        """The catalog's files: the database, DuckDB's write-ahead log and temporary directory, the lock."""
        return tuple(self.db_path.with_name(self.db_path.name + s) for s in ("", ".wal", ".tmp", ".lock"))

    def check_name(self, name: str, file: str | None = None) -> None:
        """Refuse a config whose run directory (``<results>/<name>``) would be one of the catalog's files."""
        target = (self.results_dir / name).resolve()
        if any(target == p.resolve() for p in self.own_files()):
            raise ConfigError(
                f"name {name!r} is a file of the results store {self.db_path}",
                file=file,
                path="name",
                expected="a name that is not the store's file name",
                got=name,
            )

    # -- writing -------------------------------------------------------------------------------------------------

    def record(self, *run_dirs: Path) -> None:
        """Index landed run directories (and anything else not yet indexed), in one transaction of the lock."""
        with self._connect(write=True) as con, transaction(con):
            indexed = self._sync(con)[1]
            self._insert(con, [d for d in map(Path, run_dirs) if str(d.resolve()) not in indexed])
            refresh_views(con)

    def record_sweep(self, sweep_dir: Path) -> None:
        """Index a finished sweep directory (``<results>/<config>/sweeps/<sweep-id>``) and refresh the views."""
        with self._connect(write=True) as con, transaction(con):
            self._sync(con)
            self._insert_sweep(con, Path(sweep_dir))
            refresh_views(con)

    def _sweep_dirs(self) -> list[Path]:
        if not self.results_dir.is_dir():
            return []
        return sorted(
            p.parent for p in self.results_dir.glob("*/sweeps/*/sweep.json") if not p.parent.name.startswith(".")
        )

    def _insert_sweep(self, con: Any, sweep_dir: Path) -> None:
        try:
            manifest = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(manifest, dict) or manifest.get("status") != "complete" or "sweep_id" not in manifest:
            return  # not a finished sweep's (damaged by hand): not indexed, as a sweep still running is not
        cols = (
            "sweep_id", "config_name", "combinations", "keys", "data_fingerprint", "data_source", "synthetic",
            "code_hash", "start", "end", "created_at", "status", "pbo", "best_dsr", "simulator",
        )  # fmt: skip
        values = [json.dumps(manifest.get(c)) if c == "keys" else manifest.get(c) for c in cols]
        con.execute("DELETE FROM sweeps WHERE sweep_id = ?", [manifest["sweep_id"]])
        con.execute(
            f"INSERT INTO sweeps ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)}, sweep_dir) "
            f"VALUES ({', '.join('?' * (len(cols) + 1))})",
            [*values, str(sweep_dir.resolve())],
        )

    def sync(self) -> int:
        """Reconcile the catalog with the run directories; return the number of runs indexed."""
        with self._connect(write=True) as con, transaction(con):
            n = self._sync(con)[0]
            refresh_views(con)
            return n

    def _manifests(self) -> list[Path]:
        if not self.results_dir.is_dir():
            return []
        return sorted(p.parent for p in self.results_dir.glob(f"*/*/{MANIFEST}") if not p.parent.name.startswith("."))

    def _sync(self, con: Any, *, clean: bool = True) -> tuple[int, set[str]]:
        """Drop rows whose run directory is gone; add landed directories under ``results_dir`` not yet indexed.
        The number of runs indexed, and the (resolved) directories this call added.

        Rows of other results directories sharing this catalog (``--store``) are kept while they exist.
        With ``clean`` (every write), what killed writers left under ``results_dir`` is cleaned up
        first (:func:`clean_stale`).
        """
        if clean:
            clean_stale(self.results_dir)
        present = {str(p.resolve()) for p in self._manifests()}
        here = {Path(d).name for d in present}  # a run id's directory here is its run, not one it was copied from
        known = {row[0]: row[1] for row in con.execute("SELECT run_dir, run_id FROM runs").fetchall()}
        _forget(
            con, [i for d, i in known.items() if not (Path(d) / MANIFEST).is_file() or (d not in present and i in here)]
        )
        added = present - set(known)
        self._insert(con, [Path(d) for d in sorted(added)])
        sweeps = {str(p.resolve()) for p in self._sweep_dirs()}
        known_sweeps = {row[0]: row[1] for row in con.execute("SELECT sweep_dir, sweep_id FROM sweeps").fetchall()}
        sweeps_here = {Path(d).name for d in sweeps}
        for sweep_dir, sweep_id in known_sweeps.items():
            if not (Path(sweep_dir) / "sweep.json").is_file() or (sweep_dir not in sweeps and sweep_id in sweeps_here):
                con.execute("DELETE FROM sweeps WHERE sweep_id = ?", [sweep_id])
        for sweep_dir in sorted(sweeps - set(known_sweeps)):
            self._insert_sweep(con, Path(sweep_dir))
        return int(con.execute("SELECT count(*) FROM runs").fetchone()[0]), added

    def _insert(self, con: Any, run_dirs: Sequence[Path]) -> None:
        """Index (again) the complete run directories among ``run_dirs``, in a few statements (round trips cost)."""
        runs: dict[str, list[Any]] = {}  # run id -> its runs row
        metric_rows: dict[str, list[list[Any]]] = {}
        file_rows: dict[str, list[list[Any]]] = {}
        for run_dir in run_dirs:
            try:
                manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
                check_shapes(run_dir, manifest, {"data": None, "strategy": {}, "benchmarks": []})
            except (OSError, ValueError, StoreError):
                continue  # not a run directory, or its run.json damaged: nothing says which config's it is
            if manifest.get("status") != "complete":
                continue
            try:
                metrics = json.loads(read_checked(run_dir, "metrics.json", sums_of(run_dir, manifest)))
                check_shapes(run_dir, manifest, metrics)
            except (OSError, ValueError, StoreError):  # damaged since (the catalog rebuilt): indexed without its
                metrics = {"strategy": None, "benchmarks": []}  # metrics, so reusing or reporting it names the damage
            row = {**{c: manifest.get(c) for c in RUN_COLUMNS}, "run_dir": str(run_dir.resolve())}
            row["symbols"] = json.dumps(row["symbols"])
            runs[row["run_id"]] = [row[c] for c in RUN_COLUMNS]
            metric_rows[row["run_id"]] = [  # position: 0 the strategy, then the benchmarks in the config's order
                [row["run_id"], manifest.get("synthetic") is True, position, *[m.get(c) for c in METRIC_COLUMNS]]
                + [json.dumps(m.get(c)) for c in METRIC_JSON]
                for position, m in enumerate([metrics["strategy"], *metrics.get("benchmarks", [])])
                if m is not None
            ]
            file_rows[row["run_id"]] = [[row["run_id"], t, key] for t, key in file_schemas(run_dir)]
        ids = list(runs)
        _forget(con, ids)
        for start in range(0, len(ids), _ROWS_PER_STATEMENT):
            part = ids[start : start + _ROWS_PER_STATEMENT]
            insert_rows(con, "runs", RUN_COLUMNS, [runs[i] for i in part])
            metric_columns = ("run_id", "synthetic", "position", *METRIC_COLUMNS, *METRIC_JSON)
            insert_rows(con, "metrics", metric_columns, [r for i in part for r in metric_rows[i]])
            insert_rows(
                con, "run_files", ("run_id", "table_name", "schema_key"), [r for i in part for r in file_rows[i]]
            )

    # -- reading -------------------------------------------------------------------------------------------------

    def find(self, keys: Sequence[tuple[str, str, str]], *, data: DataKey = "data_fingerprint") -> list[Path | None]:
        """For each (config hash, data key, code hash) of ``keys``, the newest complete run with that
        resolved config, data and code, or None, in one query (a landed run the catalog file does not list
        yet counts: :meth:`query` reads the directories too).  ``data`` names the data key: the loaded
        data's fingerprint, or the key of the files a load would read (:mod:`engine.data.inputs`)."""
        if data not in get_args(DataKey):
            raise ValueError(f"data must be one of {get_args(DataKey)}, got {data!r}")
        if not keys or (not self.db_path.exists() and not self._manifests()):
            return [None] * len(keys)
        wanted = ", ".join("(?, ?, ?, ?)" for _ in keys)
        _, rows = self.query(
            f"SELECT k.i, r.run_dir FROM (VALUES {wanted}) AS k(i, config_hash, {data}, code_hash) "
            f"JOIN runs AS r USING (config_hash, {data}, code_hash) WHERE r.status = 'complete' "
            "QUALIFY row_number() OVER (PARTITION BY k.i ORDER BY r.created_at DESC, r.run_id DESC) = 1",
            [value for i, key in enumerate(keys) for value in (i, *key)],
        )
        found: list[Path | None] = [None] * len(keys)
        for i, run_dir in rows:
            if (Path(run_dir) / MANIFEST).is_file():
                found[i] = Path(run_dir)
        return found

    def select(self, spec: str) -> list[Path]:
        """Run directories for ``--runs``: ``latest`` (newest run of each config) or run ids (or unique prefixes, or
        run directories), comma-separated."""
        try:
            self.check_stored()
        except StoreError:  # nothing stored here: a run directory given is another results directory's
            elsewhere = next((t.strip() for t in spec.split(",") if _as_directory(t.strip()) is not None), None)
            if elsewhere is None:
                raise
            raise StoreError(
                f"run directory {elsewhere!r} is not in this store (nothing is stored under {self.results_dir}): "
                "give the --results-dir (or --store) that holds it",
                file=str(self.db_path),
            ) from None
        ids = [s.strip() for s in spec.split(",") if s.strip()]
        if "latest" in ids and set(ids) != {"latest"}:  # --runs latest --runs ID: which would it mean?
            raise StoreError(
                f"'latest' stands alone (the newest run of every config), got {spec!r}", file=str(self.db_path)
            )
        if ids and set(ids) == {"latest"}:  # --runs latest given twice is latest
            sql = (
                "SELECT run_dir FROM runs WHERE status = 'complete' QUALIFY row_number() OVER "
                "(PARTITION BY config_name ORDER BY created_at DESC, run_id DESC) = 1 ORDER BY config_name"
            )
            _, rows = self.query(sql)
            if not rows:
                raise StoreError("no stored runs", file=str(self.db_path), expected="run some configs first")
            return [Path(r[0]) for r in rows]
        if not ids:
            raise StoreError(
                f"no run id in {spec!r}", file=str(self.db_path), expected="'latest' or run ids, comma-separated"
            )
        out = []
        for run_id in ids:
            given = _as_directory(run_id)
            if given is not None:  # a run directory, as the commands print it
                found = self._indexed(given, by_path=_spelled_as_path(run_id))
                if found is not None:
                    out.append(found)
                    continue
            _, rows = self.query(
                "SELECT run_dir, run_id FROM runs WHERE starts_with(run_id, ?) ORDER BY run_id", [run_id]
            )
            rows = [r for r in rows if r[1] == run_id] or rows  # an id given whole is that run, even when X-2 exists
            if len(rows) != 1:
                problem = "no stored run matches" if not rows else f"{len(rows)} stored runs match"
                shown = [Path(r[0]).name for r in rows[:5]] + (["…"] if len(rows) > 5 else [])
                listed = f" ({', '.join(shown)}); give more of the id" if rows else ""
                raise StoreError(f"{problem} run id {run_id!r}{listed}", file=str(self.db_path))
            out.append(Path(rows[0][0]))
        return out

    def _indexed(self, run_dir: Path, *, by_path: bool) -> Path | None:
        """A run directory given by its path, as this store indexes it (the same directory, whatever the path's
        spelling).  Not in the store: refused when ``by_path`` (the text was written as a path), else None (a bare
        run id that also names a directory here is looked up as an id)."""
        resolved = run_dir.resolve()
        _, rows = self.query("SELECT run_dir FROM runs WHERE run_id = ?", [resolved.name])
        for (stored,) in rows:
            if Path(stored).resolve() == resolved:
                return Path(stored)
        if not by_path:
            return None
        raise StoreError(
            f"run directory {str(run_dir)!r} is not in this store: give the --results-dir (or --store) that holds it",
            file=str(self.db_path),
            expected="a run directory of this store",
        )

    def latest(self) -> Path:
        """The run directory of the most recently created complete run (of any config)."""
        self.check_stored()
        _, rows = self.query(
            "SELECT run_dir FROM runs WHERE status = 'complete' ORDER BY created_at DESC, run_id DESC LIMIT 1"
        )
        if not rows:
            raise StoreError("no stored runs", file=str(self.db_path), expected="run some configs first")
        return Path(rows[0][0])

    def select_one(self, run_id: str) -> Path:
        """The run directory of one run id (or a unique prefix of one)."""
        if "," in run_id or run_id == "latest":
            raise StoreError(f"expected one run id, got {run_id!r}", file=str(self.db_path))
        (run_dir,) = self.select(run_id)
        return run_dir

    def query(self, sql: str, params: list[Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run one read-only statement on a sealed connection; return (column names, rows).

        Reading never creates a file nor writes the catalog.  It only finishes what a killed writer
        left (:func:`clean_stale`: a result set aside while being replaced is restored, temporary
        directories of dead processes are removed), so a stored result is never missing from a read.
        When the catalog is missing, or behind the directories (a run or sweep deleted by hand, or
        landed by a writer that died before indexing it), the statement runs on an index rebuilt in
        memory from the catalog and the directories, so a directory removed by hand is never listed;
        the file catches up at the next write.  So does a statement that fails on a Parquet file deleted
        or damaged since it was indexed (its views are rebuilt without it).
        """
        clean_stale(self.results_dir)
        if self.db_path.exists():
            with self._connect(write=False) as con:
                if not self._stale(con):
                    try:
                        return read(con, sql, params, file=str(self.db_path))
                    except StoreError as err:
                        # a Parquet file a view lists deleted or damaged since it was indexed: DuckDB fails the
                        # whole view, so the statement runs again on views rebuilt without it (refresh_views)
                        if ".parquet" not in str(err):
                            raise
        with self._in_memory() as con:
            return read(con, sql, params, file=str(self.db_path))

    @contextlib.contextmanager
    def _in_memory(self, leave_out: frozenset[str] = frozenset()) -> Iterator[Any]:
        """A sealed in-memory catalog: the file's rows (if of the current schema), reconciled with the directories
        as :meth:`sync` would, without cleaning up or writing anything; its views without the files ``leave_out``."""
        import duckdb

        con = duckdb.connect(":memory:", config=CONNECT_CONFIG)
        try:
            ensure_schema(con)
            if self.db_path.exists():
                with self._lock(write=False):
                    copy_tables(con, self.db_path)
            self._sync(con, clean=False)
            refresh_views(con, leave_out)
            seal(con, leave_out)
            yield con
        finally:
            con.close()

    def check_stored(self) -> None:
        """A one-line error when no catalog and nothing is stored under the results directory (pointed elsewhere)."""
        if not self.db_path.exists() and not self._manifests() and not self._sweep_dirs():
            raise StoreError(
                f"no results store: {self.results_dir} is a file, not a directory"
                if self.results_dir.is_file()
                else f"no results store: nothing is stored under {self.results_dir}",
                file=str(self.db_path),
                expected="a results directory with runs in it (--results-dir, --store), or a run first",
            )

    def user_query(self, sql: str, warn: Callable[[str, str], None]) -> tuple[list[str], list[tuple]]:
        """``seesaw runs query``: like :meth:`query`, for one ``SELECT`` (or ``EXPLAIN``) statement only, on views
        without the files not as their runs wrote them (:func:`unsound_files`), each told to ``warn(file, why)``."""
        check_read_only_sql(sql, file=str(self.db_path))
        left_out = unsound_files(self.query, sql, warn)
        if not left_out:
            return self.query(sql)
        with self._in_memory(frozenset(left_out)) as con:
            return read(con, sql, None, file=str(self.db_path))

    def _stale(self, con: Any) -> bool:
        """Whether the catalog is of an older schema, an indexed run or sweep directory is gone, or a landed one
        is not indexed."""
        import duckdb

        try:
            version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None or version[0] != str(SCHEMA_VERSION):  # an older catalog: its tables lack columns
                return True
            runs = {r[0] for r in con.execute("SELECT run_dir FROM runs").fetchall()}
            sweeps = {r[0] for r in con.execute("SELECT sweep_dir FROM sweeps").fetchall()}
        except duckdb.Error:  # an old or foreign schema: the write path rebuilds it
            return True
        landed = {str(p.resolve()) for p in self._manifests()}
        landed_sweeps = {str(p.resolve()) for p in self._sweep_dirs()}
        gone = any(not (Path(d) / MANIFEST).is_file() for d in runs) or any(
            not (Path(d) / "sweep.json").is_file() for d in sweeps
        )
        return gone or bool(landed - runs) or bool(landed_sweeps - sweeps)
