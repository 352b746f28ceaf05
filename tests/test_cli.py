"""End-to-end tests of the ``seesaw`` command line: real processes and typer's in-process runner.

The two full synthetic runs of every shipped config are real processes (``python -m engine``),
started together once per module; they also serve as the determinism check (two processes,
two results directories, byte-identical files).  Everything else uses typer's ``CliRunner``
in-process, which is much faster.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import typer
import typer.core
import yaml
from typer.testing import CliRunner

from engine.cli import app
from engine.render.text import JSON_KEYS

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "configs").glob("*.yaml"))
TEXT_FILES = {"config.yaml", "metrics.json", "equity.csv", "weights.csv", "trades.csv", "benchmarks.csv", "run.json"}
PARQUET_FILES = {
    *("equity.parquet", "weights.parquet", "trades.parquet", "benchmarks.parquet", "prices.parquet", "quotes.parquet"),
    "signals.parquet",
    "fx.parquet",
}
RUN_FILES = TEXT_FILES | PARQUET_FILES
DETERMINISTIC_FILES = sorted(TEXT_FILES - {"run.json"})  # run.json holds the creation time
STORE_FILES = {"seesaw.duckdb", "seesaw.duckdb.lock"}
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
TRADES_HEADER = "date,asset,side,quantity,price,value,fees,quoted_price"
# Environment variables that would make rich add colour or change the width of the output.
_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _csv_header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[0].split(",")


def _labels(run_dir: Path) -> dict[str, object]:
    """Each CSV file's last column's cells (a set) and each Parquet file's ``seesaw.data`` metadata, by file."""
    import pyarrow.parquet as pq

    out: dict[str, object] = {}
    for path in sorted(run_dir.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str)
        out[path.name] = (frame.columns[-1], set(frame.iloc[:, -1]))
    for path in sorted(run_dir.glob("*.parquet")):
        out[path.name] = (pq.read_schema(path).metadata or {}).get(b"seesaw.data")
    return out


