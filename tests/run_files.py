"""Stored run files edited by a test, made consistent with the run's record of them.

A run's ``run.json`` records each file's size and CRC-32 (``engine/store/run_check.py``), and a file that differs
is refused as damaged.  A test that stands in for another run's output by editing a stored file records the
edit (:func:`resum`); one that stands in for a run written before the sums were kept drops them (:func:`as_older`).
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path


def resum(path: Path) -> None:
    """Record ``path``'s new size and CRC-32 in its run's ``run.json``, as if the run had written it so."""
    manifest_path = path.parent / "run.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    data = path.read_bytes()
    manifest["files"][path.name] = {"bytes": len(data), "crc32": zlib.crc32(data)}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def as_older(run_dir: Path) -> None:
    """The run as one written before ``run.json`` recorded its files' sizes and CRC-32."""
    manifest_path = run_dir / "run.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest.pop("files", None)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
