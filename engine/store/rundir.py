"""Write one run to ``results/<config-name>/<run-id>/``, atomically.

Files (all human-readable):

* ``config.yaml``: the fully resolved config (defaults and command-line
  overrides applied, each asset's currency, price and instrument as the run used
  them: :func:`engine.jobs.run.resolved_config`), headed by the Seesaw version and
  data fingerprint.
* ``metrics.json``: the strategy's and benchmarks' metrics and the run's
  notes.  No timestamps and no paths, so the same config and data give a
  byte-identical file.
* ``equity.csv``: ``date,value,cash`` and one value column per asset.
* ``weights.csv``: per asset ``<asset>_target`` (targets in force) and
  ``<asset>_actual`` (end-of-day weight), and ``rule`` (which rule matched on
  that date's decision, numbered from :data:`FIRST_RULE`: 1 is the first rule of ``rules:``).
* ``trades.csv``: ``date,asset,side,quantity,price,value,fees``.
* ``benchmarks.csv``: ``date`` and the value of each benchmark.
* ``equity.parquet``, ``weights.parquet``, ``trades.parquet``, ``benchmarks.parquet``:
  the same tables for the results catalog (:mod:`engine.store.catalog`), and
  ``prices.parquet``: what one unit of each asset is worth on every date of the
  run, in the base currency (for betas and regimes in comparisons), and
  ``quotes.parquet``: each asset's quoted price in its own currency on the dates
  it traded (empty elsewhere), which lets a comparison check that runs sharing a
  symbol used the same data.
* ``signals.parquet``: ``date`` and the value of each of the config's signals on
  every date of the run (only ``date`` for a config without signals), for the
  report's signal charts.
* ``fx.parquet``: ``date`` and, per asset, the base-currency value of one unit of
  its currency on every date of the run (1.0 for an asset in the base currency),
  for the currency's part of the tear sheet's contribution (absent in runs written
  before it existed: :attr:`StoredRun.fx` is None).

A run on synthetic data says so in every file: ``run.json`` and ``metrics.json`` (``synthetic``), the
header of ``config.yaml``, and each table (:mod:`engine.store.table_files`).

Every Parquet file stores ``date`` as a typed date (Arrow ``date32``, DuckDB ``DATE``); the CSV
files hold the same dates as ``YYYY-MM-DD`` text.
* ``run.json``: the manifest the catalog indexes (run id, config name and
  hash, data fingerprint, Seesaw version, period, creation time, status); the
  only non-deterministic file.

Everything is written into a hidden temporary directory next to the
destination and renamed into place, so a run directory is either complete
or absent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import math
import os
import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from engine.errors import StoreError
from engine.store.parquet_check import whole_parquet
from engine.store.readonly import first_line
from engine.store.run_check import AGAIN, AS_WRITTEN, check_shapes, check_sums, file_sum, read_checked, sums_of
from engine.store.staging import fsync_all, fsync_dir
from engine.store.table_files import csv_file, parquet_bytes, parsed_text

__all__ = [
    "FIRST_RULE",
    "RunFiles",
    "StoredRun",
    "code_fingerprint",
    "config_hash",
    "dumps_json",
    "load_run",
    "new_run_id",
    "read_back",
    "reusable_metrics",
    "write_atomic",
    "write_run",
]


#: The number of the first rule of a config's ``rules:`` in every output a user reads (``weights.csv``,
#: ``weights.parquet``, the catalog's ``weights`` view, ``Run.weights``, the report's legends).  Inside
#: the engine rules are indexed from 0 (:func:`engine.rules.decide`); the run job adds this when it
#: writes the ``rule`` column.  ``run.json``'s ``rule_base`` records it (absent: a run written when the
#: files counted from 0, which :func:`load_run` renumbers).
FIRST_RULE = 1


@dataclass(frozen=True)
class RunFiles:
    """What goes into one run directory (already computed)."""

    config_name: str
    resolved_config: dict[str, Any]
    header: Sequence[str]
    metrics: dict[str, Any]
    equity: pd.DataFrame
    weights: pd.DataFrame
    trades: pd.DataFrame
    benchmarks: pd.DataFrame
    prices: pd.DataFrame
    manifest: dict[str, Any]
    quotes: pd.DataFrame | None = None
    signals: pd.DataFrame | None = None
    fx: pd.DataFrame | None = None


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps_json(obj: Any) -> str:
    """Deterministic JSON (insertion order, NaN as null, trailing newline)."""
    return json.dumps(_clean(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def config_hash(resolved_config: dict[str, Any]) -> str:
    """sha256 of the resolved config as canonical JSON (first 16 hex digits)."""
    text = json.dumps(_clean(resolved_config), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 of Seesaw's own source (engine/ and strategies/) and its signal plugins', first 16 hex digits.

    Part of the reuse key, so a stored run is never reused by a different version of the code.  With the
    source of every installed signal package (:func:`strategies.plugins.plugin_sources`).
    """
    from strategies.plugins import plugin_sources

    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for package in ("engine", "strategies"):
        for path in sorted((root / package).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    for label, name, path in plugin_sources():  # the signal packages installed: their code decides signals too
        h.update(f"{label}|{name}".encode())
        with contextlib.suppress(OSError):
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def new_run_id(now: dt.datetime, cfg_hash: str, data_fingerprint: str) -> str:
    """``20261125T101500Z-1a2b3c4d``: UTC time of the run, then a hash of config and data."""
    digest = hashlib.sha256(f"{cfg_hash}|{data_fingerprint}".encode()).hexdigest()[:8]
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{digest}"


def _write(path: Path, data: str | bytes, sums: dict[str, Any] | None = None) -> Path:
    """``data`` (text: UTF-8) in ``path``, its size and CRC-32 in ``sums`` (not yet fsynced: :func:`write_run`
    syncs a run's files together)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with open(path, "wb") as fh:
        fh.write(raw)
    if sums is not None:
        sums[path.name] = file_sum(raw)
    return path


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Create ``path`` whole or not at all: ``write`` fills a hidden sibling, which is fsynced and renamed.

    On any failure (an interrupt included) the sibling is removed and ``path`` is left as it was.
    An existing ``path`` that is not a regular file (a device, a pipe, a directory) is never replaced.
    """
    if os.path.exists(path) and not os.path.isfile(path):
        raise StoreError("not a regular file: it is never replaced", file=str(path), expected="a file path")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_parquet(path: Path, frame: pd.DataFrame, sums: dict[str, Any], synthetic: bool) -> Path:
    """``frame`` in ``path`` as Parquet (as :func:`_write`; :func:`engine.store.table_files.parquet_bytes`)."""
    return _write(path, parquet_bytes(frame, synthetic), sums)


def write_run(results_dir: Path, run_id: str, files: RunFiles, *, created_at: dt.datetime) -> Path:
    """Write ``files`` to ``results_dir/<config>/<run_id>`` (a new suffix if that exists); return its resolved
    path."""
    parent = results_dir / files.config_name
    tmp = parent / f".tmp-{run_id}-{os.getpid()}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        header = "".join(f"# {line}\n" for line in files.header)
        config_text = header + yaml.safe_dump(files.resolved_config, sort_keys=False, allow_unicode=True)
        sums: dict[str, Any] = {}  # each file's size and CRC-32, for run.json (engine/store/run_check.py)
        synthetic = bool(files.manifest["synthetic"])
        written = [
            tmp,
            _write(tmp / "config.yaml", config_text, sums),
            _write(tmp / "metrics.json", dumps_json(files.metrics), sums),
            *(
                _write(tmp / f"{name}.csv", csv_file(getattr(files, name), synthetic), sums)
                for name in ("equity", "weights", "trades", "benchmarks")
            ),
        ]
        for name in ("equity", "weights", "trades", "benchmarks", "prices", "quotes", "signals", "fx"):
            if getattr(files, name) is not None:
                written.append(_write_parquet(tmp / f"{name}.parquet", getattr(files, name), sums, synthetic))
        final, suffix = parent / run_id, 1
        while True:
            manifest = {
                **files.manifest,
                "run_id": final.name,
                "created_at": created_at.isoformat(),
                "status": "complete",
                "files": sums,
            }
            # every file and the directory durable before the rename makes the run visible
            fsync_all([*written, _write(tmp / "run.json", dumps_json(manifest))])
            written = []
            try:
                os.rename(tmp, final)  # atomic; fails if final exists and is not empty
            except OSError:
                if not final.exists():
                    raise
                suffix += 1
                final = parent / f"{run_id}-{suffix}"
                continue
            fsync_dir(parent)  # after the rename: its failure is not a name taken
            break
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)  # a disk full, say: what was staged goes, not left to fill it
        if isinstance(exc, OSError):
            raise StoreError(f"cannot write run under {parent}: {exc.strerror or exc}", file=str(parent)) from None
        raise
    return final.resolve()  # one path for a run, as the catalog gives a reused one


