"""``seesaw server``: a command forked from the warm server gives what the same command gives on its own.

Every command here is a real process (``python -m engine``).  That a command went through the server
is checked by the server's count of commands served, so no test passes by quietly running the
command in its own process; the same command with ``SEESAW_SERVER=off`` is the reference.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.server.process import _changed, _differs, _module_files, _stamp, status
from engine.server.protocol import socket_path
from tests.conftest import CONFIGS

CONFIG = CONFIGS / "relative_momentum.yaml"
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")


def _env(folder: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "SEESAW_SERVER": "on", "SEESAW_SERVER_DIR": str(folder), **extra}


def _seesaw(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def _served(env: dict[str, str]) -> int:
    info = status(socket_path(env))
    assert info is not None, "the server is not running"
    return int(info["commands"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A server of this checkout on a socket of its own, stopped (or killed) after the module's tests."""
    folder = tmp_path_factory.mktemp("server") / "sockets"
    env = _env(folder)
    started = _seesaw(["server", "start", "--idle-minutes", "30"], env, folder.parent)
    assert started.returncode == 0, started.stderr
    assert "seesaw server ready: pid" in started.stdout
    pid = int(status(socket_path(env))["pid"])  # type: ignore[index]
    yield env
    _seesaw(["server", "stop"], env, folder.parent)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def test_the_server_imports_but_starts_no_thread_of_its_own(server: dict[str, str]) -> None:
    info = status(socket_path(server))
    assert info is not None
    assert info["python_threads"] == 1
    assert info["seesaw"] == str(Path(__file__).resolve().parents[1] / "engine")


