"""Issue 13: the results store is read-only to queries, and a kill never loses or half-writes a result.

* ``runs query`` runs one ``SELECT`` on a sealed DuckDB connection: hostile SQL (reading or writing
  any other file, installing extensions, attaching databases, changing settings) is refused with one
  line and exit 2, and leaves no file behind.
* A config name can never be one of the store's own files.
* ``sweep --force`` keeps the old sweep readable until the new one is complete; a real ``SIGKILL`` at
  each step of a sweep (and at random moments of ``sweep``, ``sweep --force`` and ``compare``) leaves
  every stored result complete and readable, and the next command cleans up what the kill left.
* A run or sweep directory deleted by hand disappears from the catalog at the next read.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.store import staging
from tests.run_files import as_older
from tests.test_store import CORR, KILL_AT, RATIO, _process_env, _run_dirs, check_catalog, invoke, run_ok
from tests.test_sweep import SMALL

# ---------------------------------------------------------------------------------------------------------------
# 1. runs query is read-only in fact


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = tmp_path_factory.mktemp("store") / "R"
    run_ok(RATIO, results=results)
    return results


HOSTILE = {
    "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
    "read_csv_auto": "SELECT * FROM read_csv_auto('/etc/hostname')",
    "read_text": "SELECT * FROM read_text('/etc/passwd')",
    "read_blob": "SELECT * FROM read_blob('/etc/passwd')",
    "read_json": "SELECT * FROM read_json('/etc/os-release')",
    "replacement_scan": "SELECT * FROM '/etc/passwd'",
    "glob": "SELECT * FROM glob('/root/*')",
    "parquet_elsewhere": "SELECT * FROM read_parquet('/tmp/*.parquet')",
    "copy_to": "COPY runs TO '{out}'",
    "copy_select_to": "COPY (SELECT 1) TO '{out}' (FORMAT csv)",
    "export": "EXPORT DATABASE '{out_dir}'",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "force_install": "FORCE INSTALL httpfs",
    "attach": "ATTACH '{out}' AS other",
    "detach": "DETACH seesaw",
    "set_access": "SET enable_external_access = true",
    "reset": "RESET enable_external_access",
    "pragma": "PRAGMA enable_profiling",
    "call": "CALL pragma_version()",
    "two_statements": "SELECT 1; SELECT 2",
    "select_then_copy": "SELECT 1; COPY runs TO '{out}'",
    "create": "CREATE TABLE t AS SELECT 1",
    "insert": "INSERT INTO runs (run_id) VALUES ('x')",
    "delete": "DELETE FROM runs",
    "drop": "DROP TABLE metrics",
    "update": "UPDATE metrics SET sharpe = 9",
    "checkpoint": "CHECKPOINT",
    "create_secret": "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "use": "USE memory",
    "vacuum": "VACUUM",
    "syntax_error": "SELEC 1",
    "empty": "   ",
    "huge_result": "SELECT * FROM range(2000000)",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_sql_is_refused_in_one_line_and_touches_nothing(store: Path, tmp_path: Path, name: str) -> None:
    out, out_dir = tmp_path / "leak.csv", tmp_path / "leak"
    db = store / "seesaw.duckdb"
    before = {p.name: p.stat().st_mtime_ns for p in store.iterdir() if p.is_file()}
    sql = HOSTILE[name].format(out=out, out_dir=out_dir)
    result = invoke("runs", "query", sql, "--results-dir", store)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith(f"error: {db}: ") and result.stderr.count("\n") == 1, result.stderr
    assert "root:" not in result.stdout + result.stderr  # no line of /etc/passwd
    assert not out.exists() and not out_dir.exists()
    after = {p.name: p.stat().st_mtime_ns for p in store.iterdir() if p.is_file()}
    assert after == before  # the catalog was not written


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        ("INSTALL httpfs", "INSTALL"),  # DuckDB's type of it is LOAD: the message names what was written
        ("/* a comment */ force  install httpfs", "FORCE INSTALL"),
        ("FORCE /* between */ INSTALL httpfs", "FORCE INSTALL"),
        ("UPDATE EXTENSIONS", "UPDATE EXTENSIONS"),  # a type DuckDB's Python enum lacks: once a traceback
        ("LOAD httpfs", "LOAD"),
        ("COPY runs TO 'x.csv'", "COPY"),
    ],
)
def test_a_refused_statement_is_named_as_written(store: Path, sql: str, said: str) -> None:
    result = invoke("runs", "query", sql, "--results-dir", store)
    assert result.exit_code == 2
    assert result.stderr.rstrip().endswith(f"runs query takes one read-only SELECT statement, not {said}")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) AS n FROM equity",
        "WITH s AS (SELECT * FROM metrics WHERE kind = 'strategy') SELECT name, sharpe FROM s",
        "FROM runs SELECT config_name",
        "DESCRIBE runs",
        "SHOW TABLES",
        "EXPLAIN SELECT * FROM trades",
        "SELECT r.config_name, count(*) FROM runs r JOIN weights w USING (run_id) GROUP BY ALL",
        "PIVOT runs ON data_source IN ('csv', 'synthetic') USING count(*)",
    ],
)
def test_read_only_queries_of_the_catalog_still_work(store: Path, sql: str) -> None:
    result = invoke("runs", "query", sql, "--results-dir", store, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) >= 2


def test_a_pivot_duckdb_runs_as_two_statements_says_how_to_write_it_as_one(store: Path) -> None:
    result = invoke("runs", "query", "PIVOT runs ON data_source", "--results-dir", store)
    assert result.exit_code == 2 and "a PIVOT names the values it makes columns of (PIVOT runs ON" in result.stderr


def test_views_read_exactly_the_run_files(store: Path) -> None:
    [run_dir] = _run_dirs(store)
    result = invoke("runs", "query", "SELECT count(*) AS n FROM equity", "--results-dir", store, "--format", "csv")
    assert result.stdout.splitlines()[1] == str(len(pd.read_csv(run_dir / "equity.csv")))


# ---------------------------------------------------------------------------------------------------------------
# 2. names never collide with the store


@pytest.mark.parametrize("name", ["seesaw.duckdb", "seesaw.duckdb.wal", "seesaw.duckdb.lock", "store.duckdb"])
def test_a_config_named_like_a_store_file_is_refused_before_anything_is_written(tmp_path: Path, name: str) -> None:
    config = tmp_path / "x.yaml"
    config.write_text(RATIO.read_text(encoding="utf-8").replace("name: ratio_trend", f"name: {name}"), "utf-8")
    results = tmp_path / "R"
    store_opt = ["--store", str(results / "store.duckdb")] if name == "store.duckdb" else []
    result = invoke("run", config, "--source", "synthetic", "--results-dir", results, *store_opt)
    assert result.exit_code == 2, result.stderr
    assert str(config) in result.stderr and "name" in result.stderr
    assert not (results / name).is_dir()
    run_ok(CORR, *store_opt, results=results)  # the store still works
    assert invoke("runs", "list", "--results-dir", results, *store_opt).exit_code == 0


def test_report_of_an_empty_run_id_is_a_user_error(store: Path, tmp_path: Path) -> None:
    result = invoke("report", "", "--output", tmp_path / "r.html", "--results-dir", store)
    assert result.exit_code == 2 and "run id" in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# 3. a directory deleted by hand is noticed at the next read


def test_a_run_deleted_by_hand_is_never_listed_and_reads_write_nothing(tmp_path: Path) -> None:

    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    run_ok(CORR, results=results)
    [corr] = _run_dirs(results, "corr_breakdown")
    shutil.rmtree(corr)
    before = {p: p.read_bytes() for p in results.glob("seesaw.duckdb*")}
    listed = invoke("runs", "query", "SELECT config_name FROM runs", "--results-dir", results, "--format", "csv")
    assert listed.stdout.split() == ["config_name", "ratio_trend"]
    compared = invoke("compare", "--runs", "latest", "--results-dir", results)
    assert compared.exit_code == 0, compared.stderr
    assert "corr_breakdown" not in compared.stdout
    reported = invoke("report", "latest", "--output", tmp_path / "r.html", "--results-dir", results)
    assert reported.exit_code == 0, reported.stderr
    assert {p: p.read_bytes() for p in results.glob("seesaw.duckdb*")} == before  # reading changed no file
    run_ok(RATIO, results=results)  # the next write brings the catalog file up to date
    check_catalog(results / "seesaw.duckdb", results)


def test_a_run_that_landed_but_was_never_recorded_is_reused(tmp_path: Path) -> None:
    """A writer killed after its run directory landed and before it was indexed: the next run of the same
    config finds it on disk (reads never write the catalog, so the file alone would not list it)."""
    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    for own in results.glob("seesaw.duckdb*"):
        own.unlink()
    again = run_ok(RATIO, results=results)
    assert "reused" in again.stdout + again.stderr
    assert len(_run_dirs(results, "ratio_trend")) == 1
    check_catalog(results / "seesaw.duckdb", results)


def test_reading_an_empty_results_directory_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    for args in (("runs", "list"), ("runs", "query", "SELECT 1"), ("compare", "--runs", "latest")):
        out = invoke(*args, "--results-dir", tmp_path / "none")
        assert out.exit_code == 2, (args, out.stdout, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and "nothing is stored" in out.stderr, out.stderr
    store = tmp_path / "elsewhere.duckdb"
    out = invoke("runs", "query", "SELECT 1", "--store", store, "--results-dir", tmp_path / "none")
    assert out.exit_code == 2, out.stderr
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a-file").write_text("")  # a results directory that is a file is said to be one
    for args in (("runs", "list"), ("compare", "--runs", "latest"), ("report", "latest", "--format", "text")):
        out = invoke(*args, "--results-dir", tmp_path / "a-file")
        said = " ".join(out.stderr.split())  # wrapped at the terminal's width
        assert out.exit_code == 2 and f"no results store: {tmp_path / 'a-file'} is a file, not a directory" in said


# ---------------------------------------------------------------------------------------------------------------
# 4. replacing a directory, and what a killed writer leaves


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _sweep_like(path: Path, tag: str) -> Path:
    path.mkdir(parents=True)
    (path / "sweep.json").write_text(tag, encoding="utf-8")
    (path / "combos.parquet").write_bytes(tag.encode() * 100)
    return path


@pytest.mark.parametrize("atomic_swap", [True, False], ids=["renameat2-exchange", "rename-aside"])
def test_replace_dir_swaps_a_complete_directory_in(tmp_path: Path, monkeypatch, atomic_swap: bool) -> None:
    if not atomic_swap:
        monkeypatch.setattr(staging, "_exchange", lambda a, b: False)
    final = _sweep_like(tmp_path / "sid", "old")
    new = _sweep_like(tmp_path / ".partial-sid", "new")
    staging.replace_dir(new, final)
    assert _tree(final) == {"combos.parquet": b"new" * 100, "sweep.json": b"new"}
    assert [p.name for p in tmp_path.iterdir()] == ["sid"]


def test_the_atomic_swap_is_used_on_linux(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux's")
    a, b = _sweep_like(tmp_path / "a", "A"), _sweep_like(tmp_path / "b", "B")
    assert staging._exchange(a, b)
    assert (a / "sweep.json").read_text() == "B" and (b / "sweep.json").read_text() == "A"


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_clean_stale_removes_what_dead_writers_left_and_restores_a_set_aside_sweep(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getpid()
    sweeps = tmp_path / "cfg" / "sweeps"
    finished = _sweep_like(sweeps / "s1", "s1")
    (finished / f".chunk-00001.parquet.{dead}.ab12cd34.tmp").write_bytes(b"half")
    (finished / f".combos.parquet.{alive}.ab12cd34.tmp").write_bytes(b"being written")
    aside = _sweep_like(sweeps / f".replaced.{dead}.ab12cd34.s2", "s2")  # its replacement never landed
    _sweep_like(sweeps / f".replaced.{dead}.ab12cd34.s1", "old s1")  # s1 landed: this one goes
    _sweep_like(sweeps / f".replacing.{dead}.ab12cd34.s1", "new s1, never swapped in")
    run_staging = tmp_path / "cfg" / f".tmp-20260101T000000Z-deadbeef-{dead}"
    run_staging.mkdir()
    live_staging = tmp_path / "cfg" / f".tmp-20260101T000000Z-deadbeef-{alive}"
    live_staging.mkdir()
    reused = tmp_path / "cfg" / f".tmp-20260101T000000Z-cafe-{alive}"  # pid reused: written before it started
    reused.mkdir()
    os.utime(reused, (0, 0))
    partial = sweeps / ".partial-s3"  # a stopped sweep: --resume continues it
    partial.mkdir()

    staging.clean_stale(tmp_path)

    assert _tree(sweeps / "s2") == {"combos.parquet": b"s2" * 100, "sweep.json": b"s2"} and not aside.exists()
    assert _tree(finished) == {
        "combos.parquet": b"s1" * 100,
        "sweep.json": b"s1",
        f".combos.parquet.{alive}.ab12cd34.tmp": b"being written",
    }
    assert sorted(p.name for p in sweeps.iterdir()) == [".partial-s3", "s1", "s2"]
    assert sorted(p.name for p in (tmp_path / "cfg").iterdir()) == [live_staging.name, "sweeps"]


def test_writer_alive_is_false_for_an_exited_writer_not_yet_reaped() -> None:
    """A killed command's worker is a zombie until its new parent reaps it: it writes nothing more, so
    the next command removes its leftovers instead of keeping them as a live writer's."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # not waited for: a zombie once it exits
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.01)
        os.kill(child.pid, 0)  # the zombie still has its process id
        assert not staging.writer_alive(child.pid, time.time())
    finally:
        child.wait()