def _plain(text: str) -> str:
    """Help text without rich's box characters and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@dataclass(frozen=True)
class Proc:
    returncode: int
    stdout: str
    stderr: str
    results: Path


def _process_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _RICH_ENV}
    env["NO_COLOR"] = "1"
    return env


def invoke(*args: str):
    """Run the CLI in-process; stdout and stderr are kept apart."""
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_RICH_ENV), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a bug: show its traceback
    return result


@pytest.fixture(scope="module")
def synthetic_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Proc]:
    """Every shipped config with --source synthetic, twice, in two real processes started together."""
    base = tmp_path_factory.mktemp("synthetic_runs")
    started = {}
    for fmt in ("table", "json"):
        cwd = base / fmt
        cwd.mkdir()
        cmd = [sys.executable, "-m", "engine", "run", *map(str, SHIPPED), "--source", "synthetic"]
        cmd += ["--results-dir", str(cwd / "results"), "--format", fmt]
        popen = subprocess.Popen(
            cmd, cwd=cwd, env=_process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        started[fmt] = (popen, cwd / "results")
    out = {}
    for fmt, (popen, results) in started.items():
        stdout, stderr = popen.communicate(timeout=300)
        out[fmt] = Proc(popen.returncode, stdout, stderr, results)
    return out


def _run_dir(results: Path, name: str) -> Path:
    """The single run directory of config ``name``."""
    children = sorted((results / name).iterdir())
    assert len(children) == 1, f"expected one run directory under {results / name}, found {children}"
    return children[0]


# ---------------------------------------------------------------------------------------------
# `run` on every shipped config, synthetic data


def test_run_table_exits_0_and_labels_synthetic_data(synthetic_runs: dict[str, Proc]) -> None:
    proc = synthetic_runs["table"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    # The title and the caption both say so.
    assert "Seesaw run — SYNTHETIC DATA" in proc.stdout
    assert "SYNTHETIC DATA: generated prices, not market history." in proc.stdout
    for cfg in SHIPPED:
        assert f"wrote {proc.results / _yaml(cfg)['name']}/" in proc.stdout


def test_run_writes_one_complete_run_directory_per_config(synthetic_runs: dict[str, Proc]) -> None:
    results = synthetic_runs["table"].results
    configs = {_yaml(p)["name"]: _yaml(p) for p in SHIPPED}
    # nothing else, no temp directories; .last-run names the last config's run (what ``report latest`` opens),
    # .locks holds each config's write lock (engine/store/write_lock.py), an empty file each
    assert {p.name for p in results.iterdir()} == set(configs) | STORE_FILES | {".last-run", ".locks"}
    assert {p.name for p in (results / ".locks").iterdir()} == {f"{name}.lock" for name in configs}
    last = _run_dir(results, _yaml(SHIPPED[-1])["name"]).name
    assert (results / ".last-run").read_text(encoding="utf-8") == last + "\n"
    for name, cfg in configs.items():
        run_dir = _run_dir(results, name)
        assert RUN_ID.match(run_dir.name), run_dir.name
        assert {p.name for p in run_dir.iterdir()} == RUN_FILES
        assets = list(cfg["assets"])  # each CSV file ends in the column ``synthetic``
        assert _csv_header(run_dir / "equity.csv") == ["date", "value", "cash", *assets, "cash_index", "synthetic"]
        expected_weights = ["date"]
        for a in assets:
            expected_weights += [f"{a}_target", f"{a}_actual"]
        assert _csv_header(run_dir / "weights.csv") == [*expected_weights, "rule", "synthetic"]
        assert (run_dir / "trades.csv").read_text(encoding="utf-8").splitlines()[0] == TRADES_HEADER + ",synthetic"
        benchmarks = ["date", *(b["name"] for b in cfg["benchmarks"]), "synthetic"]
        assert _csv_header(run_dir / "benchmarks.csv") == benchmarks
        label = b"SYNTHETIC DATA: generated prices, not market history."  # every table, also read apart from its run
        for file, found in _labels(run_dir).items():
            if file.endswith(".csv"):
                assert found[0] == "synthetic" and found[1] <= {"True"}, (name, file, found)
                assert found[1] or file == "trades.csv", (name, file)  # no row: only a run without a fill
            else:
                assert found == label, (name, file)
        assert json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["run_id"] == run_dir.name

        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        assert metrics["data"]["synthetic"] is True
        assert metrics["data"]["source"] == "synthetic"
        assert metrics["strategy"]["name"] == name
        assert [b["name"] for b in metrics["benchmarks"]] == [b["name"] for b in cfg["benchmarks"]]
        resolved = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
        assert resolved["name"] == name
        assert resolved["data"]["source"] == "synthetic"  # the command-line override is recorded

        # The files describe the same run: dates, final value, cash + holdings = value.
        equity = pd.read_csv(run_dir / "equity.csv")
        assert equity["date"].iloc[0] == metrics["strategy"]["start"]
        assert equity["date"].iloc[-1] == metrics["strategy"]["end"]
        assert equity["value"].iloc[-1] == pytest.approx(metrics["strategy"]["final_value"], rel=1e-12)
        assert (equity["cash"] + equity[assets].sum(axis=1)).to_numpy() == pytest.approx(equity["value"], rel=1e-9)
        assert len(pd.read_csv(run_dir / "weights.csv")) == len(equity)
        assert len(pd.read_csv(run_dir / "trades.csv")) == metrics["strategy"]["trades"]


def test_stored_signals_are_the_values_the_rules_saw(synthetic_runs: dict[str, Proc]) -> None:
    """signals.parquet holds every signal on the run's dates: evaluating the config's rules on those stored
    values gives back the stored rule of every date (weights.csv), so the report's charts show what decided.
    (No shipped config uses crosses_above/below, whose first date would need the day before the run.
    Configs whose rules keep state (until:, min_hold, cooldown) decide from the day before the run on,
    so the run's own dates cannot replay them: tests/test_decision_reference.py checks those.)"""
    from engine.config import load_config
    from engine.rules import compile_rules, decide

    results = synthetic_runs["table"].results
    stateful: list[str] = []
    for path in SHIPPED:
        cfg = load_config(path)
        run_dir = _run_dir(results, cfg.name)
        signals = pd.read_parquet(run_dir / "signals.parquet")
        weights = pd.read_csv(run_dir / "weights.csv")
        assert list(signals.columns) == ["date", *cfg.signals], cfg.name
        assert [d.isoformat() for d in signals["date"]] == weights["date"].tolist()  # a typed date in Parquet
        if not cfg.signals:
            continue
        assert signals[list(cfg.signals)].notna().all().all(), f"{cfg.name}: a signal is NaN after the warm-up"
        compiled = compile_rules(cfg.rules, list(cfg.assets), [*cfg.signals, *cfg.params])
        if compiled.stateful or cfg.execution.min_hold > 1 or cfg.execution.cooldown > 0:
            stateful.append(cfg.name)
            continue
        values = {name: signals[name].to_numpy() for name in cfg.signals}
        rule, _ = decide(compiled, {**values, **cfg.params}, len(signals))
        assert (rule + 1).tolist() == weights["rule"].tolist(), cfg.name  # decide counts from 0, the files from 1
    assert stateful == ["corr_breakdown_hysteresis", "hk_us_spread", "vix_filter"]  # the others were replayed


def test_run_json_rows_follow_the_contract(synthetic_runs: dict[str, Proc]) -> None:
    proc = synthetic_runs["json"]
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert isinstance(rows, list)
    names = [_yaml(p)["name"] for p in SHIPPED]
    strategies = [r for r in rows if r["kind"] == "strategy"]
    benchmarks = [r for r in rows if r["kind"] == "benchmark"]
    assert len(strategies) + len(benchmarks) == len(rows)
    assert [r["name"] for r in strategies] == names
    # Identical benchmark curves (same data, costs, cash rate) are shown once: at least one row per
    # distinct benchmark name, at most one per config and benchmark.
    declared = [b["name"] for p in SHIPPED for b in _yaml(p)["benchmarks"]]
    assert set(r["name"] for r in benchmarks) == set(declared)
    assert len(set(declared)) <= len(benchmarks) < len(declared)
    for row in rows:
        assert list(row)[: len(JSON_KEYS)] == list(JSON_KEYS)
        assert row["synthetic"] is True
        assert Path(row["run_dir"]).is_dir()
        # Fractions, not percent: final value = initial cash x (1 + total return).
        assert row["final_value"] == pytest.approx(100_000 * (1 + row["total_return"]), rel=1e-9)
        assert abs(row["cagr"]) < 1
        assert 0 < row["ann_vol"] < 1
        assert -1 <= row["max_drawdown"] <= 0
        own = REPO / "configs" / f"{row['name']}.yaml"
        gross = _yaml(own).get("execution", {}).get("max_gross") if row["kind"] == "strategy" else None
        if gross is None:  # a cash account: long only, no leverage
            assert all(0 <= w <= 1 + 1e-9 for w in row["avg_weight"].values())
            assert sum(row["avg_weight"].values()) <= 1 + 1e-9
        else:  # a margin account (docs/shorts.md): shorts, gross up to execution.max_gross
            assert sum(abs(w) for w in row["avg_weight"].values()) <= gross + 1e-9
    assert "SYNTHETIC" in proc.stderr  # stdout is only the JSON document


def test_json_rows_equal_the_run_directories_metrics(synthetic_runs: dict[str, Proc]) -> None:
    rows = json.loads(synthetic_runs["json"].stdout)
    for row in rows:
        metrics = json.loads((Path(row["run_dir"]) / "metrics.json").read_text(encoding="utf-8"))
        stored = metrics["strategy"] if row["kind"] == "strategy" else _named(metrics["benchmarks"], row["name"])
        assert {k: row[k] for k in stored} == stored
        assert row["data_fingerprint"] == metrics["data"]["fingerprint"]


def _named(items: list[dict], name: str) -> dict:
    [item] = [i for i in items if i["name"] == name]
    return item


def test_same_config_and_data_give_byte_identical_files(synthetic_runs: dict[str, Proc]) -> None:
    first, second = synthetic_runs["table"].results, synthetic_runs["json"].results
    assert first != second
    for cfg in SHIPPED:
        name = _yaml(cfg)["name"]
        a, b = _run_dir(first, name), _run_dir(second, name)
        assert a.name.split("-")[-1] == b.name.split("-")[-1]  # the run id's hash of config and data
        for file in DETERMINISTIC_FILES:
            assert (a / file).read_bytes() == (b / file).read_bytes(), f"{name}/{file} differs"


def test_caption_explains_annualisation_and_risk_free_rate(synthetic_runs: dict[str, Proc]) -> None:
    proc = synthetic_runs["table"]
    found = re.search(r"annualised with the run's own trading periods per year \(([\d.]+)\), not 365\.", proc.stdout)
    assert found, proc.stdout
    metrics = json.loads((_run_dir(proc.results, "static_60_40") / "metrics.json").read_text(encoding="utf-8"))
    # The number shown is the run's own, not a constant.
    assert float(found.group(1)) == pytest.approx(metrics["strategy"]["periods_per_year"], abs=0.05)
    # Each run's cash rate is the risk-free rate: zero for most shipped configs, the T-bill for some.
    text = " ".join(proc.stdout.split())  # the caption wraps at the terminal's width
    assert "Sharpe and Sortino are in excess of the risk-free rate, each run's cash rate: " in text
    assert "static_60_40: zero" in text
    assert "relative_momentum_total_return: ^IRX (a series in percent a year)" in text
    # a price index's close leaves its dividends out, and the caption says so; a modelled yield puts them in
    price_only = "dividends not included: us (^GSPC), hk (^HSI) earn their price return only."
    assert re.search(r"Assumption \(([^)]*)\): " + re.escape(price_only), text)
    holders = re.search(r"Assumption \(([^)]*)\): " + re.escape(price_only), text).group(1).split(", ")
    assert "static_60_40" in holders and "relative_momentum_total_return" not in holders


# ---------------------------------------------------------------------------------------------
# real data


def _first_and_last_trading_dates(data_dir: Path, files: list[str], start: str, end: str) -> tuple[str, str]:
    """Independent of the engine: the union of the files' dates with a Close, inside [start, end]."""
    dates: set[str] = set()
    for name in files:
        frame = pd.read_csv(data_dir / name, dtype=str, keep_default_na=False)
        has_close = frame["Close"] != ""
        dates |= {d for d in frame.loc[has_close, "Date"] if start <= d <= end}
    return min(dates), max(dates)


@pytest.mark.realdata
def test_run_on_real_csv_data(data_dir: Path, tmp_path: Path) -> None:
    config = str(REPO / "configs" / "ratio_trend.yaml")
    common = ["--source", "csv", "--data-dir", str(data_dir), "--start", "2005-01-01", "--end", "2024-12-31"]
    first, last = _first_and_last_trading_dates(data_dir, ["GSPC.csv", "HSI.csv"], "2005-01-01", "2024-12-31")
    assert (first, last) == ("2005-01-03", "2024-12-31")  # the data files' own calendar

    result = invoke("run", config, *common, "--format", "json", "--results-dir", str(tmp_path / "json"))
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["kind"] for r in rows] == ["strategy", "benchmark", "benchmark", "benchmark"]
    for row in rows:
        assert (row["start"], row["end"]) == (first, last)
        assert row["synthetic"] is False
        assert row["data_fingerprint"] == rows[0]["data_fingerprint"]
    metrics = json.loads((Path(rows[0]["run_dir"]) / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["data"]["synthetic"] is False
    assert metrics["data"]["source"] == "csv"
    assert "SYNTHETIC" not in result.stderr
    labels = _labels(Path(rows[0]["run_dir"]))  # market data: no column synthetic, no label in the metadata
    assert len(labels) == 12 and all(v[0] != "synthetic" for f, v in labels.items() if f.endswith(".csv"))
    assert all(v is None for f, v in labels.items() if f.endswith(".parquet"))

    table = invoke("run", config, *common, "--results-dir", str(tmp_path / "table"))
    assert table.exit_code == 0, table.stderr
    assert "ratio_trend" in table.stdout
    assert f"{first}→{last}" in table.stdout
    assert "SYNTHETIC" not in table.stdout


# ---------------------------------------------------------------------------------------------
# validate, schema, help


def test_validate_shipped_configs_prints_one_ok_line_each() -> None:
    result = invoke("validate", *map(str, SHIPPED))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [f"{p}: ok" for p in SHIPPED]
    assert result.stderr == ""


def test_validate_reports_every_file_and_exits_2_if_any_is_refused(tmp_path: Path) -> None:
    good = SHIPPED[0]
    typo = tmp_path / "typo.yaml"
    typo.write_text(good.read_text(encoding="utf-8").replace("rules:", "rulez:", 1), encoding="utf-8")
    twin = tmp_path / "twin.yaml"  # valid alone, but the same name as ``good``
    twin.write_text(good.read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke("validate", str(typo), str(good), str(twin))
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"{good}: ok"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2, errors
    assert str(typo) in errors[0] and "rulez" in errors[0]
    assert str(twin) in errors[1] and "also used by" in errors[1]


def test_validate_goes_on_past_a_directory_without_configs(tmp_path: Path) -> None:
    """It stopped there: the files after it, bad ones too, got no line."""
    empty = tmp_path / "empty"
    empty.mkdir()
    typo = tmp_path / "typo.yaml"
    typo.write_text(SHIPPED[0].read_text(encoding="utf-8").replace("rules:", "rulez:", 1), encoding="utf-8")
    result = invoke("validate", str(SHIPPED[0]), str(empty), str(typo), str(SHIPPED[1]))
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"{SHIPPED[0]}: ok", f"{SHIPPED[1]}: ok"]
    errors = result.stderr.strip().splitlines()
    assert errors[0] == f"error: {empty}: directory holds no *.yaml config"
    assert len(errors) == 2 and str(typo) in errors[1] and "rulez" in errors[1]


def test_schema_is_json_with_every_top_level_key() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    expected = {"name", "data", "assets", "signals", "rules", "execution", "costs", "benchmarks", "initial_cash"}
    assert expected <= set(schema["properties"])
    assert schema["additionalProperties"] is False  # unknown keys are refused


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "x.yaml", "--engine", "rusty"], "Invalid value for '--engine':"),
        (["sweep", "x.yaml", "--top", "0"], "Invalid value for '--top':"),
        (["report", "latest", "--format", "pdf"], "Invalid value for '--format':"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["run"], "Missing argument 'configs'."),
        (["runs", "query"], "Missing argument 'sql'."),
        (["runs", "nosuch"], "No such command 'nosuch'."),
        (["nosuch"], "No such command 'nosuch'."),
        (["run", "--a\x1b[2Jb\nc"], "No such option: --a\\x1b[2Jb\\x0ac"),  # escaped, never sent to the terminal
        (["walkforward", "x.yaml", "--train"], "Option '--train' requires an argument."),  # click names no context
        (["runs", "list", "--limit"], "Option '--limit' requires an argument."),
    ],
)
def test_a_command_line_mistake_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    """An unknown option or command, a value not among the choices or out of range, a missing argument: one
    line naming it, and where the options are listed, as every other mistake; never click's boxed usage."""
    result = invoke(*args)
    assert result.exit_code == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {message}") and line.endswith(" --help"), line


