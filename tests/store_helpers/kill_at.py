"""Run the ``seesaw`` command line and SIGKILL (or SIGSTOP) this very process at a chosen point.

    python tests/store_helpers/kill_at.py POINT N [KILL|STOP] -- run CONFIG --source synthetic --results-dir R

The patches only decide *when* to die; everything before that point runs the real code, and
the death is a real ``SIGKILL`` (no ``finally``, no ``atexit``, no flushing, locks released
by the kernel).  ``N`` counts calls of the patched function (1 = the first).  If the point is
never reached the command finishes normally, so a caller can tell "killed" (exit -9) from
"the point does not exist any more" (exit 0).  With ``STOP`` the process stops itself there
instead (``SIGSTOP``), frozen mid-step until the caller sends ``SIGCONT``: a slow writer,
caught at a precise moment, for another process to run into.

Points:

* ``simulated``: right after the simulation of a config returned; nothing written yet.
* ``parquet``: on entry to the N-th ``rundir._write_parquet`` call (the text files and the
  earlier Parquet files of the staging directory are complete).
* ``parquet_footer``: inside the N-th Parquet write, half the file's bytes written, so the staging
  directory holds a Parquet file without its footer (a kill in the middle of a write).
* ``rename``: just before the staging directory (``run.json`` included) is renamed into place.
* ``record``: after the rename, on entry to ``Catalog.record`` (landed, not indexed).
* ``index``: inside ``Catalog.record``, before the N-th ``INSERT INTO metrics`` statement (with
  N = 1, the run's ``runs`` row is already in the database and none of its metrics rows).

Sweeps (``-- sweep CONFIG ...``):

* ``chunk``: on entry to the N-th ``sweep_job._save_chunk`` (N-1 chunks finished).
* ``replace``: the sweep is complete in its staging directory, just before it replaces (or
  becomes) the stored one.
* ``exchange``: inside a replacement, the new sweep renamed next to the old one, before the swap.
* ``set_aside``: on a system without an atomic swap (simulated), after the old sweep was renamed
  aside and before the new one is renamed into place.
* ``delete_old``: the swap done, the old sweep half deleted (``combos.parquet`` gone).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

_SIGNAL = signal.SIGKILL


def _die() -> None:
    os.kill(os.getpid(), _SIGNAL)


def _kill_on_call(n: int, fn: Callable[..., Any], *, before: bool = True, when=lambda *a, **k: True):
    calls = 0

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        if when(*args, **kwargs):
            calls += 1
            if before and calls == n:
                _die()
        out = fn(*args, **kwargs)
        if not before and calls == n:
            _die()
        return out

    return wrapper


def _half_written_parquet(n: int) -> None:
    """The N-th Parquet file of a run written half, then the process killed (or stopped) before the rest."""
    import engine.store.rundir

    original, calls = engine.store.rundir._write, [0]

    def write(path: Any, data: Any, sums: Any = None) -> Any:
        if str(path).endswith(".parquet"):
            calls[0] += 1
            if calls[0] == n:
                with open(path, "wb") as fh:
                    fh.write(data[: len(data) // 2])
                    fh.flush()
                _die()
        return original(path, data, sums)

    engine.store.rundir._write = write


class _KillingConnection:
    """A DuckDB connection that dies before the N-th ``INSERT INTO metrics``."""

    def __init__(self, con: Any, counter: list[int], n: int) -> None:
        self._con, self._counter, self._n = con, counter, n

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT INTO METRICS"):
            self._counter[0] += 1
            if self._counter[0] == self._n:
                _die()
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def install(point: str, n: int) -> None:
    import engine.jobs.run
    import engine.store.rundir
    from engine.store.catalog import Catalog

    if point == "simulated":
        engine.jobs.run.run_config = _kill_on_call(n, engine.jobs.run.run_config, before=False)
    elif point == "parquet":
        engine.store.rundir._write_parquet = _kill_on_call(n, engine.store.rundir._write_parquet)
    elif point == "parquet_footer":
        _half_written_parquet(n)
    elif point == "rename":
        staging = lambda src, dst: os.path.basename(os.fspath(src)).startswith(".tmp-")  # noqa: E731
        engine.store.rundir.os.rename = _kill_on_call(n, os.rename, when=staging)
    elif point == "record":
        Catalog.record = _kill_on_call(n, Catalog.record)
    elif point == "index":
        original = Catalog._connect
        counter = [0]

        @contextlib.contextmanager
        def connect(self: Catalog, *, write: bool) -> Iterator[Any]:
            with original(self, write=write) as con:
                yield _KillingConnection(con, counter, n) if write else con

        Catalog._connect = connect  # type: ignore[method-assign]
    elif point == "chunk":
        import engine.jobs.sweep

        engine.jobs.sweep.save_chunk = _kill_on_call(n, engine.jobs.sweep.save_chunk)
    elif point == "replace":
        import engine.store.sweeps

        engine.store.sweeps.replace_dir = _kill_on_call(n, engine.store.sweeps.replace_dir)
    elif point == "exchange":
        import engine.store.staging

        engine.store.staging._exchange = _kill_on_call(n, engine.store.staging._exchange)
    elif point == "set_aside":
        import engine.store.staging

        engine.store.staging._exchange = lambda a, b: False
        incoming = lambda src, dst: os.path.basename(os.fspath(src)).startswith(".replacing.")  # noqa: E731
        engine.store.staging.os.rename = _kill_on_call(n, os.rename, when=incoming)
    elif point == "delete_old":
        import engine.store.staging

        def half_delete(path: Any, *args: Any, **kwargs: Any) -> None:
            os.unlink(os.path.join(path, "combos.parquet"))
            _die()

        engine.store.staging.shutil.rmtree = half_delete
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def main() -> None:
    global _SIGNAL
    args = sys.argv[1:]
    sep = args.index("--")
    point, n, *how = args[:sep]
    _SIGNAL = {"KILL": signal.SIGKILL, "STOP": signal.SIGSTOP}[how[0] if how else "KILL"]
    install(point, int(n))
    cli_args = args[sep + 1 :]
    from engine.cli import main as cli_main

    sys.argv = ["seesaw", *cli_args]
    cli_main()


if __name__ == "__main__":
    main()
