"""Regime splits for ``seesaw compare --regime``: attribution timing and the per-regime arithmetic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.jobs.common import RunOptions
from engine.jobs.compare import regime_series
from engine.metrics.frames import regime_metrics
from tests.conftest import CONFIGS


def test_regime_metrics_by_hand() -> None:
    dates = pd.date_range("2024-01-01", periods=5, freq="D")
    # V: 100 -> 110 -> 99 -> 99 -> 108.9 -> 108.9; returns +10%, -10%, 0%, +10%, 0%
    value = pd.Series([110.0, 99.0, 99.0, 108.9, 108.9], index=dates)
    in_regime = pd.Series([True, True, False, True, False], index=dates)  # days 1, 2, 4 in the regime
    out = regime_metrics(value, 100.0, in_regime, periods_per_year=2.0)
    r_in = np.array([0.10, -0.10, 0.10])
    # geometric: (1.1 * 0.9 * 1.1) ** (2 / 3) - 1
    assert out["regime_in_return"] == pytest.approx((1.1 * 0.9 * 1.1) ** (2 / 3) - 1, rel=1e-12)
    assert out["regime_in_sharpe"] == pytest.approx(r_in.mean() / r_in.std(ddof=1) * np.sqrt(2.0), rel=1e-12)
    assert out["regime_in_share"] == pytest.approx(0.6)
    # outside: two zero returns -> 0% return, Sharpe undefined (no variation)
    assert out["regime_out_return"] == pytest.approx(0.0, abs=1e-15)
    assert np.isnan(out["regime_out_sharpe"])
    assert out["regime_out_share"] == pytest.approx(0.4)
    assert out["regime_in_episodes"] == 2  # days 1-2, then day 4


def test_regime_sharpe_is_in_excess_of_the_risk_free_rate_as_the_main_sharpe() -> None:
    dates = pd.date_range("2024-01-01", periods=5, freq="D")
    value = pd.Series([110.0, 99.0, 99.0, 108.9, 108.9], index=dates)
    in_regime = pd.Series([True, True, False, True, False], index=dates)
    rf = np.array([0.01, 0.02, 0.0, 0.03, 0.0])
    out = regime_metrics(value, 100.0, in_regime, periods_per_year=2.0, risk_free=rf)
    e_in = np.array([0.10 - 0.01, -0.10 - 0.02, 0.10 - 0.03])
    assert out["regime_in_sharpe"] == pytest.approx(e_in.mean() / e_in.std(ddof=1) * np.sqrt(2.0), rel=1e-12)
    # the return stays the curve's own (not in excess)
    assert out["regime_in_return"] == pytest.approx((1.1 * 0.9 * 1.1) ** (2 / 3) - 1, rel=1e-12)


def test_regime_side_with_one_day_is_nan() -> None:
    dates = pd.date_range("2024-01-01", periods=3, freq="D")
    value = pd.Series([101.0, 102.0, 103.0], index=dates)
    out = regime_metrics(value, 100.0, pd.Series([True, False, False], index=dates), periods_per_year=252.0)
    assert np.isnan(out["regime_in_return"]) and np.isnan(out["regime_in_sharpe"])


def test_regime_is_the_condition_at_the_previous_close(tmp_path: Path) -> None:
    """Day t is classified by the regime known at the close of t-1, never by t's own close."""
    cfg = tmp_path / "regime.yaml"
    cfg.write_text(
        (CONFIGS / "corr_breakdown.yaml").read_text(encoding="utf-8").replace("start: 2000-01-01", "start: 2010-01-01"),
        encoding="utf-8",
    )
    opts = RunOptions(source="synthetic", results_dir=tmp_path)
    shifted = regime_series("corr < 0.2", cfg, opts, {})
    again = regime_series("not corr >= 0.2", cfg, opts, {})  # same condition where corr is defined
    assert shifted.dtype == bool and not shifted.iloc[0]
    assert 0.05 < shifted.mean() < 0.95  # the synthetic markets do decouple, and not always
    pd.testing.assert_series_equal(shifted, again)
    # Recompute the signal by hand: rolling 90-row corr of HK day d vs US day d-1 log returns.
    from engine.data.synthetic import SyntheticProvider
    from engine.jobs.common import SYNTHETIC_FIRST

    provider = SyntheticProvider({"^GSPC": "us", "^HSI": "hk"}, first=SYNTHETIC_FIRST)
    closes = pd.concat(
        {k: provider.fetch(s, None, None)["Close"] for k, s in (("us", "^GSPC"), ("hk", "^HSI"))}, axis=1, sort=True
    ).ffill()
    logret = np.log(closes / closes.shift(1))
    corr = logret["hk"].rolling(90).corr(logret["us"].shift(1))
    expected = (corr < 0.2).shift(1, fill_value=False).reindex(shifted.index)
    pd.testing.assert_series_equal(shifted, expected.astype(bool), check_names=False)


def test_regime_options_go_together(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["compare", str(CONFIGS / "buy_hold_us.yaml"), "--source", "synthetic", "--regime", "corr < 0.2"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 2
    assert "--regime-config" in result.output


def test_unknown_name_in_regime_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "compare",
            str(CONFIGS / "buy_hold_us.yaml"),
            "--source",
            "synthetic",
            "--results-dir",
            str(tmp_path),
            "--regime",
            "cor < 0.2",
            "--regime-config",
            str(CONFIGS / "corr_breakdown.yaml"),
        ],
    )
    assert result.exit_code == 2
    assert "--regime: unknown name 'cor'" in result.output
    assert not any(tmp_path.iterdir())  # nothing was run or written
