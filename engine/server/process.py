"""A warm process that starts Seesaw's commands: ``seesaw server start``.

A command run as a fresh process spends about 2.4 s importing pandas, numba and vectorbt and
loading numba's cached kernels before it does anything (docs/performance.md).  The server does that
once; then, for each command a client (:mod:`engine.launch`) hands it, it forks a process that *is*
the command: it takes the client's arguments, working directory, environment, umask and
``sys.path``, and the client's own stdin, stdout and stderr (passed over the socket), so the command
writes to the user's terminal or pipe itself, and its output, files and exit code are those of the
same command run on its own.  Every command starts from the server's freshly imported state and
shares nothing with the commands before it (a fork, not a thread).

Before it forks, the server holds no data, no open file and no thread of its own (its imports start
only OpenBLAS's and Arrow's allocator threads, which are fork-safe); it loads numba's cached kernels
but runs none, so numba's and the Rust engine's thread pools start in the commands' processes.  It
stops when asked (``seesaw server stop``), after ``idle`` seconds without a command, when another
server replaces its socket, or when a file it imported changes (the command that notices runs in its
own process instead).
"""

from __future__ import annotations

import atexit
import datetime as dt
import gc
import importlib
import json
import os
import pkgutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from engine.server.protocol import IMPORT_TIME_PREFIXES, send_message, start_flags

__all__ = ["PRELOADED", "ServerError", "serve", "start", "status", "stop"]

#: Packages the commands import when they run, imported by the server besides Seesaw's own modules.
PRELOADED = ("duckdb", "pyarrow.parquet", "exchange_calendars")

#: ``sys.path`` as the server started, without its first entry (a client's first is its script's directory).
_BASE_PATH: list[str] = []

#: Seconds between the server's checks that it is idle or replaced.
_TICK = 30.0


class ServerError(Exception):
    """The server could not be started or reached (one line for the user)."""


def start(path: Path, idle: float, wait: float = 180.0) -> dict[str, Any]:
    """Start a server on ``path`` in the background (unless one answers there) and return its status."""
    if not sys.platform.startswith("linux"):
        raise ServerError("the server runs on Linux only (it checks each client's user with SO_PEERCRED)")
    running = status(path)
    if running is not None:
        return {**running, "already": True}
    _private_folder(path.parent)
    path.unlink(missing_ok=True)  # a socket left by a server that was killed
    log = path.with_suffix(".log")
    argv = [sys.executable, "-m", "engine.server", str(path), str(idle)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=path.parent, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        answer = status(path)
        if answer is not None:
            return answer
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ServerError(f"the server stopped while starting (exit code {process.returncode}): {tail[0]}")
        time.sleep(0.05)
    raise ServerError(f"the server did not answer within {wait:.0f} s; its log is {log}")


def status(path: Path) -> dict[str, Any] | None:
    """The running server's status, or None when none answers on ``path``."""
    return _control(path, "status")


def stop(path: Path) -> dict[str, Any] | None:
    """Ask the server on ``path`` to stop; its last status, or None when none was running."""
    return _control(path, "stop")


def _control(path: Path, action: str) -> dict[str, Any] | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10.0)
    try:
        sock.connect(str(path))
        send_message(sock, {"control": action})
        line = sock.makefile("rb").readline()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None
    finally:
        sock.close()


