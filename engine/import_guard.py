"""Two of vectorbt's imports refused in a process that only simulates, as if the packages were not installed.

* ``quantstats``: when it is installed, importing vectorbt imports it (and matplotlib, seaborn,
  yfinance) for the ``returns.qs`` adapter, which Seesaw never uses: 0.6-0.9 s of every command that
  simulates.  vectorbt catches the ImportError and leaves the adapter out.
* ``ipywidgets``: vectorbt asks plotly for ``FigureWidget``, a notebook widget, and plotly imports
  ipywidgets and IPython for it: 0.3-0.6 s.  plotly catches the ImportError and gives a stand-in
  that only raises when a widget is made; Seesaw draws figures, never widgets.

Only an import made while a vectorbt module's import statement runs is refused: anything else (a
signal plugin, say) imports these packages as usual, and once imported vectorbt gets them too.  The
command line installs the finder in its own process (:func:`engine.cli.main`) and in the workers of
the Dask ``LocalCluster`` a sweep starts; a program that imports :mod:`engine` is left alone.
"""

from __future__ import annotations

import importlib.abc
import sys
from types import FrameType

__all__ = ["REFUSED", "hide_from_vectorbt"]

#: The packages vectorbt's own imports are refused.
REFUSED = frozenset({"quantstats", "ipywidgets"})


def hide_from_vectorbt() -> None:
    """Install the finder in this process (once)."""
    if not any(isinstance(finder, _HiddenFromVectorbt) for finder in sys.meta_path):
        sys.meta_path.insert(0, _HiddenFromVectorbt())


class _HiddenFromVectorbt(importlib.abc.MetaPathFinder):
    """Refuse :data:`REFUSED` to an import made by vectorbt's modules (module docstring)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name in REFUSED and _imported_by_vectorbt():
            raise ModuleNotFoundError(f"{name} is not offered to vectorbt by seesaw", name=name)
        return None


def _imported_by_vectorbt() -> bool:
    """Whether a module of vectorbt is among the callers (its import statement is running)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).split(".")[0] == "vectorbt":
            return True
        frame = frame.f_back
    return False
