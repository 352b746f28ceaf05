"""Shared fixtures: where the real data lives, and small helpers to run configs in memory."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
SHIPPED_CONFIGS = sorted(CONFIGS.rglob("*.yaml"))  # configs/hkd/ included


# The product has no default data directory (``--source csv`` needs ``--data-dir`` or
# ``SEESAW_DATA_DIR``); the tests and the commands they start default it to ../shared/data.
os.environ.setdefault("SEESAW_DATA_DIR", str(REPO.parent / "shared" / "data"))
# Commands the tests start run in their own process even when a `seesaw server` runs for this checkout
# (tests/test_server.py turns it on for the commands it sends to the server it starts).
os.environ["SEESAW_SERVER"] = "off"
# Every test names its results directory, or means the default: a developer's own is never written to.
os.environ.pop("SEESAW_RESULTS_DIR", None)
# The commands the tests start inherit this process's signal dispositions, and the tests of Ctrl-C and of
# ignored signals expect those of a terminal.  A shell starting the suite as a background job without job
# control (``pytest &`` in a script) ignores SIGINT and SIGQUIT: restored here.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGQUIT) is signal.SIG_IGN:
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def real_data_dir() -> Path:
    """``SEESAW_DATA_DIR``, which defaults to ``../shared/data`` next to the repository."""
    return Path(os.environ["SEESAW_DATA_DIR"])


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real CSV history.  Missing: skip locally, *fail* under CI (``CI`` set)."""
    path = real_data_dir()
    if not (path / "GSPC.csv").is_file():
        message = f"real data not found in {path} (set SEESAW_DATA_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


#: The configs of the report tests' stored runs: two signals and three rules, one signal with
#: thresholds either side of zero, and one config without signals.
REPORT_CONFIGS = ("corr_breakdown", "spread_reversion", "static_60_40")


@pytest.fixture(scope="session")
def report_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results directory (with its catalog) holding synthetic runs of :data:`REPORT_CONFIGS`, 2010-2014."""
    import datetime as dt

    from engine.jobs.common import RunOptions
    from engine.jobs.run import run_configs

    results = tmp_path_factory.mktemp("report") / "results"
    opts = RunOptions(source="synthetic", start=dt.date(2010, 1, 1), end=dt.date(2014, 12, 31), results_dir=results)
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    run_configs([CONFIGS / f"{name}.yaml" for name in REPORT_CONFIGS], opts, env={}, now=now)
    return results


def stored_run_dir(results: Path, config_name: str) -> Path:
    """The single run directory of ``config_name`` under ``results``."""
    (run_dir,) = [p for p in (results / config_name).iterdir() if not p.name.startswith(".")]
    return run_dir


#: The sweep of the sweep-report tests: 3 x 2 x 2 = 12 combinations (three numeric keys: three heatmaps),
#: synthetic 2008-2014, so that a walk-forward training 3y and testing 1y has four folds (2011-2014).
REPORT_SWEEP = """\
name: report_sweep
description: A small sweep for the report tests
data: {source: synthetic, start: 2008-01-01, end: 2014-12-31}
params: {cut: 0.0, window: 40}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  rel: {fn: relative_momentum, a: us, b: hk, window: $window}
rules:
  - when: rel > cut
    weights: {us: 1.0}
  - when: rel < -cut
    weights: {hk: 1.0}
  - otherwise: {us: 0.5, hk: 0.5}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
benchmarks:
  - {name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}
sweep:
  window: [20, 40, 60]
  cut: [0.0, 0.05]
  execution.lag: [1, 2]
"""


@pytest.fixture(scope="session")
def sweep_reports(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A stored walk-forward and sweep of :data:`REPORT_SWEEP`, each with its ``--report``, made by the commands.

    Keys: ``config``, ``results``, ``sweep_html``, ``walkforward_html``, and the ``--format json`` documents
    ``sweep`` and ``walkforward`` (the walk-forward first, so the sweep's report shows it).
    """
    import json

    from typer.testing import CliRunner

    from engine.cli import app

    root = tmp_path_factory.mktemp("sweep-report")
    config, results = root / "report_sweep.yaml", root / "results"
    config.write_text(REPORT_SWEEP, encoding="utf-8")
    out = {"config": config, "results": results}
    runner = CliRunner()
    env = dict.fromkeys(("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "SEESAW_STORE"))
    commands = {
        "walkforward": ["walkforward", str(config), "--train", "3y", "--test", "1y", "--chunk-size", "5"],
        "sweep": ["sweep", str(config), "--top", "5", "--reps", "200", "--chunk-size", "5"],
    }
    for name, args in commands.items():
        html = root / f"{name}.html"
        result = runner.invoke(
            app, [*args, "--results-dir", str(results), "--format", "json", "--report", str(html)], env=env
        )
        assert result.exit_code == 0, result.stderr
        assert result.stderr == f"wrote {html}\n"  # stdout stays JSON
        out[name] = json.loads(result.stdout)
        out[f"{name}_html"] = html
    return out
