"""The ``seesaw`` entry point: hand the command to a running server (``seesaw server start``), or run it here.

A command run on its own spends about 2.4 s starting (pandas, numba, vectorbt and numba's cached
kernels) before it does anything; a server (:mod:`engine.server`) has all of that loaded and forks a
process for each command.  This module and :mod:`engine.server.protocol` are what the ``seesaw``
script imports first, and they import only the standard library: asking costs a few milliseconds,
and without a server the command runs in this process as it always did.

A command goes to a server only when one listens on
:func:`~engine.server.protocol.socket_path` (one per Python environment and Seesaw checkout, in a
directory only this user may enter), ``$SEESAW_SERVER`` is not ``off``, and the command is not
``seesaw server ...``.  The server refuses it (and it runs here) when this process would not start
the same way: another Python flag, ``sys.path``, or value of an environment variable read when
packages are imported (``PYTHON*``, ``NUMBA_*``, ...); it stops itself when a file it imported has
changed since it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import BinaryIO, NoReturn

from engine.server.protocol import private, request, send_message, socket_path, streams

__all__ = ["main"]


def main() -> None:
    """Console-script entry point (module docstring)."""
    try:
        code = _through_server(sys.argv[1:]) if _may_use_server(sys.argv[1:]) else None
    except KeyboardInterrupt:  # Ctrl-C before the client's own handlers were set: nothing was done either
        _end(signal.SIGINT, "before the command started: nothing was done")
    if code is not None:
        sys.exit(code)
    try:
        from engine.cli import main as run_here
    except KeyboardInterrupt:  # Ctrl-C while the command line loads: said, then the process ends as Ctrl-C ends it
        _end(signal.SIGINT, "while the command line loaded: nothing was done")
    run_here()


def _end(signum: int, when: str) -> NoReturn:
    """End this process by ``signum``'s default action, as if nothing had caught it; Ctrl-C says ``when`` it came
    and what became of the command."""
    if signum == signal.SIGINT:
        with contextlib.suppress(OSError, ValueError):  # stderr closed: the signal still ends the process
            sys.stderr.write(f"stopped (Ctrl-C) {when}\n")
            sys.stderr.flush()
    with contextlib.suppress(OSError, ValueError):
        signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    sys.exit(128 + signum)  # a signal whose default action does not end a process


def _may_use_server(argv: list[str]) -> bool:
    if os.environ.get("SEESAW_SERVER", "").lower() in ("off", "0", "no", "false"):
        return False
    if not sys.platform.startswith("linux"):  # the only platform the server runs on
        return False
    return not (argv and argv[0] == "server")


def _through_server(argv: list[str]) -> int | None:
    """The command's exit code from the server, or None when no server takes it."""
    path = socket_path()
    if not private(path.parent) or not _streams_open():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_ANSWER_SECONDS)  # a server busy or stuck: the command runs here
    client = _Client()
    try:
        return _handed_over(argv, path, sock, client)
    except _Signalled as stop:  # before the command's pid came (raised once: later ones wait in pending)
        client.restore()  # first: a later signal now acts as it would have without a server
        sock.close()  # a command the server started dies with the connection (engine.server.command)
        _stop_stuck(client.server, "is stopped; killed it")
        if client.started:
            _end(stop.signum, "before the server answered: a command it started ends with the connection")
        _end(stop.signum, "before the command started: nothing was done")


def _handed_over(argv: list[str], path: Path, sock: socket.socket, client: _Client) -> int | None:
    """:func:`_through_server` once the socket is made: a signal before ``go`` raises :class:`_Signalled`, here
    or in the handling of another failure, for the caller to end the process by it."""
    try:
        client.install()
        sock.connect(str(path))
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)  # (pid, uid, gid) of the server
        client.server = int.from_bytes(creds[:4], sys.byteorder)
        for _name, stream in streams():  # what this process buffered comes before the command's output
            getattr(stream, "flush", lambda: None)()
        here = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
        try:
            send_message(sock, request(argv, client.ignored), [0, 1, 2, here])
        finally:
            os.close(here)
        replies = sock.makefile("rb")
        if "ready" not in json.loads(replies.readline() or b"{}"):
            raise ValueError("refused")
        client.started = True  # from here a signal before the pid comes ends the command with the connection
        sock.sendall(b"go\n")  # from here the server runs the command, unless this process goes away
        first = json.loads(replies.readline() or b"{}")
        pid = client.pid = int(first["pid"])  # from here a signal goes to the command
    except TimeoutError:
        client.restore()
        sock.close()  # a command the server started dies with the connection (engine.server.command)
        _stop_stuck(client.server, f"did not answer in {_ANSWER_SECONDS:.0f} s; stopped it, and the command runs here")
        return None
    except (OSError, ValueError, KeyError, TypeError):
        client.restore()
        sock.close()  # a command already forked dies with the connection (engine.server.command)
        return None
    sock.settimeout(None)
    return client.wait(pid, replies, sock)


