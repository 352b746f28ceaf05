"""The ``seesaw`` command line: the only code that prints or exits.

One module per command family registers its commands on :data:`engine.cli.app.app`; shared options
and the error handler are :mod:`engine.cli.options`.  A user's mistake (a bad config, missing
data, an unwritable results directory) is one line on stderr and exit code 2; anything else is a
bug and shows its traceback.  Commands import their jobs when they run, so ``seesaw validate``
and ``--help`` stay fast.
"""

from __future__ import annotations

import importlib.abc
import sys
from types import FrameType

# Importing a command module registers its commands; this order is the order of `seesaw --help`.
# isort: off
from engine.cli import run, compare, report, runs, config, signals, sweep, walkforward, audit, today, episodes  # noqa: F401

# isort: on
from engine.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    if not any(isinstance(finder, _QuantstatsHiddenFromVectorbt) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuantstatsHiddenFromVectorbt())
    app(prog_name="seesaw")


class _QuantstatsHiddenFromVectorbt(importlib.abc.MetaPathFinder):
    """Refuse vectorbt's own ``import quantstats`` in the command's process, as if it were not installed.

    When quantstats is installed, importing vectorbt imports it (and matplotlib, seaborn, yfinance)
    for the ``returns.qs`` adapter, which no command uses: 0.6-0.9 s of every command that
    simulates.  vectorbt catches the ImportError and leaves the adapter out.  Only an import made by
    vectorbt's modules is refused: anything else (a signal plugin, say) imports quantstats as usual,
    and once quantstats is imported vectorbt gets it too.  Only the command line installs this
    finder; a program that imports :mod:`engine` is left alone.
    """

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "quantstats" and _imported_by_vectorbt():
            raise ModuleNotFoundError("quantstats is not offered to vectorbt by the seesaw command", name=name)
        return None


def _imported_by_vectorbt() -> bool:
    """Whether a module of vectorbt is among the callers (its import statement is running)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).split(".")[0] == "vectorbt":
            return True
        frame = frame.f_back
    return False
