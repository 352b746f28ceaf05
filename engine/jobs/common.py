"""What every command shares: the command-line options, the configs they name, data providers, the catalog.

Jobs may touch files and the environment (they receive the environment and the clock as
arguments); they never print: :mod:`engine.cli` renders what they return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from engine.config import StrategyConfig
from engine.config.messages import first_error, pydantic_message
from engine.config.models import DataSpec
from engine.config.values import date_error, iso_date
from engine.data.base import Provider
from engine.data.inputs import config_markets
from engine.errors import ConfigError, UserError

if TYPE_CHECKING:
    from engine.data.panel import LoadedPanel  # types only: the panel imports pandas, `validate` does not
    from engine.simulate import Engine  # types only: the simulator and the catalog import numba
    from engine.store.catalog import Catalog

__all__ = [
    "SYNTHETIC_FIRST",
    "RunOptions",
    "catalog_for",
    "configs_with_data",
    "data_provider",
    "expand_config_paths",
    "load_with_notes",
    "parse_date",
    "parse_start",
    "resolve",
    "resolve_in_file",
    "resolved_configs",
]

#: The synthetic generator starts early enough that configs starting in 2000 have warm-up history.
SYNTHETIC_FIRST = dt.date(1998, 1, 2)


@dataclass(frozen=True)
class RunOptions:
    """Command-line overrides and where to write."""

    source: str | None = None
    data_dir: Path | None = None
    start: dt.date | Literal["auto"] | None = None
    end: dt.date | None = None
    results_dir: Path = Path("results")
    engine: Engine = "rust"
    cache_dir: Path | None = None
    offline: bool = False
    write: bool = True
    store: Path | None = None
    force: bool = False
    workers: int | None = None  # processes loading, running and writing configs (None: the cores, at most 8)


def expand_config_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; a directory stands for the ``*.yaml`` files in it (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.yaml"))
            if not found:
                raise ConfigError("directory holds no *.yaml config", file=str(p), expected="one or more YAML files")
            out += found
        else:
            out.append(p)
    if not out:
        raise ConfigError("no config files given", expected="one or more YAML files")
    return out


def parse_date(value: str | None, option: str) -> dt.date | None:
    """Text ``YYYY-MM-DD`` (``--start``, ``--end``, the API's ``start=``) as a date; a user error naming ``option``."""
    if value is None:
        return None
    try:
        return iso_date(value)
    except ValueError:
        raise UserError(f"{option}: {date_error(value, 'a date as YYYY-MM-DD')}") from None


def parse_start(value: str | None, option: str) -> dt.date | Literal["auto"] | None:
    """:func:`parse_date`, or ``auto`` as ``data.start`` takes it (``--start auto``, the API's ``start="auto"``)."""
    if value is None or value.strip() == "auto":
        return None if value is None else "auto"
    try:
        return iso_date(value)
    except ValueError:
        raise UserError(f"{option}: {date_error(value, 'a date as YYYY-MM-DD, or auto')}") from None


def resolve_in_file(file: Path, cfg: StrategyConfig, opts: RunOptions, env: Mapping[str, str]) -> StrategyConfig:
    """:func:`resolve` for the config read from ``file``: a mistake names that file."""
    try:
        return resolve(cfg, opts, env)
    except UserError as err:
        raise err.located(file=str(file)) from None


def resolved_configs(
    paths: Sequence[str | Path], opts: RunOptions, env: Mapping[str, str]
) -> list[tuple[Path, StrategyConfig]]:
    """Every config the paths name, each validated and resolved against the options, with its file."""
    from engine.config import load_configs

    files = expand_config_paths(paths)
    return [(file, resolve_in_file(file, cfg, opts, env)) for file, cfg in zip(files, load_configs(files), strict=True)]


def configs_with_data(
    paths: Sequence[str | Path], opts: RunOptions, env: Mapping[str, str]
) -> Iterator[tuple[Path, StrategyConfig, Provider, LoadedPanel, list[str]]]:
    """Every config validated and resolved first, then each with its data, loaded as ``run`` loads it, and the
    notes of that load: the panel's and its provider's (what the data's checks repaired or left out), each once."""
    providers: dict = {}
    for file, cfg in resolved_configs(paths, opts, env):
        provider = data_provider(cfg, opts, env, providers)
        loaded, said = load_with_notes(provider, cfg, file)
        yield file, cfg, provider, loaded, list(dict.fromkeys([*loaded.panel.notes, *said]))


def load_with_notes(provider: Provider, cfg: StrategyConfig, file: str | Path) -> tuple[LoadedPanel, list[str]]:
    """``cfg``'s data as a run loads it (its signals' warm-up included), and the notes its provider added while
    loading it, each once (a file read twice, for its history and its window, notes its repairs on each read)."""
    from engine.data.panel import load_for_config
    from engine.pipeline import required_warmup

    before = len(getattr(provider, "notes", []))
    loaded = load_for_config(provider, cfg, warmup_rows=required_warmup(cfg), file=file)
    return loaded, list(dict.fromkeys(getattr(provider, "notes", [])[before:]))


def resolve(cfg: StrategyConfig, opts: RunOptions, env: Mapping[str, str]) -> StrategyConfig:
    """``cfg`` with the command line's data overrides applied and its data directory settled (exit 2 if none)."""
    data = cfg.data
    update: dict[str, Any] = {}
    if opts.source is not None:
        update["source"] = opts.source
    if opts.start is not None:
        update["start"] = opts.start
    if opts.end is not None:
        update["end"] = opts.end
    source = update.get("source", data.source)
    if source == "csv":
        data_dir = opts.data_dir or data.data_dir or env.get("SEESAW_DATA_DIR")
        if not data_dir:
            raise ConfigError(
                "source csv reads Yahoo-style CSV files from a directory and none is given: "
                "pass --data-dir DIR, set data.data_dir in the config, or set SEESAW_DATA_DIR",
                path="data.data_dir",
                expected="--data-dir DIR, data.data_dir in the config, or the SEESAW_DATA_DIR environment variable",
            )
        update["data_dir"] = str(Path(data_dir).resolve())  # stored so: csv/ in two directories is two directories
    elif opts.data_dir is not None:  # never silently ignored: the config's source would be read instead
        raise ConfigError(
            f"a data directory (--data-dir) goes with source csv, and this config reads {source} data",
            path="data.source",
            expected="source csv (--source csv) with the data directory",
            got=source,
        )
    elif opts.source is not None:
        update["data_dir"] = None
    elif data.data_dir is not None:  # read only with --source csv, which this command was not given
        raise ConfigError(
            f"a data directory goes with source csv, and this config reads {source} data: it would change nothing",
            path="data.data_dir",
            expected="source: csv with it, --source csv to read it, or no data_dir",
            got=data.data_dir,
        )
    try:
        resolved = DataSpec.model_validate({**data.model_dump(), **update})
    except ValidationError as exc:
        err = first_error(exc)
        field = str(err["loc"][0]) if err["loc"] else ""
        options = [f"--{k}" for k in ("start", "end") if k in update]
        if field:
            where = f"--{field.replace('_', '-')}" if field in update else f"data.{field}"
        else:  # a check across fields (start before end)
            where = "/".join(options) or "data"
        raise ConfigError(pydantic_message(err, []), path=where, got=err.get("input")) from None
    return cfg.model_copy(update={"data": resolved})


def data_provider(cfg: StrategyConfig, opts: RunOptions, env: Mapping[str, str], cache: dict) -> Provider:
    """The provider of a resolved config's ``data.source``, shared through ``cache`` by the configs of one command."""
    data = cfg.data
    if data.source == "synthetic":
        markets = config_markets(cfg)
        key: tuple = ("synthetic", tuple(sorted(markets.items())))
        if key not in cache:
            from engine.data.synthetic import SyntheticProvider

            cache[key] = SyntheticProvider(markets, first=SYNTHETIC_FIRST)
        return cache[key]
    if data.source == "csv":
        key = ("csv", data.data_dir)
        if key not in cache:
            from engine.data.csv import CsvProvider
            from engine.data.parsed_cache import ParsedCache

            assert data.data_dir is not None  # resolve() gives every csv config a directory
            parsed = ParsedCache(_cache_root(opts, env))
            cache[key] = CsvProvider(Path(data.data_dir), parsed=parsed)
        return cache[key]
    key = ("yahoo",)
    if key not in cache:
        from engine.data.cache import FrameCache
        from engine.data.yahoo import YahooProvider

        cache[key] = YahooProvider(FrameCache(_cache_root(opts, env)), offline=opts.offline)
    return cache[key]


def _cache_root(opts: RunOptions, env: Mapping[str, str]) -> Path:
    """The cache directory: ``--cache-dir``, else :func:`engine.cache_dir.default_cache_dir`.  One that is a file
    (or under one) is refused: the caches would be skipped without a word, and an offline Yahoo run find nothing."""
    from engine.cache_dir import default_cache_dir
    from engine.output_paths import directory_blocked

    root = opts.cache_dir or default_cache_dir(env)
    if said := directory_blocked(root):
        given = "--cache-dir" if opts.cache_dir else "SEESAW_CACHE_DIR" if env.get("SEESAW_CACHE_DIR") else None
        raise UserError(
            f"the cache directory {root} {said}",
            file=given,
            expected="a directory, or a path where one can be made",
        )
    return root


def catalog_for(opts: RunOptions, env: Mapping[str, str]) -> Catalog:
    """The results catalog: ``--store``, else ``$SEESAW_STORE``, else ``<results-dir>/seesaw.duckdb``."""
    from engine.store.catalog import Catalog, default_store_path

    return Catalog(opts.store or default_store_path(opts.results_dir, dict(env)), opts.results_dir)
