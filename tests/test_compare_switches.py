"""``seesaw compare``'s switches per year against the run's own count.

A switch is a change of the targets in force after the first targets come into force (``switches`` in a
run's ``metrics.json``).  A run that starts without the warm-up its lag needs holds no targets (zeros in
``weights.csv``) until its first decision fills: the change to those first targets is not a switch, in
``seesaw run`` nor in ``compare``.  Over the run's whole window, compare's figure times its years is the
run's count; over a later window, it is the number of changes of ``weights.csv``'s targets inside it
(counted here with plain pandas).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app

REPO = Path(__file__).resolve().parents[1]
_UNSET = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")


def _ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_UNSET), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def late_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """corr_breakdown with a lag of 3 from the synthetic data's first date: no warm-up, nothing in force
    on its first dates."""
    tmp = tmp_path_factory.mktemp("late")
    text = (REPO / "configs" / "corr_breakdown.yaml").read_text(encoding="utf-8")
    assert text.count("lag: 1,") == 1
    path = tmp / "late.yaml"
    path.write_text(text.replace("lag: 1,", "lag: 3,"), encoding="utf-8")
    results = tmp / "results"
    _ok("run", str(path), "--source", "synthetic", "--start", "1998-01-02", "--end", "2001-12-31",
        "--results-dir", str(results))  # fmt: skip
    [run_dir] = [p.parent for p in results.glob("*/*/run.json")]
    return results, run_dir


def _compare_row(results: Path, *extra: str) -> pd.Series:
    out = _ok("compare", "--runs", "latest", "--results-dir", str(results), "--reps", "100", "--format", "csv", *extra)
    table = pd.read_csv(io.StringIO(out))
    return table.iloc[0]


def test_the_first_targets_coming_into_force_are_not_a_switch(late_run: tuple[Path, Path]) -> None:
    results, run_dir = late_run
    weights = pd.read_csv(run_dir / "weights.csv", index_col="date")
    targets = weights[[c for c in weights.columns if c.endswith("_target")]]
    assert (targets.iloc[0] == 0).all()  # the case under test: nothing in force on the first date
    changes = int((targets.diff().abs() > 1e-12).any(axis=1).sum())
    counted = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["strategy"]["switches"]
    assert counted == changes - 1
    row = _compare_row(results)
    assert row["switches_per_year"] * row["years"] == pytest.approx(counted, abs=1e-9)


def test_a_later_window_counts_every_change_inside_it(late_run: tuple[Path, Path]) -> None:
    results, run_dir = late_run
    weights = pd.read_csv(run_dir / "weights.csv", index_col="date", parse_dates=["date"])
    targets = weights[[c for c in weights.columns if c.endswith("_target")]]
    changed = (targets.diff().abs() > 1e-12).any(axis=1)
    row = _compare_row(results, "--period", "1999-01-01:")
    inside = changed[(changed.index >= "1999-01-01")]
    assert row["switches_per_year"] * row["years"] == pytest.approx(int(inside.sum()), abs=1e-9)