@pytest.mark.parametrize(
    "args", [["walkforward", "x.yaml", "--train"], ["runs", "list", "--limit"], ["server", "start", "--idle-minutes"]]
)
def test_an_option_without_its_value_names_the_command_whose_help_lists_it(args: list[str]) -> None:
    [line] = invoke(*args).stderr.splitlines()
    command = " ".join(a for a in args if not a.endswith(".yaml") and not a.startswith("--"))
    assert re.search(rf"requires an argument\. — see \S+ {command} --help$", line), line  # the program, then it


@pytest.mark.parametrize("args", [[], ["runs"], ["server"]])
def test_a_command_group_alone_shows_its_help_not_an_error(args: list[str]) -> None:
    result = invoke(*args)
    assert "Usage:" in result.output and "error:" not in result.output
    click = getattr(typer.core, "_click", None) or typer.core.click  # Typer 0.29 on carries its own copy
    assert result.exit_code == (2 if hasattr(click.exceptions, "NoArgsIsHelpError") else 0)  # click 8.2 on: 2


def test_top_level_help_explains_annualisation() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    text = _plain(result.stdout)
    assert "trading periods per year" in text
    assert "not vectorbt's 365" in text
    assert "in excess of the config's cash rate (zero without one)" in text


def test_run_help_explains_annualisation() -> None:
    result = invoke("run", "--help")
    assert result.exit_code == 0
    text = _plain(result.stdout)
    assert "trading periods per year" in text
    assert "not 365" in text


