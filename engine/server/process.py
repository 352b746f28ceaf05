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
import fcntl
import gc
import importlib
import json
import os
import pkgutil
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from engine.server.kernels import Kernels
from engine.server.protocol import IMPORT_TIME_PREFIXES, LIMITS, private, seesaw_dir, send_message, start_flags

__all__ = ["PRELOADED", "ServerError", "serve", "start", "status", "stop"]

#: Packages the commands import when they run, imported by the server besides Seesaw's own modules.
PRELOADED = (
    "duckdb", "pyarrow.parquet", "pyarrow.dataset", "pyarrow.pandas_compat", "exchange_calendars", "vectorbt_rust",
    "rich._emoji_codes",
)  # fmt: skip

#: ``sys.path`` as the server started, without its first entry (a client's first is its script's directory).
_BASE_PATH: list[str] = []

#: Seconds between the server's checks that it is idle, replaced or out of date.
_TICK = 30.0
#: Seconds a client has to send its request once connected.
_REQUEST_SECONDS = 5.0


class ServerError(Exception):
    """The server could not be started or reached (one line for the user)."""


def start(path: Path, idle: float, wait: float = 180.0) -> dict[str, Any]:
    """Start a server on ``path`` in the background (unless one answers there) and return its status.

    The server imports this copy of Seesaw (its parent directory first on ``sys.path``), whatever
    ``PYTHONPATH`` or the installed packages would give.  Two starts at once are serialised by a lock.
    """
    if not sys.platform.startswith("linux"):
        raise ServerError("the server runs on Linux only (it checks each client's user with SO_PEERCRED)")
    _private_folder(path.parent)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        running = status(path)
        if running is not None:
            return {**running, "already": True}
        if _accepts(path):
            raise ServerError(f"a server on {path} accepts connections but does not answer; try again shortly")
        path.unlink(missing_ok=True)  # a socket left by a server that was killed
        return _spawn(path, idle, wait)


def _spawn(path: Path, idle: float, wait: float) -> dict[str, Any]:
    log = path.with_suffix(".log")
    root = seesaw_dir().parent
    argv = [sys.executable, "-m", "engine.server", str(path), str(idle), str(seesaw_dir())]
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, cwd=root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
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
    sock.settimeout(2 * _REQUEST_SECONDS)  # behind a stalled client for at most _REQUEST_SECONDS
    try:
        sock.connect(str(path))
        send_message(sock, {"control": action})
        line = sock.makefile("rb").readline()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None
    finally:
        sock.close()