def _private_folder(folder: Path) -> None:
    """Create the socket's directory for this user only, or refuse one that others may use."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError as err:
        raise ServerError(f"cannot create the server's directory {folder}: {err.strerror}") from None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ServerError(f"the server's directory {folder} must belong to this user with mode 0700")


def serve(path: Path, idle: float, command: str) -> None:
    """The server's life: import, listen on ``path``, fork a process per command (module docstring).

    ``command`` names the function a command's process calls (``module:function``; it exits the way
    ``seesaw`` does): the command line.
    """
    started = time.time()
    _BASE_PATH[:] = sys.path
    _preload()
    kernels = _load_cached_kernels()
    gc.collect()
    gc.freeze()  # the children's collections skip the imported objects, so their pages stay shared
    files = _module_files()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = path.with_name(f"{path.name}.{os.getpid()}")
    staging.unlink(missing_ok=True)
    listener.bind(str(staging))
    listener.listen(64)
    os.replace(staging, path)  # clients see the socket only once it accepts
    inode = path.stat().st_ino
    listener.settimeout(_TICK)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    state = {"pid": os.getpid(), "started": started, "commands": 0, "last": time.monotonic(), "idle": idle}
    ready = f"ready in {time.time() - started:.2f} s on {path}, {kernels} kernels loaded"
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {ready}", flush=True)
    while _still_ours(path, inode) and time.monotonic() - state["last"] < idle:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        try:
            conn.settimeout(None)
            keep = _answer(conn, listener, state, files, command)
        except Exception:  # one bad request must not stop the server
            traceback.print_exc()
            keep = True
        finally:
            conn.close()
        if not keep:
            break
    listener.close()
    if _still_ours(path, inode):
        path.unlink(missing_ok=True)


def _still_ours(path: Path, inode: int) -> bool:
    try:
        return path.stat().st_ino == inode
    except OSError:
        return False


def _preload() -> None:
    """Import every module of Seesaw and the packages its commands import when they run."""
    from engine.import_guard import hide_from_vectorbt

    hide_from_vectorbt()
    import engine
    import strategies

    for package in (engine, strategies):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    for name in PRELOADED:
        importlib.import_module(name)
    colorama = sys.modules.get("colorama.initialise")
    if colorama is not None:  # numba's error messages start colorama, whose exit hook writes a colour reset to
        atexit.unregister(colorama.reset_all)  # the stdout it saw: in a command, the client's terminal


def _load_cached_kernels() -> int:
    """Load every numba kernel numba's cache holds for the imported code, without running any.

    A command otherwise loads each kernel it calls from the cache, about 0.4 s for a run.  Only
    entries numba itself would load are taken (the same signature, processor and bytecode hash);
    numba's cache layout is internal to numba, so on any surprise the kernels are left to the
    commands, which load them as usual.  Returns how many were loaded.
    """
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    loaded, seen = 0, set()
    for module in list(sys.modules.values()):
        for value in list(getattr(module, "__dict__", {}).values()):
            if not isinstance(value, CPUDispatcher) or id(value) in seen:
                continue
            seen.add(id(value))
            kernel: Any = value  # numba's cache attributes are not in its type stubs
            if isinstance(kernel._cache, NullCache):
                continue
            try:
                codegen = kernel.targetctx.codegen()
                for key in kernel._cache._cache_file._load_index():
                    if kernel._cache._index_key(key[0], codegen) == key:
                        kernel.compile(key[0])
                        loaded += 1
            except Exception as err:  # a kernel left to the commands, as without a server
                print(f"not preloaded: {getattr(kernel, '__qualname__', kernel)}: {err!r}", flush=True)
    return loaded


def _module_files() -> dict[str, tuple[int, int]]:
    """Modification time and size of every file this process imported."""
    seen: dict[str, tuple[int, int]] = {}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str) and name not in seen:
            try:
                info = os.stat(name)
            except OSError:
                continue
            seen[name] = (info.st_mtime_ns, info.st_size)
    return seen


def _changed(files: dict[str, tuple[int, int]]) -> str | None:
    for name, before in files.items():
        try:
            info = os.stat(name)
        except OSError:
            return name
        if (info.st_mtime_ns, info.st_size) != before:
            return name
    return None


def _answer(conn: socket.socket, listener: socket.socket, state: dict[str, Any], files: dict, command: str) -> bool:
    """Serve one connection; False when the server should stop."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    if int.from_bytes(creds[4:8], sys.byteorder) != os.getuid():
        return True
    message, fds = _receive(conn)
    if "control" in message:
        answer = _status(state)
        send_message(conn, answer)
        return message["control"] != "stop"
    try:
        changed = _changed(files)
        refused = f"{changed} changed since the server started" if changed else _differs(message)
        if refused:
            send_message(conn, {"refused": refused})
            print(f"refused a command: {refused}", flush=True)
            return changed is None
        state["commands"] += 1
        state["last"] = time.monotonic()
        if os.fork() == 0:
            try:
                listener.close()
                _become_command(message, fds, conn, command)  # ends the process with the command's code
            finally:
                os._exit(1)  # never back into the server's loop, whatever happened
        return True
    finally:
        for fd in fds:
            os.close(fd)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """A request and the descriptors that came with it (closed again if the request cannot be read)."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    try:
        while data and not data.endswith(b"\n"):
            more = conn.recv(1 << 16)
            if not more:
                break
            data += more
        message = json.loads(data or b"{}")
        if not isinstance(message, dict):
            raise ValueError("a request is a JSON object")
    except (OSError, ValueError):
        for fd in fds:
            os.close(fd)
        raise
    return message, list(fds)


def _differs(message: dict[str, Any]) -> str | None:
    """Why this process would not start the way the client's would, if it would not."""
    if message.get("start") != json.loads(json.dumps(start_flags())):
        return "the client's Python flags differ from the server's"
    env: dict[str, str] = message.get("env", {})
    for name in sorted(set(env) | set(os.environ)):
        if name.startswith(IMPORT_TIME_PREFIXES) and env.get(name) != os.environ.get(name):
            return f"${name} differs from the server's"
    if message.get("path", [""])[1:] != _BASE_PATH:
        return "the client's sys.path differs from the server's"
    return None


