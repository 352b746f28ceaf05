"""A command for tests/test_server.py's probe server: it prints what makes its process the command.

Not a test module: the probe server imports it and runs :func:`main` for each command, as the real
server runs the command line.  ``PROBE_MODE=sleep`` then sleeps (for the signal tests; its pid in
``$PROBE_PIDFILE``), ``PROBE_MODE=exit`` exits with ``$PROBE_CODE``; ``$PROBE_MARK`` names a file it
appends a line to each time it runs.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time

__all__ = ["main"]

WATCHED = (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT, signal.SIGUSR1)


def main() -> None:
    umask = os.umask(0)
    os.umask(umask)
    print(
        json.dumps(
            {
                "argv": sys.argv[1:],
                "cwd": os.getcwd(),
                "umask": umask,
                "nice": os.getpriority(os.PRIO_PROCESS, 0),
                "affinity": sorted(os.sched_getaffinity(0)),
                "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
                "ignored": sorted(int(s) for s in WATCHED if signal.getsignal(s) == signal.SIG_IGN),
                "write_through": sys.stdout.write_through,
                "probe": os.environ.get("PROBE"),
            }
        ),
        flush=True,
    )
    if os.environ.get("PROBE_MARK"):
        with open(os.environ["PROBE_MARK"], "a") as out:
            out.write("ran\n")
    mode = os.environ.get("PROBE_MODE")
    if mode == "sleep":
        with open(os.environ["PROBE_PIDFILE"], "w") as out:
            out.write(str(os.getpid()))
        time.sleep(120)
    if mode == "exit":
        sys.exit(int(os.environ["PROBE_CODE"]))
