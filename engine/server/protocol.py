"""How a ``seesaw`` command and its server (:mod:`engine.server.process`) talk: where the socket is, what
a request holds, and what makes two interpreters start differently.  Standard library only: the
``seesaw`` script imports it before anything else.

One connection per command, newline-delimited JSON: the client sends the request with its stdin,
stdout and stderr attached (``SCM_RIGHTS``); the server answers ``{"pid": N}`` (the command's process,
to which the client forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT) or ``{"refused": reason}``; the
command's process sends ``{"exit": code}`` when it ends.  ``{"control": "status"}`` and
``{"control": "stop"}`` ask the server itself.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
from collections.abc import Mapping
from hashlib import sha256
from pathlib import Path

__all__ = ["IMPORT_TIME_PREFIXES", "private", "request", "send_message", "socket_path", "start_flags", "streams"]

#: Environment variables read when the interpreter starts or packages are imported (the locale
#: included: it decides Python's text encodings): a command whose values differ from the server's runs
#: in its own process.
IMPORT_TIME_PREFIXES = (
    "PYTHON", "NUMBA_", "OMP_", "OPENBLAS_", "MKL_", "GOTO", "LD_", "MALLOC_", "ARROW_", "NUMEXPR_", "LANG", "LC_",
)  # fmt: skip


def socket_path(env: Mapping[str, str] | None = None) -> Path:
    """The server's socket for this Python environment and this copy of Seesaw.

    In ``$SEESAW_SERVER_DIR``, else ``$XDG_RUNTIME_DIR/seesaw``, else ``/tmp/seesaw-<uid>``; named by a
    hash of ``sys.prefix`` and Seesaw's directory, so two checkouts or two virtual environments never
    share a server.
    """
    env = os.environ if env is None else env
    if env.get("SEESAW_SERVER_DIR"):
        folder = Path(env["SEESAW_SERVER_DIR"])
    elif env.get("XDG_RUNTIME_DIR"):
        folder = Path(env["XDG_RUNTIME_DIR"]) / "seesaw"
    else:
        folder = Path("/tmp") / f"seesaw-{os.getuid()}"
    key = f"{sys.prefix}\0{Path(__file__).resolve().parents[1]}".encode()
    return folder / f"{sha256(key).hexdigest()[:16]}.sock"


def private(folder: Path) -> bool:
    """Whether the socket's directory belongs to this user and nobody else may enter it."""
    try:
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077 == 0


def start_flags() -> dict[str, object]:
    """What makes two interpreters start differently: flags, ``-X`` and ``-W`` options."""
    return {"flags": list(sys.flags), "x": sorted(map(str, sys._xoptions.items())), "w": list(sys.warnoptions)}


def streams() -> list[tuple[str, object]]:
    """This process's standard streams, by name."""
    return [("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr)]


def request(argv: list[str]) -> dict[str, object]:
    """The command as the server needs it: arguments, directory, environment, umask, ``sys.path``, encodings."""
    umask = os.umask(0o022)
    os.umask(umask)
    encodings = {name: [getattr(s, "encoding", None), getattr(s, "errors", None)] for name, s in streams()}
    return {
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "path": list(sys.path),
        "umask": umask,
        "start": start_flags(),
        "streams": encodings,
    }


def send_message(sock: socket.socket, message: Mapping[str, object], fds: list[int] | None = None) -> None:
    """One JSON line, with file descriptors attached when given."""
    data = json.dumps(message).encode() + b"\n"
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        sock.sendall(data[sent:])
    else:
        sock.sendall(data)