def _status(state: dict[str, Any]) -> dict[str, Any]:
    with open("/proc/self/status") as info:
        fields = dict(line.split(":", 1) for line in info if ":" in line)
    return {
        "pid": state["pid"],
        "started": dt.datetime.fromtimestamp(state["started"]).isoformat(timespec="seconds"),
        "commands": state["commands"],
        "idle_seconds": round(time.monotonic() - state["last"], 1),
        "idle_limit": state["idle"],
        "os_threads": int(fields.get("Threads", "0").strip() or 0),
        "python_threads": threading.active_count(),
        "rss_mb": round(int(fields.get("VmRSS", "0 kB").split()[0]) / 1024, 1),
        "python": sys.executable,
        "seesaw": str(Path(__file__).resolve().parents[1]),
    }


def _become_command(message: dict[str, Any], fds: list[int], conn: socket.socket, command: str) -> None:
    """In the forked child: take on the client's process state, run the command, report its exit code."""
    for signum in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(message["cwd"])
    os.umask(int(message["umask"]))
    os.environ.clear()
    os.environ.update(message["env"])
    time.tzset()
    sys.path[:] = message.get("path", sys.path)
    sys.argv = ["seesaw", *message["argv"]]
    _reopen_streams(message.get("streams", {}))
    send_message(conn, {"pid": os.getpid()})
    code = _run(command)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        send_message(conn, {"exit": code})
    finally:
        os._exit(code)


def _reopen_streams(encodings: dict[str, list[str | None]]) -> None:
    """``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` on the client's descriptors, as Python opens them."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        encoding, errors = (encodings.get(name) or [None, None])[:2]
        line_buffered = name == "stderr" or (name == "stdout" and os.isatty(fd))
        stream = open(  # noqa: SIM115 - the process's own standard stream, open until it exits
            fd, "r" if fd == 0 else "w", buffering=-1, encoding=encoding or "utf-8", errors=errors or "strict",
            closefd=False, newline=None if fd == 0 else "\n",
        )  # fmt: skip
        if line_buffered:
            stream.reconfigure(line_buffering=True)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _run(command: str) -> int:
    """Call ``command`` (``module:function``) as a script's entry point and return the process's exit code."""
    module, _, function = command.partition(":")
    try:
        getattr(importlib.import_module(module), function)()
        code: object = 0
    except SystemExit as exit_:
        code = exit_.code
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 130
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    shutdown = getattr(threading, "_shutdown", None)  # wait for non-daemon threads, as at exit
    if shutdown is not None:
        shutdown()
    return code
