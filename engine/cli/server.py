"""``seesaw server start|stop|status``: a warm process that starts commands in a fraction of a second."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from engine.cli.app import Commands, app
from engine.cli.options import err_console
from engine.plural import counted
from engine.server.protocol import socket_path

__all__ = ["server_app", "server_start", "server_status", "server_stop"]

server_app = typer.Typer(
    cls=Commands,
    help=(
        "A warm process for this Python environment: while it runs, every `seesaw` command is forked from it "
        "instead of importing pandas, numba and vectorbt again (about 2 s a command). Same output, files and "
        "exit codes; SEESAW_SERVER=off runs a command without it."
    ),
    no_args_is_help=True,
)
app.add_typer(server_app, name="server")


@server_app.command("start")
def server_start(
    idle_minutes: Annotated[
        float, typer.Option("--idle-minutes", min=1.0, help="Stop after this many minutes without a command.")
    ] = 240.0,
) -> None:
    """Start the server in the background (nothing happens if one is running) and wait until it is ready."""
    from engine.server.process import ServerError, start

    path = socket_path()
    try:
        info = start(path, idle_minutes * 60.0)
    except ServerError as err:
        err_console().print(f"error: {err}", markup=False)
        raise typer.Exit(2) from None
    word = "already running" if info.get("already") else "ready"
    typer.echo(f"seesaw server {word}: pid {info['pid']}, socket {path}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop this environment's server; commands already started finish."""
    from engine.server.process import stop

    info = stop(socket_path())
    if info is None:
        typer.echo("no seesaw server was running")
    else:
        typer.echo(f"seesaw server stopped: pid {info['pid']}, {_served(info)}")


@server_app.command("status")
def server_status(
    as_json: Annotated[bool, typer.Option("--json", help="The status as one JSON object.")] = False,
) -> None:
    """Whether a server runs for this environment; exit code 1 when none does."""
    import json

    from engine.server.process import status

    path = socket_path()
    info = status(path)
    if as_json:
        typer.echo(json.dumps({"running": info is not None, "socket": str(path), **(info or {})}))
    elif info is None:
        typer.echo(f"no seesaw server is running (socket {path})")
    else:
        typer.echo(
            f"seesaw server: pid {info['pid']} since {info['started']}, {_served(info)}, "
            f"idle {info['idle_seconds']:.0f} s (stops after {info['idle_limit'] / 60:.0f} min), "
            f"{info['rss_mb']:.0f} MB resident\n  python {info['python']}\n  seesaw {info['seesaw']}\n  socket {path}"
        )
    if info is None:
        raise typer.Exit(1)


def _served(info: dict[str, Any]) -> str:
    n = int(info["commands"])
    return f"{counted(n, 'commands')} served"
