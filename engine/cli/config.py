"""``seesaw validate``, ``schema`` and ``version``: configs checked and described without running them."""

from __future__ import annotations

import json

import typer

from engine import __version__
from engine.cli.app import app
from engine.cli.options import ConfigsArg, err_console, user_errors

__all__ = ["schema", "validate", "version"]


@app.command()
def validate(configs: ConfigsArg) -> None:
    """Check configs without running them: every file, one line each; exit code 2 if any is refused."""
    from engine.config import check_configs
    from engine.errors import UserError
    from engine.jobs.common import expand_config_paths

    with user_errors():
        files = expand_config_paths(configs)
    failed = 0
    for path, found in check_configs(files):
        if isinstance(found, UserError):
            failed += 1
            err_console().print(f"error: {found.one_line()}", markup=False)
        else:
            print(f"{path}: ok")
    if failed:
        raise typer.Exit(2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the config file, for editors."""
    from engine.jobs.schema import config_schema

    with user_errors():
        schema = config_schema()
    print(json.dumps(schema, indent=2))


@app.command()
def version() -> None:
    """Print the Seesaw version."""
    print(__version__)