def _accepts(path: Path) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _private_folder(folder: Path) -> None:
    """Create the socket's directory for this user only, or refuse one that others may use."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise ServerError(f"cannot create the server's directory {folder}: {err.strerror}") from None
    if not private(folder):  # the clients' own check
        raise ServerError(f"the server's directory {folder} must belong to this user with mode 0700")


def serve(path: Path, idle: float, command: str) -> None:
    """The server's life: import, listen on ``path``, fork a process per command (module docstring).

    ``command`` names the function a command's process calls (``module:function``; it exits the way
    ``seesaw`` does): the command line.
    """
    started = time.time()
    # a file written after this may not be the one imported (written while importing); mtimes come from a
    # coarser clock than time_ns, so a little before
    since = time.time_ns() - 50_000_000
    _BASE_PATH[:] = sys.path[1:]
    _preload()
    kernels = Kernels.of_imported_modules()
    kernels.refresh()
    gc.collect()
    gc.freeze()  # the children's collections skip the imported objects, so their pages stay shared
    files = _module_files(since)
    listener = _listen(path)
    inode = path.stat().st_ino
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the waiters are reaped by the kernel
    state = {"pid": os.getpid(), "started": started, "commands": 0, "last": time.monotonic(), "idle": idle}
    _log(f"ready in {time.time() - started:.2f} s on {path}, {kernels.loaded} kernels loaded")
    ticked = False
    while True:
        why = _why_stop(path, inode, state, files if ticked else None)
        if why:
            _log(f"stopping: {why}")
            break
        try:
            conn, _ = listener.accept()
            ticked = False
        except TimeoutError:
            kernels.refresh()
            ticked = True
            continue
        try:
            conn.settimeout(_REQUEST_SECONDS)
            keep = _answer(conn, listener, state, files, (command, kernels))
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


def _listen(path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = path.with_name(f"{path.name}.{os.getpid()}")
    staging.unlink(missing_ok=True)
    listener.bind(str(staging))
    listener.listen(64)
    os.replace(staging, path)  # clients see the socket only once it accepts
    listener.settimeout(_TICK)
    return listener


def _why_stop(path: Path, inode: int, state: dict[str, Any], files: dict[str, Stamp] | None) -> str | None:
    """Why the server should stop now, if it should (``files``: checked for changes unless None)."""
    if not _still_ours(path, inode):
        return f"{path} is no longer this server's socket"
    if time.monotonic() - state["last"] >= state["idle"]:
        return f"no command for {state['idle'] / 60:.0f} min"
    changed = _changed(files) if files is not None else None
    return f"{changed} changed since the server started" if changed else None


def _log(line: str) -> None:
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {line}", flush=True)


def _still_ours(path: Path, inode: int) -> bool:
    try:
        return path.stat().st_ino == inode
    except OSError:
        return False


def _preload() -> None:
    """Import every module of ``engine`` (a module that fails is left to the commands, which import it
    themselves), the signal library as commands import it, and :data:`PRELOADED`."""
    from engine.import_guard import hide_from_vectorbt

    hide_from_vectorbt()
    import engine

    names = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.") if not m.name.endswith("__main__")]
    for name in [*names, "strategies", *PRELOADED]:
        try:
            importlib.import_module(name)
        except Exception as err:  # as without a server: the command that imports it meets the error
            _log(f"not preloaded: {name}: {type(err).__name__}: {err}")
    colorama = sys.modules.get("colorama.initialise")
    if colorama is not None:  # numba's error messages start colorama, whose exit hook writes a colour reset to
        atexit.unregister(colorama.reset_all)  # the stdout it saw: in a command, the client's terminal


#: A file's stamp: modification time, size, inode and status-change time.  A write changes the status-change time
#: even when the size and modification time are restored (``touch -d``), a replacement the inode too (``rsync -a``
#: renames a copy over it, its time kept); no tool sets those back.
Stamp = tuple[int, int, int, int]
_WRITTEN_WHILE_IMPORTING: Stamp = (-1, -1, -1, -1)


def _stamp(info: os.stat_result) -> Stamp:
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def _module_files(since: int) -> dict[str, Stamp]:
    """The stamp of every file this process imported; a file modified or replaced at or after ``since`` (ns)
    gets a stamp no file has, so the first check finds it changed: it may have been written while it was
    being imported, and what runs is then the file as it was."""
    seen: dict[str, Stamp] = {}
    until = time.time_ns()  # a stamp later than now (another machine's clock) is not a write during the imports
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str) and name not in seen:
            try:
                info = os.stat(name)
            except OSError:
                continue
            during = any(since <= t <= until for t in (info.st_mtime_ns, info.st_ctime_ns))
            seen[name] = _WRITTEN_WHILE_IMPORTING if during else _stamp(info)
    return seen


def _changed(files: dict[str, Stamp]) -> str | None:
    for name, before in files.items():
        try:
            info = os.stat(name)
        except OSError:
            return name
        if _stamp(info) != before:
            return name
    return None


def _answer(
    conn: socket.socket, listener: socket.socket, state: dict[str, Any], files: dict, job: tuple[str, Kernels]
) -> bool:
    """Serve one connection; False when the server should stop."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    if int.from_bytes(creds[4:8], sys.byteorder) != os.getuid():
        return True
    message, fds = _receive(conn)
    try:
        if "control" in message:
            send_message(conn, {**_status(state), "kernels": job[1].loaded})
            return message["control"] != "stop"
        changed = _changed(files)
        refused = f"{changed} changed since the server started" if changed else _differs(message, len(fds))
        if refused:
            send_message(conn, {"refused": refused})
            _log(f"refused a command: {refused}")
            return changed is None
        job[1].refresh()  # kernels a command compiled since the last one, loaded before the fork
        try:
            send_message(conn, {"ready": True})
            go = conn.recv(3)
        except OSError:
            go = b""
        if go != b"go\n":  # the client gave up waiting: it runs the command itself
            return True
        state["commands"] += 1
        state["last"] = time.monotonic()
        if os.fork() == 0:
            try:
                listener.close()
                from engine.server.command import run_command

                run_command(message, fds, conn, job[0])
            finally:
                os._exit(0)  # never back into the server's loop, whatever happened
        return True
    finally:
        for fd in fds:
            os.close(fd)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """A request and the descriptors that came with it (closed again if the request cannot be read)."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 4)
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


def _differs(message: dict[str, Any], descriptors: int) -> str | None:
    """Why this process would not start the way the client's would (or could not become it), if so."""
    if descriptors != 4 or not isinstance(message.get("argv"), list):
        return "a request carries the arguments, stdin, stdout, stderr and the working directory"
    if message.get("seesaw") != str(seesaw_dir()):
        return f"the client runs Seesaw from {message.get('seesaw')}, the server from {seesaw_dir()}"
    if message.get("start") != json.loads(json.dumps(start_flags())):
        return "the client's Python flags differ from the server's"
    env: dict[str, str] = message.get("env", {})
    for name in sorted(set(env) | set(os.environ)):
        if name.startswith(IMPORT_TIME_PREFIXES) and env.get(name) != os.environ.get(name):
            return f"${name} differs from the server's"
    if message.get("path", [""])[1:] != _BASE_PATH:
        return "the client's sys.path differs from the server's"
    if message.get("mounts") != os.readlink("/proc/self/ns/mnt"):
        return "the client sees other mounts (another mount namespace)"
    if int(message.get("nice", 0)) < os.getpriority(os.PRIO_PROCESS, 0):
        return "the client runs at a higher priority than the server can give"
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):  # the server's address space comes with the fork
        if message.get("limits", {}).get(name, [resource.RLIM_INFINITY])[0] != resource.RLIM_INFINITY:
            return f"the client limits {name}, which the server's address space would exceed"
    if any(fd_path in str(a) for a in message["argv"] for fd_path in ("/dev/fd/", "/proc/self/fd/", "/dev/std")):
        return "an argument names one of the client's descriptors"
    shadowed = _shadowed(str(message.get("path", [""])[0]))
    if shadowed:
        return f"{shadowed} in the client's first sys.path entry would shadow the server's"
    for name in LIMITS:
        soft, hard = message.get("limits", {}).get(name, resource.getrlimit(getattr(resource, name)))
        if not _within(hard, resource.getrlimit(getattr(resource, name))[1]) or not _within(soft, hard):
            return f"the client's {name} is above what the server can give"
    return None