# -- reading a run directory back ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRun:
    """One run directory read back."""

    run_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    initial_cash: float
    equity: pd.DataFrame  # indexed by date
    benchmarks: pd.DataFrame
    trades: pd.DataFrame
    weights: pd.DataFrame
    prices: pd.DataFrame
    quotes: pd.DataFrame | None = None  # absent in runs written before quotes.parquet existed
    signals: pd.DataFrame | None = None  # absent in runs written before signals.parquet existed
    fx: pd.DataFrame | None = None  # absent in runs written before fx.parquet existed
    config: dict[str, Any] | None = None  # the resolved config (config.yaml)
    config_text: str = ""  # config.yaml as written, header comments included

    @property
    def traded_assets(self) -> list[str]:
        """The assets the run buys and sells, in its prices' order: not those only its signals read, which have
        no weight and keep their own currency's prices (an asset a run stored before the flag existed: traded)."""
        info = self.metrics.get("data", {}).get("assets") or {}
        return [a for a in self.prices.columns if info.get(a, {}).get("traded", True) is not False]

    @property
    def name(self) -> str:
        return str(self.manifest["config_name"])

    @property
    def decides(self) -> bool:
        """Whether the run's targets follow the data: its config has a rule with a condition, a signal or sizing (a
        fixed allocation, such as a buy-and-hold, decides nothing; a run stored without its config counts as one)."""
        cfg = self.config or {}
        conditions = any(rule.get("when") is not None for rule in cfg.get("rules") or ())
        return bool(cfg.get("signals") or cfg.get("sizing") or conditions)

    @property
    def warnings(self) -> list[str]:
        """The run's warnings (a look-ahead config, say; none in runs stored before they were recorded)."""
        return list(self.metrics.get("warnings") or ())


