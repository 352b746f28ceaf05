"""engine/jobs/config_workers.py: steps over config indexes, in this process or in forked workers.

What the module promises, checked from outside: an index's steps all run in the process that ran its
first one (so what a step leaves is there for the next); values come back in index order; the error
of the lowest failing index is raised, a user error whole and any other with the worker's traceback;
a worker that dies is an error naming the config and leaves no process behind; numba compiling in a
worker reaches the parent's listeners once; one worker, or other threads in the process, mean no fork.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import DataError
from engine.jobs.config_workers import Steps, config_steps

_state: dict[int, int] = {}  # what the first step leaves, in the process that ran it


def _first(i: int, _: Any) -> int:
    _state[i] = os.getpid()
    return os.getpid()


def _second(i: int, arg: Any) -> tuple[int, int, Any]:
    return _state.pop(i), os.getpid(), arg


@contextlib.contextmanager
def _forked(steps: list[Any]) -> Iterator[Steps]:
    """Two forked workers, whatever threads this test process runs (``config_steps`` would then stay in it)."""
    pool = Steps(steps, workers=2)
    try:
        assert pool.workers == 2
        yield pool
    finally:
        pool.close()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_each_index_stays_with_the_worker_that_first_ran_it() -> None:
    steps = Steps([_first, _second], workers=2)
    try:
        assert steps.workers == 2
        first = steps.map(_first, list(range(8)))
        second = steps.map(_second, [5, 1, 7], args=["a", "b", "c"])
    finally:
        steps.close()
    assert os.getpid() not in first
    assert len(set(first)) == 2  # both workers took indexes
    assert second == [(first[5], first[5], "a"), (first[1], first[1], "b"), (first[7], first[7], "c")]


def test_equal_affinity_keys_share_a_worker() -> None:
    with contextlib.closing(Steps([_first], 2, affinity=lambda i: i // 2)) as steps:
        pids = steps.map(_first, list(range(6)))
    assert os.getpid() not in pids and len(set(pids)) == 2
    assert [pids[0], pids[2], pids[4]] == [pids[1], pids[3], pids[5]]


def _fail_odd(i: int, _: Any) -> int:
    if i % 2:
        raise ValueError(f"bad {i}")
    return i


def test_the_lowest_failing_index_is_raised_with_the_worker_traceback() -> None:
    with _forked([_fail_odd]) as steps:
        with pytest.raises(ValueError) as caught:
            steps.map(_fail_odd, [0, 1, 2, 3, 4])
        assert str(caught.value) == "bad 1"
        assert steps.map(_fail_odd, [4, 2]) == [4, 2]  # the workers carry on after an error
    notes = "".join(getattr(caught.value, "__notes__", []))
    assert "in the worker process" in notes and "_fail_odd" in notes


def _user_error(i: int, _: Any) -> None:
    raise DataError(f"no rows for config {i}", file="x.csv", path="data.start", expected="a date")


def test_a_user_error_arrives_whole() -> None:
    with _forked([_user_error]) as steps, pytest.raises(DataError) as caught:
        steps.map(_user_error, [3, 4])
    err = caught.value
    assert (err.message, err.file, err.path, err.expected) == ("no rows for config 3", "x.csv", "data.start", "a date")
    assert err.one_line() == "x.csv: data.start: no rows for config 3"
    assert not getattr(err, "__notes__", None)  # one line for the user, no traceback


def _die_on_one(i: int, _: Any) -> int:
    if i == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return i


def test_a_dead_worker_is_an_error_naming_the_config_and_no_worker_outlives_the_steps() -> None:
    steps = Steps([_die_on_one], workers=2)
    pids = list(steps._pids)
    try:
        with pytest.raises(RuntimeError, match="running config 2 ended without answering"):
            steps.map(_die_on_one, [0, 1, 2])
    finally:
        steps.close()
    assert len(pids) == 2 and all(_gone(pid) for pid in pids)


def _compile(i: int, _: Any) -> int:
    from numba.core import event

    for _ in range(2):
        event.start_event("numba:compile")
        event.end_event("numba:compile")
    return i


def test_numba_compiling_in_a_worker_reaches_the_parent_once() -> None:
    from numba.core import event

    starts: list[int] = []

    class Count(event.Listener):
        def on_start(self, ev: event.Event) -> None:
            starts.append(os.getpid())

        def on_end(self, ev: event.Event) -> None:
            pass

    listener = Count()
    event.register("numba:compile", listener)
    try:
        with _forked([_compile]) as steps:
            steps.map(_compile, [0])
    finally:
        event.unregister("numba:compile", listener)
    assert starts == [os.getpid()]


def test_one_worker_or_another_thread_means_this_process() -> None:
    with config_steps([_first], 1) as steps:
        assert steps.workers == 0
        assert steps.map(_first, [0, 1]) == [os.getpid()] * 2
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        with config_steps([_first], 2) as steps:
            assert steps.workers == 0
            assert steps.map(_first, [0]) == [os.getpid()]
    finally:
        done.set()
        other.join()


_ORPHAN_DRIVER = """
import sys, time
from engine.jobs.config_workers import Steps

def nap(i, _):
    time.sleep(120)

