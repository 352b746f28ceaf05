"""The ``seesaw`` Typer application, which every command module registers on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import typer
from typer import core
from typer.core import TyperGroup

from engine.errors import printable

__all__ = ["app"]

#: click, whose exceptions Typer's commands raise: Typer 0.29 and later carry their own copy of it
#: (``typer._click``), earlier ones use the installed ``click``.
_click: Any = getattr(core, "_click", None) or core.click  # type: ignore[attr-defined]
#: What click raises to show a group's help when it is given no command (click 8.2 on; earlier, none: the group
#: prints its help and exits itself).
_HELP_ASKED: Any = getattr(_click.exceptions, "NoArgsIsHelpError", ())


@contextlib.contextmanager
def _one_line() -> Iterator[None]:
    """click's usage errors (an unknown option or command, a value not among the choices or out of range, a
    missing argument) as one line on stderr and exit code 2, as every other mistake is (engine/cli/options.py),
    instead of click's usage, hint and boxed message.  ``seesaw`` or ``seesaw runs`` alone still shows help."""
    try:
        yield
    except _HELP_ASKED:
        raise
    except _click.exceptions.ClickException as exc:
        from engine.cli.options import err_console

        command = (
            exc.ctx.command_path if isinstance(exc, _click.exceptions.UsageError) and exc.ctx is not None else None
        )
        hint = f" — see {command} --help" if command else ""
        err_console().print(f"error: {printable(exc.format_message())}{hint}", markup=False)
        raise SystemExit(exc.exit_code) from None


class _Commands(TyperGroup):
    """Seesaw's command group: its and every command's argument errors on one line (:func:`_one_line`)."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        with _one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _one_line():
            return super().invoke(ctx)


app = typer.Typer(
    cls=_Commands,
    add_completion=False,
    no_args_is_help=True,
    help=(
        "Seesaw: backtest YAML rotation rules between the US and Hong Kong stock markets on vectorbt.\n\n"
        "Returns are fractions; CAGR uses calendar time; volatility, Sharpe and Sortino are annualised with "
        "the run's own number of trading periods per year (the union of both markets' trading dates), "
        "not vectorbt's 365. Sharpe and Sortino are in excess of the config's cash rate (zero without one)."
    ),
)
