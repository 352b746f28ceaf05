"""engine.api gives the numbers the command line prints, stores like it, and its documented example runs.

Each check runs the API into one results directory and the CLI (``--format json``, in-process
with typer's ``CliRunner``) into another, then compares the two key by key: numbers to 1e-12
relative, everything else exactly (``run_dir`` and creation times aside, which name the directory).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.errors import ConfigError, StoreError, UserError
from tests.conftest import CONFIGS, REPO

_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")
WINDOW = {"source": "synthetic", "start": "2015-01-01", "end": "2016-12-31"}
WINDOW_ARGS = ["--source", "synthetic", "--start", "2015-01-01", "--end", "2016-12-31"]
RUN_CONFIGS = [CONFIGS / "corr_breakdown.yaml", CONFIGS / "static_60_40.yaml"]
#: keys that name where or when something was written, not what it computed
PLACE_KEYS = {"run_dir", "run_id", "created_at"}

#: configs/sweeps/corr_breakdown_sweep.yaml cut to 3 x 2 = 6 combinations
SWEEP_CONFIG = CONFIGS / "sweeps" / "corr_breakdown_sweep.yaml"
SWEEP = SWEEP_CONFIG.read_text(encoding="utf-8")
SWEEP = re.sub(r"sweep:.*", "sweep:\n  corr_cut: [0.1, 0.2, 0.3]\n  mom_window: [40, 63]\n", SWEEP, flags=re.S)
SWEEP = SWEEP.replace("name: corr_breakdown_sweep", "name: api_sweep")


@pytest.fixture(autouse=True)
def _no_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog goes under each test's results directory, whatever the caller's ``SEESAW_STORE``."""
    monkeypatch.delenv("SEESAW_STORE", raising=False)


def cli_json(*args: str) -> Any:
    """The CLI's ``--format json`` document for ``args``; a failure shows its stderr."""
    result = CliRunner().invoke(app, [*args, "--format", "json"], env=dict.fromkeys(_RICH_ENV))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def same(a: Any, b: Any, where: str = "") -> list[str]:
    """Where ``a`` and ``b`` differ: numbers to 1e-12 relative (NaN, None, null and absent alike), the rest exactly."""
    if (a is None or (isinstance(a, float) and math.isnan(a))) and (
        b is None or (isinstance(b, float) and math.isnan(b))
    ):
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        # a key on one side only must be missing on it (a DataFrame row has every column of the table)
        keys = [*a, *(k for k in b if k not in a)]
        return [d for k in keys if k not in PLACE_KEYS for d in same(a.get(k), b.get(k), f"{where}.{k}")]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{where}[{i}]")]
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        if not math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0):
            return [f"{where}: {a!r} vs {b!r}"]
        return []
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame's rows as plain dicts (numpy scalars as Python numbers)."""
    return frame.to_dict("records")


# -- run -------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[api.RunSet, list[dict[str, Any]], Path]:
    """The API's RunSet and the CLI's ``run --format json`` rows for :data:`RUN_CONFIGS`, and the API's results."""
    root = tmp_path_factory.mktemp("api-run")
    runs = api.run(*RUN_CONFIGS, **WINDOW, results_dir=root / "api", env={})
    rows = cli_json("run", *map(str, RUN_CONFIGS), *WINDOW_ARGS, "--results-dir", str(root / "cli"))
    return runs, rows, root / "api"


def test_run_metrics_equal_the_cli(both_runs: tuple[api.RunSet, list[dict[str, Any]], Path]) -> None:
    runs, rows, _ = both_runs
    assert list(runs.metrics.columns) == list(rows[0])  # same keys, same order (contract keys first)
    assert same(records(runs.metrics), rows) == []
    assert runs.names == ["corr_breakdown", "static_60_40"]
    assert [r["kind"] for r in rows] == ["strategy", "strategy", "benchmark", "benchmark", "benchmark"]


def test_the_comparator_sees_a_difference(both_runs: tuple[api.RunSet, list[dict[str, Any]], Path]) -> None:
    runs, rows, _ = both_runs
    changed = [dict(r) for r in rows]
    changed[0]["sharpe"] *= 1 + 1e-9
    assert same(records(runs.metrics), changed) == [f"[0].sharpe: {rows[0]['sharpe']!r} vs {changed[0]['sharpe']!r}"]


