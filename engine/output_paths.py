"""Where a command may write its outputs (``--output``, ``--report``, ``--png``): never over a config it reads,
another of its outputs, the results store's catalog or a file of a stored run or sweep.  Light on purpose: a
command checks these before it imports what does the work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.errors import StoreError, UserError

__all__ = [
    "check_html_file",
    "check_output",
    "check_png_dir",
    "check_results_dir",
    "directory_blocked",
    "distinct_files",
]

#: The files that make a directory a stored run's or a stored sweep's, in pairs.
_STORED = (("run.json", "metrics.json"), ("sweep.json", "combos.parquet"))
#: Suffixes of image files, which an HTML output is not.
_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf")
#: Suffixes of configs, data, code and documents, which an HTML output is not either (``--output c.yaml`` would
#: replace a config with a page).
_OTHER_FILES = (".yaml", ".yml", ".csv", ".json", ".parquet", ".toml", ".py", ".md", ".txt")


def directory_blocked(path: Path) -> str | None:
    """Why ``path`` cannot be a directory a command writes under (a cache, the results), or None: it is a file
    (``"is a file, not a directory"``), or a file stands where one of its parents would be made."""
    file = next((p for p in (path, *path.parents) if p.exists()), None)  # itself, or where it would be made
    if file is None or file.is_dir():
        return None
    return "is a file, not a directory" if file == path else f"cannot be made: {file} is a file"


def check_results_dir(path: Path, given: str) -> None:
    """Refuse (UserError) a results directory a command would write under that is a file, or under one (else
    the store's lock or a staging directory under it is what fails); ``given``: where it came from."""
    if said := directory_blocked(path):
        raise UserError(
            f"the results directory {path} {said} ({given})", expected="a directory, or a path where one can be made"
        )


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
    ``.duckdb`` or ``.wal`` file) or a file of a stored run or sweep (a directory holding ``run.json`` and
    ``metrics.json``, or ``sweep.json`` and ``combos.parquet``): a report written there would damage what it
    reports on.  A ``run.json`` or ``sweep.json`` alone (a ``--format json`` output saved so) is no stored run."""
    if str(output) == "-":  # many tools' stdout: here it would be a file named '-'
        raise UserError(
            "the output '-' would be a file named '-', not stdout: give a file name (without --output, text goes to "
            "stdout)"
        )
    name = output.name.lower()
    if name.startswith("seesaw.duckdb") or name.endswith((".duckdb", ".wal")):
        raise StoreError(
            "the output would write over the results store's catalog; write it elsewhere", file=str(output)
        )
    if _stored(output.parent):
        raise StoreError(
            "the output is in a stored run's or sweep's directory, whose files it would damage; write it elsewhere",
            file=str(output),
        )


def check_html_file(output: Path) -> None:
    """:func:`check_output`, and refuse (StoreError) an HTML output named like an image, a config, data or a
    document, one that is a directory, or one whose directory is missing or cannot be written."""
    check_output(output)
    if output.suffix.lower() in _IMAGES:
        raise StoreError(
            f"the output is an HTML page, not a {output.suffix} image; name it FILE.html (--png DIR writes a "
            "report's charts as images)",
            file=str(output),
        )
    if output.suffix.lower() in _OTHER_FILES:
        raise StoreError(
            f"the output is an HTML page, not a {output.suffix} file (a config, data or a document it would write "
            "over); name it FILE.html",
            file=str(output),
        )
    if output.is_dir():
        raise StoreError("the output is a directory; give a file name", file=str(output))
    _check_directory(output.parent, output, "the output's")


def check_png_dir(png_dir: Path) -> None:
    """Refuse (StoreError) a ``--png`` directory that is a file, or that cannot be created (its nearest existing
    ancestor is a file or cannot be written) or written."""
    if png_dir.exists() and not png_dir.is_dir():
        raise StoreError("--png names a file; give a directory for the charts", file=str(png_dir))
    if any(_stored(d) for d in (png_dir, *png_dir.absolute().parents)):
        raise StoreError(
            "--png is in a stored run's or sweep's directory, which its charts would change; write them elsewhere",
            file=str(png_dir),
        )
    existing = next(d for d in (png_dir, *png_dir.absolute().parents) if d.exists())  # the rest is created
    _check_directory(existing, png_dir, "--png's")


def _stored(directory: Path) -> bool:
    """Whether ``directory`` is a stored run's (run.json and metrics.json) or sweep's (sweep.json and
    combos.parquet)."""
    return any((directory / a).is_file() and (directory / b).is_file() for a, b in _STORED)


def _check_directory(directory: Path, path: Path, whose: str) -> None:
    if not directory.is_dir():
        raise StoreError(
            f"{whose} directory {directory} does not exist", file=str(path), expected="an existing directory"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreError(f"{whose} directory {directory} cannot be written", file=str(path))
