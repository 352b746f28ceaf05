"""A stored run is reused before its data is loaded when the files it was loaded from are unchanged.

The contract (engine/data/inputs.py, docs/results.md): a run stores the key of what its data was
loaded from: for CSV data the bytes of every file the config may read (its assets, the exchange
rate, a named cash rate; a missing file counts as missing), for synthetic data the generator's
seed, span and the symbols' markets, in both cases with the versions of the packages that read
them.  A later run of the same resolved config and code whose key matches reuses that run without
loading anything.  Otherwise the data is loaded and matched by its fingerprint as before, so a
change to a file that leaves the prices alone still reuses the run, and a change to a price runs
again.  Yahoo data has no key (a download may bring new rows): it is always loaded.

The loads are counted by wrapping the loader the run job calls.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from engine.config import load_config
from engine.data.cache import FrameCache
from engine.data.csv import CsvProvider
from engine.data.inputs import input_key
from engine.data.synthetic import SyntheticProvider
from engine.data.yahoo import YahooProvider
from engine.errors import DataError
from engine.jobs import run as run_job
from engine.jobs.common import RunOptions
from engine.store.catalog import Catalog

REPO = Path(__file__).resolve().parents[1]
RATIO = REPO / "configs" / "ratio_trend.yaml"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _write_yahoo_csv(path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(path, index_label="Date", date_format="%Y-%m-%d", float_format="%.17g")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """^GSPC, ^HSI and HKD=X as Yahoo-style CSVs (generated: the test owns its files)."""
    provider = SyntheticProvider({"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}, first=dt.date(2008, 1, 2))
    out = tmp_path / "data"
    out.mkdir()
    for symbol, name in (("^GSPC", "GSPC"), ("^HSI", "HSI"), ("HKD=X", "HKD_X")):
        _write_yahoo_csv(out / f"{name}.csv", provider.fetch(symbol, dt.date(2010, 1, 1), None))
    return out


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the configs whose data the run job loads, in order."""
    seen: list[str] = []
    real = run_job.load_with_notes

    def counted(provider, cfg, file):  # type: ignore[no-untyped-def]
        seen.append(cfg.name)
        return real(provider, cfg, file)

    monkeypatch.setattr(run_job, "load_with_notes", counted)
    return seen


def _run(opts: RunOptions) -> run_job.ConfigRun:
    [run] = run_job.run_configs([RATIO], opts, env={}, now=NOW).runs
    return run


def _csv_options(data_dir: Path, results: Path) -> RunOptions:
    return RunOptions(source="csv", data_dir=data_dir, start=dt.date(2012, 1, 3), results_dir=results)


@pytest.mark.parametrize("source", ["csv", "synthetic"])
def test_an_unchanged_config_is_reused_without_loading_its_data(
    source: str, data_dir: Path, tmp_path: Path, loads: list[str]
) -> None:
    if source == "csv":
        opts = _csv_options(data_dir, tmp_path / "R")
    else:
        opts = RunOptions(source="synthetic", start=dt.date(2012, 1, 3), results_dir=tmp_path / "R")
    first = _run(opts)
    assert loads == ["ratio_trend"] and not first.reused
    manifest = json.loads((first.run_dir / "run.json").read_text(encoding="utf-8"))
    assert isinstance(manifest["input_key"], str) and len(manifest["input_key"]) == 16

    again = _run(opts)
    assert loads == ["ratio_trend"]  # not loaded a second time
    assert again.reused and again.run_dir == first.run_dir
    assert again.metrics == first.metrics

    forced = _run(RunOptions(**{**opts.__dict__, "force": True}))
    assert loads == ["ratio_trend", "ratio_trend"] and not forced.reused


def test_a_file_changed_outside_the_prices_is_loaded_and_then_reused_by_its_data(
    data_dir: Path, tmp_path: Path, loads: list[str]
) -> None:
    opts = _csv_options(data_dir, tmp_path / "R")
    first = _run(opts)
    frame = pd.read_csv(data_dir / "GSPC.csv", index_col="Date")
    frame["Volume"] = frame["Volume"] + 1  # other bytes, the same prices
    _write_yahoo_csv(data_dir / "GSPC.csv", frame)

    again = _run(opts)
    assert loads == ["ratio_trend", "ratio_trend"]  # the key changed: loaded ...
    assert again.reused and again.run_dir == first.run_dir  # ... and the same data found the stored run