def test_each_run_has_its_strategy_and_every_benchmark(
    both_runs: tuple[api.RunSet, list[dict[str, Any]], Path],
) -> None:
    runs, rows, _ = both_runs
    for r in runs:
        mine = records(r.metrics)
        assert [m["kind"] for m in mine] == ["strategy", "benchmark", "benchmark", "benchmark"]
        assert [m["name"] for m in mine[1:]] == [b.name for b in r.config.benchmarks]
        assert list(r.metrics.columns) == list(rows[0])
        # every CLI row of this config (the CLI shows a shared benchmark once, under its first config, its
        # also_of naming the others; a run's own table shares nothing)
        assert all(m["also_of"] == [] for m in mine)
        for cli_row in (row for row in rows if row["config"] == r.name):
            (match,) = [m for m in mine if m["name"] == cli_row["name"]]
            assert same({**match, "also_of": cli_row["also_of"]}, cli_row) == []
        assert all(m["run_dir"] == str(r.run_dir) for m in mine)


def test_run_tables_are_the_stored_ones(both_runs: tuple[api.RunSet, list[dict[str, Any]], Path]) -> None:
    runs, _, results = both_runs
    r = runs["corr_breakdown"]
    assert r.run_dir.parent == results / "corr_breakdown" and not r.reused and r.synthetic
    assert list(r.equity.columns) == ["value", "cash", "us", "hk", "cash_index"]
    assert isinstance(r.equity.index, pd.DatetimeIndex) and r.equity.index.name == "date"
    assert r.weights.index.equals(r.equity.index) and r.benchmarks.index.equals(r.equity.index)
    assert {"us_target", "us_actual", "hk_target", "hk_actual", "rule"} <= set(r.weights.columns)
    assert {"date", "asset", "side", "value", "fees"} <= set(r.trades.columns) and len(r.trades) > 0
    stored = pd.read_csv(r.run_dir / "equity.csv", index_col="date", parse_dates=True)
    assert stored.pop("synthetic").all()  # the CSV file's label of synthetic data
    pd.testing.assert_frame_equal(r.equity, stored, check_exact=False, rtol=1e-12, check_freq=False)
    for run in runs:
        assert run.equity["value"].iloc[-1] == run.metrics["final_value"].iloc[0]
        for name, final in zip(run.metrics["name"].iloc[1:], run.metrics["final_value"].iloc[1:], strict=True):
            assert run.benchmarks[name].iloc[-1] == final
    assert str(r.config.data.start) == "2015-01-01" and r.config.data.source == "synthetic"


def test_a_second_run_reuses_the_stored_one(both_runs: tuple[api.RunSet, list[dict[str, Any]], Path]) -> None:
    runs, _, results = both_runs
    again = api.run(RUN_CONFIGS[0], **WINDOW, results_dir=results, env={})
    assert again[0].reused and again[0].run_dir == runs[0].run_dir
    assert same(records(again[0].metrics), records(runs[0].metrics)) == []


def test_numpy_numbers_and_bools_are_arguments_like_pythons(tmp_path: Path) -> None:
    """A count from a numpy array or a flag from a comparison of arrays is taken as the int or bool it is."""
    runs = api.run(RUN_CONFIGS[1], **WINDOW, results_dir=tmp_path, workers=np.int64(1), force=np.False_, env={})
    c = api.compare(RUN_CONFIGS[1], **WINDOW, results_dir=tmp_path, top=np.int64(1), reps=np.int32(100), env={})
    assert not runs[0].reused and c.runs[0].reused and c.table["kind"].tolist()[0] == "strategy"


def test_a_run_dir_is_the_same_path_computed_or_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative results_dir: the run's directory is one absolute path, whether it was written or found."""
    monkeypatch.chdir(tmp_path)
    first = api.run(RUN_CONFIGS[1], **WINDOW, results_dir="rel", env={})[0]
    again = api.run(RUN_CONFIGS[1], **WINDOW, results_dir="rel", env={})[0]
    assert not first.reused and again.reused
    assert first.run_dir == again.run_dir and first.run_dir.is_absolute()
    assert first.run_dir.parent.parent == (tmp_path / "rel").resolve()
    (tmp_path / "s.yaml").write_text(SWEEP, encoding="utf-8")  # a sweep's directory likewise
    swept = api.sweep("s.yaml", source="synthetic", results_dir="rel", top=1, reps=100, env={})
    reswept = api.sweep("s.yaml", source="synthetic", results_dir="rel", top=1, reps=100, env={})
    assert reswept.reused and swept.sweep_dir == reswept.sweep_dir and swept.sweep_dir.is_absolute()