def _shadowed(first: str) -> str | None:
    """A module or package in ``first`` (the client's ``sys.path[0]``) named like a top-level module the
    server imported from elsewhere: the client would import the one in ``first`` instead."""
    if not first:
        return None
    try:
        names = os.listdir(first)
    except OSError:
        return None
    for entry in names:
        stem = entry[:-3] if entry.endswith(".py") else entry
        module = sys.modules.get(stem)
        if module is None or not (entry.endswith(".py") or os.path.isfile(os.path.join(first, entry, "__init__.py"))):
            continue
        origin = os.path.realpath(str(getattr(module, "__file__", "") or ""))
        if not origin.startswith(os.path.realpath(first) + os.sep):
            return os.path.join(first, entry)
    return None


def _within(limit: int, ceiling: int) -> bool:
    return ceiling == resource.RLIM_INFINITY or (limit != resource.RLIM_INFINITY and limit <= ceiling)


def _status(state: dict[str, Any]) -> dict[str, Any]:
    with open("/proc/self/status") as info:
        fields = dict(line.split(":", 1) for line in info if ":" in line)
    return {
        "pid": state["pid"],
        "started": dt.datetime.fromtimestamp(state["started"])
        .astimezone()
        .isoformat(timespec="seconds"),  # with its offset
        "commands": state["commands"],
        "idle_seconds": round(time.monotonic() - state["last"], 1),
        "idle_limit": state["idle"],
        "os_threads": int(fields.get("Threads", "0").strip() or 0),
        "python_threads": threading.active_count(),
        "rss_mb": round(int(fields.get("VmRSS", "0 kB").split()[0]) / 1024, 1),
        "python": sys.executable,
        "seesaw": str(Path(__file__).resolve().parents[1]),
    }