def test_writer_alive_is_false_for_a_reused_pid_and_true_for_this_process() -> None:
    assert staging.writer_alive(os.getpid(), time.time())
    assert not staging.writer_alive(os.getpid(), 0.0)  # this process started after 1970
    assert not staging.writer_alive(_dead_pid(), time.time())


# ---------------------------------------------------------------------------------------------------------------
# 5. SIGKILL during sweeps, sweep --force and compare


@pytest.fixture(scope="module")
def sweep_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweepcfg") / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference_sweep(tmp_path_factory: pytest.TempPathFactory, sweep_config: Path) -> pd.DataFrame:
    results = tmp_path_factory.mktemp("ref") / "R"
    assert invoke("sweep", sweep_config, "--results-dir", results, "--chunk-size", "10").exit_code == 0
    [sweep_dir] = (results / "small_sweep" / "sweeps").iterdir()
    return pd.read_parquet(sweep_dir / "combos.parquet")


def _sweep_cmd(config: Path, results: Path, *extra: str) -> list[str]:
    return ["sweep", str(config), "--results-dir", str(results), "--chunk-size", "10", *extra]


def _killed(point: str, n: int, cli: list[str], cwd: Path) -> int:
    cmd = [sys.executable, str(KILL_AT), point, str(n), "KILL", "--", *cli]
    proc = subprocess.run(cmd, cwd=cwd, env=_process_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode != 1, proc.stderr
    return proc.returncode


def _check_sweeps(results: Path, reference: pd.DataFrame, *, expect_stored: bool) -> None:
    """After the next command (a query): every stored sweep is complete and equals the reference, and
    the catalog lists exactly those."""
    query = invoke("runs", "query", "SELECT count(*) AS n FROM sweeps", "--results-dir", results, "--format", "csv")
    parent = results / "small_sweep" / "sweeps"
    stored = [p for p in parent.iterdir() if not p.name.startswith(".")] if parent.is_dir() else []
    assert len(stored) == (1 if expect_stored else 0), stored
    if not stored and not (results / "seesaw.duckdb").exists():  # nothing stored, no catalog: one line, exit 2
        assert query.exit_code == 2 and "nothing is stored" in query.stderr, query.stderr
        return
    assert query.exit_code == 0, query.stderr
    for sweep_dir in stored:
        assert {"sweep.json", "combos.parquet", "config.yaml", "blocks.npz"} <= {p.name for p in sweep_dir.iterdir()}
        pd.testing.assert_frame_equal(pd.read_parquet(sweep_dir / "combos.parquet"), reference)
    assert query.stdout.split()[1] == str(len(stored))


def _leftovers(results: Path) -> list[Path]:
    """Hidden files a writer left: not a stopped sweep's, a lock, or the note of the last run shown (``.last-run``)."""
    kept = [p for p in results.rglob(".*") if not p.name.startswith(".partial-") and ".lock" not in p.name]
    return [p for p in kept if p.name != ".last-run"]  # its temporary file, if left, is a leftover


@pytest.mark.parametrize(
    ("point", "n"),
    [("chunk", 3), ("replace", 1), ("exchange", 1), ("set_aside", 1), ("delete_old", 1)],
)
def test_sigkill_during_sweep_force_keeps_the_stored_sweep(
    tmp_path: Path, sweep_config: Path, reference_sweep: pd.DataFrame, point: str, n: int
) -> None:
    results = tmp_path / "R"
    assert invoke(*_sweep_cmd(sweep_config, results)).exit_code == 0
    assert _killed(point, n, _sweep_cmd(sweep_config, results, "--force"), tmp_path) == -signal.SIGKILL
    _check_sweeps(results, reference_sweep, expect_stored=True)  # the read restores a set-aside sweep
    assert _leftovers(results) == []
    again = invoke(*_sweep_cmd(sweep_config, results, "--force"))
    assert again.exit_code == 0, again.stderr
    _check_sweeps(results, reference_sweep, expect_stored=True)
    assert _leftovers(results) == [] and not list(results.rglob(".partial-*"))


@pytest.mark.parametrize("point", ["chunk", "replace"])
def test_sigkill_during_a_first_sweep_stores_nothing_and_resume_finishes_it(
    tmp_path: Path, sweep_config: Path, reference_sweep: pd.DataFrame, point: str
) -> None:
    results = tmp_path / "R"
    assert _killed(point, 3 if point == "chunk" else 1, _sweep_cmd(sweep_config, results), tmp_path) == -9
    _check_sweeps(results, reference_sweep, expect_stored=False)
    resumed = invoke(*_sweep_cmd(sweep_config, results, "--resume"))
    assert resumed.exit_code == 0, resumed.stderr
    _check_sweeps(results, reference_sweep, expect_stored=True)


# One random moment in each stretch of the 1-14 s the commands take here (imports, data, simulation, writing).
_RANDOM = random.Random(13)
_DELAYS = [round(_RANDOM.uniform(lo, lo + 2.2), 2) for lo in (1.0, 3.2, 5.4, 7.6, 9.8, 12.0)]


def _kill_after(cli: list[str], cwd: Path, delay_s: float) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", *cli], cwd=cwd, env=_process_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        proc.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return proc.returncode


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", _DELAYS)
def test_sigkill_at_a_random_moment_of_sweep_force_and_compare(
    tmp_path: Path, sweep_config: Path, reference_sweep: pd.DataFrame, delay_s: float
) -> None:
    results = tmp_path / "R"
    assert invoke(*_sweep_cmd(sweep_config, results)).exit_code == 0
    code = _kill_after(_sweep_cmd(sweep_config, results, "--force"), tmp_path, delay_s)
    assert code in (0, -signal.SIGKILL)
    _check_sweeps(results, reference_sweep, expect_stored=True)
    compare = ["compare", str(RATIO), str(CORR), "--source", "synthetic", "--results-dir", str(results)]
    code = _kill_after(compare, tmp_path, delay_s)
    assert code in (0, -signal.SIGKILL)
    listed = invoke("runs", "query", "SELECT run_dir FROM runs", "--results-dir", results, "--format", "csv")
    assert listed.exit_code == 0, listed.stderr  # a read lists what is on disk, the catalog file as it was
    assert sorted(listed.stdout.split()[1:]) == sorted(str(d.resolve()) for d in _run_dirs(results))
    assert len(_run_dirs(results)) <= 2
    assert invoke(*compare).exit_code == 0  # the next write reconciles the catalog file
    assert len(check_catalog(results / "seesaw.duckdb", results)) == 2
    assert _leftovers(results) == []


def test_a_report_never_replaces_a_device_or_a_pipe(store: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "report.html"
    os.mkfifo(fifo)
    result = invoke("report", "latest", "--output", fifo, "--results-dir", store)
    assert result.exit_code == 2 and "not a regular file" in result.stderr
    assert not fifo.is_file() and fifo.exists()  # still the pipe
    assert invoke("report", "latest", "--output", tmp_path / "r.html", "--results-dir", store).exit_code == 0


@pytest.mark.parametrize("pattern", ["%", "_", "%" + "0" * 3, "2026%"])
def test_a_run_id_prefix_is_a_prefix_not_a_pattern(store: Path, tmp_path: Path, pattern: str) -> None:
    result = invoke("report", pattern, "--output", tmp_path / "r.html", "--results-dir", store)
    assert result.exit_code == 2 and "no stored run matches" in result.stderr
    [run_dir] = _run_dirs(store)
    prefix = invoke("report", run_dir.name[:10], "--output", tmp_path / "r.html", "--results-dir", store)
    assert prefix.exit_code == 0, prefix.stderr


def _damage(run_dir: Path, damage: str) -> None:
    """One way a stored run is damaged by hand, by its name."""
    if damage == "metrics_cut":
        os.truncate(run_dir / "metrics.json", 100)
    elif damage == "metrics_not_a_run":
        (run_dir / "metrics.json").write_text("[]", encoding="utf-8")
    elif damage == "run_json_cut":
        os.truncate(run_dir / "run.json", 50)
    elif damage == "config_garbage":
        (run_dir / "config.yaml").write_text("garbage: [\n", encoding="utf-8")
    elif damage == "csv_deleted":
        (run_dir / "equity.csv").unlink()
    elif damage == "weights_parquet_cut":
        os.truncate(run_dir / "weights.parquet", 500)
    else:
        (run_dir / ("equity.parquet" if damage == "equity_deleted" else "config.yaml")).unlink()


@pytest.mark.parametrize(
    "damage",
    [
        "metrics_cut", "metrics_not_a_run", "equity_deleted", "config_deleted", "run_json_cut", "config_garbage",
        "csv_deleted", "weights_parquet_cut",
    ],
)  # fmt: skip
def test_a_damaged_stored_run_is_never_reused_as_it_is(tmp_path: Path, damage: str) -> None:
    """The run a config would reuse was damaged after it was written: one line naming it and --force, exit 2,
    never a traceback nor a table from what is left; --force computes it again."""
    results = tmp_path / "R"
    cmd = ["run", str(RATIO), "--source", "synthetic", "--results-dir", str(results)]
    assert invoke(*cmd).exit_code == 0
    [run_dir] = _run_dirs(results)
    _damage(run_dir, damage)
    again = invoke(*cmd)
    assert again.exit_code == 2, again.stderr
    [line] = again.stderr.strip().splitlines()
    assert line.startswith(f"error: {run_dir}: ") and line.endswith("run its config again with --force")
    assert invoke(*cmd, "--force").exit_code == 0


@pytest.mark.parametrize("damage", ["metrics_cut", "metrics_not_a_run", "csv_deleted", "run_json_cut"])
@pytest.mark.parametrize("how", ["catalog_deleted", "copied"])
def test_a_damaged_run_stays_refused_when_the_catalog_is_rebuilt_or_the_results_copied(
    tmp_path: Path, damage: str, how: str
) -> None:
    """The catalog is derived from the run directories: rebuilt after it was deleted, or read from a copy of the
    results directory (its rows naming the original's directories), a run damaged in the directory read is
    refused as when the catalog had indexed it, never answered from the original nor computed again unseen.  A
    run whose run.json is damaged cannot say which config it is: the config is computed again, in the copy."""
    original = tmp_path / "R"
    cmd = ["run", str(RATIO), "--source", "synthetic", "--results-dir"]
    assert invoke(*cmd, original).exit_code == 0
    results = original
    if how == "copied":
        results = tmp_path / "copy"
        shutil.copytree(original, results)
    [run_dir] = _run_dirs(results)
    _damage(run_dir, damage)
    if how == "catalog_deleted":
        for own in results.glob("seesaw.duckdb*"):
            own.unlink()
    listed = invoke("runs", "list", "--results-dir", results)
    assert listed.exit_code == 0, listed.stderr
    assert (run_dir.name in listed.stdout) is (damage != "run_json_cut")
    assert (str(original) not in listed.stdout) or how != "copied"
    again = invoke(*cmd, results)
    if damage == "run_json_cut":
        assert again.exit_code == 0, again.stderr
        assert str(results.resolve()) in again.stdout + again.stderr and "reused" not in again.stdout + again.stderr
        assert len(_run_dirs(results)) == 2
        return
    assert again.exit_code == 2, again.stderr
    [line] = again.stderr.strip().splitlines()
    assert line.startswith(f"error: {run_dir}: ") and line.endswith("run its config again with --force")
    reported = invoke("report", run_dir.name, "--output", tmp_path / "r.html", "--results-dir", results)
    assert reported.exit_code == 2 and reported.stderr.startswith(f"error: {run_dir}: "), reported.stderr
    assert invoke(*cmd, results, "--force").exit_code == 0


@pytest.mark.parametrize("text", ["[1, 2]\n", "garbage: [\n", "just text\n"])
def test_a_run_whose_config_yaml_is_not_a_config_is_refused_by_report_in_one_line(tmp_path: Path, text: str) -> None:
    results = tmp_path / "R"
    assert invoke("run", str(RATIO), "--source", "synthetic", "--results-dir", str(results)).exit_code == 0
    [run_dir] = _run_dirs(results)
    (run_dir / "config.yaml").write_text(text, encoding="utf-8")
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    for older in (False, True):  # a run whose run.json records its files' sums, and one written before
        if older:
            (run_dir / "run.json").write_text(json.dumps({k: v for k, v in manifest.items() if k != "files"}))
        cmd = ("report", run_dir.name, "--output", str(tmp_path / "r.html"), "--results-dir", str(results))
        refused = invoke(*cmd)
        assert refused.exit_code == 2
        [line] = refused.stderr.strip().splitlines()
        assert line.startswith(f"error: {run_dir}: config.yaml ") and line.endswith("run its config again with --force")
        assert ("not the file this run wrote" in line) != older


def _stored_sweep(tmp_path: Path, sweep_config: Path, *, older: bool = False) -> tuple[list[Any], Path]:
    """(the sweep's command, its stored directory) of the small sweep computed under ``tmp_path/R``; ``older``: its
    ``sweep.json`` as written before it recorded its files' sums."""
    results = tmp_path / "R"
    cmd: list[Any] = ["sweep", sweep_config, "--results-dir", results, "--reps", "100"]
    assert invoke(*cmd).exit_code == 0
    [sweep_dir] = (results / "small_sweep" / "sweeps").iterdir()
    if older:
        manifest = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
        del manifest["files"]
        (sweep_dir / "sweep.json").write_text(json.dumps(manifest), encoding="utf-8")
    return cmd, sweep_dir


@pytest.mark.parametrize("older", [False, True])
def test_a_stored_sweep_whose_config_was_damaged_is_refused_in_one_line(
    tmp_path: Path, sweep_config: Path, older: bool
) -> None:
    """``older``: a sweep stored before ``sweep.json`` recorded its files' sums, refused when its config is read."""
    cmd, sweep_dir = _stored_sweep(tmp_path, sweep_config, older=older)
    (sweep_dir / "config.yaml").write_text("[\n", encoding="utf-8")
    again = invoke(*cmd)
    assert again.exit_code == 2
    [line] = again.stderr.strip().splitlines()
    said = "cannot read sweep: " if older else "config.yaml is not the file this sweep wrote "
    assert line.startswith(f"error: {sweep_dir}: {said}") and line.endswith("--force computes it again")
    assert invoke(*cmd, "--force").exit_code == 0


def test_a_stored_sweep_not_readable_by_the_user_says_so_not_force(
    tmp_path: Path, sweep_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's access, not the sweep: the permission line, as for a run (``--force`` would not help)."""
    cmd, sweep_dir = _stored_sweep(tmp_path, sweep_config)
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "blocks.npz":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    refused = invoke(*cmd)
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        f"error: {sweep_dir / 'blocks.npz'}: Permission denied (give your user access to it, or choose another "
        "directory)"
    )


def test_a_sweep_json_that_is_not_a_mapping_is_not_indexed_nor_a_traceback(tmp_path: Path, sweep_config: Path) -> None:
    """Damaged by hand into a list, with the catalog to rebuild: the sweep is not indexed (as one still running
    is not), a query answers, and reusing it says in one line what is wrong."""
    cmd, sweep_dir = _stored_sweep(tmp_path, sweep_config)
    results = tmp_path / "R"
    (sweep_dir / "sweep.json").write_text("[1]\n", encoding="utf-8")
    for leftover in results.glob("seesaw.duckdb*"):
        leftover.unlink()
    asked = invoke("runs", "query", "SELECT count(*) AS n FROM sweeps", "--results-dir", results, "--format", "json")
    assert asked.exit_code == 0, asked.stderr
    assert json.loads(asked.stdout) == [{"n": 0}]
    again = invoke(*cmd)
    assert again.exit_code == 2
    assert again.stderr.strip().endswith("sweep.json is not a sweep's (not a mapping); --force computes it again")


def test_every_view_answers_before_anything_of_its_kind_is_stored(tmp_path: Path) -> None:
    """``sweep_combos`` with runs but no sweep, and a run table no run has a file of, are empty views, with the
    columns every file of theirs has, not "table does not exist"; once a run or sweep is stored they read it."""
    from engine.store.readonly import RUN_TABLES

    results = tmp_path / "R"
    run_ok(RATIO, results=results)  # a run and no sweep
    args = ["--results-dir", results, "--format", "json"]
    for view in (*RUN_TABLES, "sweep_combos"):
        asked = invoke("runs", "query", f"SELECT * FROM {view} LIMIT 1", *args)
        assert asked.exit_code == 0, (view, asked.stderr)
    empty = invoke("runs", "query", "SELECT count(*) AS n, min(sharpe) AS best FROM sweep_combos", *args)
    assert json.loads(empty.stdout) == [{"n": 0, "best": None}]


def test_a_copied_results_directory_never_lists_the_originals_sweep(tmp_path: Path, sweep_config: Path) -> None:
    """A results directory copied with its catalog, whose rows name the original's directories: the copy's own
    sweep, damaged in the copy, is not indexed, and the original's is not listed in its place."""
    _, sweep_dir = _stored_sweep(tmp_path, sweep_config)
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "R", copy)
    (copy / sweep_dir.relative_to(tmp_path / "R") / "sweep.json").write_text("[1]\n", encoding="utf-8")
    asked = invoke("runs", "query", "SELECT sweep_dir FROM sweeps", "--results-dir", copy, "--format", "json")
    assert asked.exit_code == 0, asked.stderr
    assert json.loads(asked.stdout) == []


def test_a_stored_sweep_whose_table_was_changed_is_refused_not_printed(tmp_path: Path, sweep_config: Path) -> None:
    """Three bytes flipped inside ``combos.parquet`` (still Parquet: one stored number changed, which the reused
    sweep printed as it was): ``sweep.json`` records each file's size and CRC-32, so the reused sweep is refused
    in one line naming the file, and ``runs query`` leaves the file out of ``sweep_combos`` with a warning.  The
    sums are the store's, not the sweep's: ``--format json`` shows none, computed or reused."""
    results = tmp_path / "R"
    cmd = ["sweep", sweep_config, "--results-dir", results, "--reps", "100", "--format", "json"]
    computed = invoke(*cmd)
    assert computed.exit_code == 0, computed.stderr
    [sweep_dir] = (results / "small_sweep" / "sweeps").iterdir()
    stored = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))["files"]
    assert set(stored) == {"combos.parquet", "blocks.npz", "config.yaml"}
    reused = invoke(*cmd)
    assert json.loads(reused.stdout)["sweep"] == json.loads(computed.stdout)["sweep"]
    assert "files" not in json.loads(computed.stdout)["sweep"]
    data = bytearray((sweep_dir / "combos.parquet").read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 3):
        data[offset] ^= 16
    (sweep_dir / "combos.parquet").write_bytes(bytes(data))
    refused = invoke(*cmd)
    assert refused.exit_code == 2 and refused.stdout == ""
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: {sweep_dir}: combos.parquet is not the file this sweep wrote (")
    assert line.endswith("--force computes it again")
    asked = invoke("runs", "query", "SELECT count(*) AS n FROM runs", "--results-dir", results, "--format", "json")
    assert asked.exit_code == 0 and asked.stderr == ""
    asked = invoke("runs", "query", "SELECT * FROM sweep_combos LIMIT 1", "--results-dir", results)
    warning = f"warning: left out of the views: {sweep_dir}: combos.parquet is not the file this sweep wrote"
    assert asked.stderr.startswith(warning), asked.stderr  # then: no sweep_combos (its only file left out)
    assert invoke(*cmd, "--force").exit_code == 0


def test_a_store_file_that_is_not_duckdb_says_to_move_it_and_is_rebuilt_after(tmp_path: Path) -> None:
    results = tmp_path / "R"
    cmd = ["run", str(RATIO), "--source", "synthetic", "--results-dir", str(results)]
    assert invoke(*cmd).exit_code == 0
    (results / "seesaw.duckdb").write_bytes(b"\x00not a database\xff" * 100)
    refused = invoke(*cmd)
    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert line == (
        f"error: {results / 'seesaw.duckdb'}: the results store is not a DuckDB database: move it away, and the next "
        "command rebuilds it from the run and sweep directories (it only indexes them)"
    )
    (results / "seesaw.duckdb").rename(tmp_path / "aside.duckdb")
    assert invoke(*cmd).exit_code == 0  # reused: found through the rebuilt catalog
    assert len(_run_dirs(results)) == 1 and len(check_catalog(results / "seesaw.duckdb", results)) == 1


def test_a_store_file_cut_short_says_to_move_it_not_that_another_program_holds_it(tmp_path: Path) -> None:
    results = tmp_path / "R"
    cmd = ["run", str(RATIO), "--source", "synthetic", "--results-dir", str(results)]
    assert invoke(*cmd).exit_code == 0
    os.truncate(results / "seesaw.duckdb", 5000)
    refused = invoke(*cmd)
    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert "is not a DuckDB database: move it away" in line and "another program" not in line


def test_a_sweep_a_process_is_computing_is_not_listed_as_stopped(tmp_path: Path) -> None:
    """Only stopped sweeps are offered for removal: one a process holds (engine.store.sweeps.held) is running."""
    from engine.errors import StoreError
    from engine.store.sweeps import held, running, stopped_elsewhere

    sweeps = tmp_path / "cfg" / "sweeps"
    meta = {"chunks": 2, "keys": ["w"], "values": [[1]], "data_fingerprint": "d", "code_hash": "c", "simulator": "s"}
    for name in (".partial-live", ".partial-stopped"):
        (sweeps / name).mkdir(parents=True)
        (sweeps / name / "meta.json").write_text(repr(meta).replace("'", '"'), encoding="utf-8")
    hold = (
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", hold, str(sweeps / ".partial-live")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        assert running(sweeps / ".partial-live") and not running(sweeps / ".partial-stopped")
        listed = stopped_elsewhere(sweeps / ".partial-new", {**meta, "code_hash": "new"})
        assert listed == (f"{sweeps / '.partial-stopped'} (0 of 2 chunks; Seesaw's code changed)",)
        with pytest.raises(StoreError, match="the same sweep is running now"), held(sweeps / ".partial-live"):
            pass
    finally:
        other.kill()
        other.wait()
        other.stdout.close()
    with held(sweeps / ".partial-live"):  # its holder gone: this process may hold it
        assert (sweeps / ".partial-live" / "writer.pid").read_text(encoding="utf-8") == str(os.getpid())


def test_a_sweep_that_cannot_write_its_staging_directory_is_one_line(tmp_path: Path, monkeypatch) -> None:
    from engine.errors import StoreError
    from engine.store import sweeps

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sweeps, "write_atomic", full)
    with (
        pytest.raises(StoreError, match="cannot write the sweep: No space left on device"),
        sweeps.held(tmp_path / "s"),
    ):
        pass


def test_a_catalog_that_cannot_be_written_is_one_line_and_the_run_is_kept(tmp_path: Path, monkeypatch) -> None:
    """A full disk while the catalog commits (DuckDB cannot write its log): one line naming the store, exit 2,
    no traceback; the run directory landed, and the next command indexes it."""
    import duckdb

    from engine.store import catalog as catalog_module

    real = catalog_module.refresh_views

    def full(con) -> None:  # type: ignore[no-untyped-def]
        raise duckdb.IOException('Could not write file "seesaw.duckdb.wal": No space left on device')

    results = tmp_path / "R"
    monkeypatch.setattr(catalog_module, "refresh_views", full)
    result = invoke("run", RATIO, "--source", "synthetic", "--results-dir", results)
    assert result.exit_code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "cannot write the results store: Could not write file" in line and "seesaw.duckdb" in line
    assert len(_run_dirs(results)) == 1  # written before the catalog was
    monkeypatch.setattr(catalog_module, "refresh_views", real)
    again = run_ok(RATIO, results=results)
    assert "reused" in again.stdout + again.stderr
    check_catalog(results / "seesaw.duckdb", results)


def test_a_catalog_of_an_older_schema_is_read_rebuilt_and_the_run_reused(tmp_path: Path) -> None:
    """A results directory from an earlier Seesaw: its catalog's tables lack today's columns.  A read (the
    reuse lookup) must not query them: it reads an index rebuilt from the directories, the run is reused, and
    the write that follows rebuilds the file at the current schema."""
    import duckdb

    from engine.store.catalog import SCHEMA_VERSION

    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    db = results / "seesaw.duckdb"
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE runs DROP COLUMN loaded_key")
    con.execute("UPDATE runs SET input_key = NULL")  # as if no key matched: the lookup by loaded data follows
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION - 1)])
    con.close()
    again = run_ok(RATIO, results=results)
    assert "reused" in again.stdout + again.stderr
    assert len(_run_dirs(results)) == 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        [version] = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert version == str(SCHEMA_VERSION)
    finally:
        con.close()
    check_catalog(db, results)