# -- compare ---------------------------------------------------------------------------------------------------------


def test_compare_equals_the_cli(tmp_path: Path) -> None:
    configs = [*RUN_CONFIGS, CONFIGS / "relative_momentum.yaml"]
    options = {"period": "2015-03-01:", "by_year": True, "reps": 200}
    c = api.compare(*configs, **WINDOW, **options, results_dir=tmp_path / "api", env={})
    doc = cli_json(
        "compare", *map(str, configs), *WINDOW_ARGS, "--period", "2015-03-01:", "--by", "year", "--reps", "200",
        "--results-dir", str(tmp_path / "cli"),
    )  # fmt: skip
    assert list(c.table.columns) == list(doc["rows"][0])
    assert same(records(c.table), doc["rows"]) == []
    assert [str(c.first.date()), str(c.last.date()), c.reference] == [doc["first"], doc["last"], doc["reference"]]
    assert same(c.spa, doc["spa"]) == []
    assert c.table["name"].tolist()[:3] == ["corr_breakdown", "static_60_40", "relative_momentum"]
    assert {"y2015", "y2016", "sharpe_ci_low", "psr", "dsr"} <= set(c.table.columns)
    assert c.comparison.rows[0]["name"] == "corr_breakdown" and len(c.runs) == 3

    # stored runs instead of configs: the same rows ("latest" orders the runs by config name)
    again = api.compare(runs="latest", **options, results_dir=tmp_path / "api", env={})
    by_name = [records(t.sort_values("name", ignore_index=True)) for t in (again.table, c.table)]
    assert same(*by_name) == [] and len(again.runs) == 0
    by_dirs = api.compare(runs=[r.run_dir for r in c.runs], **options, results_dir=tmp_path / "api", env={})
    assert same(records(by_dirs.table), records(c.table)) == []  # run directories, as Run.run_dir gives them
    top = api.compare(runs="latest", sort="cagr", top=1, reps=200, results_dir=tmp_path / "api", env={})
    assert top.table["kind"].tolist()[0] == "strategy" and (top.table["kind"] == "strategy").sum() == 1


# -- sweep -----------------------------------------------------------------------------------------------------------


def test_sweep_equals_the_cli(tmp_path: Path) -> None:
    config = tmp_path / "api_sweep.yaml"
    config.write_text(SWEEP, encoding="utf-8")
    s = api.sweep(config, top=4, reps=200, chunk_size=4, **WINDOW, results_dir=tmp_path / "api", env={})
    doc = cli_json(
        "sweep", str(config), "--top", "4", "--reps", "200", "--chunk-size", "4", *WINDOW_ARGS,
        "--results-dir", str(tmp_path / "cli"),
    )  # fmt: skip
    assert list(s.top.columns) == list(doc["rows"][0])
    assert same(records(s.top), doc["rows"]) == []
    assert same(s.manifest, doc["sweep"]) == []
    assert s.keys == ("corr_cut", "mom_window") and len(s.combinations) == 6 == s.manifest["combinations"]
    assert s.combinations["combo"].tolist() == list(range(6)) and len(s.top) == 4
    assert s.sweep_dir.parent == tmp_path / "api" / "api_sweep" / "sweeps" and not s.reused and not s.stopped
    again = api.sweep(config, top=4, reps=200, **WINDOW, results_dir=tmp_path / "api", env={})
    assert again.reused and same(records(again.top), records(s.top)) == []


# -- errors ----------------------------------------------------------------------------------------------------------