def test_a_changed_price_runs_again(data_dir: Path, tmp_path: Path, loads: list[str]) -> None:
    opts = _csv_options(data_dir, tmp_path / "R")
    first = _run(opts)
    frame = pd.read_csv(data_dir / "HSI.csv", index_col="Date")
    frame.iloc[-5, frame.columns.get_loc("Close")] *= 1.01
    _write_yahoo_csv(data_dir / "HSI.csv", frame)

    again = _run(opts)
    assert loads == ["ratio_trend", "ratio_trend"]
    assert not again.reused and again.run_dir != first.run_dir
    assert again.metrics["data"]["fingerprint"] != first.metrics["data"]["fingerprint"]
    assert _run(opts).reused and loads == ["ratio_trend", "ratio_trend"]  # the new run is found by its key


def test_a_row_the_load_drops_is_noted_by_a_new_run_not_hidden_by_the_old(
    data_dir: Path, tmp_path: Path, loads: list[str]
) -> None:
    """A row dated on a Saturday is dropped by the load, so the prices are the stored run's; but the note that
    says so belongs to this data: the run is not reused with the old run's notes, it runs and says it."""
    frame = pd.read_csv(data_dir / "HSI.csv", index_col="Date")
    extra = frame.loc[["2013-06-14"]].rename(index={"2013-06-14": "2013-06-15"})  # a Friday's row, on Saturday
    again = _same_prices_again(
        data_dir, tmp_path, lambda: _write_yahoo_csv(data_dir / "HSI.csv", pd.concat([frame, extra]).sort_index())
    )
    assert any("2013-06-15" in note for note in again.metrics["notes"])


def _same_prices_again(data_dir: Path, tmp_path: Path, edit) -> run_job.ConfigRun:  # type: ignore[no-untyped-def]
    """A run, ``edit()`` of its files, and the run again: the same prices, run again (not reused)."""
    opts = _csv_options(data_dir, tmp_path / "R")
    first = _run(opts)
    edit()
    again = _run(opts)
    assert again.metrics["data"]["fingerprint"] == first.metrics["data"]["fingerprint"]  # the same prices
    assert not again.reused
    return again