def _stop_stuck(server: int, said: str) -> None:
    """Kill a server that took this command's streams and did not answer because it is stopped (Ctrl-Z, SIGSTOP,
    a debugger): it holds them, so a pipe's reader would wait as long as it stays stopped, and it must never
    start the command this process now runs itself.  A server that is merely busy is left alone: it finds this
    process gone when it reaches the connection, runs nothing and lets the streams go."""
    if server <= 1 or _state(server) not in ("T", "t"):
        return
    with contextlib.suppress(OSError):
        os.kill(server, signal.SIGKILL)
        sys.stderr.write(f"seesaw: the server (pid {server}) {said}\n")


def _state(pid: int) -> str:
    """The scheduler state of process ``pid`` (``R``, ``S``, ``T`` for stopped...), '' when it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return ""


#: Seconds the client waits for the server to take a command before running it itself.
_ANSWER_SECONDS = 10.0
#: The signals passed on to the command (SIGTSTP stops it with the client, SIGCONT resumes both).
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def _streams_open() -> bool:
    """stdin, stdout and stderr are open (a closed one would be filled by the socket)."""
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return False
    return True


class _Signalled(Exception):
    """A signal the client received before the server was told to run its command."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Client:
    """The client's signals while its command runs: each forwarded to the command once its pid is known (the
    first arriving earlier ends the wait, :class:`_Signalled`; any after it are kept until the handlers are
    restored); a signal this process ignores stays ignored by the command."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.server = 0  # the server's pid, once connected
        self.started = False  # the server was told to run the command ("go")
        self.stopping = False  # a signal before the pid came was raised as _Signalled: the next ones wait
        self.pending: list[int] = []
        self.before = {s: signal.getsignal(s) for s in (*_FORWARDED, signal.SIGTSTP)}
        self.ignored = [int(s) for s, h in self.before.items() if h == signal.SIG_IGN]

    def install(self) -> None:
        """Take the signals this process does not ignore."""
        for s in _FORWARDED:
            if s not in self.ignored:
                signal.signal(s, self._forward)
        if signal.SIGTSTP not in self.ignored:
            signal.signal(signal.SIGTSTP, self._stop)

    def restore(self) -> None:
        """The handlers as they were (a signal kept after the first that ended the wait is dropped: that one
        ends the process)."""
        for s, handler in self.before.items():
            signal.signal(s, handler)
        self.pending.clear()

    def _forward(self, signum: int, _frame: object) -> None:
        if self.pid is None:
            if not self.stopping:  # no command to pass it on to yet: stop waiting for one
                self.stopping = True
                raise _Signalled(signum)
            self.pending.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def _stop(self, _signum: int, _frame: object) -> None:
        """Ctrl-Z: stop the command, then this process; when continued, continue the command."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGSTOP)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)  # stops here until SIGCONT
        signal.signal(signal.SIGTSTP, self._stop)
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)

    def wait(self, pid: int, replies: BinaryIO, sock: socket.socket) -> int:
        """The command's exit code; a command killed by a signal kills this process with it."""
        self.pid = pid
        for signum in self.pending:
            self._forward(signum, None)
        try:
            message = json.loads(replies.readline() or b"{}")
        except (OSError, ValueError):
            message = {}
        sock.close()
        if "exit" in message:
            return int(message["exit"])
        if "signal" in message:
            signum = int(message["signal"])
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP keep their default: always
                signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return 128 + signum  # a signal that does not end a process
        sys.stderr.write("seesaw: the server went away before the command ended\n")
        return 1
