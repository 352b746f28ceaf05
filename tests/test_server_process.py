"""What makes a process the command, carried from the client to the process the server forks.

A probe server (the real server, serving ``tests.server_probe:main`` instead of the command line)
reports its command's process: working directory, umask, priority, CPU set, file limit, ignored
signals, stdout's buffering.  Each client is a real ``python -m engine`` process whose attributes
the test sets; every test checks that the probe server served it (its count of commands), so none
passes by the client running the command itself.  Then how the command ends: its exit code, a
signal that kills it (the client dies of the same one), a client killed first (the command dies
too), and what the client does when it cannot hand the command over.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.server.kernels import Kernels
from engine.server.process import status
from engine.server.protocol import socket_path
from tests.conftest import REPO
from tests.server_probe import WATCHED
from tests.test_server import _served

SERVE_PROBE = (
    "import sys; from pathlib import Path; import tests.server_probe; from engine.server.process import serve; "
    "serve(Path(sys.argv[1]), 600.0, 'tests.server_probe:main')"
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of clients of a probe server (stopped after the module's tests)."""
    with _probe_server(tmp_path_factory.mktemp("probe") / "s") as (env, _server):
        yield env


@contextlib.contextmanager
def _probe_server(folder: Path) -> Iterator[tuple[dict[str, str], subprocess.Popen]]:
    """A probe server in ``folder``: its clients' environment and its process (killed at the end)."""
    folder.mkdir(mode=0o700)
    quiet = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # so that -u shows
    env = {**quiet, "SEESAW_SERVER": "on", "SEESAW_SERVER_DIR": str(folder)}
    path = socket_path(env)
    log = (folder / "probe.log").open("wb")
    server = subprocess.Popen([sys.executable, "-c", SERVE_PROBE, str(path)], cwd=REPO, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while status(path) is None:
            assert server.poll() is None and time.monotonic() < deadline, (folder / "probe.log").read_text()
            time.sleep(0.1)
        yield env, server
    finally:
        server.kill()
        server.wait()
        log.close()


@pytest.mark.parametrize(("signum", "said"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_a_signal_while_a_stopped_server_keeps_the_client_waiting_ends_it(
    signum: int, said: bool, tmp_path: Path
) -> None:
    """A server stopped (SIGSTOP) takes no command; Ctrl-C or SIGTERM meanwhile ends the client at once, as
    without a server (-signum), in one line for Ctrl-C and none for SIGTERM: not after the 10 s wait, not with a
    traceback, and not by running the command itself after all.  The stopped server is killed: it held the
    client's streams."""
    with _probe_server(tmp_path / "s") as (env, server):
        os.kill(server.pid, signal.SIGSTOP)
        proc = _client({**env, "PROBE_MARK": str(tmp_path / "ran")}, tmp_path, _signals_default)
        time.sleep(2.0)  # the client is waiting for the server's answer
        began = time.monotonic()
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=60)
        waited = time.monotonic() - began
        assert proc.returncode == -signum, err
        assert waited < 5.0, waited  # the wait for an answer is 10 s
        lines = err.decode().splitlines()
        stopped = "stopped (Ctrl-C) before the command started: nothing was done"
        assert lines == [f"seesaw: the server (pid {server.pid}) is stopped; killed it"] + (
            [stopped] if said else []
        ), lines
        assert server.wait(timeout=10) == -signal.SIGKILL
        assert not (tmp_path / "ran").exists()


def _client(env: dict[str, str], cwd: Path, setup: Callable[[], None] | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *kw.pop("flags", []), "-m", "engine", "probe", "args"],
        env=env, cwd=cwd, preexec_fn=setup, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw,
    )  # fmt: skip


def _report(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_the_command_takes_the_clients_process_attributes(probe: dict[str, str], tmp_path: Path) -> None:
    nice = os.getpriority(os.PRIO_PROCESS, 0) + 3
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def setup() -> None:
        os.nice(3)
        os.sched_setaffinity(0, {0})
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, hard))
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        os.umask(0o027)

    before = _served(probe)
    report = _report(_client({**probe, "PROBE": "from the client"}, tmp_path, setup, flags=["-u"]))
    assert _served(probe) == before + 1
    assert report["argv"] == ["probe", "args"] and report["cwd"] == str(tmp_path) and report["umask"] == 0o027
    assert report["nice"] == nice and report["affinity"] == [0] and report["nofile"] == [200, hard]
    assert report["ignored"] == [int(signal.SIGHUP)] and report["probe"] == "from the client"
    assert report["write_through"] is True  # python -u
    plain = _report(_client(probe, tmp_path))
    inherited = sorted(int(s) for s in WATCHED if signal.getsignal(s) == signal.SIG_IGN)  # [] unless run under nohup
    assert plain["write_through"] is False and plain["ignored"] == inherited and plain["nofile"] == [soft, hard]


def test_the_exit_code_comes_back(probe: dict[str, str], tmp_path: Path) -> None:
    proc = _client({**probe, "PROBE_MODE": "exit", "PROBE_CODE": "7"}, tmp_path)
    proc.communicate(timeout=120)
    assert proc.returncode == 7


