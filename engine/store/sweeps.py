"""A sweep's directory in the results store: chunks while it runs, one finished sweep after.

* while it runs, ``RESULTS/<config>/sweeps/.partial-<sweep-id>/`` holds ``meta.json`` and one
  ``chunk-NNNNN.parquet`` + ``chunk-NNNNN.npz`` per finished chunk, each written to a temporary
  name and renamed, so a chunk file is complete or absent;
* when every chunk is done, ``combos.parquet``, ``blocks.npz``, ``config.yaml`` and ``sweep.json``
  are written and the directory replaces ``RESULTS/<config>/sweeps/<sweep-id>/`` in one step
  (:func:`engine.store.staging.replace_dir`).

What the files hold is described in :mod:`engine.jobs.sweep`; this module only reads and writes them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from engine.config.models import StrategyConfig
from engine.data.panel import LoadedPanel
from engine.errors import StoreError
from engine.store.readonly import first_line
from engine.store.run_check import check_file, open_checked, path_sum, sums_of
from engine.store.rundir import dumps_json, write_atomic
from engine.store.spill import spilled_table
from engine.store.staging import clean_stale, replace_dir
from engine.store.table_files import labelled
from engine.sweep_memory import available_bytes

if TYPE_CHECKING:
    from engine.sweep import ChunkResult, SweepContext

__all__ = [
    "SweepOutcome",
    "chunk_files",
    "clear_staging",
    "done_chunks",
    "held",
    "load_sweep",
    "put_in_place",
    "running",
    "save_chunk",
    "savez",
    "stopped_elsewhere",
    "stopped_lines",
    "stopped_meta",
    "write_blocks",
    "write_sweep",
]


#: How a stored sweep that cannot be read is computed again.
_AGAIN = "--force computes it again"
#: The files of a finished sweep whose size and CRC-32 ``sweep.json`` records (``files``), as a run's ``run.json``.
_SUMMED = ("combos.parquet", "blocks.npz", "config.yaml")


@dataclass(frozen=True)
class SweepOutcome:
    """A finished (or stopped) sweep."""

    cfg: StrategyConfig
    keys: tuple[str, ...]
    table: pd.DataFrame  # one row per combination, grid order: combo, keys, metrics
    sweep_dir: Path
    manifest: dict[str, Any]
    loaded: LoadedPanel | None
    chunks_done: int
    chunks_total: int
    reused: bool = False
    stopped: bool = False
    ctx: SweepContext | None = None  # what the chunks shared, when this process ran them
    chunks_resumed: int = 0  # chunks a stopped sweep had finished, read back instead of computed (--resume)
    data_notes: tuple[str, ...] = ()  # what the data's provider noted while this command loaded it (a line cut short)

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest["synthetic"])

    @property
    def margin(self) -> bool:
        """Whether its accounts are margin accounts (``execution.max_gross`` set or swept, docs/shorts.md), whose
        orders the scheduler fills whatever ``--engine`` says: vectorbt's ``from_orders`` cannot debit financing."""
        return self.cfg.execution.max_gross is not None or "execution.max_gross" in self.keys

    @property
    def engine_overruled(self) -> bool:
        """Whether ``--engine`` asked vectorbt to re-simulate the orders (rust, numba) and the scheduler's fills
        stand instead, as for :attr:`margin` accounts."""
        return self.margin and self.manifest.get("simulator") in ("rust", "numba")


