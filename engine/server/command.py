"""One command forked by the server (:mod:`engine.server.process`): the process that runs it, and the one that waits.

For each command the server forks a *waiter*, which forks the command's process and reports how it
ended: ``{"exit": code}``, or ``{"signal": n}`` when a signal killed it (the client then dies of the
same signal).  The waiter also watches the connection: a client that goes away (killed, say)
takes its command with it, as a command run on its own would have died with its process.

The command's process takes on what makes a process that command: the client's stdin, stdout,
stderr and working directory (descriptors passed over the socket), its arguments, environment,
umask, ``sys.path``, priority, CPU set and resource limits, the signals it ignores, and its
streams' encoding and buffering; then it calls the command line as the ``seesaw`` script does and
exits the way Python would.  It has no controlling terminal (the terminal stays the client's).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import io
import os
import resource
import select
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from typing import Any

from engine.parent_death import die_with
from engine.server.protocol import send_message

__all__ = ["run_command"]


#: The signals a client passes on (engine.launch): blocked from before the command's process is
#: forked until it runs the command, so one that arrives in between is held, not lost.
FORWARDED = (
    signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTSTP,
)  # fmt: skip


def run_command(message: dict[str, Any], fds: list[int], conn: socket.socket, command: str) -> None:
    """In the waiter (a fork of the server): fork the command's process, report how it ends, exit."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
    waiter = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            die_with(waiter)  # the kernel kills the command if its waiter dies
            conn.close()
            _become(message, fds)
            _exit(_run(command))
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(1)  # never back into the server's loop, whatever happened
    for fd in fds:
        os.close(fd)
    try:
        send_message(conn, {"pid": pid})
    except OSError:  # the client is gone: so is its command
        _kill(pid)
        return
    status = _wait(pid, conn)
    code = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(OSError):
        send_message(conn, {"signal": -code} if code < 0 else {"exit": code})


def _kill(pid: int) -> int:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _wait(pid: int, conn: socket.socket) -> int:
    """The command's wait status; a client that hangs up (or whose connection fails) first has its
    command killed."""
    watched: list[Any] = [conn]
    with contextlib.suppress(AttributeError, OSError):
        watched.append(os.pidfd_open(pid))  # readable when the command ends (Linux 5.3 and later)
    while True:
        readable = select.select(watched, [], [], 0.2)[0]
        if conn in readable:
            try:
                gone = not conn.recv(1)
            except OSError:
                gone = True
            if gone:
                return _kill(pid)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status


def _become(message: dict[str, Any], fds: list[int]) -> None:
    """Take on the client's process state (module docstring)."""
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTSTP):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in message.get("ignored", []):
        signal.signal(signum, signal.SIG_IGN)
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    os.fchdir(fds[3])
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.umask(int(message["umask"]))
    os.environ.clear()
    os.environ.update(message["env"])
    time.tzset()
    tempfile.tempdir = None  # found again from the client's $TMPDIR
    os.setpriority(os.PRIO_PROCESS, 0, int(message["nice"]))
    os.sched_setaffinity(0, message["affinity"])
    for name, (soft, hard) in message["limits"].items():
        with contextlib.suppress(ValueError, OSError):  # the server refused limits it could not give
            resource.setrlimit(getattr(resource, name), (soft, hard))
    sys.path[:] = message["path"]
    sys.argv = ["seesaw", *message["argv"]]
    _reopen_streams(message["streams"])


def _reopen_streams(buffering: dict[str, list[Any]]) -> None:
    """``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` on the client's descriptors, built as Python built
    the client's (unbuffered under ``-u``)."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        encoding, errors, line_buffering, write_through, raw = (list(buffering.get(name) or []) + [None] * 5)[:5]
        binary: Any = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        binary.name = f"<{name}>"
        if not raw:
            binary = io.BufferedReader(binary) if fd == 0 else io.BufferedWriter(binary)
        stream = io.TextIOWrapper(
            binary, encoding=encoding or "utf-8", errors=errors or "strict", newline=None if fd == 0 else "\n",
            line_buffering=bool(line_buffering), write_through=bool(write_through),
        )  # fmt: skip
        stream.mode = "r" if fd == 0 else "w"  # type: ignore[misc]  # as Python names its standard streams
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _run(command: str) -> int:
    """Call ``command`` (``module:function``) as a script's entry point; the process's exit code.

    The signals held since the fork are let in first; a KeyboardInterrupt the command did not catch (Ctrl-C
    before its own handling starts) ends the process by SIGINT, as an interrupted command dies, without the
    traceback Python would print: what a user pressing Ctrl-C asked for, not a failure of the command.
    """
    module, _, function = command.partition(":")
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
        getattr(importlib.import_module(module), function)()
        code: object = 0
    except SystemExit as exit_:
        code = exit_.code
    except KeyboardInterrupt:
        _flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def _exit(code: int) -> None:
    """End the process as Python ends: other threads joined, exit handlers, streams flushed (a failed
    flush of stdout is reported as Python reports it, with exit code 120)."""
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            stream.flush()
        except (OSError, ValueError) as err:
            report = f"Exception ignored in: {stream!r}\n{type(err).__name__}: {err}\n"
            with contextlib.suppress(OSError, ValueError):
                os.write(2, report.encode())
            code = 120
    os._exit(code)
