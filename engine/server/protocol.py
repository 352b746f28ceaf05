"""How a ``seesaw`` command and its server (:mod:`engine.server.process`) talk: where the socket is, what
a request holds, and what makes two interpreters start differently.  Standard library only: the
``seesaw`` script imports it before anything else.

One connection per command, newline-delimited JSON: the client sends the request with its stdin,
stdout, stderr and working directory attached (``SCM_RIGHTS``); the server answers
``{"refused": reason}`` or ``{"ready": true}``.  Only when the client then sends ``go`` (it has not
given up waiting and run the command itself) does the server fork the command, and answer
``{"pid": N}`` (the command's process, to which the client forwards the signals it receives); when
that process ends, ``{"exit": code}`` or ``{"signal": number}`` (it was killed).  A client that goes
away takes its command with it, so a command never runs both in the server and in its client.
``{"control": "status"}`` and ``{"control": "stop"}`` ask the server itself.
"""

from __future__ import annotations

import io
import json
import os
import resource
import socket
import stat
import sys
from collections.abc import Mapping
from hashlib import sha256
from pathlib import Path

__all__ = [
    "IMPORT_TIME_PREFIXES",
    "LIMITS",
    "private",
    "request",
    "seesaw_dir",
    "send_message",
    "socket_path",
    "start_flags",
    "streams",
]

#: Environment variables read when the interpreter starts or packages are imported (the locale
#: included: it decides Python's text encodings): a command whose values differ from the server's runs
#: in its own process.
IMPORT_TIME_PREFIXES = (
    "PYTHON", "NUMBA_", "OMP_", "OPENBLAS_", "MKL_", "GOTO", "LD_", "MALLOC_", "ARROW_", "NUMEXPR_", "LANG", "LC_",
)  # fmt: skip


def seesaw_dir() -> Path:
    """The directory of this copy of Seesaw's ``engine`` package."""
    return Path(__file__).resolve().parents[1]


#: The resource limits a command takes from its client (``resource.RLIMIT_*``).
LIMITS = tuple(sorted(name for name in dir(resource) if name.startswith("RLIMIT_")))


def socket_path(env: Mapping[str, str] | None = None) -> Path:
    """The server's socket for this Python environment and this copy of Seesaw.

    In ``$SEESAW_SERVER_DIR``, else ``$XDG_RUNTIME_DIR/seesaw``, else ``/tmp/seesaw-<uid>``; named by a
    hash of ``sys.prefix`` and Seesaw's directory, so two checkouts or two virtual environments never
    share a server.
    """
    env = os.environ if env is None else env
    if env.get("SEESAW_SERVER_DIR"):
        folder = Path(env["SEESAW_SERVER_DIR"]).absolute()
    elif env.get("XDG_RUNTIME_DIR"):
        folder = Path(env["XDG_RUNTIME_DIR"]).absolute() / "seesaw"
    else:
        folder = Path("/tmp") / f"seesaw-{os.getuid()}"
    key = f"{sys.prefix}\0{seesaw_dir()}".encode()
    return folder / f"{sha256(key).hexdigest()[:16]}.sock"


def private(folder: Path) -> bool:
    """Whether the socket's directory belongs to this user and nobody else may enter it."""
    try:
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077 == 0


def start_flags() -> dict[str, object]:
    """What makes two interpreters start differently: flags, ``-X`` and ``-W`` options (``-u`` shows in the
    streams' buffering, sent with each request)."""
    return {"flags": list(sys.flags), "x": sorted(map(str, sys._xoptions.items())), "w": list(sys.warnoptions)}


def streams() -> list[tuple[str, object]]:
    """This process's standard streams, by name."""
    return [("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr)]


def request(argv: list[str], ignored: list[int]) -> dict[str, object]:
    """The command as the server needs it: what makes this process the command (``ignored``: the
    signals it ignores).  Its standard streams and working directory go with it as descriptors."""
    umask = os.umask(0o022)
    os.umask(umask)
    buffering = {
        name: [getattr(s, a, None) for a in ("encoding", "errors", "line_buffering", "write_through")]
        + [isinstance(getattr(s, "buffer", None), io.FileIO)]  # unbuffered: python -u
        for name, s in streams()
    }
    return {
        "argv": argv,
        "env": dict(os.environ),
        "path": list(sys.path),
        "seesaw": str(seesaw_dir()),
        "umask": umask,
        "ignored": ignored,
        "start": start_flags(),
        "streams": buffering,
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "affinity": sorted(os.sched_getaffinity(0)),
        "limits": {name: list(resource.getrlimit(getattr(resource, name))) for name in LIMITS},
        "mounts": os.readlink("/proc/self/ns/mnt"),
    }


def send_message(sock: socket.socket, message: Mapping[str, object], fds: list[int] | None = None) -> None:
    """One JSON line, with file descriptors attached when given."""
    data = json.dumps(message).encode() + b"\n"
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        sock.sendall(data[sent:])
    else:
        sock.sendall(data)