steps = Steps([nap], workers=2)
print(*steps._pids, flush=True)
steps.map(nap, [0, 1])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_busy_workers_die_with_their_parent() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with subprocess.Popen([sys.executable, "-c", _ORPHAN_DRIVER], stdout=subprocess.PIPE, text=True, env=env) as driver:
        try:
            assert driver.stdout is not None
            pids = [int(p) for p in driver.stdout.readline().split()]
            assert len(pids) == 2
            time.sleep(0.3)  # both in their step
            assert not any(_gone(pid) for pid in pids)
        finally:
            driver.kill()
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in pids)


class _Unpicklable:
    def __reduce__(self) -> Any:
        raise TypeError("not picklable")


def _user_error_with_odd_value(i: int, _: Any) -> None:
    raise DataError("a value nobody can pickle", file="x.csv", got=_Unpicklable())


def _explode() -> None:
    raise TypeError("cannot be rebuilt")


class _BreaksOnLoad(Exception):
    """Pickles, and fails when unpickled (whatever exception pickling other packages install)."""

    def __reduce__(self) -> Any:
        return (_explode, ())


def _odd_error(i: int, _: Any) -> None:
    raise _BreaksOnLoad("half two")


def test_errors_that_do_not_travel_well_still_arrive_as_one_line_or_a_runtime_error() -> None:
    with _forked([_user_error_with_odd_value, _odd_error]) as steps:
        with pytest.raises(DataError) as caught:  # the line the user would have seen, not a traceback
            steps.map(_user_error_with_odd_value, [0])
        assert caught.value.one_line() == "x.csv: a value nobody can pickle"
        with pytest.raises(RuntimeError, match="config 2 failed in a worker process"):
            steps.map(_odd_error, [1])


def _nap(i: int, _: Any) -> int:
    time.sleep(0.4 if i == 0 else 0.05)
    return i


def test_a_worker_gone_between_steps_is_an_error_naming_the_config_not_a_broken_pipe() -> None:
    steps = Steps([_first, _second], workers=2, name=lambda i: f"file{i}.yaml")
    try:
        pids = steps.map(_first, [0, 1])
        os.kill(pids[0], signal.SIGKILL)
        os.waitpid(pids[0], 0)
        with pytest.raises(RuntimeError, match=r"^the worker process running file0\.yaml ended without answering$"):
            steps.map(_second, [0, 1])
    finally:
        steps.close()


def _fail_two_die_three(i: int, _: Any) -> int:
    if i == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    if i == 2:
        time.sleep(0.3)  # fails after the worker of index 3 died
        raise DataError("bad data", file=f"c{i}.csv")
    return i


def test_a_dead_worker_does_not_hide_the_error_of_a_lower_config() -> None:
    with _forked([_fail_two_die_three]) as steps, pytest.raises(DataError, match=r"c2\.csv: bad data"):
        steps.map(_fail_two_die_three, [2, 3])


def _record_start(i: int, path: Any) -> int:
    with open(path, "a") as fh:
        fh.write(f"{i}\n")
    if i == 1:
        raise ValueError("one")
    time.sleep(0.3)
    return i


def test_no_config_after_the_failing_one_is_started(tmp_path: Path) -> None:
    log = tmp_path / "started"
    with _forked([_record_start]) as steps, pytest.raises(ValueError, match="one"):
        steps.map(_record_start, [0, 1, 2, 3, 4], args=[log] * 5)
    assert sorted(log.read_text().split()) == ["0", "1"]


_IGNORING_DRIVER = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job of a script: Ctrl-C is not for it
from engine.jobs.config_workers import Steps

def nap(i, _):
    time.sleep(1.0)
    return i

steps = Steps([nap], workers=2)
print("started", flush=True)
print(steps.map(nap, [0, 1, 2, 3]), flush=True)
steps.close()
"""


def test_workers_of_a_command_that_ignores_ctrl_c_ignore_it_too() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [sys.executable, "-c", _IGNORING_DRIVER]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True) as driver:
        assert driver.stdout is not None
        assert driver.stdout.readline().strip() == "started"
        time.sleep(0.3)
        os.killpg(driver.pid, signal.SIGINT)
        out, _ = driver.communicate(timeout=30)
    assert driver.returncode == 0
    assert out.strip() == "[0, 1, 2, 3]"


def test_the_garbage_collector_is_left_as_it_was() -> None:
    import gc

    gc.freeze()  # a process that froze its objects already, as the warm server's command has
    try:
        frozen = gc.get_freeze_count()
        with _forked([_first]) as steps:
            steps.map(_first, [0])
        assert gc.get_freeze_count() >= frozen > 0
    finally:
        gc.unfreeze()
    with _forked([_first]) as steps:
        steps.map(_first, [0])
    assert gc.get_freeze_count() == 0


def test_when_no_process_can_be_forked_the_steps_run_here(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fork, forks = os.fork, []

    def fork() -> int:
        if forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        forks.append(real_fork())
        return forks[-1]

    monkeypatch.setattr(os, "fork", fork)
    steps = Steps([_first], workers=2)
    monkeypatch.setattr(os, "fork", real_fork)
    try:
        assert steps.workers == 0
        assert steps.map(_first, [0, 1]) == [os.getpid()] * 2
    finally:
        steps.close()
    assert len(forks) == 1 and _gone(forks[0])