def test_run_help_names_the_default_data_dir() -> None:
    result = invoke("run", "--help")
    assert result.exit_code == 0
    assert "SEESAW_DATA_DIR" in _plain(result.stdout)
    assert "SEESAW_CACHE_DIR" in _plain(result.stdout)


def test_csv_source_without_a_data_directory_is_one_line_naming_the_ways_to_give_one(tmp_path: Path) -> None:
    """The product has no default data directory: --source csv needs --data-dir, data.data_dir or $SEESAW_DATA_DIR."""
    env = {k: v for k, v in os.environ.items() if k != "SEESAW_DATA_DIR"}
    config = REPO / "configs" / "static_60_40.yaml"
    for command in ("run", "compare"):
        args = [command, str(config), "--source", "csv", "--results-dir", str(tmp_path / "results")]
        proc = subprocess.run(
            [sys.executable, "-m", "engine", *args], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert "data.data_dir" in proc.stderr and "--data-dir" in proc.stderr and "SEESAW_DATA_DIR" in proc.stderr
        assert not (tmp_path / "results").exists()  # nothing written
    with_dir = subprocess.run(
        [sys.executable, "-m", "engine", "validate", str(config)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert with_dir.returncode == 0  # validating needs no data


@pytest.mark.parametrize(
    "command",
    [["run"], ["compare"], ["report"], ["sweep"], ["walkforward"], ["runs", "list"], ["runs", "query"], ["validate"]],
)
def test_help_loses_no_text_to_markup(command: list[str]) -> None:
    """Rich reads ``[default: x]`` in a help string as a markup tag and drops it, leaving "word ."."""
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "250", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert not re.search(r"\w \.", result.stdout), result.stdout


def test_runs_query_help_names_every_table_and_view() -> None:
    from engine.store.readonly import RUN_TABLES

    result = CliRunner().invoke(app, ["runs", "query", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for name in ("runs", "metrics", "sweeps", "sweep_combos", *RUN_TABLES):
        assert re.search(rf"\b{name}\b", text), name


def test_a_reader_closing_the_output_early_stops_the_command_quietly_with_141() -> None:
    """``seesaw ... | head``: the command's first write meets a closed pipe; no traceback, and not exit 1
    (a failed check or a bug) but 141, as a shell reports a program the closed pipe stopped."""
    env = {**_process_env(), "SEESAW_SERVER": "off"}
    cmd = [sys.executable, "-m", "engine", "validate", *map(str, SHIPPED)]
    popen = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert popen.stdout is not None and popen.stderr is not None
    popen.stdout.close()  # the reader is gone before the command writes a line
    with popen.stderr:
        stderr = popen.stderr.read()
    assert popen.wait(timeout=120) == 141, stderr
    assert stderr == ""


def test_the_run_directory_line_is_never_cut_at_a_narrow_width(tmp_path: Path) -> None:
    """The path a user copies stays on one line whatever the table's width (the terminal may wrap it)."""
    results = tmp_path / "a-results-directory-with-a-rather-long-name" / "results"
    cmd = [sys.executable, "-m", "engine", "run", str(SHIPPED[0]), "--source", "synthetic"]
    env = {**_process_env(), "COLUMNS": "40", "SEESAW_SERVER": "off"}
    proc = subprocess.run([*cmd, "--results-dir", str(results)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    [line] = [s for s in proc.stdout.splitlines() if s.startswith("wrote ")]
    run_dir = Path(line.removeprefix("wrote "))
    assert run_dir.parent == results / _yaml(SHIPPED[0])["name"] and run_dir.is_dir()


@pytest.mark.parametrize(
    ("command", "option"),
    [("run", "--columns"), ("compare", "--columns"), ("today", "--now"), ("episodes", "--percentile")],
)
def test_an_options_default_is_shown_in_its_help(command: str, option: str) -> None:
    """Square brackets in a help text are markup to the help's renderer, which drops them silently."""
    result = CliRunner().invoke(app, [command, "--help"], env={**dict.fromkeys(_RICH_ENV), "COLUMNS": "200"})
    [line] = [line for line in result.stdout.splitlines() if f" {option} " in line]
    assert "(default: " in line, line


def test_the_results_directory_comes_from_the_environment_unless_given(tmp_path: Path) -> None:
    """$SEESAW_RESULTS_DIR is the results directory of every command that has --results-dir; the option wins."""
    config = str(REPO / "configs" / "buy_hold_us.yaml")
    env = {"SEESAW_RESULTS_DIR": str(tmp_path / "from_env"), "COLUMNS": None}
    result = CliRunner().invoke(app, ["run", config, "--source", "synthetic"], env=env)
    assert result.exit_code == 0, result.stderr
    assert list((tmp_path / "from_env" / "buy_hold_us").iterdir())
    listed = CliRunner().invoke(app, ["runs", "list"], env=env)
    assert listed.exit_code == 0 and "buy_hold_us" in listed.stdout
    given = CliRunner().invoke(
        app, ["run", config, "--source", "synthetic", "--results-dir", str(tmp_path / "opt")], env=env
    )
    assert given.exit_code == 0 and (tmp_path / "opt" / "buy_hold_us").is_dir()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "configs/buy_hold_us.yaml", "--start", "20150101"], "--start: expected a date as YYYY-MM-DD, or auto"),
        (["run", "configs/buy_hold_us.yaml", "--end", "2016-W01"], "--end: expected a date as YYYY-MM-DD"),
        (["run", "configs/buy_hold_us.yaml", "--end", "2021-02-29"], "--end: no such date: '2021-02-29'"),
        (["compare", "--runs", "latest", "--period", "2016-W01:"], "--period: expected START:END as YYYY-MM-DD"),
        (["today", "configs/buy_hold_us.yaml", "--now", "2026-W35"], "--now: expected an ISO date or datetime"),
        (["today", "configs/buy_hold_us.yaml", "--now", "20260101T1000"], "--now: expected an ISO date or datetime"),
    ],
)
def test_dates_in_other_iso_forms_are_refused_not_read_as_another_day(args: list[str], said: str) -> None:
    """Python's fromisoformat reads ``20150101`` and week dates (``2016-W01`` is 2016-01-04); a date typed in
    another form than the message asks for is refused, never silently taken."""
    source = [] if "--runs" in args else ["--source", "synthetic"]  # stored runs take no --source
    result = invoke(*[str(REPO / a) if a.startswith("configs/") else a for a in args], *source)
    assert result.exit_code == 2, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {said}")


def test_start_auto_on_the_command_line_is_data_start_auto(tmp_path: Path) -> None:
    """``--start auto`` overrides data.start as ``start: auto`` in the config does: the same run, reused."""
    text = (REPO / "configs" / "buy_hold_us.yaml").read_text(encoding="utf-8")
    auto = tmp_path / "buy_hold_us.yaml"
    auto.write_text(re.sub(r"start: [0-9-]+", "start: auto", text, count=1), encoding="utf-8")
    assert "start: auto" in auto.read_text(encoding="utf-8")
    common = ["--source", "synthetic", "--results-dir", str(tmp_path / "results"), "--format", "json"]
    from_config = invoke("run", str(auto), *common)
    assert from_config.exit_code == 0, from_config.stderr
    overridden = invoke("run", str(REPO / "configs" / "buy_hold_us.yaml"), "--start", "auto", *common)
    assert overridden.exit_code == 0, overridden.stderr
    first, second = (json.loads(r.stdout)[0] for r in (from_config, overridden))
    assert (second["start"], second["final_value"]) == (first["start"], first["final_value"])
    assert first["start"] < "2002-01-01"  # the synthetic data begin in 1998: auto starts before the config's date


def test_a_config_s_data_dir_is_read_by_source_csv_and_refused_without_it(tmp_path: Path, data_dir: Path) -> None:
    """A yahoo config's data.data_dir is the directory --source csv reads (docs/data.md); run without that option it
    would change nothing, and was ignored without a word."""
    text = (REPO / "configs" / "buy_hold_us.yaml").read_text(encoding="utf-8")
    assert text.count("data: {source: yahoo,") == 1
    config = tmp_path / "dir.yaml"
    config.write_text(text.replace("data: {source: yahoo,", f"data: {{source: yahoo, data_dir: '{data_dir}',"))
    results = ["--results-dir", str(tmp_path / "results"), "--end", "2010-12-31"]
    assert invoke("validate", str(config)).exit_code == 0
    read = invoke("run", str(config), "--source", "csv", *results)
    assert read.exit_code == 0, read.stderr
    unread = invoke("run", str(config), *results)
    assert unread.exit_code == 2
    [line] = unread.stderr.strip().splitlines()
    assert line == (
        f"error: {config}: data.data_dir: a data directory goes with source csv, and this config reads yahoo data: it "
        "would change nothing"
    )


def test_a_cache_directory_that_is_a_file_is_refused(tmp_path: Path, data_dir: Path) -> None:
    """The CSV parse cache skipped it without a word; an offline Yahoo run said no cached copy exists in it."""
    file = tmp_path / "cache"
    file.write_text("", encoding="utf-8")
    config, results = str(REPO / "configs" / "buy_hold_us.yaml"), ["--results-dir", str(tmp_path / "results")]
    csv = invoke("run", config, "--source", "csv", "--data-dir", str(data_dir), "--cache-dir", str(file), *results)
    yahoo = CliRunner().invoke(
        app, ["run", config, "--source", "yahoo", "--offline", *results], env={"SEESAW_CACHE_DIR": str(file)}
    )
    for result, given in ((csv, "--cache-dir"), (yahoo, "SEESAW_CACHE_DIR")):
        assert result.exit_code == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line == f"error: {given}: the cache directory {file} is a file, not a directory"
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["run", "configs/buy_hold_us.yaml"],
        ["compare", "configs/buy_hold_us.yaml"],
        ["sweep", "configs/sweeps/corr_breakdown_sweep.yaml"],
        ["walkforward", "configs/sweeps/corr_breakdown_sweep.yaml", "--train", "5y", "--test", "1y"],
        ["episodes", "configs/episodes/hsi_spx_divergence_usd.yaml", "--signal", "corr", "--low"],
    ],
)
def test_a_results_directory_that_is_a_file_is_named_in_one_line(tmp_path: Path, command: list[str]) -> None:
    """It was reported as a lock or a staging directory under it that could not be made (Not a directory)."""
    file = tmp_path / "results"
    file.write_text("", encoding="utf-8")
    args = [str(REPO / a) if a.startswith("configs/") else a for a in command]
    result = invoke(*args, "--source", "synthetic", "--results-dir", str(file))
    assert result.exit_code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line == f"error: the results directory {file} is a file, not a directory (--results-dir, SEESAW_RESULTS_DIR)"
    under = invoke(*args, "--source", "synthetic", "--results-dir", str(file / "sub"))  # under a file: cannot be made
    assert under.exit_code == 2, under.stderr
    [line] = under.stderr.strip().splitlines()
    assert line == f"error: the results directory {file / 'sub'} cannot be made: {file} is a file (--results-dir, " + (
        "SEESAW_RESULTS_DIR)"
    )


def test_commands_that_write_no_results_ignore_a_file_named_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "results").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for command in ("today", "audit"):
        result = invoke(command, str(REPO / "configs" / "buy_hold_us.yaml"), "--source", "synthetic")
        assert result.exit_code == 0, result.stderr


