"""Where a command's configs are loaded, run and written: in this process, or in forked worker processes.

A command that runs several configs does it in steps (load every config, then run each, then write
each), and a config's step needs what its earlier steps left (its loaded data, its results).
:class:`Steps` runs such steps over the configs' indexes:

* with one worker, in this process, one index after another (also where no process can be forked);
* with more, in worker processes forked when the steps start.  Each index is handed to the first
  idle worker the first time and to that same worker at every later step, so what a step leaves
  stays in the process that made it; only each step's return value (small: a fingerprint, the
  metrics) comes back through a pipe.  Indexes given the same ``affinity`` key share a worker, so
  their steps run in order, as they would in one process.

A step's functions are given before the fork (the workers have them already; they are named by
position, never pickled) and report through their return value only: a worker never prints, and
it leaves with ``os._exit`` (no flushing of the parent's buffers, no ``atexit`` work such as the
catalog's database connection).  Either way :meth:`Steps.map` returns the values in index order or
raises the error of the lowest failing index, after the indexes already started have finished and
without starting any after it: what one process would raise, since it would stop there.  A
worker's unexpected error keeps its traceback as a note.  A worker ends silently on Ctrl-C (the
default action) unless the command ignores it, and then ignores it too; the parent's own interrupt
ends them on the way out.  A worker that dies (the kernel's out-of-memory killer, a signal) is a
``RuntimeError`` naming its config, whether it dies in a step or between two; on Linux a worker dies
with its parent (a command killed mid-step leaves no worker writing on).  Workers report numba
compiling a kernel to the parent, which raises numba's event itself (so
:func:`engine.cli.options.compile_notice` shows its note once, whichever process compiles).
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any

from engine.compile_event import first_compile_listener
from engine.cores import usable_cores
from engine.parent_death import die_with

__all__ = ["Step", "Steps", "config_steps", "default_processes"]

#: A step: ``fn(index, arg)`` for one config index (``arg``: the per-index argument given to ``map``).
Step = Callable[[int, Any], Any]

_COMPILING = "compiling"


def default_processes(count: int) -> int:
    """Worker processes for ``count`` configs: the cores this process may run on, at most 8, never more
    than the configs."""
    return max(1, min(8, usable_cores(), count))


class Steps:
    """The steps ``steps`` over config indexes, in this process (``workers`` 1) or in forked workers."""

    def __init__(
        self,
        steps: Sequence[Step],
        workers: int,
        affinity: Callable[[int], Hashable] = lambda i: i,
        name: Callable[[int], str] = lambda i: f"config {i + 1}",
    ):
        self._steps = list(steps)
        self._affinity = affinity
        self._name = name
        self._conns: list[Connection] = []
        self._pids: list[int] = []
        self._owner: dict[Hashable, int] = {}
        self._dead: set[int] = set()
        if workers > 1:
            self._fork(workers)

    @property
    def workers(self) -> int:
        """Worker processes (0: the steps run in this process)."""
        return len(self._conns)

    def map(self, step: Step, indexes: Sequence[int], args: Sequence[Any] | None = None) -> list[Any]:
        """``step(i, arg)`` for each index (and argument), the values in index order; see the module docstring."""
        number = self._steps.index(step)
        todo = list(zip(indexes, args if args is not None else [None] * len(indexes), strict=True))
        if not self._conns:
            return [step(i, arg) for i, arg in todo]
        return self._dispatch(number, todo)

    def close(self) -> None:
        """End the workers (each leaves when its pipe closes; one still busy is sent SIGTERM) and reap them."""
        for conn in self._conns:
            conn.close()
        for pid in self._pids:
            try:
                if os.waitpid(pid, os.WNOHANG) == (0, 0):
                    os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
            except ChildProcessError:  # pragma: no cover - already reaped
                pass
        self._conns, self._pids = [], []

    # -- the parent's side ---------------------------------------------------------------------------------------

    def _dispatch(self, number: int, todo: list[tuple[int, Any]]) -> list[Any]:
        done: dict[int, Any] = {}
        failed: dict[int, BaseException] = {}
        busy: dict[int, int] = {}  # worker -> index it runs
        waiting = list(range(len(todo)))  # positions in todo not sent yet
        while waiting or busy:
            stop = min(failed, default=None)
            for pos in list(waiting):
                i, arg = todo[pos]
                if stop is not None and i > stop:
                    waiting.remove(pos)
                    continue
                worker = self._owner.get(self._affinity(i))
                if worker is None:
                    idle = [w for w in range(len(self._conns)) if w not in busy and w not in self._dead]
                    worker = idle[0] if idle else None
                    if worker is None and len(self._dead) == len(self._conns):
                        worker = min(self._dead)  # every worker is gone: each index fails below
                if worker is None or worker in busy:
                    continue
                waiting.remove(pos)
                self._owner[self._affinity(i)] = worker
                if worker in self._dead or not self._send(worker, (number, i, arg)):
                    failed[i] = self._gone(i)
                    continue
                busy[worker] = i
            if not busy:
                continue
            for ready in wait([self._conns[w] for w in busy]):
                worker = self._conns.index(ready)  # type: ignore[arg-type]
                ok, value = self._receive(self._conns[worker], busy[worker])
                if ok is None:  # a note from the worker, not its answer
                    continue
                i = busy.pop(worker)
                if ok is False and isinstance(value, _Gone):
                    self._dead.add(worker)
                (done if ok else failed)[i] = value
        if failed:
            raise failed[min(failed)]
        return [done[i] for i, _ in todo]

    def _send(self, worker: int, message: tuple[int, int, Any]) -> bool:
        """Hand ``message`` to ``worker``; False (and the worker counted dead) when its pipe is broken."""
        try:
            self._conns[worker].send(message)
        except OSError:
            self._dead.add(worker)
            return False
        return True

    def _gone(self, index: int) -> RuntimeError:
        return _Gone(f"the worker process running {self._name(index)} ended without answering")

    def _receive(self, conn: Connection, index: int) -> tuple[bool | None, Any]:
        try:
            ok, value = conn.recv()
        except (EOFError, OSError):
            return False, self._gone(index)
        if ok is None and value == _COMPILING:
            from numba.core import event

            event.start_event("numba:compile")
            event.end_event("numba:compile")
        if ok is False:
            try:
                value = pickle.loads(value)
            except Exception as exc:  # an exception type that cannot be rebuilt from its arguments
                value = RuntimeError(
                    f"{self._name(index)} failed in a worker process with an error that could not be read back: {exc!r}"
                )
        return ok, value

    def _fork(self, workers: int) -> None:
        # Objects made before the fork stay out of the workers' garbage collections, which would otherwise
        # write to (and so copy) every page of this process's heap; a process that froze its objects already
        # (the warm server's command) is left as it is.
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        parent_pid = os.getpid()
        try:
            for _ in range(workers):
                parent, child = Pipe()
                try:
                    pid = os.fork()
                except OSError:  # no more processes for this user: the workers started so far do it all
                    parent.close()
                    child.close()
                    break
                if pid == 0:  # pragma: no cover - the worker (its work is checked through the parent)
                    for other in [parent, *self._conns]:  # only the parent holds the other ends
                        other.close()
                    _serve(child, self._steps, parent_pid)
                child.close()
                self._conns.append(parent)
                self._pids.append(pid)
        finally:
            if freeze:
                gc.unfreeze()
        if len(self._conns) == 1:  # one worker alone is this process with extra steps
            self.close()


class _Gone(RuntimeError):
    """A worker process that ended without answering (killed, out of memory)."""


@contextmanager
def config_steps(
    steps: Sequence[Step],
    workers: int,
    affinity: Callable[[int], Hashable] = lambda i: i,
    name: Callable[[int], str] = lambda i: f"config {i + 1}",
) -> Iterator[Steps]:
    """:class:`Steps` that end their workers on the way out (an error or an interrupt included).

    The steps run in this process, whatever ``workers`` says, where ``os.fork`` is missing or while this
    process runs other threads (a notebook's, an application's): a lock one of them held at the fork
    would stay locked forever in the worker."""
    alone = hasattr(os, "fork") and threading.active_count() == 1
    pool = Steps(steps, workers if alone else 1, affinity, name)
    try:
        yield pool
    finally:
        pool.close()


# -- the worker's side -----------------------------------------------------------------------------------------------


def _serve(conn: Connection, steps: list[Step], parent: int) -> None:  # pragma: no cover - runs in the worker
    """A worker's life: run each step it is sent, send its value or its error back; leave when the pipe closes,
    and die with the parent (a killed command leaves no worker writing on)."""
    status = 0
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(sig) is not signal.SIG_IGN:  # ignored by the command: ignored here too
                signal.signal(sig, signal.SIG_DFL)
        die_with(parent)  # a killed command leaves no worker writing on
        _report_compiling(conn)
        while True:
            try:
                number, index, arg = conn.recv()
            except EOFError:
                break
            try:
                conn.send((True, steps[number](index, arg)))
            except Exception as exc:
                conn.send((False, _pickled(exc)))
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _pickled(exc: BaseException) -> bytes:
    """``exc`` pickled: a user error as itself (or, if it does not pickle, rebuilt from its one line, so the user
    reads the same line), any other with the worker's traceback as a note (or as a RuntimeError holding it)."""
    from engine.errors import UserError

    if isinstance(exc, UserError):
        try:
            return pickle.dumps(exc)
        except Exception:  # a value in ``got`` that does not pickle: the user still gets the same one line
            try:
                return pickle.dumps(type(exc)(exc.one_line()))
            except Exception:
                return pickle.dumps(UserError(exc.one_line()))
    tb = "".join(traceback.format_exception(exc))
    try:
        exc.add_note(f"in the worker process {os.getpid()}:\n{tb}")
        return pickle.dumps(exc)
    except Exception:
        return pickle.dumps(RuntimeError(f"in the worker process {os.getpid()}:\n{tb}"))


def _report_compiling(conn: Connection) -> None:  # pragma: no cover - runs in the worker
    """Replace this process's listeners to numba's compile event by one telling the parent (once)."""
    import sys

    if "numba" not in sys.modules:
        return
    from numba.core import event

    registered = getattr(event, "_registered", None)  # numba's own table: if it moves, no note is relayed
    if registered is None:
        return
    for listener in list(registered.get("numba:compile", [])):
        event.unregister("numba:compile", listener)
    event.register("numba:compile", first_compile_listener(lambda: conn.send((None, _COMPILING))))