def _sleeping(probe: dict[str, str], tmp_path: Path, setup: Callable[[], None] | None = None) -> tuple:
    pidfile = tmp_path / "pid"
    before = _served(probe)
    proc = _client({**probe, "PROBE_MODE": "sleep", "PROBE_PIDFILE": str(pidfile)}, tmp_path, setup)
    deadline = time.monotonic() + 60
    while not pidfile.is_file() or not pidfile.read_text():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    assert _served(probe) == before + 1
    return proc, int(pidfile.read_text())


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended within 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _gone_now(pid):
            return True
        time.sleep(0.05)
    return False


def test_a_command_killed_by_a_signal_takes_its_client_with_it(probe: dict[str, str], tmp_path: Path) -> None:
    proc, pid = _sleeping(probe, tmp_path)
    time.sleep(0.2)  # the client forwards signals once it knows the command's pid
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGTERM
    assert _gone(pid)


def test_a_signal_the_client_ignores_is_ignored_by_its_command(probe: dict[str, str], tmp_path: Path) -> None:
    proc, pid = _sleeping(probe, tmp_path, lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None and not _gone_now(pid)
    proc.send_signal(signal.SIGQUIT)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGQUIT


def _gone_now(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_client_killed_first_takes_its_command_with_it(probe: dict[str, str], tmp_path: Path) -> None:
    proc, pid = _sleeping(probe, tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    assert _gone(pid)


def test_without_stdin_the_command_runs_in_the_client(probe: dict[str, str], tmp_path: Path) -> None:
    """A closed stream would be taken by the client's socket: the client runs the command itself."""
    before = _served(probe)
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "validate", str(REPO / "configs" / "corr_breakdown.yaml")],
        env=probe, cwd=tmp_path, preexec_fn=lambda: os.close(0), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip().endswith(": ok")
    assert _served(probe) == before


def test_a_stalled_connection_does_not_hold_up_the_next_command(probe: dict[str, str], tmp_path: Path) -> None:
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.connect(str(socket_path(probe)))  # sends nothing
    try:
        before = _served(probe)
        report = _report(_client(probe, tmp_path))
        assert report["argv"] == ["probe", "args"]
        assert _served(probe) == before + 1
    finally:
        stalled.close()


def test_a_server_refuses_to_serve_another_copy_of_seesaw(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir(mode=0o700)
    proc = subprocess.run(
        [sys.executable, "-m", "engine.server", str(folder / "x.sock"), "60", "/elsewhere/engine"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1 and "refused to start: this Python imports Seesaw from" in proc.stderr
    assert not (folder / "x.sock").exists()


def test_kernels_a_command_compiled_are_loaded_by_the_next_refresh(tmp_path: Path, monkeypatch) -> None:
    """A cached numba function compiled by another process appears in this one without being called."""
    (tmp_path / "toy_kernels.py").write_text(
        "import numba\n\n@numba.njit(cache=True)\ndef double(x):\n    return 2 * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import toy_kernels

    kernels = Kernels.of_imported_modules([toy_kernels])
    assert len(kernels.dispatchers) == 1 and kernels.refresh() == 0
    compile_elsewhere = "import toy_kernels; toy_kernels.double(2.5)"
    subprocess.run([sys.executable, "-c", compile_elsewhere], cwd=tmp_path, check=True, timeout=300)
    assert kernels.refresh() == 1 and kernels.loaded == 1
    assert len(toy_kernels.double.signatures) == 1  # loaded, never called here
    assert kernels.refresh() == 0
    with contextlib.suppress(KeyError):
        del sys.modules["toy_kernels"]


def test_a_command_the_client_gave_up_on_never_runs_in_the_server(probe: dict[str, str], tmp_path: Path) -> None:
    """Three stalled connections hold the server for 15 s; the client gives up after 10 and runs the
    command itself (the command line, which has no command ``probe``); the server must not run it."""
    mark = tmp_path / "ran"
    stalled = []
    for _ in range(3):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(socket_path(probe)))
        stalled.append(sock)
    try:
        proc = _client({**probe, "PROBE_MARK": str(mark)}, tmp_path)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2 and "No such command 'probe'" in err.decode()  # ran in the client
    finally:
        for sock in stalled:
            sock.close()
    _report(_client(probe, tmp_path))  # the server has dealt with every connection before this one
    assert not mark.exists()


def test_a_signal_sent_the_moment_the_pid_is_known_is_not_lost(probe: dict[str, str], tmp_path: Path) -> None:
    """Held from the fork until the command runs, so the command dies of it every time, without a traceback
    (Ctrl-C before the command's own handling: the user's wish, not a failure)."""
    from engine.server.protocol import request, send_message

    fresh = [sys.executable, "-c", "import json, sys; print(json.dumps(sys.path))"]
    path = json.loads(subprocess.run(fresh, env=probe, cwd=tmp_path, capture_output=True, check=True).stdout)
    env = {**probe, "PROBE_MODE": "sleep", "PROBE_PIDFILE": "/dev/null"}
    for _ in range(5):
        read_err, write_err = os.pipe()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(socket_path(probe)))
            message = {**request(["probe"], []), "env": env, "path": path}  # as a fresh interpreter would send it
            here = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
            try:
                send_message(sock, message, [0, 1, write_err, here])
            finally:
                os.close(here)
                os.close(write_err)
            with sock.makefile("rb") as replies:
                assert "ready" in json.loads(replies.readline())
                sock.sendall(b"go\n")
                os.kill(int(json.loads(replies.readline())["pid"]), signal.SIGINT)
                assert json.loads(replies.readline()) == {"signal": int(signal.SIGINT)}
        with os.fdopen(read_err, "rb") as said:
            assert b"Traceback" not in said.read()


def test_a_client_with_a_memory_limit_runs_the_command_itself(probe: dict[str, str], tmp_path: Path) -> None:
    """The forked process would start with the server's address space, beyond a limit set for a fresh one."""
    before = _served(probe)
    limit = 64 << 30
    proc = _client(probe, tmp_path, lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "No such command 'probe'" in err.decode()
    assert _served(probe) == before


def test_what_else_makes_a_client_run_its_command_itself(tmp_path: Path) -> None:
    from engine.server import process as server_module
    from engine.server.protocol import request

    message = json.loads(json.dumps(request(["validate", "x.yaml"], [])))
    message["path"] = [str(tmp_path), *sys.path[1:]]
    server_module._BASE_PATH[:] = sys.path[1:]
    try:
        assert server_module._differs(message, 4) is None
        fd_arg = {**message, "argv": ["validate", "/dev/fd/7"]}
        assert server_module._differs(fd_arg, 4) == "an argument names one of the client's descriptors"
        (tmp_path / "json.py").write_text("")  # the client would import this json, not the server's
        assert (
            server_module._differs(message, 4)
            == f"{tmp_path / 'json.py'} in the client's first sys.path entry would shadow the server's"
        )
        assert server_module._shadowed(str(REPO)) is None  # Seesaw's own packages, where the server found them
    finally:
        server_module._BASE_PATH.clear()


def _signals_default() -> None:
    """In the client: SIGHUP and SIGTERM as a terminal's shell leaves them (``nohup`` ignores SIGHUP, and a
    client keeps the signals its parent ignores)."""
    for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, signal.SIG_DFL)


@contextlib.contextmanager
def _silent_server(tmp_path: Path) -> Iterator[tuple[socket.socket, dict[str, str]]]:
    """A socket where a server would listen, which this test answers by hand (or not), and its clients' env."""
    folder = tmp_path / "s"
    folder.mkdir(mode=0o700)
    env = {**os.environ, "SEESAW_SERVER": "on", "SEESAW_SERVER_DIR": str(folder)}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listening:
        listening.bind(str(socket_path(env)))
        listening.listen(8)
        yield listening, env


def _silent_client(env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """``seesaw validate`` through the server of ``env``, its signals at their defaults."""
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "validate", "nothing.yaml"], env=env, cwd=cwd,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_signals_default,
    )  # fmt: skip


def test_two_signals_at_once_while_the_server_is_silent_end_the_client_by_the_first(tmp_path: Path) -> None:
    """A server that takes the connection and never answers; SIGHUP and SIGTERM sent together: the client dies
    of the first, at once, without a traceback (the second arrives while the first is being handled)."""
    with _silent_server(tmp_path) as (listening, env):
        for _ in range(3):
            proc = _silent_client(env, tmp_path)
            held, _ = listening.accept()  # connected: the client waits for an answer that never comes
            time.sleep(0.5)
            began = time.monotonic()
            os.kill(proc.pid, signal.SIGHUP)
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
            held.close()  # it holds the client's streams, passed with the request: now they can close
            _out, err = proc.communicate(timeout=60)
            assert proc.returncode == -signal.SIGHUP, err
            assert time.monotonic() - began < 5.0 and b"Traceback" not in err, err


def test_ctrl_c_after_go_while_the_server_is_silent_ends_the_client_at_once(tmp_path: Path) -> None:
    """The server said it is ready and was told to go, then says nothing (no pid): Ctrl-C ends the client at
    once, saying a command the server started ends with the connection, not after the 10 s wait."""
    with _silent_server(tmp_path) as (listening, env):
        proc = _silent_client(env, tmp_path)
        held, _ = listening.accept()
        held.sendall(b'{"ready": true}\n')
        held.settimeout(30)
        told = b""
        while b"go\n" not in told:  # the request, then "go"
            chunk = held.recv(65536)
            assert chunk, "the client closed before saying go"
            told += chunk
        began = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        waited = time.monotonic() - began
        held.close()  # it holds the client's streams
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGINT and waited < 5.0, (waited, err)
    assert err.decode().splitlines() == [
        "stopped (Ctrl-C) before the server answered: a command it started ends with the connection"
    ]
