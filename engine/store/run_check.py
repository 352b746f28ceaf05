"""What a stored run must be before it is read or reused: its files whole and its documents the shapes written.

* **Sums.** ``run.json`` lists every other file of the run directory with its size and CRC-32 (``files``:
  ``{"equity.parquet": {"bytes": ..., "crc32": ...}, ...}``), taken from the bytes as they were written.  A file
  read back is checked against them (:func:`read_checked`), and a run about to be reused has every file checked
  (:func:`check_sums`): a file cut short, damaged on disk, or replaced by another run's is refused, naming it,
  instead of being read as numbers.  CRC-32 costs about 0.4 ms a megabyte (a run directory holds about 2.5 MB);
  runs written before the sums were kept are checked as before, by their files' presence and Parquet's magic
  bytes.
* **Shapes.** ``run.json``, ``metrics.json`` and ``config.yaml`` hold the keys every reader uses
  (:func:`check_shapes`): a file that parses but lost them is refused in one line, not a ``KeyError``.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from engine.errors import StoreError
from engine.store.readonly import first_line

__all__ = [
    "AGAIN",
    "AS_WRITTEN",
    "check_file",
    "check_shapes",
    "check_sums",
    "file_sum",
    "open_checked",
    "path_sum",
    "read_checked",
    "sums_of",
]

AGAIN = "run its config again with --force"
AS_WRITTEN = "the run as Seesaw wrote it"

#: Bytes read at a time from a file checked but not kept (:func:`check_file`).
_BLOCK = 1 << 24
#: What ``run.json`` records of each file.
FIELDS = ("bytes", "crc32")
#: The keys of each document every reader of a run uses.
_MANIFEST_KEYS = ("run_id", "config_name", "data_fingerprint", "data_source", "synthetic", "start", "end")
_METRICS_KEYS = ("data", "strategy", "benchmarks")


def file_sum(data: bytes) -> dict[str, int]:
    """What ``run.json`` records of a file: its size and CRC-32."""
    return {"bytes": len(data), "crc32": zlib.crc32(data)}


def sums_of(
    run_dir: Path, manifest: Any, *, doc: str = "run.json", writer: str = "run", again: str = AGAIN
) -> Mapping[str, Any]:
    """The sizes and CRC-32 a run's ``run.json`` records (empty for a run written before it kept them); a
    StoreError when ``run.json`` is not a mapping or its ``files`` not one of ``{"bytes": int, "crc32": int}``.
    ``doc``, ``writer``, ``again``: another directory's manifest (a sweep's ``sweep.json``), as :func:`read_checked`."""
    if not isinstance(manifest, dict):
        raise StoreError(f"{doc} is not a {writer}'s (not a mapping); {again}", file=str(run_dir), expected=AS_WRITTEN)
    sums = manifest.get("files") or {}
    if not isinstance(sums, dict) or not all(
        isinstance(v, dict) and all(isinstance(v.get(k), int) and not isinstance(v.get(k), bool) for k in FIELDS)
        for v in sums.values()
    ):
        raise StoreError(f"{doc}'s files is not a {writer}'s; {again}", file=str(run_dir), expected=AS_WRITTEN)
    return sums


def read_checked(
    run_dir: Path, name: str, sums: Mapping[str, Any], *, writer: str = "run", again: str = AGAIN
) -> bytes:
    """The bytes of ``run_dir/name``, checked against ``sums[name]`` when ``run.json`` recorded it; a StoreError
    naming the file when it cannot be read or differs.  ``writer`` and ``again``: what wrote the directory (a
    ``sweep``, whose ``sweep.json`` records its files' sums the same way) and how to compute it again."""
    with _reading(run_dir, name, again):
        data = (run_dir / name).read_bytes()
    _compare(run_dir, name, sums, file_sum(data), writer, again)
    return data


def check_file(run_dir: Path, name: str, sums: Mapping[str, Any], *, writer: str = "run", again: str = AGAIN) -> None:
    """:func:`read_checked` without keeping the bytes (:func:`path_sum`)."""
    with _reading(run_dir, name, again):
        found = path_sum(run_dir / name)
    _compare(run_dir, name, sums, found, writer, again)


@contextlib.contextmanager
def open_checked(
    run_dir: Path, name: str, sums: Mapping[str, Any], *, writer: str = "run", again: str = AGAIN
) -> Iterator[IO[bytes]]:
    """``run_dir/name`` open for reading, at its start, once checked against ``sums[name]`` as :func:`read_checked`
    checks it but a block at a time: the file read after the check is the file checked (the same open file,
    whatever replaces its name meanwhile), never whole in memory."""
    with _reading(run_dir, name, again), (run_dir / name).open("rb") as fh:
        if name in sums:
            _compare(run_dir, name, sums, _stream_sum(fh), writer, again)
            fh.seek(0)
        yield fh


def path_sum(path: Path) -> dict[str, int]:
    """:func:`file_sum` of the file at ``path``, read :data:`_BLOCK` bytes at a time (a sweep's ``blocks.npz`` of
    a million combinations is 256 MB): never the whole file in memory."""
    with path.open("rb") as fh:
        return _stream_sum(fh)


def _stream_sum(fh: IO[bytes]) -> dict[str, int]:
    """:func:`file_sum` of what is left to read in ``fh``, :data:`_BLOCK` bytes at a time."""
    size, crc = 0, 0
    while block := fh.read(_BLOCK):
        size, crc = size + len(block), zlib.crc32(block, crc)
    return {"bytes": size, "crc32": crc}


@contextlib.contextmanager
def _reading(run_dir: Path, name: str, again: str) -> Iterator[None]:
    """A file of ``run_dir`` that cannot be read, as a StoreError naming it (a PermissionError stays one: the
    user's access, not the run, which engine.cli.options.user_errors says in one line)."""
    try:
        yield
    except PermissionError:
        raise
    except OSError as exc:
        why = exc.strerror or first_line(exc)
        raise StoreError(f"{name} cannot be read ({why}); {again}", file=str(run_dir)) from None


def _compare(
    run_dir: Path, name: str, sums: Mapping[str, Any], found: Mapping[str, int], writer: str, again: str
) -> None:
    """A StoreError when ``sums`` recorded ``name`` and ``found`` (its size and CRC-32) is not that."""
    want = sums.get(name)
    if isinstance(want, Mapping) and dict(found) != {"bytes": want.get("bytes"), "crc32": want.get("crc32")}:
        size = f"{found['bytes']:,} bytes, written as {want.get('bytes', 0):,}"
        raise StoreError(
            f"{name} is not the file this {writer} wrote ({size}; its CRC-32 differs): damaged or replaced; {again}",
            file=str(run_dir),
            expected=AS_WRITTEN,
        )


def check_sums(run_dir: Path, sums: Mapping[str, Any]) -> None:
    """Every file ``run.json`` lists, checked (:func:`check_file`)."""
    for name in sums:
        check_file(run_dir, str(name), sums)


def check_shapes(run_dir: Path, manifest: Any, metrics: Any, config: Any = None) -> None:
    """A StoreError naming the first of ``run.json``, ``metrics.json`` and ``config.yaml`` (when given) that is not
    the shape a run's is (a mapping with the keys readers use)."""
    docs = [("run.json", manifest, _MANIFEST_KEYS), ("metrics.json", metrics, _METRICS_KEYS)]
    for name, doc, keys in [*docs, *([("config.yaml", config, ("initial_cash",))] if config is not None else [])]:
        if not isinstance(doc, dict):
            raise StoreError(f"{name} is not a run's (not a mapping); {AGAIN}", file=str(run_dir), expected=AS_WRITTEN)
        lost = [k for k in keys if k not in doc]
        if lost:
            raise StoreError(
                f"{name} has no {', '.join(map(repr, lost))}; {AGAIN}", file=str(run_dir), expected=AS_WRITTEN
            )
    if not isinstance(metrics["strategy"], dict) or not isinstance(metrics["benchmarks"], list):
        raise StoreError(f"metrics.json is not a run's metrics; {AGAIN}", file=str(run_dir), expected=AS_WRITTEN)
    if config is not None and (
        isinstance(config["initial_cash"], bool) or not isinstance(config["initial_cash"], int | float)
    ):
        raise StoreError(f"config.yaml's initial_cash is not a number; {AGAIN}", file=str(run_dir), expected=AS_WRITTEN)