def test_a_stopped_sweep_whose_warm_up_data_changed_says_the_data_changed(tmp_path: Path) -> None:
    """The sweep's id hashes every row it reads (loaded_key), its fingerprint only the simulated window: a stopped
    sweep that differs by the loaded key alone is said to differ by its data, not by 'the config'."""
    from engine.store.sweeps import stopped_elsewhere

    sweeps = tmp_path / "cfg" / "sweeps"
    meta = {"chunks": 2, "keys": ["w"], "values": [[1]], "data_fingerprint": "d", "loaded_key": "k1",
            "code_hash": "c", "simulator": "s"}  # fmt: skip
    (sweeps / ".partial-old").mkdir(parents=True)
    (sweeps / ".partial-old" / "meta.json").write_text(repr(meta).replace("'", '"'), encoding="utf-8")
    listed = stopped_elsewhere(sweeps / ".partial-new", {**meta, "loaded_key": "k2"})
    assert listed == (f"{sweeps / '.partial-old'} (0 of 2 chunks; the data changed)",)


def test_every_file_of_a_run_is_durable_before_the_run_appears(tmp_path: Path, monkeypatch) -> None:
    """The run directory is renamed into place only after each of its files and the staging directory itself
    were fsynced (on threads, together), and its parent is fsynced after the rename: a crash of the machine
    cannot leave a visible run with a file missing or empty."""
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def rename(src, dst) -> None:
        real_rename(src, dst)
        events.append(("rename", f"{os.fspath(src)} -> {os.fspath(dst)}"))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    [run_dir] = _run_dirs(results, "ratio_trend")
    [at] = [i for i, (kind, what) in enumerate(events) if kind == "rename" and what.endswith(f" -> {run_dir}")]
    staged = events[at][1].split(" -> ")[0]
    synced_before = {what for kind, what in events[:at] if kind == "fsync"}
    files = sorted(p.name for p in run_dir.iterdir())
    assert len(files) >= 12 and "run.json" in files and "equity.parquet" in files
    assert {f"{staged}/{name}" for name in files} | {staged} <= synced_before
    assert ("fsync", str(run_dir.parent)) in events[at + 1 :]