def test_a_file_whose_parsing_repairs_something_new_runs_again_and_says_so(
    data_dir: Path, tmp_path: Path, loads: list[str]
) -> None:
    """Two rows of HSI.csv swapped: the parser sorts them back, so the panel is the stored run's; but the note
    saying so belongs to this file: the run is not reused with the old run's notes, it runs and says it."""
    lines = (data_dir / "HSI.csv").read_text(encoding="utf-8").splitlines()
    lines[800], lines[801] = lines[801], lines[800]
    again = _same_prices_again(
        data_dir, tmp_path, lambda: (data_dir / "HSI.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    )
    assert any("not in date order" in note for note in again.metrics["notes"])
    assert _run(_csv_options(data_dir, tmp_path / "R")).reused  # and that run is reused by the same file


def test_a_price_changed_in_the_warm_up_runs_again(data_dir: Path, tmp_path: Path, loads: list[str]) -> None:
    """A price before the first simulated date (2012-01-03) moves the signals the first decisions read, so the
    run: it is not reused, though the simulated window's prices, and so its fingerprint, are unchanged."""
    opts = _csv_options(data_dir, tmp_path / "R")
    first = _run(opts)
    frame = pd.read_csv(data_dir / "HSI.csv", index_col="Date")
    warm = (frame.index >= "2011-10-01") & (frame.index < "2012-01-01")
    frame.loc[warm, ["Open", "High", "Low", "Close", "Adj Close"]] *= 0.85
    _write_yahoo_csv(data_dir / "HSI.csv", frame)

    again = _run(opts)
    assert loads == ["ratio_trend", "ratio_trend"]
    assert again.metrics["data"]["fingerprint"] == first.metrics["data"]["fingerprint"]  # the same window ...
    assert not again.reused and again.run_dir != first.run_dir  # ... but other signals: run again
    assert again.metrics["strategy"]["final_value"] != first.metrics["strategy"]["final_value"]


def test_the_csv_key_covers_every_file_a_config_may_read(data_dir: Path) -> None:
    cfg = load_config(RATIO)
    key = input_key(cfg, CsvProvider(data_dir))
    assert key is not None

    (data_dir / "HKD_X.csv").rename(data_dir / "elsewhere.csv")  # the exchange rate: missing counts as missing
    missing = input_key(cfg, CsvProvider(data_dir))
    assert missing is not None and missing != key
    (data_dir / "elsewhere.csv").rename(data_dir / "HKD_X.csv")
    assert input_key(cfg, CsvProvider(data_dir)) == key

    (data_dir / "HSI.csv").unlink()
    (data_dir / "HSI.csv").mkdir()  # unreadable: no key; the load will say why
    assert input_key(cfg, CsvProvider(data_dir)) is None


def test_the_bytes_hashed_are_the_bytes_parsed(data_dir: Path) -> None:
    """A file that changes between the key and the load (another process rewriting it) is parsed as
    it was hashed, and one missing when hashed stays missing: a stored key always names its data."""
    cfg = load_config(RATIO)
    provider = CsvProvider(data_dir)
    before = pd.read_csv(data_dir / "GSPC.csv", index_col="Date")
    (data_dir / "HKD_X.csv").rename(data_dir / "elsewhere.csv")
    assert input_key(cfg, provider) is not None
    changed = before.copy()
    changed["Close"] *= 2.0
    _write_yahoo_csv(data_dir / "GSPC.csv", changed)
    (data_dir / "elsewhere.csv").rename(data_dir / "HKD_X.csv")

    fetched = provider.fetch("^GSPC", None, None)
    assert fetched["Close"].to_numpy() == pytest.approx(before["Close"].to_numpy(), rel=1e-15)
    with pytest.raises(DataError, match=r"no file HKD_X\.csv"):
        provider.fetch("HKD=X", None, None)
    assert CsvProvider(data_dir).fetch("^GSPC", None, None)["Close"].iloc[0] == pytest.approx(changed["Close"].iloc[0])


def test_the_synthetic_key_follows_the_generator(tmp_path: Path) -> None:
    cfg = load_config(RATIO)
    markets = {"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}
    key = input_key(cfg, SyntheticProvider(markets))
    assert key == input_key(cfg, SyntheticProvider(dict(markets)))
    assert key != input_key(cfg, SyntheticProvider(markets, seed=7))
    assert key != input_key(cfg, SyntheticProvider(markets, last=dt.date(2024, 12, 31)))
    assert key != input_key(cfg, SyntheticProvider({**markets, "^HSI": "us"}))


def test_yahoo_data_has_no_key_and_is_always_loaded(tmp_path: Path) -> None:
    provider = YahooProvider(FrameCache(tmp_path / "cache"), offline=True)
    assert input_key(load_config(RATIO), provider) is None


def test_the_catalog_matches_only_known_data_keys(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "R" / "seesaw.duckdb", tmp_path / "R")
    with pytest.raises(ValueError, match="data must be"):
        catalog.find([("a", "b", "c")], data="config_name")  # type: ignore[arg-type]


def test_a_sweep_on_a_changed_warm_up_is_another_sweep(data_dir: Path, tmp_path: Path) -> None:
    """A sweep is identified by every row it reads, warm-up included: after a change before its first date it
    is computed again, under another id, and the first one is kept."""
    from typer.testing import CliRunner

    from engine.cli import app

    config = tmp_path / "small_sweep.yaml"
    text = (REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml").read_text(encoding="utf-8")
    config.write_text(text.split("sweep:")[0] + "sweep:\n  corr_cut: [0.0, 0.2]\n", encoding="utf-8")
    args = ["sweep", str(config), "--source", "csv", "--data-dir", str(data_dir), "--start", "2012-01-03"]
    args += ["--results-dir", str(tmp_path / "R"), "--reps", "100", "--format", "json"]

    def sweep() -> dict:
        result = CliRunner().invoke(app, args, env={"COLUMNS": None, "SEESAW_STORE": None})
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)["sweep"]

    first = sweep()
    assert sweep()["sweep_id"] == first["sweep_id"]  # unchanged: the same sweep
    frame = pd.read_csv(data_dir / "HSI.csv", index_col="Date")
    warm = (frame.index >= "2011-10-01") & (frame.index < "2012-01-01")
    frame.loc[warm, ["Open", "High", "Low", "Close", "Adj Close"]] *= 0.85
    _write_yahoo_csv(data_dir / "HSI.csv", frame)
    again = sweep()
    assert again["data_fingerprint"] == first["data_fingerprint"] and again["sweep_id"] != first["sweep_id"]
