"""Regression: ``seesaw report`` of the run ``seesaw walkforward`` stores (``<config>_walkforward``).

The stored walk-forward run keeps its config's ``params:`` and ``sweep:``, and its rules name
parameters (``rel > cut``).  The run report read the rules' ``when:`` texts as if they could name
signals only, so it failed with "unknown name 'cut'" (a plain ``seesaw run`` of any config with
``params`` failed the same way); and the stitched walk-forward run stores no signal values (each
fold has its own parameters), which the signal charts assumed it did.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.render.html.run import SIGNALS_MISSING, SIGNALS_WALKFORWARD
from tests.report_html import RUN_FIGURES_WITHOUT_SIGNALS, figures

# A sweep whose rules name a parameter (cut) and whose signal takes one ($window): 2 x 2 combinations,
# synthetic 2009-2013, so a walk-forward training 3y and testing 1y has two folds.
_CONFIG = """\
name: wf_report
data: {source: synthetic, start: 2009-01-01, end: 2013-12-31}
params: {cut: 0.05, window: 40}
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
benchmarks:
  - {name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}
sweep:
  window: [20, 40]
  cut: [0.0, 0.05]
"""
_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_RICH_ENV))
    return result.exit_code, result.stderr


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wf-report") / "wf_report.yaml"
    path.write_text(_CONFIG, encoding="utf-8")
    return path


def _report(results: Path, out: Path) -> str:
    code, err = _invoke("report", "latest", "--results-dir", str(results), "--output", str(out))
    assert code == 0, err
    return out.read_text(encoding="utf-8")


def test_the_report_of_a_stored_walkforward_run_is_written(config: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    code, err = _invoke("walkforward", str(config), "--train", "3y", "--test", "1y", "--results-dir", str(results))
    assert code == 0, err
    html = _report(results, tmp_path / "wf.html")
    assert "<title>Seesaw run report: wf_report_walkforward</title>" in html
    assert SIGNALS_WALKFORWARD in html and SIGNALS_MISSING not in html
    assert list(figures(html)) == RUN_FIGURES_WITHOUT_SIGNALS


def test_a_run_of_a_config_with_params_draws_each_param_as_its_value(config: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    code, err = _invoke("run", str(config), "--results-dir", str(results))
    assert code == 0, err
    html = _report(results, tmp_path / "run.html")
    assert SIGNALS_WALKFORWARD not in html
    fig = figures(html)["fig-signal-rel"]
    assert sorted(s["y0"] for s in fig["layout"]["shapes"]) == [-0.05, 0.05]  # rel < -cut, rel > cut; cut = 0.05