def test_mistakes_raise_user_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as err:
        api.load_config(missing)
    assert err.value.file == str(missing)
    with pytest.raises(UserError):
        api.run(missing, source="synthetic", results_dir=tmp_path, env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text((CONFIGS / "static_60_40.yaml").read_text(encoding="utf-8").replace("lag: 1", "lag: -1"))
    with pytest.raises(ConfigError) as err:
        api.run(bad, source="synthetic", results_dir=tmp_path, env={})
    assert err.value.path == "execution.lag"
    with pytest.raises(UserError, match="source"):
        api.run(RUN_CONFIGS[0], source="bloomberg", results_dir=tmp_path, env={})
    with pytest.raises(UserError, match="start"):
        api.run(RUN_CONFIGS[0], source="synthetic", start="2015-13-01", results_dir=tmp_path, env={})
    with pytest.raises(UserError, match="SEESAW_DATA_DIR"):
        api.run(RUN_CONFIGS[0], source="csv", results_dir=tmp_path, env={})
    with pytest.raises(UserError, match="nothing to compare"):
        api.compare(results_dir=tmp_path, env={})
    with pytest.raises(UserError, match="no sweep"):
        api.sweep(RUN_CONFIGS[0], source="synthetic", results_dir=tmp_path, env={})
    assert not any(tmp_path.glob("*/*/run.json"))  # nothing was stored


def test_a_results_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    """A results_dir that is a file, or under one, is a UserError naming it, as --results-dir is, before any
    data is loaded; not the error of the store's lock under it."""
    file = tmp_path / "a-file"
    file.write_text("")
    for where, said in [(file, "is a file, not a directory"), (file / "sub", f"cannot be made: {file} is a file")]:
        for call, config in ((api.run, RUN_CONFIGS[0]), (api.compare, RUN_CONFIGS[0]), (api.sweep, SWEEP_CONFIG)):
            with pytest.raises(UserError) as err:
                call(config, source="synthetic", results_dir=where, env={})
            assert str(err.value) == f"the results directory {where} {said} (results_dir)", err.value
    with pytest.raises(StoreError):  # stored runs are only read: the store says what it lacks
        api.compare(runs="latest", results_dir=file, env={})


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda d: api.compare(RUN_CONFIGS[0], top=0, **d), "top: expected at least 1, got 0"),  # else: no strategy row
        (lambda d: api.compare(RUN_CONFIGS[0], top=-1, **d), "top: expected at least 1, got -1"),
        (lambda d: api.compare(RUN_CONFIGS[0], top="x", **d), "top: expected a whole number, got 'x'"),
        (lambda d: api.compare(RUN_CONFIGS[0], top=2.0, **d), "top: expected a whole number, got 2.0"),
        (lambda d: api.compare(RUN_CONFIGS[0], reps="x", **d), "reps: expected a whole number, got 'x'"),
        (lambda d: api.compare(RUN_CONFIGS[0], reps=99, **d), "reps: expected at least 100, got 99"),
        (lambda d: api.compare(RUN_CONFIGS[0], by_year="no", **d), "by_year: expected True or False, got 'no'"),
        (lambda d: api.run(RUN_CONFIGS[0], force="no", **d), "force: expected True or False, got 'no'"),
        (lambda d: api.run(RUN_CONFIGS[0], workers=True, **d), "workers: expected a whole number, got True"),
        (lambda d: api.sweep(SWEEP_CONFIG, cluster="bogus", **d), "cluster: expected 'local' or a Dask scheduler's"),
        (lambda d: api.sweep(SWEEP_CONFIG, cluster=1, **d), "cluster: expected 'local' or a Dask scheduler's"),
        (lambda d: api.sweep(SWEEP_CONFIG, top=0, **d), "top: expected at least 1, got 0"),
        (lambda d: api.sweep(SWEEP_CONFIG, resume=1, **d), "resume: expected True or False, got 1"),
    ],
)
def test_arguments_are_checked_as_the_command_line_checks_its_options(call: Any, said: str, tmp_path: Path) -> None:
    """A wrong argument is a UserError before anything runs, never a cut table or a truthy string."""
    with pytest.raises(UserError) as err:
        call({"source": "synthetic", "results_dir": tmp_path, "env": {}})
    assert str(err.value).startswith(said), err.value
    assert not any(tmp_path.rglob("*.json"))  # nothing was run or stored


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda d: api.compare(runs="latest", start="2010-01-01", **d), "start= has no effect with runs=: stored runs"),
        (
            lambda d: api.compare(runs=["a", "b"], source="csv", data_dir="x", force=True, **d),
            "source=, data_dir= and force= have no effect with runs=",
        ),
        (lambda d: api.compare(runs="latest", end="2020-01-01", **d), "end= has no effect with runs=: stored runs are"),
        (
            lambda d: api.compare(runs=5, **d),
            "runs: expected 'latest', run ids or run directories (text or paths), got",
        ),
        (lambda d: api.compare(runs=[1, 2], **d), "runs: expected 'latest', run ids or run directories"),
        (lambda d: api.compare(runs=[], **d), "runs: no run id (give 'latest', run ids or run directories)"),
        (lambda d: api.run(RUN_CONFIGS[0], **{**d, "env": "x"}), "env: expected a mapping of names to text"),
        (lambda d: api.run(api.load_config(RUN_CONFIGS[0]), **d), "configs: expected config files (paths), got a"),
        (lambda d: api.sweep(7, **d), "config: expected config files (paths), got 7"),
        (lambda d: api.run(RUN_CONFIGS[0], data_dir=5, **d), "data_dir: expected a path (text or os.PathLike), got 5"),
        (
            lambda d: api.compare(RUN_CONFIGS[0], regime=5, regime_config=RUN_CONFIGS[0], **d),
            "regime: expected text, got 5",
        ),
        (lambda d: api.compare(RUN_CONFIGS[0], benchmark=["x"], **d), "benchmark: expected text, got a list"),
        (
            lambda d: api.compare(RUN_CONFIGS[0], regime="x > 0", regime_config=["a.yaml"], **d),
            "regime_config: expected a path (text or os.PathLike), got a list",
        ),
    ],
)
def test_stored_runs_refuse_what_only_running_reads_and_wrong_types_are_user_errors(
    call: Any, said: str, tmp_path: Path
) -> None:
    """``compare(runs=...)`` with ``start=`` would otherwise compare the whole stored window, silently."""
    with pytest.raises(UserError) as err:
        call({"results_dir": tmp_path, "env": {}})
    assert str(err.value).startswith(said), err.value
    assert not any(tmp_path.rglob("*.json"))


