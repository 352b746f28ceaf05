"""Configs run in worker processes give what one process gives: the same files, rows and errors.

``seesaw run`` (and ``compare``, and :func:`engine.api.run`) load, run and write several configs in
forked workers (``--workers``, default the cores).  Each case runs in a fresh interpreter (a test
process may hold threads, and then the steps rightly stay in it), with the same clock, once with
one worker and once with two, and checks that the workers did run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONFIGS, REPO

_DRIVER = """
import datetime as dt, json, os, sys
from pathlib import Path
import engine.jobs.config_workers as W
from engine.errors import UserError
from engine.jobs.common import RunOptions
from engine.jobs.run import run_configs

forked = []
fork = W.Steps._fork
W.Steps._fork = lambda self, n: (forked.append(n), fork(self, n))[1]
results, workers, options, *configs = sys.argv[1:]
options = json.loads(options)
if "cache_dir" in options:
    options["cache_dir"] = Path(options["cache_dir"])
opts = RunOptions(**options, results_dir=Path(results), workers=int(workers))
try:
    report = run_configs(configs, opts, env=dict(os.environ), now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
except UserError as err:
    print(json.dumps({"forked": forked, "error": err.one_line(), "type": type(err).__name__}))
else:
    print(json.dumps({"forked": forked, "rows": report.rows}, default=str))
"""


def _drive(results: Path, workers: int, source: str | dict, configs: list[Path], **env_extra: str) -> dict:
    """Run ``configs`` in a fresh interpreter (``source``: the data source, or the run options as a dict)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **env_extra}
    options = json.dumps(source if isinstance(source, dict) else {"source": source})
    cmd = [sys.executable, "-c", _DRIVER, str(results), str(workers), options, *map(str, configs)]
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, but the catalog's database (its bytes hold page layout)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("seesaw.duckdb")
    }


def test_two_workers_write_the_bytes_one_process_writes(tmp_path: Path) -> None:
    configs = [CONFIGS / f"{name}.yaml" for name in ("corr_breakdown", "ratio_trend", "static_60_40", "vix_filter")]
    one = _drive(tmp_path / "one", 1, "synthetic", configs)
    two = _drive(tmp_path / "two", 2, "synthetic", configs)
    assert (one["forked"], two["forked"]) == ([], [2])
    assert _rows(two, tmp_path / "two") == _rows(one, tmp_path / "one")
    assert len(one["rows"]) > len(configs)
    files_one, files_two = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert sum(name.endswith("/equity.parquet") for name in files_one) == len(configs)
    assert files_two.keys() == files_one.keys()
    assert [name for name in files_one if files_one[name] != files_two[name]] == []


def test_a_bad_file_met_by_a_worker_is_the_error_one_process_gives_and_nothing_is_written(
    tmp_path: Path, data_dir: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("GSPC.csv", "HSI.csv", "HKD_X.csv"):
        (data / name).symlink_to(data_dir / name)
    header = "Date,Open,High,Low,Close,Adj Close,Volume"
    (data / "QQQ.csv").write_text(f"{header}\n2020-01-02,1,1,1,1,1,0\nnot-a-date,1,1,1,1,1,0\n")
    base = (CONFIGS / "ratio_trend.yaml").read_text()
    configs = []
    for name in "abcd":
        text = base.replace("name: ratio_trend", f"name: {name}")
        if name == "c":  # the third config reads the bad file, while the others load
            text = text.replace("symbol: ^GSPC", "symbol: QQQ")
        configs.append(tmp_path / f"{name}.yaml")
        configs[-1].write_text(text)
    one = _drive(tmp_path / "one", 1, "csv", configs, SEESAW_DATA_DIR=str(data))
    two = _drive(tmp_path / "two", 2, "csv", configs, SEESAW_DATA_DIR=str(data))
    assert two["forked"] == [2]
    message = "unparsable or out-of-range date 'not-a-date' on data row 2: expected YYYY-MM-DD from 1900-01-01 to"
    assert one["error"] == two["error"]
    assert one["error"].startswith(f"{data / 'QQQ.csv'}: {message}")
    assert one["type"] == two["type"] == "DataError"
    for results in (tmp_path / "one", tmp_path / "two"):
        assert not results.exists() or _files(results) == {}


@pytest.mark.parametrize("command", ["run", "compare"])
def test_workers_must_be_at_least_one(command: str, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "engine", command, str(CONFIGS / "static_60_40.yaml"), "--workers", "0"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--workers" in done.stderr


def test_yahoo_data_is_fetched_and_noted_once_whatever_the_workers(tmp_path: Path, data_dir: Path) -> None:
    """Yahoo's provider notes a symbol (here: read offline from its cache) once per command, on the first config
    that uses it; loading with workers would note it once per worker."""
    import datetime as dt

    from engine.data.cache import FrameCache
    from engine.data.csv import CsvProvider

    cache = FrameCache(tmp_path / "cache")
    for symbol in ("^GSPC", "^HSI", "HKD=X"):
        frame = CsvProvider(data_dir).fetch(symbol, None, None)
        cache.put("yahoo", symbol, frame, dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    options = {"source": "yahoo", "offline": True, "cache_dir": str(tmp_path / "cache")}
    configs = [CONFIGS / f"{name}.yaml" for name in ("ratio_trend", "static_60_40", "relative_momentum")]
    one = _drive(tmp_path / "one", 1, options, configs)
    two = _drive(tmp_path / "two", 2, options, configs)
    assert two["forked"] == [2]
    assert _rows(two, tmp_path / "two") == _rows(one, tmp_path / "one")
    notes = [json.loads((d / "metrics.json").read_bytes())["notes"] for d in _run_dirs(tmp_path / "one")]
    assert sum("offline; using cached data" in n for note in notes for n in note) == 3  # one per symbol
    files_one, files_two = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert files_two.keys() == files_one.keys()
    assert [name for name in files_one if files_one[name] != files_two[name]] == []


def _rows(out: dict, results: Path) -> list[dict]:
    """The table's rows, each run directory relative to ``results``."""
    return [{**row, "run_dir": Path(row["run_dir"]).relative_to(results).as_posix()} for row in out["rows"]]


def _run_dirs(results: Path) -> list[Path]:
    return sorted(p.parent for p in results.glob("*/*/metrics.json"))


def test_a_config_failing_in_its_simulation_is_the_error_one_process_gives_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    """The third of four configs has a signal whose window outlasts the data: refused when simulated, after
    every config was loaded (and the others simulated or simulating on the other worker)."""
    base = (CONFIGS / "ratio_trend.yaml").read_text()
    configs = []
    for name in "abcd":
        text = base.replace("name: ratio_trend", f"name: {name}")
        if name == "c":
            text = text.replace("window: 200", "window: 9000")
        configs.append(tmp_path / f"{name}.yaml")
        configs[-1].write_text(text)
    one = _drive(tmp_path / "one", 1, "synthetic", configs)
    two = _drive(tmp_path / "two", 2, "synthetic", configs)
    assert two["forked"] == [2]
    assert one["error"] == two["error"]
    assert one["error"].startswith(f"{configs[2]}: signals.trend: signal 'trend' has no value on any decision date")
    assert one["type"] == two["type"] == "ConfigError"
    for results in (tmp_path / "one", tmp_path / "two"):
        assert not results.exists() or _files(results) == {}