def _read_table(source: pa.BufferReader, name: str) -> pd.DataFrame:
    """A run's Parquet table (its bytes) as :func:`read_back` frames it.  Its typed dates (date32) become
    datetimes in Arrow, before pandas sees them: pandas would make them ``datetime.date`` objects to be
    converted one by one (reading a run's tables took twice as long)."""
    table = pq.read_table(source)
    i = table.schema.get_field_index("date")
    if i >= 0 and pa.types.is_date32(table.schema.field(i).type):
        table = table.set_column(i, "date", table.column(i).cast(pa.timestamp(_iso_unit())))
    return read_back(table.to_pandas(), name)


def read_back(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Run table ``name`` as :func:`load_run` gives it: ``date`` (a typed date, or text in runs written
    before, or a table about to be written) as datetimes: the index, but for ``trades``, which keeps it a
    column (several fills share a date)."""
    if "date" in frame:
        dates = _datetimes(frame["date"])
        if name == "trades":
            frame = frame.assign(date=dates)
        else:
            frame = frame.drop(columns="date").set_index(pd.DatetimeIndex(dates, name="date"))
    return frame


#: libyaml's safe loader when PyYAML was built with it (a resolved config loads ten times faster), else PyYAML's
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _datetimes(column: pd.Series) -> pd.Series:
    """``column`` as datetimes with the resolution pandas gives the CSV files' ISO dates: datetimes kept,
    typed dates (a Parquet date32 column) converted directly (eight times faster), text parsed."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind == "M":
        return column.dt.as_unit(_iso_unit())
    if len(column) and column.dtype == object and isinstance(column.iloc[0], dt.date):
        return pd.to_datetime(column).dt.as_unit(_iso_unit())
    if isinstance(column.dtype, pd.StringDtype):
        parsed = parsed_text(pa.array(column, from_pandas=True), pa.timestamp(_iso_unit()))
        if parsed is not None:
            return pd.Series(parsed.to_numpy(zero_copy_only=False), index=column.index, name=column.name)
    return pd.to_datetime(column.astype(str), format="ISO8601")


#: The Parquet tables every stored run has.
_TABLES = ("equity", "benchmarks", "trades", "weights", "prices")


@functools.cache
def _iso_unit() -> str:
    """The resolution of datetimes pandas parses from ISO dates (microseconds in pandas 3)."""
    return str(pd.to_datetime(pd.Series(["2000-01-03"]), format="ISO8601").dt.unit)


def _renumbered(weights: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """``weights`` with its ``rule`` column numbered from :data:`FIRST_RULE` (older runs counted from 0)."""
    base = int(manifest.get("rule_base", 0))
    if "rule" not in weights or base == FIRST_RULE:
        return weights
    return weights.assign(rule=weights["rule"] - base + FIRST_RULE)


#: The files every stored run has, which :func:`load_run` reads.
_CSV_FILES = ("equity.csv", "weights.csv", "trades.csv", "benchmarks.csv")
_PARQUET_FILES = tuple(f"{n}.parquet" for n in _TABLES)
_REQUIRED = ("run.json", "metrics.json", "config.yaml", *_CSV_FILES, *_PARQUET_FILES)


def reusable_metrics(run_dir: Path) -> dict[str, Any]:
    """The metrics of the stored run ``run_dir`` that a command is about to reuse, once every file a stored
    run has is there, whole (its size and CRC-32 as ``run.json`` records them, :mod:`engine.store.run_check`) and
    its documents read: a StoreError in one line naming the file otherwise (a damaged run is never reused)."""
    missing = [name for name in _REQUIRED if not (run_dir / name).is_file()]
    if missing:
        raise StoreError(f"the stored run has no {', '.join(missing)}; {AGAIN}", file=str(run_dir), expected=AS_WRITTEN)
    manifest, metrics, *_ = _documents(run_dir)
    sums = sums_of(run_dir, manifest)
    check_sums(run_dir, sums)  # a file checked here is the bytes as written: its Parquet is whole
    cut = [name for name in _PARQUET_FILES if name not in sums and not whole_parquet(run_dir / name)]
    if cut:
        raise StoreError(f"{', '.join(cut)} cut short or damaged; {AGAIN}", file=str(run_dir), expected=AS_WRITTEN)
    return metrics


def _documents(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]:
    """``run.json``, ``metrics.json`` and ``config.yaml`` (with its text) of a run, each checked against its sum and
    its shape (:mod:`engine.store.run_check`); a StoreError naming the file otherwise."""
    name = "run.json"
    try:
        manifest = json.loads((run_dir / name).read_bytes())
        sums = sums_of(run_dir, manifest)
        name = "metrics.json"
        metrics = json.loads(read_checked(run_dir, name, sums))
        name = "config.yaml"
        config_text = read_checked(run_dir, name, sums).decode("utf-8")
        config = yaml.load(config_text, Loader=_SAFE_LOADER)
    except PermissionError:
        raise  # the user's access, not the run: one line saying so (engine.cli.options.user_errors)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else first_line(exc)
        raise StoreError(f"{name} cannot be read ({why}); {AGAIN}", file=str(run_dir)) from None
    check_shapes(run_dir, manifest, metrics, config)
    return manifest, metrics, config, config_text


def load_run(run_dir: Path) -> StoredRun:
    """Read a run directory (manifest, metrics, resolved config and Parquet tables), each file checked
    (:func:`_documents`; the tables against their sums and the metrics), and its CSV files against theirs: a run
    whose CSV files changed is damaged, though its tables are read from the Parquet files."""
    manifest, metrics, config, config_text = _documents(run_dir)
    sums = sums_of(run_dir, manifest)
    check_sums(run_dir, {name: sums[name] for name in _CSV_FILES if name in sums})  # not read, but the run's
    tables = {}
    optional = [
        o for o in ("quotes", "signals", "fx") if f"{o}.parquet" in sums or (run_dir / f"{o}.parquet").is_file()
    ]
    for n in (*_TABLES, *optional):  # one the run wrote and lost is refused by name, not taken for an older run's
        data = read_checked(run_dir, f"{n}.parquet", sums)
        try:
            tables[n] = _read_table(pa.BufferReader(data), n)
        except (OSError, ValueError) as exc:  # pyarrow's errors are both
            raise StoreError(f"{n}.parquet cannot be read ({first_line(exc)}); {AGAIN}", file=str(run_dir)) from None
    tables["weights"] = _renumbered(tables["weights"], manifest)
    _check_curves(run_dir, tables["equity"], tables["benchmarks"], None if sums else metrics)
    return StoredRun(
        run_dir, manifest, metrics, float(config["initial_cash"]), **tables, config=config, config_text=config_text
    )


def _check_curves(
    run_dir: Path, equity: pd.DataFrame, benchmarks: pd.DataFrame, metrics: dict[str, Any] | None
) -> None:
    """Refuse a run whose stored curves no table could measure, or not its own (a file changed after it was
    written): the strategy's value not a number on some date, or a benchmark's, a long-only allocation, not a
    positive one; with ``metrics`` (a run written before run.json recorded its files' sums), a curve whose last
    value is not the final value ``metrics.json`` holds (to 1e-9)."""
    if "value" not in equity:
        raise StoreError(f"equity.parquet has no column 'value'; {AGAIN}", file=str(run_dir), expected=AS_WRITTEN)
    finals: list[tuple[str, Any, pd.Series, Any]] = []
    if metrics is not None:
        finals.append(("equity", "value", equity["value"], metrics["strategy"].get("final_value")))
    finals += [
        ("benchmarks", b.get("name"), benchmarks[b.get("name")], b.get("final_value"))
        for b in (metrics or {}).get("benchmarks", [])
        if isinstance(b, dict) and b.get("name") in benchmarks
    ]
    for table, name, values, final in finals:
        last = float(values.iloc[-1]) if len(values) else math.nan
        if isinstance(final, int | float) and math.isfinite(final) and not math.isclose(last, final, rel_tol=1e-9):
            raise StoreError(
                f"{table}.parquet: {name!r} ends at {last:,.2f}, but metrics.json's final value is {final:,.2f}: "
                f"the file is not this run's; {AGAIN}",
                file=str(run_dir),
                expected=AS_WRITTEN,
            )
    for table, name, values, positive in [("equity", "value", equity["value"], False)] + [
        ("benchmarks", str(name), benchmarks[name], True) for name in benchmarks.columns
    ]:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(x) | (x <= 0) if positive else ~np.isfinite(x)
        if bad.any():
            first = values.index[int(np.argmax(bad))]
            when = f" on {first:%Y-%m-%d}" if isinstance(first, pd.Timestamp) else ""
            more = f" (and {int(bad.sum()) - 1:,} more dates)" if bad.sum() > 1 else ""
            what = "a positive number" if positive else "a number"
            raise StoreError(
                f"{table}.parquet: {name!r} is not {what}{when}{more}; {AGAIN}",
                file=str(run_dir),
                expected=AS_WRITTEN,
            )
