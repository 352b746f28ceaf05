"""The ``seesaw`` Typer application, which every command module registers on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import typer
from typer import core
from typer.core import TyperGroup

from engine.errors import printable

__all__ = ["Commands", "app"]

#: click, whose exceptions Typer's commands raise: Typer 0.29 and later carry their own copy of it
#: (``typer._click``), earlier ones use the installed ``click``.
_click: Any = getattr(core, "_click", None) or core.click  # type: ignore[attr-defined]
#: What click raises to show a group's help when it is given no command (click 8.2 on; earlier, none: the group
#: prints its help and exits itself).
_HELP_ASKED: Any = getattr(_click.exceptions, "NoArgsIsHelpError", ())


#: Where :class:`Commands` notes the command being parsed (``ctx.meta`` is shared by a command's contexts).
_PARSING = "seesaw.parsing"


@contextlib.contextmanager
def _one_line(ctx: Any = None) -> Iterator[None]:
    """click's usage errors (an unknown option or command, a value not among the choices or out of range, a
    missing argument or option value) as one line on stderr and exit code 2, as every other mistake is
    (engine/cli/options.py), instead of click's usage, hint and boxed message, with the command whose --help
    lists the options (the one being parsed, ``ctx``'s note, when click's error names no context).  ``seesaw``
    or ``seesaw runs`` alone still shows help."""
    try:
        yield
    except _HELP_ASKED:
        raise
    except _click.exceptions.ClickException as exc:
        from engine.cli.options import err_console

        command = None
        if isinstance(exc, _click.exceptions.UsageError):
            command = exc.ctx.command_path if exc.ctx is not None else (ctx.meta.get(_PARSING) if ctx else None)
        hint = f" — see {command} --help" if command else ""
        message = exc.format_message().replace(": Value error, ", ": ")  # pydantic's wording of a Literal's check
        err_console().print(f"error: {printable(message)}{hint}", markup=False)
        raise SystemExit(exc.exit_code) from None


class Commands(TyperGroup):
    """Seesaw's command groups: theirs and every command's argument errors on one line (:func:`_one_line`)."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        with _one_line():
            return super().make_context(info_name, args, parent, **extra)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:  # its options are parsed next: an error there may name no context
            ctx.meta[_PARSING] = f"{ctx.command_path} {name}"
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        with _one_line(ctx):
            return super().invoke(ctx)


app = typer.Typer(
    cls=Commands,
    add_completion=False,
    no_args_is_help=True,
    help=(
        "Seesaw: backtest YAML rotation rules between the US and Hong Kong stock markets on vectorbt.\n\n"
        "Returns are fractions; CAGR uses calendar time; volatility, Sharpe and Sortino are annualised with "
        "the run's own number of trading periods per year (the union of both markets' trading dates), "
        "not vectorbt's 365. Sharpe and Sortino are in excess of the config's cash rate (zero without one)."
    ),
)