def test_fsync_all_syncs_every_path_and_raises_the_first_error_after_the_others(tmp_path: Path, monkeypatch) -> None:
    paths = [tmp_path / f"f{i}" for i in range(6)]
    for p in paths:
        p.write_text("x", encoding="utf-8")
    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    staging.fsync_all([tmp_path, *paths])
    assert sorted(synced) == sorted(map(str, [tmp_path, *paths]))
    synced.clear()
    with pytest.raises(FileNotFoundError):
        staging.fsync_all([*paths[:3], tmp_path / "missing", *paths[3:]])
    assert sorted(synced) == sorted(map(str, paths))
    staging.fsync_all([])


def test_fsync_all_syncs_here_what_no_thread_can_and_never_loses_an_error(tmp_path: Path, monkeypatch) -> None:
    import threading

    paths = [tmp_path / f"f{i}" for i in range(5)]
    for p in paths:
        p.write_text("x", encoding="utf-8")
    synced: list[str] = []
    real_fsync, real_start, started = os.fsync, threading.Thread.start, [0]

    def start(self: threading.Thread) -> None:
        started[0] += 1
        if started[0] > 2:
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    monkeypatch.setattr(threading.Thread, "start", start)
    staging.fsync_all(paths)
    assert sorted(synced) == sorted(map(str, paths))
    monkeypatch.setattr(threading.Thread, "start", real_start)

    def odd(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("f3"):
            raise ValueError("not an OSError")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", odd)
    with pytest.raises(ValueError, match="not an OSError"):
        staging.fsync_all(paths)


def test_a_run_that_cannot_be_written_leaves_nothing_staged_and_a_failed_directory_sync_is_no_name_taken(
    tmp_path: Path, monkeypatch
) -> None:
    """A disk full while staging: one line, and the staging directory goes (it would fill the disk for the next
    command).  A directory sync failing after the rename is an error of its own, not a name already taken."""
    import errno

    from engine.store import rundir

    results = tmp_path / "R"
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    failed = invoke("run", RATIO, "--source", "synthetic", "--results-dir", results)
    assert failed.exit_code == 2 and "No space left on device" in failed.stderr
    assert not list((results / "ratio_trend").glob(".tmp-*")) and not _run_dirs(results, "ratio_trend")
    monkeypatch.setattr(os, "fsync", real_fsync)

    def broken(directory: Path) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(rundir, "fsync_dir", broken)
    failed = invoke("run", RATIO, "--source", "synthetic", "--results-dir", results)
    assert failed.exit_code == 2 and "Input/output error" in failed.stderr, failed.stderr
    assert [d.name.count("-") for d in (results / "ratio_trend").iterdir()] == [1]  # no "-2" suffix was tried


@pytest.mark.parametrize(
    ("name", "text", "said", "older_said"),
    [
        ("metrics.json", "{}", "metrics.json is not the file this run wrote", "metrics.json has no 'data', 'strategy'"),
        ("run.json", "{}", "run.json has no 'run_id', 'config_name'", None),
        ("config.yaml", "name: x\n", "config.yaml is not the file this run wrote", "config.yaml has no 'initial_cash'"),
        ("metrics.json", '{"data": {}, "strategy": [], "benchmarks": []}', None, "metrics.json is not a run's metrics"),
    ],
)  # fmt: skip
def test_a_run_file_that_parses_but_is_not_a_runs_is_one_line_naming_it(
    tmp_path: Path, name: str, text: str, said: str | None, older_said: str | None
) -> None:
    """report, compare and run each say which file, in one line with exit code 2, never a KeyError."""
    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    [run_dir] = _run_dirs(results)
    (run_dir / name).write_text(text, encoding="utf-8")
    for expected in (said, older_said):
        if expected is None:
            as_older(run_dir)
            continue
        for cmd in (
            ("report", run_dir.name, "--format", "text", "--results-dir", str(results)),
            ("compare", "--runs", run_dir.name, "--reps", "100", "--results-dir", str(results)),
            ("run", str(RATIO), "--source", "synthetic", "--results-dir", str(results)),
        ):
            refused = invoke(*cmd)
            assert refused.exit_code == 2, (cmd, refused.stdout)
            [line] = refused.stderr.strip().splitlines()
            assert line.startswith(f"error: {run_dir}: ") and expected in line, (cmd, line)
        as_older(run_dir)


@pytest.mark.parametrize("damage", ["flip", "halve_csv", "cut_signals", "other_runs_curve"])
def test_a_run_file_damaged_or_replaced_is_never_read_or_reused(tmp_path: Path, damage: str) -> None:
    """Three bytes flipped in the middle of equity.parquet (read before as other numbers: a volatility of 29%
    for 20%), equity.csv cut to half, signals.parquet cut short, another run's equity.parquet copied in: the run
    is refused by compare, report and run, naming the file; in a run written before run.json recorded its files,
    a curve that is not the run's own is refused by its last value."""
    results = tmp_path / "R"
    run_ok(RATIO, CORR, results=results)
    [run_dir] = _run_dirs(results, "ratio_trend")
    [other] = _run_dirs(results, "corr_breakdown")
    name = {"flip": "equity.parquet", "halve_csv": "equity.csv", "cut_signals": "signals.parquet"}.get(damage)
    if damage == "other_runs_curve":
        name = "equity.parquet"
        (run_dir / name).write_bytes((other / name).read_bytes())
    else:
        data = bytearray((run_dir / name).read_bytes())
        if damage == "flip":
            for offset in (len(data) // 2, len(data) // 2 + 1, len(data) // 2 + 2):
                data[offset] ^= 16
        else:
            data = data[: len(data) // 2]
        (run_dir / name).write_bytes(bytes(data))
    commands = [  # compare and report check every file they read, and the CSV files (which they do not) by sums
        ("run", str(RATIO), "--source", "synthetic", "--results-dir", str(results)),
        ("report", run_dir.name, "--format", "text", "--results-dir", str(results)),
        ("compare", "--runs", run_dir.name, "--reps", "100", "--results-dir", str(results)),
    ]
    for cmd in commands:
        refused = invoke(*cmd)
        assert refused.exit_code == 2, (cmd, refused.stdout)
        [line] = refused.stderr.strip().splitlines()
        assert f"{name} is not the file this run wrote" in line and "--force" in line, (cmd, line)
    if damage == "other_runs_curve":
        as_older(run_dir)
        refused = invoke("compare", "--runs", run_dir.name, "--reps", "100", "--results-dir", str(results))
        assert refused.exit_code == 2
        assert "equity.parquet: 'value' ends at" in refused.stderr and "not this run's" in refused.stderr


def test_a_disk_full_while_a_sweep_saves_a_chunk_is_one_line(tmp_path: Path, sweep_config: Path, monkeypatch) -> None:
    import errno
    import threading

    from engine.store import sweeps

    calls = [0]
    real = sweeps.savez

    def full(path: Path, **arrays) -> None:
        calls[0] += 1
        if calls[0] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, **arrays)

    monkeypatch.setattr(sweeps, "savez", full)
    before = set(threading.enumerate())
    result = invoke("sweep", sweep_config, "--results-dir", tmp_path / "R", "--reps", "100", "--chunk-size", "2")
    assert result.exit_code == 2, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert "cannot write chunk 1 of the sweep: No space left on device" in line, line
    # the chunks' threads were stopped by the failing sweep, not left to a later collection (which, run on one of
    # them, fails with "cannot join current thread")
    assert not [t for t in threading.enumerate() if t.name.startswith("ThreadPoolExecutor") and t not in before]


def test_a_directory_the_user_cannot_read_is_one_line_not_a_traceback(tmp_path: Path, monkeypatch) -> None:
    """chmod 000 on a run directory (as a user without root's override): every command that lists or reads the
    store says which file, in one line, with exit code 2."""
    import errno

    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    [run_dir] = _run_dirs(results)
    real = Path.is_file

    def is_file(self: Path) -> bool:
        if self.parent == run_dir:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    for cmd in (
        ("runs", "list"),
        ("report", "latest", "--format", "text"),
        ("run", str(RATIO), "--source", "synthetic"),
    ):
        result = invoke(*cmd, "--results-dir", results)
        assert result.exit_code == 2, (cmd, result.stdout)
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"error: {run_dir}/") and "Permission denied (give your user access to it" in line


@pytest.mark.parametrize("older", [False, True])
@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_a_stored_sweep_without_its_whole_blocks_file_is_refused_not_reused(
    tmp_path: Path, sweep_config: Path, damage: str, older: bool
) -> None:
    """``older``: a sweep stored before ``sweep.json`` recorded its files' sums, whose ``blocks.npz`` is checked
    by its zip directory."""
    cmd, sweep_dir = _stored_sweep(tmp_path, sweep_config, older=older)
    blocks = sweep_dir / "blocks.npz"
    size = blocks.stat().st_size
    if damage == "delete":
        blocks.unlink()
    else:
        blocks.write_bytes(blocks.read_bytes()[:1000])
    again = invoke(*cmd)
    assert again.exit_code == 2, again.stdout
    [line] = again.stderr.strip().splitlines()
    said = {
        (True, "delete"): "blocks.npz is missing or cut short",
        (True, "truncate"): "blocks.npz is missing or cut short",
        (False, "delete"): "blocks.npz cannot be read (No such file or directory)",
        (False, "truncate"): f"blocks.npz is not the file this sweep wrote (1,000 bytes, written as {size:,};",
    }[older, damage]
    assert said in line and line.endswith("; --force computes it again"), line
    assert invoke(*cmd, "--force").exit_code == 0 and zipfile.is_zipfile(blocks)


def test_a_catalog_cut_short_says_to_move_it_away_and_is_rebuilt_after(tmp_path: Path) -> None:
    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    db = results / "seesaw.duckdb"
    db.write_bytes(db.read_bytes()[:300_000])
    refused = invoke("run", str(CORR), "--source", "synthetic", "--results-dir", results)
    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: {db}: ") and "it is damaged: move it away, and the next command rebuilds" in line
    db.rename(tmp_path / "aside.duckdb")
    run_ok(CORR, results=results)
    assert len(check_catalog(db, results)) == 2  # both runs indexed again


def test_a_damaged_run_is_listed_without_numbers_by_a_rebuilt_catalog_and_named_when_read(tmp_path: Path) -> None:
    """metrics.json edited by hand (numbers that still parse, or a document without a run's keys), then the
    catalog moved away: the rebuilt index lists the damaged run without numbers, never the edited ones, and
    report names the damage in one line, as it does for a run damaged after it was indexed."""
    results = tmp_path / "R"
    run_ok(RATIO, CORR, results=results)
    [edited] = _run_dirs(results, "ratio_trend")
    metrics = json.loads((edited / "metrics.json").read_text(encoding="utf-8"))
    metrics["strategy"]["sharpe"] = 9.99
    for text in (json.dumps(metrics), "{}"):
        (edited / "metrics.json").write_text(text, encoding="utf-8")
        (results / "seesaw.duckdb").unlink(missing_ok=True)
        listed = invoke("runs", "list", "--results-dir", results)
        assert listed.exit_code == 0 and "corr_breakdown" in listed.stdout and "9.99" not in listed.stdout
        [row] = [line for line in listed.stdout.splitlines() if "ratio_trend" in line]
        assert row.split()[-2:] == ["–", "–"] and "metrics.json is not as written" in listed.stdout
        for command in (("report", edited.name, "--format", "text"), ("runs", "show", edited.name)):
            refused = invoke(*command, "--results-dir", results)
            assert refused.exit_code == 2 and refused.stderr.startswith(f"error: {edited}: metrics.json "), command


@pytest.mark.parametrize("files", ['"x"', '{"equity.csv": {"bytes": "12", "crc32": 1}}'])
def test_a_run_json_whose_files_record_is_not_a_runs_is_one_line(tmp_path: Path, files: str) -> None:
    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    [run_dir] = _run_dirs(results)
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    (run_dir / "run.json").write_text(json.dumps({**manifest, "files": json.loads(files)}), encoding="utf-8")
    refused = invoke("report", run_dir.name, "--format", "text", "--results-dir", results)
    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert "run.json's files is not a run's; run its config again with --force" in line


def test_a_file_the_run_wrote_and_lost_is_named_not_taken_for_an_older_runs(tmp_path: Path) -> None:
    results = tmp_path / "R"
    run_ok(CORR, results=results)
    [run_dir] = _run_dirs(results)
    (run_dir / "fx.parquet").unlink()
    for cmd in (("report", run_dir.name, "--format", "text"), ("compare", "--runs", run_dir.name, "--reps", "100")):
        refused = invoke(*cmd, "--results-dir", results)
        assert refused.exit_code == 2, refused.stdout
        assert "fx.parquet cannot be read (No such file or directory); run its config again" in refused.stderr


def test_a_run_file_the_user_cannot_read_says_so_not_to_run_again(tmp_path: Path, monkeypatch) -> None:
    import errno

    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    [run_dir] = _run_dirs(results)
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == run_dir / "metrics.json":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    refused = invoke("report", run_dir.name, "--format", "text", "--results-dir", results)
    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    advice = "give your user access to it, or choose another directory"
    assert line == f"error: {run_dir / 'metrics.json'}: Permission denied ({advice})"


@pytest.mark.parametrize("damage", ["unreadable", "deleted"])
def test_runs_show_of_a_run_whose_run_json_went_bad_since_it_was_indexed_is_one_line(
    tmp_path: Path, monkeypatch, damage: str
) -> None:
    import errno

    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    [run_dir] = _run_dirs(results)

    def failing(real):  # run.json, read as text or as bytes
        def read(self: Path, *args, **kwargs):
            if self == run_dir / "run.json":
                if damage == "unreadable":
                    raise PermissionError(errno.EACCES, "Permission denied", str(self))
                raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(self))
            return real(self, *args, **kwargs)

        return read

    monkeypatch.setattr(Path, "read_text", failing(Path.read_text))
    monkeypatch.setattr(Path, "read_bytes", failing(Path.read_bytes))
    shown = invoke("runs", "show", run_dir.name, "--results-dir", results)
    assert shown.exit_code == 2, shown.stdout
    [line] = shown.stderr.strip().splitlines()
    said = "Permission denied (give your user access" if damage == "unreadable" else "run.json cannot be read ("
    assert said in line, line


def test_a_damaged_stored_run_stops_run_before_anything_new_is_written(tmp_path: Path) -> None:
    """ratio_trend's stored equity.csv changed (a byte-order mark, as a spreadsheet may save it): run of it and
    corr_breakdown refuses in one line, and writes no corr_breakdown run that nothing would report."""
    results = tmp_path / "R"
    run_ok(RATIO, results=results)
    [run_dir] = _run_dirs(results, "ratio_trend")
    (run_dir / "equity.csv").write_bytes(b"\xef\xbb\xbf" + (run_dir / "equity.csv").read_bytes())
    refused = invoke("run", str(RATIO), str(CORR), "--source", "synthetic", "--results-dir", results)
    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert "equity.csv is not the file this run wrote" in line
    assert not (results / "corr_breakdown").exists()