def test_a_start_before_all_of_the_data_is_refused_not_moved(tmp_path: Path) -> None:
    """Every synthetic series begins on 1998-01-02: --start 1900-01-01 ran from there, saying nothing of it.  A
    start a holiday before the first date is the first date."""
    config, results = str(REPO / "configs" / "buy_hold_us.yaml"), ["--results-dir", str(tmp_path / "results")]
    early = invoke("run", config, "--source", "synthetic", "--start", "1997-12-01", "--end", "1998-06-30", *results)
    assert early.exit_code == 2
    [line] = early.stderr.strip().splitlines()
    assert line.endswith(
        "the data start on 1998-01-02, after the start 1997-12-01: use a start on or after 1998-01-02, or start: auto"
    )
    assert not (tmp_path / "results").exists()
    holiday = invoke("run", config, "--source", "synthetic", "--start", "1998-01-01", "--end", "1998-06-30", *results)
    assert holiday.exit_code == 0, holiday.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["validate", ""], "Invalid value for 'configs': expected a path, got ''"),
        (["run", "configs/buy_hold_us.yaml", "--results-dir", ""], "Invalid value for '--results-dir'"),
        (["run", "configs/buy_hold_us.yaml", "--results-dir", "  "], "Invalid value for '--results-dir': expected a "
         "path, got '  '"),
        (["run", "configs/buy_hold_us.yaml", "--store", ""], "Invalid value for '--store'"),
        (["run", "configs/buy_hold_us.yaml", "--source", "csv", "--data-dir", ""], "Invalid value for '--data-dir'"),
        (["sweep", ""], "Invalid value for 'config'"),
        (["compare", "configs/buy_hold_us.yaml", "--output", ""], "Invalid value for '--output'"),
    ],
)  # fmt: skip
def test_an_empty_path_is_refused_not_read_as_the_current_directory(
    args: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Path("")`` is ``.``: ``--results-dir ''`` wrote the run into the current directory, ``validate ''`` checked
    every config there, ``--store ''`` was a traceback."""
    monkeypatch.chdir(tmp_path)
    result = invoke(*[str(REPO / a) if a.startswith("configs/") else a for a in args])
    assert result.exit_code == 2, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {said}")
    assert list(tmp_path.iterdir()) == []


def test_an_output_never_writes_over_a_config_another_output_or_the_store(tmp_path: Path) -> None:
    """Each was written, exit 0: a report over the sweep's config, the report over the heatmap, a report over a
    stored run's metrics.json or the catalog, and --png the report's own name (a directory made, then refused)."""
    results = str(tmp_path / "results")
    config = tmp_path / "victim.yaml"
    original = (REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml").read_text(encoding="utf-8")
    config.write_text(original, encoding="utf-8")
    made = invoke("run", str(REPO / "configs" / "buy_hold_us.yaml"), "--source", "synthetic", "--start",
                  "2015-01-01", "--end", "2015-12-31", "--results-dir", results)  # fmt: skip
    assert made.exit_code == 0, made.stderr
    [run_dir] = (tmp_path / "results" / "buy_hold_us").iterdir()
    metrics = (run_dir / "metrics.json").read_bytes()
    page = str(tmp_path / "page.html")
    cases = [
        (["sweep", str(config), "--report", str(config)], f"--report {config} names the same file as the config"),
        (["walkforward", str(config), "--report", str(config)], "names the same file as the config"),
        (["episodes", str(config), "--signal", "corr", "--low", "--report", str(config)], "the same file as"),
        (["sweep", str(config), "--heatmap", "corr_cut,mom_window", "--output", page, "--report", page],
         f"--report {page} names the same file as --output"),
        (["compare", str(config), "--format", "csv", "--output", str(config)], "names the same file as the config"),
        (["report", "latest", "--output", str(run_dir / "metrics.json")], "the output is in a stored run's"),
        (["report", "latest", "--output", str(tmp_path / "results" / "seesaw.duckdb")], "over the results store's"),
        (["report", "latest", "--output", page, "--png", page], "--png names the report's own file"),
        (["sweep", str(config), "--heatmap", "corr_cut,mom_window", "--output", str(run_dir / "equity.csv")],
         "the output is in a stored run's"),
    ]  # fmt: skip
    for args, said in cases:
        result = (
            invoke(*args, "--source", "synthetic", "--results-dir", results)
            if args[0] != "report"
            else invoke(*args, "--results-dir", results)
        )
        assert result.exit_code == 2, (args, result.stdout)
        [line] = result.stderr.strip().splitlines()
        assert said in line, (args, line)
    assert config.read_text(encoding="utf-8") == original
    assert (run_dir / "metrics.json").read_bytes() == metrics and not (tmp_path / "page.html").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--start", "2020-01-01", "--end", "2020-12-31"], "--start and --end have no effect with --runs: stored runs "
         "are compared as they were run (--period START:END compares a part of the stored runs)"),
        (["--source", "csv", "--data-dir", "x", "--force"], "--source, --data-dir and --force have no effect with "
         "--runs: stored runs are compared as they were run"),
        (["--workers", "2"], "--workers has no effect with --runs"),
    ],
)  # fmt: skip
def test_compare_of_stored_runs_refuses_the_options_only_running_configs_reads(args: list[str], said: str) -> None:
    """``compare --runs`` took --start and --end without a word and compared the whole stored history."""
    result = invoke("compare", "--runs", "latest", *args)
    assert result.exit_code == 2, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {said}")


def test_compare_of_stored_runs_takes_the_data_options_for_a_regime_config(tmp_path: Path) -> None:
    """The regime config's signals load data with --source (and --data-dir): with --runs they were refused, and the
    regime could then not be loaded at all; --start stays refused."""
    results = ["--results-dir", str(tmp_path)]
    window = ["--start", "2012-01-01", "--end", "2014-12-31"]
    static = str(REPO / "configs" / "static_60_40.yaml")
    assert invoke("run", static, "--source", "synthetic", *window, *results).exit_code == 0
    regime = ["--regime", "corr < 0.2", "--regime-config", str(REPO / "configs" / "corr_breakdown.yaml")]
    result = invoke("compare", "--runs", "latest", *regime, "--source", "synthetic", "--format", "json", *results)
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)["rows"][0]
    assert 0 < row["regime_in_share"] < 1 and row["regime_in_share"] + row["regime_out_share"] == pytest.approx(1)
    dated = invoke("compare", "--runs", "latest", *regime, "--source", "synthetic", "--start", "2013-01-01", *results)
    assert dated.exit_code == 2 and "--start has no effect with --runs" in dated.stderr


@pytest.mark.parametrize("condition", ["1 < 2", "cut > 0"])
def test_a_regime_naming_no_signal_is_refused_in_one_line(tmp_path: Path, condition: str) -> None:
    """A constant condition (numbers, params) is the same on every date: it ended in an IndexError's traceback."""
    config = tmp_path / "regime.yaml"
    text = (REPO / "configs" / "corr_breakdown.yaml").read_text(encoding="utf-8")
    config.write_text(text + "params: {cut: 0.2}\n", encoding="utf-8")
    result = invoke(
        "compare", str(config), "--source", "synthetic", "--regime", condition, "--regime-config", str(config),
        "--results-dir", str(tmp_path / "results"),
    )  # fmt: skip
    assert result.exit_code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line == (
        f"error: --regime: {condition!r} names no signal of {config}, so it is the same on every date; name one of"
        " its signals (corr, mom)"
    )


def test_ctrl_c_while_the_command_line_loads_says_stopped_and_ends_the_process_as_sigint(tmp_path: Path) -> None:
    """A Ctrl-C in the first few tenths of a second lands in an import: one line saying nothing was done, no
    traceback, death by SIGINT as a shell expects (planted here by an import hook that raises KeyboardInterrupt when
    engine.cli loads)."""
    script = tmp_path / "early.py"
    script.write_text(
        "import sys\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'engine.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Stop())\n"
        "sys.argv = ['seesaw', 'signals']\n"
        "from engine.launch import main\n"
        "main()\n",
        encoding="utf-8",
    )
    env = {**_process_env(), "SEESAW_SERVER": "off"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == -signal.SIGINT, (done.returncode, done.stderr)
    assert done.stderr == "stopped (Ctrl-C) while the command line loaded: nothing was done\n"


def test_run_shows_a_shared_benchmark_once_and_says_whose_it_is_but_never_one_of_another_cash_rate(
    tmp_path: Path,
) -> None:
    """corr_breakdown and static_60_40 hold the same three benchmarks (zero cash rate, same data): one row each,
    and a note that they are also static_60_40's.  A copy of static_60_40 whose cash earns 5% has the same
    benchmark names and weights, but its Sharpe ratios are in excess of 5%: its rows are its own, with the numbers
    its metrics.json holds."""
    text = (REPO / "configs" / "static_60_40.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^name: .*$", "name: static_cash5", text)
    text = re.sub(r"(?m)^cash_rate: .*$", "", text) + "cash_rate: 0.05\n"
    cash5 = tmp_path / "static_cash5.yaml"
    cash5.write_text(text, encoding="utf-8")
    results = tmp_path / "R"
    corr, static = str(REPO / "configs" / "corr_breakdown.yaml"), str(REPO / "configs" / "static_60_40.yaml")
    args = ["--source", "synthetic", "--results-dir", str(results)]
    shown = invoke("run", corr, static, str(cash5), *args, "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    rows = json.loads(
        shown.stdout
    )  # the table's rows: a benchmark of several configs once, `also_of` naming the others
    benches = [(r["config"], r["name"], r["also_of"]) for r in rows if r["kind"] == "benchmark"]
    names = ["buy & hold US", "buy & hold HK", "50/50 monthly"]
    assert benches == [("corr_breakdown", n, ["static_60_40"]) for n in names] + [
        ("static_cash5", n, []) for n in names
    ]
    stored = json.loads(next((results / "static_cash5").glob("*/metrics.json")).read_text(encoding="utf-8"))
    own = {b["name"]: b["sharpe"] for b in stored["benchmarks"]}
    assert {r["name"]: r["sharpe"] for r in rows if r["config"] == "static_cash5" and r["kind"] == "benchmark"} == own
    zero = {r["name"]: r["sharpe"] for r in rows if r["config"] == "corr_breakdown" and r["kind"] == "benchmark"}
    assert all(own[n] < zero[n] for n in names)  # in excess of 5% a year, not of zero
    said = _plain(invoke("run", corr, static, str(cash5), *args).stdout)
    assert (
        "Benchmarks 'buy & hold US', 'buy & hold HK', '50/50 monthly' of corr_breakdown are also those of "
        "static_60_40 (every number the same): shown once." in said
    )
    table = said[: said.index("Period of every row")]
    assert [table.count(f"{n} (corr_breakdown)") for n in names] == [1, 1, 1]
    assert [table.count(f"{n} (static_cash5)") for n in names] == [1, 1, 1] and "(static_60_40)" not in table


def test_ctrl_c_during_run_names_the_runs_it_had_stored_whole(tmp_path: Path) -> None:
    """What Ctrl-C during ``seesaw run`` says: the run directories of this command (their ids start with its
    time) that hold run.json, which a run directory does only once every file is written; not a directory still
    being written (``.tmp-...``), nor a run of another command."""
    from engine.cli.run import stopped_run

    now = dt.datetime(2026, 12, 7, 15, 20, 26, 500_000, tzinfo=dt.UTC)
    assert stopped_run() == "stopped (Ctrl-C): nothing was stored"  # before the options were read
    assert stopped_run(tmp_path, now) == "stopped (Ctrl-C): no run was stored"
    for name, run_id, whole in (
        ("b_cfg", "20261207T152026Z-0b4e7443", True),
        ("a_cfg", "20261207T152026Z-1a2b3c4d", True),
        ("c_cfg", ".tmp-20261207T152026Z-5e6f7a8b-123", True),  # being written, renamed once whole
        ("d_cfg", "20261207T152025Z-9c9c9c9c", True),  # another command's, a second earlier
        ("e_cfg", "20261207T152026Z-77777777", False),  # no run.json: not a run
    ):
        (tmp_path / name / run_id).mkdir(parents=True)
        if whole:
            (tmp_path / name / run_id / "run.json").write_text("{}", encoding="utf-8")
    assert stopped_run(tmp_path, now) == (
        "stopped (Ctrl-C): 2 runs stored whole before it, kept (a_cfg, b_cfg); the same command reuses them (and runs "
        "any others)"
    )
