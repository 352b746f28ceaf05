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
    if not any(isinstance(finder, _HiddenFromVectorbt) for finder in sys.meta_path):
        sys.meta_path.insert(0, _HiddenFromVectorbt())
    app(prog_name="seesaw")


class _HiddenFromVectorbt(importlib.abc.MetaPathFinder):
    """Refuse two of vectorbt's imports in the command's process, as if the packages were not installed.

    * ``quantstats``: when it is installed, importing vectorbt imports it (and matplotlib, seaborn,
      yfinance) for the ``returns.qs`` adapter, which no command uses: 0.6-0.9 s of every command that
      simulates.  vectorbt catches the ImportError and leaves the adapter out.
    * ``ipywidgets``: vectorbt asks plotly for ``FigureWidget``, a notebook widget, and plotly imports
      ipywidgets and IPython for it: 0.3-0.6 s.  plotly catches the ImportError and gives a stand-in
      that only raises when a widget is made; the commands draw figures, never widgets.

    Only an import made while a vectorbt module's import statement runs is refused: anything else (a
    signal plugin, say) imports these packages as usual, and once imported vectorbt gets them too.
    Only the command line installs this finder; a program that imports :mod:`engine` is left alone.
    """

    REFUSED = frozenset({"quantstats", "ipywidgets"})

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name in self.REFUSED and _imported_by_vectorbt():
            raise ModuleNotFoundError(f"{name} is not offered to vectorbt by the seesaw command", name=name)
        return None


def _imported_by_vectorbt() -> bool:
    """Whether a module of vectorbt is among the callers (its import statement is running)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).split(".")[0] == "vectorbt":
            return True
        frame = frame.f_back
    return False