def savez(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez`` to exactly ``path``."""
    with open(path, "wb") as fh:  # a file object: np.savez would add ".npz" to a name without it
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def chunk_files(staging: Path, number: int) -> tuple[Path, Path]:
    """The table and block-sum files of chunk ``number``."""
    return staging / f"chunk-{number:05d}.parquet", staging / f"chunk-{number:05d}.npz"


def save_chunk(staging: Path, number: int, result: ChunkResult, combos: pd.DataFrame) -> pd.DataFrame:
    """Write a finished chunk: its combinations' values and metrics, and its block sums; the rows written."""
    table_path, blocks_path = chunk_files(staging, number)
    frame = pd.concat([combos.iloc[result.index].reset_index(drop=True), result.table], axis=1)
    frame.insert(0, "combo", result.index)
    try:
        write_atomic(
            blocks_path,
            lambda p: savez(p, index=result.index, sum=result.block_sum, sq=result.block_sq, n=result.block_n),
        )
        write_atomic(table_path, lambda p: frame.to_parquet(p, index=False))
    except OSError as exc:  # a full disk, say: one line; the chunks written so far stay, for --resume
        why = exc.strerror or exc
        raise StoreError(f"cannot write chunk {number} of the sweep: {why}", file=str(staging)) from None
    return frame


def done_chunks(staging: Path, total: int) -> set[int]:
    """The chunks of ``staging`` whose two files are both there."""
    return {i for i in range(total) if all(p.is_file() for p in chunk_files(staging, i))}


#: What a stopped sweep's ``meta.json`` records of its identity (:func:`engine.sweep.sweep_id`), and its name.
_IDENTITY = (
    (("keys", "values"), "the grid"),
    (("data_fingerprint", "loaded_key"), "the data"),
    (("code_hash",), "Seesaw's code"),
    (("simulator",), "the engine"),
)


def stopped_elsewhere(staging: Path, meta: Mapping[str, Any]) -> tuple[str, ...]:
    """The other stopped sweeps next to ``staging`` (``.partial-*`` of the same config, none that a process is
    computing now), which a sweep with ``meta`` cannot continue, each as ``<dir> (<n> of <m> chunks; <what>
    changed)``: what its ``meta.json`` differs in, or ``the config`` when only the rest of the config can (the
    id hashes it)."""
    found = []
    for other in sorted(staging.parent.glob(".partial-*")):
        if other == staging or not other.is_dir() or running(other):
            continue
        try:
            theirs = json.loads((other / "meta.json").read_text(encoding="utf-8"))
            done = f"{len(done_chunks(other, int(theirs['chunks'])))} of {int(theirs['chunks'])} chunks"
        except (OSError, ValueError, TypeError, KeyError):
            found.append(f"{other} (no readable meta.json)")
            continue
        changed = [name for keys, name in _IDENTITY if any(theirs.get(k) != meta.get(k) for k in keys)]
        found.append(f"{other} ({done}; {' and '.join(changed) or 'the config'} changed)")
    return tuple(found)


def stopped_lines(name: str, nothing_to_resume: bool, others: Sequence[str]) -> list[str]:
    """That ``--resume`` found nothing to continue, and each stopped sweep of config ``name`` that this one
    cannot continue (another grid, data, code or engine), whose directory stays until removed."""
    lines = []
    if nothing_to_resume:
        lines.append(
            "nothing to resume: no stopped sweep of this config, data, code and engine; this sweep starts afresh"
        )
    for other in others:
        lines.append(
            f"a stopped sweep of {name} that this one cannot continue: {other}; remove the directory to free its space"
        )
    return lines


#: The file of a sweep's staging directory naming the process computing its chunks (for messages only: the
#: lock on the directory is what says whether one does).
_WRITER = "writer.pid"


@contextlib.contextmanager
def held(staging: Path) -> Iterator[None]:
    """This process's hold on the sweep in ``staging`` (created if missing) while it computes it: an ``flock``
    on the directory, which the system releases however the process ends, so a second command can tell a
    running sweep from a stopped one.  A StoreError naming the holder when another process holds it."""
    try:
        staging.mkdir(parents=True, exist_ok=True)
        fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise StoreError(f"cannot write the sweep: {exc.strerror or exc}", file=str(staging)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"the same sweep is running now{_in_process(staging)}: wait for it to finish, then run the command "
                "again to show it",
                file=str(staging),
                expected="one command computing a sweep at a time",
            ) from None
        try:
            write_atomic(staging / _WRITER, lambda p: p.write_text(str(os.getpid()), encoding="utf-8"))
        except OSError as exc:  # a read-only or full disk
            raise StoreError(f"cannot write the sweep: {exc.strerror or exc}", file=str(staging)) from None
        yield
    finally:
        os.close(fd)


def clear_staging(staging: Path) -> None:
    """Everything in ``staging`` removed (``sweep --force``) but the directory and its holder's file."""
    for child in staging.iterdir():
        if child.name != _WRITER:
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def running(staging: Path) -> bool:
    """Whether a process holds the sweep in ``staging`` (:func:`held`) now."""
    try:
        fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _in_process(staging: Path) -> str:
    """`` in process <pid>`` from the holder's ``writer.pid``, when it says."""
    try:
        return f" in process {int((staging / _WRITER).read_text(encoding='utf-8'))}"
    except (OSError, ValueError):
        return ""


def write_blocks(staging: Path, blocks: dict[str, np.ndarray]) -> None:
    """The finished sweep's block sums (``blocks.npz``), written before its overfitting statistics are
    computed from them (which may centre them in place)."""
    try:
        write_atomic(staging / "blocks.npz", lambda p: savez(p, **blocks))
    except OSError as exc:
        raise StoreError(f"cannot write the sweep: {exc.strerror or exc}", file=str(staging)) from None


def load_sweep(sweep_dir: Path) -> SweepOutcome:
    """A finished sweep read back from its directory, each file first checked against the size and CRC-32
    ``sweep.json`` records (a sweep written before it kept them: ``blocks.npz`` by its zip directory)."""
    try:
        manifest = json.loads((sweep_dir / "sweep.json").read_text(encoding="utf-8"))
        sums = sums_of(sweep_dir, manifest, doc="sweep.json", writer="sweep", again=_AGAIN)
        for name in [name for name in sums if name != "combos.parquet"]:  # checked, not kept
            check_file(sweep_dir, name, sums, writer="sweep", again=_AGAIN)
        with open_checked(sweep_dir, "combos.parquet", sums, writer="sweep", again=_AGAIN) as fh:
            table = spilled_table(fh, sweep_dir, free=available_bytes())  # a column at a time (engine/store/spill.py)
        cfg = StrategyConfig.model_validate(yaml.safe_load((sweep_dir / "config.yaml").read_text(encoding="utf-8")))
        if not {"keys", "chunks", "synthetic"} <= set(manifest):
            raise ValueError("sweep.json is not a sweep's")
        if not sums and not zipfile.is_zipfile(sweep_dir / "blocks.npz"):  # its directory is at the end: whole or not
            raise ValueError("blocks.npz is missing or cut short")
    except PermissionError:
        raise  # the user's access, not the sweep: one line saying so (engine.cli.options.user_errors)
    except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:
        why = first_line(exc)
        raise StoreError(f"cannot read sweep: {why}; {_AGAIN}", file=str(sweep_dir)) from None
    keys = tuple(manifest["keys"])
    manifest = {key: value for key, value in manifest.items() if key != "files"}  # the store's, not the sweep's
    return SweepOutcome(cfg, keys, table, sweep_dir, manifest, None, manifest["chunks"], manifest["chunks"])


def write_sweep(
    staging: Path,
    final: Path,
    cfg: StrategyConfig,
    manifest: dict[str, Any],
    table: pd.DataFrame,
    *,
    chunks: int,
    header: str,
) -> None:
    """Write the finished sweep's files into ``staging`` (its ``blocks.npz`` already there, :func:`write_blocks`),
    drop its chunks, and put it in place of ``final``.

    With ``--force`` the old sweep stays readable until the new one is in place.
    """
    try:
        arrow = labelled(pa.Table.from_pandas(table, preserve_index=False), bool(manifest["synthetic"]))
        write_atomic(staging / "combos.parquet", lambda p: pq.write_table(arrow, p))
        resolved = cfg.model_dump(mode="json")
        text = f"# {header}\n" + yaml.safe_dump(resolved, sort_keys=False)
        write_atomic(staging / "config.yaml", lambda p: p.write_text(text, encoding="utf-8"))
        sums = {name: path_sum(staging / name) for name in _SUMMED}  # as written, read back
        document = dumps_json({**manifest, "files": sums})
        write_atomic(staging / "sweep.json", lambda p: p.write_text(document, encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot write the sweep: {exc.strerror or exc}", file=str(staging)) from None
    put_in_place(staging, final, chunks=chunks)


def put_in_place(staging: Path, final: Path, *, chunks: int) -> None:
    """The finished sweep in ``staging`` (its ``sweep.json`` written) without its chunks, in place of ``final``:
    the end of :func:`write_sweep`, and of a sweep stopped after its ``sweep.json`` was written."""
    try:
        for number in range(chunks):
            for p in chunk_files(staging, number):
                p.unlink(missing_ok=True)
        (staging / _WRITER).unlink(missing_ok=True)
        clean_stale(staging)  # temporary files of an earlier, killed attempt at a chunk
        replace_dir(staging, final)
    except OSError as exc:
        raise StoreError(f"cannot write the sweep: {exc.strerror or exc}", file=str(staging)) from None


def stopped_meta(staging: Path, force: bool) -> dict[str, Any]:
    """The stopped sweep's meta.json in ``staging``; one damaged is a StoreError naming --force (with ``force``,
    which starts the sweep over, it is not needed: ``{"chunks": 0}``)."""
    try:
        meta = json.loads((staging / "meta.json").read_text(encoding="utf-8"))
        int(meta["chunks"])
        return dict(meta)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if force:
            return {"chunks": 0}
        why = first_line(exc)
        raise StoreError(
            f"the stopped sweep's meta.json cannot be read ({why}); --force starts the sweep over", file=str(staging)
        ) from None
