"""The ``seesaw`` Typer application, which every command module registers on."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=(
        "Seesaw: backtest YAML rotation rules between the US and Hong Kong stock markets on vectorbt.\n\n"
        "Returns are fractions; CAGR uses calendar time; volatility, Sharpe and Sortino are annualised with "
        "the run's own number of trading periods per year (the union of both markets' trading dates), "
        "not vectorbt's 365. Sharpe and Sortino are in excess of the config's cash rate (zero without one)."
    ),
)
