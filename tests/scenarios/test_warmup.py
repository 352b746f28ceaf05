"""Issue 12, gap 3: "invested from start" on two calendars.

The warm-up counts dates of the union timeline.  When its first date is a holiday of one market,
that market's last price lies before it; the loader keeps it, so a signal on that market is
complete at the first decision and the run is invested from its first date.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.config.models import StrategyConfig
from engine.data.csv import CsvProvider
from engine.data.panel import load_for_config
from engine.pipeline import incomplete_signals, required_warmup, run_strategy

CONFIG = {
    "name": "mom63",
    "data": {"source": "csv", "start": "2002-01-02", "end": "2003-12-31"},
    "assets": {"us": {"symbol": "^GSPC", "market": "us"}, "hk": {"symbol": "^HSI", "market": "hk"}},
    "signals": {"mom": {"fn": "relative_momentum", "a": "us", "b": "hk", "window": 63}},
    "rules": [{"when": "mom > 0", "weights": {"us": 1.0}}, {"otherwise": {"hk": 1.0}}],
    "execution": {"lag": 1, "rebalance": "on_change"},
}


@pytest.mark.realdata
def test_a_63_day_momentum_from_2002_01_02_is_invested_on_its_first_date(data_dir: Path) -> None:
    cfg = StrategyConfig.model_validate(CONFIG)
    loaded = load_for_config(CsvProvider(data_dir), cfg, warmup_rows=required_warmup(cfg))
    res = run_strategy(cfg, loaded)
    assert res.trades["date"].iloc[0] == "2002-01-02"
    assert not [n for n in res.notes if "not complete" in n]
    # the first warm-up date is a holiday of one market, so an earlier row holds its last price
    first_row = loaded.start - loaded.warmup_needed
    assert first_row > 0
    assert not loaded.panel.traded[first_row].all()


def test_a_signal_lacking_history_is_named_with_the_dates_it_lacked() -> None:
    dates = pd.bdate_range("2020-01-01", periods=10)
    values = np.array([np.nan] * 6 + [0.1] * 4)
    [(name, note)] = incomplete_signals({"mom": values, "ok": np.ones(10)}, dates, first=2).items()
    assert name == "mom" and "'mom'" in note and "lacked 4 dates" in note and "2020-01-09" in note
    assert incomplete_signals({"mom": values}, dates, first=6) == {}


@pytest.mark.realdata
def test_a_signal_on_a_market_with_less_history_than_the_warm_up_is_warned_of(data_dir: Path, tmp_path: Path) -> None:
    """From 1987-02-02 the union timeline has the 92 dates a 90-day correlation needs, but the Hang Seng
    starts on 1986-12-31: the correlation lacks 69 dates at the first decision.  The warm-up count is met,
    so the warning must come from the signal itself (docs/config.md: "With too little history a warning
    says so")."""
    import json

    import yaml
    from typer.testing import CliRunner

    from engine.cli import app

    config = {
        "name": "early",
        "data": {"source": "csv", "start": "1987-02-02", "end": "1990-12-31"},
        "assets": {"spx": {"symbol": "^GSPC", "market": "us"}, "hsi": {"symbol": "^HSI", "market": "hk"}},
        "signals": {"corr": {"fn": "rolling_corr", "a": "spx", "b": "hsi", "window": 90, "align": "async"}},
        "rules": [{"when": "corr < 0.2", "weights": {}}, {"otherwise": {"spx": 1.0}}],
    }
    cfg = StrategyConfig.model_validate(config)
    loaded = load_for_config(CsvProvider(data_dir), cfg, warmup_rows=required_warmup(cfg))
    assert loaded.warmup_used == loaded.warmup_needed  # the count alone would not warn
    path = tmp_path / "early.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    args = ["run", str(path), "--data-dir", str(data_dir), "--results-dir", str(tmp_path / "r"), "--format", "json"]
    result = CliRunner().invoke(app, args, env={"SEESAW_STORE": None, "COLUMNS": None})
    assert result.exit_code == 0, result.output
    [metrics] = (tmp_path / "r" / "early").glob("*/metrics.json")
    [warning] = json.loads(metrics.read_text(encoding="utf-8"))["warnings"]
    assert warning.startswith("early: incomplete at the first decision though all 92 warm-up dates were used: 'corr'")
    assert "lacked 69 dates of history" in " ".join(json.loads(metrics.read_text(encoding="utf-8"))["notes"])