def test_a_run_through_the_server_prints_and_writes_what_a_run_of_its_own_does(
    server: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    args = ["run", str(CONFIG), "--source", "synthetic"]
    narrow = {**server, "COLUMNS": "72"}  # the command's environment is the client's: a narrower table
    before = _served(server)
    forked = _seesaw(args, narrow, tmp_path / "a")
    assert _served(server) == before + 1
    alone = _seesaw(args, {**narrow, "SEESAW_SERVER": "off"}, tmp_path / "b")
    assert _served(server) == before + 1
    assert (forked.returncode, alone.returncode) == (0, 0), forked.stderr + alone.stderr
    here = {"a": str((tmp_path / "a").resolve()), "b": str((tmp_path / "b").resolve())}  # where each wrote its run
    assert RUN_ID.sub("ID", forked.stdout.replace(here["a"], "CWD")) == RUN_ID.sub(
        "ID", alone.stdout.replace(here["b"], "CWD")
    )
    assert max(len(line) for line in forked.stdout.splitlines() if here["a"] not in line) <= 72
    assert RUN_ID.sub("ID", forked.stderr) == RUN_ID.sub("ID", alone.stderr)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "results").rglob("*.csv"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b" / "results").rglob("*.csv"))
    assert len(files_a) >= 4
    assert [RUN_ID.sub("ID", str(p)) for p in files_a] == [RUN_ID.sub("ID", str(p)) for p in files_b]
    for a, b in zip(files_a, files_b, strict=True):
        assert (tmp_path / "a" / a).read_bytes() == (tmp_path / "b" / b).read_bytes(), a


def test_a_users_mistake_is_the_same_line_and_exit_code(server: dict[str, str], tmp_path: Path) -> None:
    before = _served(server)
    forked = _seesaw(["run", "missing.yaml", "--source", "synthetic"], server, tmp_path)
    alone = _seesaw(["run", "missing.yaml", "--source", "synthetic"], {**server, "SEESAW_SERVER": "off"}, tmp_path)
    assert _served(server) == before + 1
    assert forked.returncode == alone.returncode == 2
    assert forked.stderr == alone.stderr
    assert forked.stderr.startswith("error: missing.yaml")


def test_a_closed_output_is_exit_code_141_through_the_server_too(server: dict[str, str], tmp_path: Path) -> None:
    """``seesaw ... | head``: the forked command meets the closed pipe and the client returns its 141."""
    before = _served(server)
    cmd = [sys.executable, "-m", "engine", "validate", str(CONFIGS / "buy_hold_us.yaml")]
    popen = subprocess.Popen(cmd, env=server, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert popen.stdout is not None and popen.stderr is not None
    popen.stdout.close()  # the reader is gone before the command writes
    with popen.stderr:
        stderr = popen.stderr.read()
    assert popen.wait(timeout=120) == 141, stderr
    assert stderr == "" and _served(server) == before + 1


def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> bytes:
    """What a command writes to a terminal (a pseudo-terminal 100 columns wide) until it exits."""
    leader, follower = pty.openpty()
    os.set_blocking(leader, True)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", *args], stdin=follower, stdout=follower, stderr=follower, env=env, cwd=cwd
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end closed: every process holding it has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=600) == 0
    return b"".join(chunks)


@pytest.mark.parametrize("command", ["run", "audit"])  # a run reused, and a command that imports numba
def test_on_a_terminal_the_bytes_are_those_of_the_command_alone(
    server: dict[str, str], tmp_path: Path, command: str
) -> None:
    """Colours, widths and the last byte: nothing the server's own imports hooked onto its exit, nor the
    command's alone onto its own (numba's colorama wrote a colour reset after the output)."""
    env = {k: v for k, v in server.items() if k != "COLUMNS"}
    args = [command, str(CONFIG), "--source", "synthetic"]
    _seesaw(args, {**env, "SEESAW_SERVER": "off"}, tmp_path)  # stored first: both print the reused run
    before = _served(server)
    forked = _on_a_terminal(args, env, tmp_path)
    assert _served(server) == before + 1
    alone = _on_a_terminal(args, {**env, "SEESAW_SERVER": "off"}, tmp_path)
    assert (b"\x1b[" in alone) is (command == "run")  # a terminal gets colours: run's table has some
    assert forked == alone


def test_a_command_whose_interpreter_would_start_differently_runs_on_its_own(
    server: dict[str, str], tmp_path: Path
) -> None:
    before = _served(server)
    proc = _seesaw(["validate", str(CONFIG)], {**server, "NUMBA_NUM_THREADS": "1"}, tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip().endswith(": ok")
    assert _served(server) == before
    log = socket_path(server).with_suffix(".log").read_text()
    assert "refused a command: $NUMBA_NUM_THREADS differs from the server's" in log


def test_what_makes_a_command_start_differently() -> None:
    from engine.server.protocol import request

    message = json.loads(json.dumps(request(["validate"], [])))
    message["path"] = ["script dir", *sys.path]
    from engine.server import process as server_module

    server_module._BASE_PATH[:] = sys.path
    try:
        assert _differs(message, 4) is None
        numba_opt = {**message, "env": {**message["env"], "NUMBA_OPT": "0"}}
        assert _differs(numba_opt, 4) == "$NUMBA_OPT differs from the server's"
        assert _differs({**message, "env": {**message["env"], "SEESAW_DATA_DIR": "/elsewhere"}}, 4) is None
        assert _differs({**message, "path": ["script dir", "/plugins", *sys.path]}, 4) is not None
        flags = {**message["start"], "x": ["('importtime', True)"]}
        assert _differs({**message, "start": flags}, 4) == "the client's Python flags differ from the server's"
    finally:
        server_module._BASE_PATH.clear()


def test_a_changed_or_removed_file_is_noticed(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("x = 1\n")
    files = {str(module): _stamp(module.stat())}
    assert _changed(files) is None
    module.write_text("x = 22\n")
    assert _changed(files) == str(module)
    module.unlink()
    assert _changed(files) == str(module)
    assert _changed(_module_files(time.time_ns())) is None  # every file this process imported, unchanged


@pytest.mark.parametrize("how", ["in place", "replaced"])
def test_an_edit_that_keeps_the_size_and_modification_time_is_noticed(tmp_path: Path, how: str) -> None:
    """``touch -d`` after an edit, or ``rsync -a`` (a new file renamed over the old one, its time copied):
    the same size and modification time, other code."""
    module = tmp_path / "probe.py"
    module.write_text("x = 1\n")
    old = module.stat()
    files = {str(module): _stamp(old)}
    time.sleep(0.02)  # the status-change clock is coarser than the nanoseconds it reports
    target = module if how == "in place" else tmp_path / "copy.py"
    target.write_text("x = 2\n")
    os.utime(target, ns=(old.st_atime_ns, old.st_mtime_ns))
    if how == "replaced":
        target.replace(module)
    now = module.stat()
    assert (now.st_size, now.st_mtime_ns) == (old.st_size, old.st_mtime_ns)
    assert _changed(files) == str(module)


def test_a_file_written_while_the_server_imported_it_counts_as_changed(tmp_path: Path) -> None:
    """The server notes its files once its imports are done; one written after it began importing may
    have been imported as it was before (the old code), so the first check finds it changed."""
    sys.path.insert(0, str(tmp_path))
    try:
        before = time.time_ns() - 50_000_000  # as the server does: file times come from a coarser, lagging clock
        (tmp_path / "edited_while_importing.py").write_text("x = 1\n")
        importlib.import_module("edited_while_importing")
        files = _module_files(before)
        assert _changed(files) == str(tmp_path / "edited_while_importing.py")
        assert _changed(_module_files(time.time_ns())) is None  # noted after the write: unchanged
        ahead = time.time_ns() + 3600 * 10**9  # another machine's clock (a network file system): not a write now
        os.utime(tmp_path / "edited_while_importing.py", ns=(ahead, ahead))
        time.sleep(0.02)  # the status-change clock is coarser than the nanoseconds it reports
        assert _changed(_module_files(time.time_ns())) is None
        kept = tmp_path / "kept_time.py"  # a copy renamed over it while importing, its time kept (rsync -a)
        kept.write_text("x = 2\n")
        os.utime(kept, ns=(ahead, ahead))
        during = time.time_ns() - 50_000_000  # as the server does: the status-change clock lags
        kept.replace(tmp_path / "edited_while_importing.py")
        assert _changed(_module_files(during)) == str(tmp_path / "edited_while_importing.py")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("edited_while_importing", None)


def _stand_in(tmp_path: Path) -> tuple[dict[str, str], socket.socket]:
    """The environment of a client and the listening socket of a stand-in server for it."""
    folder = tmp_path / "s"
    folder.mkdir(mode=0o700)
    env = _env(folder)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path(env)))
    listener.listen(1)
    return env, listener


def _taken(listener: socket.socket) -> tuple[socket.socket, dict, int, bytes]:
    """A stand-in server's side of a command: accept, read the request (closing the descriptors it passed),
    say ready and read the client's go; (connection, request, descriptors passed, go)."""
    conn, _ = listener.accept()
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
    while not data.endswith(b"\n"):
        data += conn.recv(1 << 16)
    for fd in fds:
        os.close(fd)
    conn.sendall(json.dumps({"ready": True}).encode() + b"\n")
    return conn, json.loads(data), len(fds), conn.recv(3)


def test_the_client_forwards_ctrl_c_to_the_command_and_returns_its_exit_code(tmp_path: Path) -> None:
    """Against a stand-in server: the command is a `sleep`, which the client's SIGINT must reach."""
    env, listener = _stand_in(tmp_path)
    command = subprocess.Popen(["sleep", "60"])
    seen: dict[str, object] = {}

    def stand_in() -> None:
        conn, message, seen["fds"], seen["go"] = _taken(listener)
        seen["argv"] = message["argv"]
        conn.sendall(json.dumps({"pid": command.pid}).encode() + b"\n")
        seen["signal"] = command.wait(timeout=60)
        conn.sendall(json.dumps({"exit": 130}).encode() + b"\n")
        conn.close()

    thread = threading.Thread(target=stand_in)
    thread.start()
    client = subprocess.Popen([sys.executable, "-m", "engine", "validate", "x.yaml"], env=env, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while "argv" not in seen and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # the client installs its signal handlers once it has the command's pid
    client.send_signal(signal.SIGINT)
    assert client.wait(timeout=60) == 130
    thread.join(timeout=60)
    listener.close()
    assert seen["argv"] == ["validate", "x.yaml"] and seen["fds"] == 4 and seen["go"] == b"go\n"
    assert seen["signal"] == -signal.SIGINT


def test_a_command_killed_by_sigkill_kills_the_client_with_it_without_a_traceback(tmp_path: Path) -> None:
    """Against a stand-in server that reports the command died of SIGKILL (the out-of-memory killer): the
    client dies of SIGKILL too, as the command run on its own would have, and prints nothing."""
    env, listener = _stand_in(tmp_path)
    command = subprocess.Popen(["sleep", "60"])

    def stand_in() -> None:
        conn = _taken(listener)[0]
        conn.sendall(json.dumps({"pid": command.pid}).encode() + b"\n")  # what the client would signal
        conn.sendall(json.dumps({"signal": int(signal.SIGKILL)}).encode() + b"\n")
        conn.close()

    thread = threading.Thread(target=stand_in)
    thread.start()
    client = subprocess.run(
        [sys.executable, "-m", "engine", "validate", "x.yaml"], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    thread.join(timeout=60)
    listener.close()
    command.kill()
    command.wait(timeout=60)
    assert client.returncode == -signal.SIGKILL
    assert client.stderr == "" and client.stdout == ""


def test_a_stopped_server_is_killed_and_releases_the_callers_output(tmp_path: Path) -> None:
    """A stand-in server that listens and is then stopped (SIGSTOP, as Ctrl-Z or a debugger would): after 10 s
    the client runs the command itself and kills the server, which held the client's stdout (passed over the
    socket); so a pipe from the client ends with the command, and the stand-in never starts it.  (A server
    that is only busy is left alone: tests/test_server_process.py.)"""
    folder = tmp_path / "s"
    folder.mkdir(mode=0o700)
    env = _env(folder)
    path = socket_path(env)
    stuck = subprocess.Popen(
        [sys.executable, "-c", "import socket, sys, time\n"
         "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4); print('up', flush=True)\n"
         "time.sleep(600)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert stuck.stdout is not None and stuck.stdout.readline() == "up\n"
        stuck.send_signal(signal.SIGSTOP)
        client = subprocess.Popen(
            [sys.executable, "-m", "engine", "validate", "missing.yaml"], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _, err = client.communicate(timeout=120)  # before: the stand-in kept stdout open for 600 s
        assert client.returncode == 2 and "missing.yaml" in err  # the command ran here
        assert f"the server (pid {stuck.pid}) did not answer in 10 s; stopped it" in err
        assert stuck.wait(timeout=30) == -signal.SIGKILL
    finally:
        stuck.kill()
        stuck.wait()
        if stuck.stdout is not None:
            stuck.stdout.close()


def test_after_stop_commands_run_on_their_own(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    env = _env(folder)
    assert _seesaw(["server", "start", "--idle-minutes", "5"], env, tmp_path).returncode == 0
    stopped = _seesaw(["server", "stop"], env, tmp_path)
    assert stopped.stdout.startswith("seesaw server stopped: pid")
    assert status(socket_path(env)) is None
    proc = _seesaw(["validate", str(CONFIG)], env, tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip().endswith(": ok")
    assert _seesaw(["server", "status"], env, tmp_path).returncode == 1


def test_the_latency_benchmark_counts_only_commands_the_server_served(server: dict[str, str]) -> None:
    from tests.test_benchmarks_import import BENCHMARKS, _module

    latency = _module(next(p for p in BENCHMARKS if p.stem == "latency"))
    argv = [sys.executable, "-m", "engine", "validate", str(CONFIG)]
    assert len(latency.through_server(argv, server, 2)) == 2
    with pytest.raises(SystemExit, match="did not serve every run"):
        latency.through_server(argv, {**server, "NUMBA_NUM_THREADS": "1"}, 1)


def test_status_as_json(server: dict[str, str], tmp_path: Path) -> None:
    proc = _seesaw(["server", "status", "--json"], server, tmp_path)
    info = json.loads(proc.stdout)
    assert proc.returncode == 0 and info["running"] is True
    assert info["socket"] == str(socket_path(server)) and info["commands"] == _served(server)
    started = dt.datetime.fromisoformat(info["started"])  # local time, with its offset from UTC
    assert started.tzinfo is not None and abs(dt.datetime.now(dt.UTC) - started) < dt.timedelta(hours=1)
    gone = _seesaw(["server", "status", "--json"], {**server, "SEESAW_SERVER_DIR": str(tmp_path / "none")}, tmp_path)
    assert gone.returncode == 1 and json.loads(gone.stdout)["running"] is False


def test_a_server_whose_code_changed_stops_and_the_command_runs_on_its_own(tmp_path: Path) -> None:
    """A module the server imported (a ``sitecustomize`` on ``PYTHONPATH``) changes on disk."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("VALUE = 1\n")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    env = _env(tmp_path / "s", PYTHONPATH=path)
    assert _seesaw(["server", "start", "--idle-minutes", "5"], env, tmp_path).returncode == 0
    try:
        assert _seesaw(["validate", str(CONFIG)], env, tmp_path).returncode == 0
        assert _served(env) == 1
        (site / "sitecustomize.py").write_text("VALUE = 22\n")
        proc = _seesaw(["validate", str(CONFIG)], env, tmp_path)
        assert proc.returncode == 0 and proc.stdout.strip().endswith(": ok")
        assert status(socket_path(env)) is None  # it stopped itself
        log = socket_path(env).with_suffix(".log").read_text()
        assert f"{site / 'sitecustomize.py'} changed since the server started" in log  # refused, or seen first
    finally:
        _seesaw(["server", "stop"], env, tmp_path)
