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
from typing import BinaryIO

from engine.server.protocol import private, request, send_message, socket_path, streams

__all__ = ["main"]


def main() -> None:
    """Console-script entry point (module docstring)."""
    code = _through_server(sys.argv[1:]) if _may_use_server(sys.argv[1:]) else None
    if code is not None:
        sys.exit(code)
    from engine.cli import main as run_here

    run_here()


def _may_use_server(argv: list[str]) -> bool:
    if os.environ.get("SEESAW_SERVER", "").lower() in ("off", "0", "no", "false"):
        return False
    if not sys.platform.startswith("linux"):  # the only platform the server runs on
        return False
    return not (argv and argv[0] == "server")


def _through_server(argv: list[str]) -> int | None:
    """The command's exit code from the server, or None when no server takes it."""
    path = socket_path()
    if not private(path.parent):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        for _name, stream in streams():  # what this process buffered comes before the command's output
            getattr(stream, "flush", lambda: None)()
        send_message(sock, request(argv), [0, 1, 2])
        replies = sock.makefile("rb")
        first = json.loads(replies.readline() or b"{}")
    except (OSError, ValueError):
        sock.close()
        return None
    if "pid" not in first:
        sock.close()
        return None
    return _wait_for_exit(int(first["pid"]), replies, sock)


def _wait_for_exit(pid: int, replies: BinaryIO, sock: socket.socket) -> int:
    """Forward the terminal's signals to the command's process until it reports its exit code."""

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)
    while True:
        line = replies.readline()
        if not line:
            sys.stderr.write("seesaw: the command's process ended without an exit code (killed?)\n")
            return 1
        message = json.loads(line)
        if "exit" in message:
            sock.close()
            return int(message["exit"])