# -- real data -------------------------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_run_on_real_data(data_dir: Path, tmp_path: Path) -> None:
    window = {"start": "2015-01-01", "end": "2016-12-31"}
    runs = api.run(CONFIGS / "static_60_40.yaml", source="csv", data_dir=data_dir, **window, results_dir=tmp_path)
    r = runs["static_60_40"]
    assert not r.synthetic and r.stored.manifest["data_source"] == "csv"
    row = r.metrics.iloc[0]
    assert row["kind"] == "strategy" and row["start"] >= "2015-01-01" and row["end"] <= "2016-12-31"
    assert r.equity.index[0] == pd.Timestamp(row["start"]) and r.equity.index[-1] == pd.Timestamp(row["end"])
    assert r.equity["value"].iloc[-1] == row["final_value"]
    cli = cli_json(
        "run", str(CONFIGS / "static_60_40.yaml"), "--source", "csv", "--data-dir", str(data_dir),
        "--start", "2015-01-01", "--end", "2016-12-31", "--results-dir", str(tmp_path / "cli"),
    )  # fmt: skip
    assert same(records(runs.metrics), cli) == []


# -- the documentation -----------------------------------------------------------------------------------------------


def doc_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", (REPO / "docs" / "api.md").read_text(encoding="utf-8"), re.M | re.S)


def test_the_docs_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    blocks = doc_blocks()
    assert blocks, "docs/api.md has no ```python block"
    (tmp_path / "configs").symlink_to(CONFIGS, target_is_directory=True)  # the example runs from the repository root
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)
    assert (tmp_path / "results" / "corr_breakdown").is_dir()
    assert (tmp_path / "results" / "corr_breakdown_sweep" / "sweeps").is_dir()
    assert "combinations; PBO" in capsys.readouterr().out


def test_the_api_never_prints(
    both_runs: tuple[api.RunSet, list[dict[str, Any]], Path], capsys: pytest.CaptureFixture
) -> None:
    _, _, results = both_runs
    api.run(*RUN_CONFIGS, **WINDOW, results_dir=results, env={})
    api.compare(runs="latest", reps=100, results_dir=results, env={})
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_every_public_function_has_a_docstring_with_an_example() -> None:
    for name in api.__all__:
        doc = getattr(api, name).__doc__ or ""
        assert doc.strip(), name
        if callable(getattr(api, name)) and not isinstance(getattr(api, name), type):
            assert "Example::" in doc, name
