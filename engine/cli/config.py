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

    if not configs:
        with user_errors():
            expand_config_paths(configs)
    given: list[list | UserError] = []  # each argument's files, or why it has none (a directory without configs)
    for arg in configs:
        try:
            given.append(expand_config_paths([arg]))
        except UserError as err:
            given.append(err)
    checked = iter(check_configs([p for files in given if isinstance(files, list) for p in files]))
    failed = 0
    for files in given:  # in the order given, a directory's files where it was named
        results = [(None, files)] if isinstance(files, UserError) else [next(checked) for _ in files]
        for path, found in results:
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
