"""The ``seesaw`` command line: the only code that prints or exits.

One module per command family registers its commands on :data:`engine.cli.app.app`; shared options
and the error handler are :mod:`engine.cli.options`.  A user's mistake (a bad config, missing
data, an unwritable results directory) is one line on stderr and exit code 2; anything else is a
bug and shows its traceback.  Commands import their jobs when they run, so ``seesaw validate``
and ``--help`` stay fast.
"""

from __future__ import annotations

import atexit
import errno
import gc
import sys

# Importing a command module registers its commands; this order is the order of `seesaw --help`.
# isort: off
from engine.cli import run, compare, report, runs, config, signals, sweep, walkforward, audit, today, episodes, server  # noqa: F401

# isort: on
from engine.cli.app import app
from engine.import_guard import hide_from_vectorbt

__all__ = ["app", "main"]


#: The cyclic garbage collector's thresholds in a command's process (Python's are 700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 20)

#: The exit code of a command whose reader closed its output early (``seesaw compare ... | head``):
#: 128 + SIGPIPE, what a shell reports for a program that the closed pipe stopped.
CLOSED_PIPE = 141


def main() -> None:
    """Console-script entry point.

    A command is a short process that imports a great deal (pandas, numba, vectorbt: about 300,000
    objects the cyclic collector tracks), so with Python's thresholds the collector ran about 780
    times and took about 0.5 s of a ``seesaw run``; with :data:`GC_THRESHOLDS` about ten times and
    0.1-0.2 s.  At exit Python collects once more, over every object: 0.75-0.85 s after the command
    had finished.  The objects are frozen (``gc.freeze``) once the command returns, so that last
    collection skips them (0.1 s); files, the catalog and worker pools are closed before then.
    A program that imports :mod:`engine` keeps its own collector settings.

    A reader that closes the output early stops the command quietly with :data:`CLOSED_PIPE`: click
    answers the broken pipe with exit code 1, the code of a failed check or a bug.
    """
    hide_from_vectorbt()  # vectorbt's unused quantstats adapter and notebook widgets (engine/import_guard.py)
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        app(prog_name="seesaw")
    except SystemExit as done:
        cause = done.__context__  # click exits 1 while handling the broken pipe's OSError
        if done.code == 1 and isinstance(cause, OSError) and cause.errno == errno.EPIPE:
            raise SystemExit(CLOSED_PIPE) from None
        raise
    finally:
        _drop_colour_reset()
        gc.freeze()


def _drop_colour_reset() -> None:
    """numba, importing, sets up colorama for its error messages, and colorama's exit handler writes a colour
    reset to a terminal after the command's output: bytes that a command served by the warm server (whose
    children exit without exit handlers) does not write.  Seesaw's own output resets its colours itself."""
    colorama = sys.modules.get("colorama.initialise")
    if colorama is not None:
        atexit.unregister(colorama.reset_all)
