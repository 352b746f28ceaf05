"""The ``seesaw`` command line: the only code that prints or exits.

One module per command family registers its commands on :data:`engine.cli.app.app`; shared options
and the error handler are :mod:`engine.cli.options`.  A user's mistake (a bad config, missing
data, an unwritable results directory) is one line on stderr and exit code 2; anything else is a
bug and shows its traceback.  Commands import their jobs when they run, so ``seesaw validate``
and ``--help`` stay fast.
"""

from __future__ import annotations

import sys

# Importing a command module registers its commands; this order is the order of `seesaw --help`.
# isort: off
from engine.cli import run, compare, report, runs, config, signals, sweep, walkforward, audit, today, episodes  # noqa: F401

# isort: on
from engine.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    _without_vectorbt_quantstats_adapter()
    app(prog_name="seesaw")


def _without_vectorbt_quantstats_adapter() -> None:
    """Keep vectorbt from importing quantstats in this process.

    When quantstats is installed, ``import vectorbt`` imports it (and matplotlib, seaborn, yfinance)
    for the ``returns.qs`` adapter, which no command uses: 0.6-0.9 s of every command that
    simulates.  ``None`` in ``sys.modules`` makes that import fail as if quantstats were absent,
    and vectorbt then leaves the adapter out.  Only the command line does this: a program that
    imports :mod:`engine` keeps its own quantstats.
    """
    sys.modules.setdefault("quantstats", None)  # type: ignore[arg-type]  # None: "not installed", by design
