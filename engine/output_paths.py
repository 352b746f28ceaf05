"""Where a command may write its outputs (``--output``, ``--report``, ``--png``): never over a config it reads,
another of its outputs, the results store's catalog or a file of a stored run or sweep.  Light on purpose: a
command checks these before it imports what does the work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.errors import StoreError, UserError

__all__ = ["check_output", "distinct_files"]


def distinct_files(outputs: Mapping[str, Path | None], reads: Sequence[Path | None] = ()) -> None:
    """Refuse (UserError) two of ``outputs`` (an option: its path) naming one file, or one naming a config the
    command ``reads``: one would be written over the other (a heatmap by the report, a config by HTML)."""
    seen = {p.resolve(): f"the config {p}" for p in reads if p is not None}
    for option, path in outputs.items():
        if path is None:
            continue
        key = path.resolve()
        if key in seen:
            raise UserError(f"{option} {path} names the same file as {seen[key]}; give each its own")
        seen[key] = option


def check_output(output: Path) -> None:
    """Refuse (StoreError) an output that would write over the results store's catalog (``seesaw.duckdb``, a
    ``.duckdb`` or ``.wal`` file) or a file of a stored run or sweep (a directory holding ``run.json`` or
    ``sweep.json``): a report written there would damage what it reports on."""
    name = output.name.lower()
    if name.startswith("seesaw.duckdb") or name.endswith((".duckdb", ".wal")):
        raise StoreError(
            "the output would write over the results store's catalog; write it elsewhere", file=str(output)
        )
    if (output.parent / "run.json").is_file() or (output.parent / "sweep.json").is_file():
        raise StoreError(
            "the output is in a stored run's or sweep's directory, whose files it would damage; write it elsewhere",
            file=str(output),
        )
