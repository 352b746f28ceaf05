"""``seesaw validate``, ``schema`` and ``version``: configs checked and described without running them."""

from __future__ import annotations

import json

from engine import __version__
from engine.cli.app import app
from engine.cli.options import ConfigsArg, user_errors

__all__ = ["schema", "validate", "version"]


@app.command()
def validate(configs: ConfigsArg) -> None:
    """Check configs without running them."""
    from engine.jobs.common import expand_config_paths
    from engine.jobs.run import validate_configs

    with user_errors():
        files = expand_config_paths(configs)
        validate_configs(files)
    for f in files:
        print(f"{f}: ok")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the config file, for editors."""
    from engine.jobs.run import config_schema

    print(json.dumps(config_schema(), indent=2))


@app.command()
def version() -> None:
    """Print the Seesaw version."""
    print(__version__)
