"""The ``seesaw`` command line: the only code that prints or exits.

One module per command family registers its commands on :data:`engine.cli.app.app`; shared options
and the error handler are :mod:`engine.cli.options`.  A user's mistake (a bad config, missing
data, an unwritable results directory) is one line on stderr and exit code 2; anything else is a
bug and shows its traceback.  Commands import their jobs when they run, so ``seesaw validate``
and ``--help`` stay fast.
"""

from __future__ import annotations

# Importing a command module registers its commands; this order is the order of `seesaw --help`.
# isort: off
from engine.cli import run, compare, report, runs, config, signals, sweep, walkforward, audit, today, episodes  # noqa: F401

# isort: on
from engine.cli.app import app
from engine.import_guard import hide_from_vectorbt

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    hide_from_vectorbt()  # vectorbt's unused quantstats adapter and notebook widgets (engine/import_guard.py)
    app(prog_name="seesaw")
