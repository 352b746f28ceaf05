"""``seesaw compare``'s optional columns against the independent reference, tests/compare_extras_reference.py.

The command runs in-process (``--results-dir`` under pytest's tmp_path, ``--reps 100``); every number of the
``y<year>`` columns (``--by year``), the regime columns (``--regime``) and, with ``--currency``, the converted
final value and total return is recomputed from the stored run directories, the regime from prices
(the CSV files, or a synthetic run's ``quotes.parquet``), never from the engine's code.

Tolerance: 1e-9 relative plus 1e-12 absolute (the arithmetic is the same; the absolute part covers a year
whose return is within 1e-4 of zero, where the last bits of the daily returns dominate the relative error).
The regime's spell count is compared exactly.  A recomputed correlation within 1e-9 of the threshold would
make the classification a matter of rounding: each test checks that none lies that close.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests import compare_extras_reference as ref

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
ENV = dict.fromkeys(("COLUMNS", "FORCE_COLOR", "SEESAW_STORE", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE"))
REGIME = ["--regime", "corr < 0.2", "--regime-config", str(CONFIGS / "corr_breakdown.yaml")]
THRESHOLD = 0.2
RTOL, ATOL = 1e-9, 1e-12
REGIME_KEYS = (
    "regime_in_return",
    "regime_in_sharpe",
    "regime_in_share",
    "regime_out_return",
    "regime_out_sharpe",
    "regime_out_share",
    "regime_in_episodes",
)


def compare(results: Path, configs: list[str], *options: str, fmt: str = "json") -> list[dict]:
    """Run ``seesaw compare`` in-process; the rows as dicts (None for a missing number)."""
    args = ["compare", *(str(CONFIGS / c) for c in configs), *options]
    args += ["--results-dir", str(results), "--format", fmt, "--reps", "100"]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.stderr + result.stdout
    if fmt == "json":
        rows = json.loads(result.stdout)["rows"]
    else:
        frame = pd.read_csv(io.StringIO(result.stdout))
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")
        ]
    assert rows, result.stdout
    return rows


def run_dir(results: Path, run_id: str) -> Path:
    (found,) = [p for p in results.glob(f"*/{run_id}") if p.is_dir()]
    return found


def row_curve(results: Path, row: dict, currency: str | None) -> ref.Curve:
    """The stored curve of a row: its run's strategy, or the benchmark column its name starts with."""
    directory = run_dir(results, str(row["run_id"]))
    if row["kind"] == "strategy":
        assert row["name"] in (directory.parent.name, f"{directory.parent.name} ({row['run_id']})")
        return ref.load_curve(directory, None, currency)
    columns = [c for c in pd.read_csv(directory / "benchmarks.csv", nrows=0).columns if c not in ("date", "synthetic")]
    matches = [c for c in columns if row["name"] == c or str(row["name"]).startswith(c + " (")]
    assert matches, (row["name"], columns)
    return ref.load_curve(directory, max(matches, key=len), currency)


def corr_regime(closes: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """``corr < 0.2`` of corr_breakdown's ``corr`` (rolling_corr us/hk, window 90, async; NaN is false), and corr."""
    corr = ref.async_rolling_corr(closes, early="hk", late="us", window=90)
    return (corr < THRESHOLD).fillna(False).astype(bool), corr


def assert_close(name: str, key: str, got: object, want: float | int | None) -> None:
    if want is None:
        assert got is None, f"{name} {key}: engine {got!r}, reference None (withheld)"
        return
    assert got is not None, f"{name} {key}: engine None, reference {want!r}"
    assert isinstance(got, int | float), (name, key, got)
    if key == "regime_in_episodes":
        assert int(got) == int(want), f"{name} {key}: engine {got}, reference {want}"
        return
    assert math.isclose(float(got), float(want), rel_tol=RTOL, abs_tol=ATOL), (
        f"{name} {key}: engine {got!r}, reference {want!r} (diff {float(got) - float(want):.3e})"
    )


def check_rows(
    results: Path,
    rows: list[dict],
    first: str,
    last: str,
    *,
    regime: pd.Series | None = None,
    currency: str | None = None,
    by_year: bool = True,
) -> int:
    """Compare every row's optional columns with the reference; the number of values compared."""
    checked = 0
    years = range(pd.Timestamp(first).year, pd.Timestamp(last).year + 1)
    for row in rows:
        assert (row["start"], row["end"]) == (first, last), row["name"]
        curve = row_curve(results, row, currency)
        returns, rf = ref.window_returns(curve, pd.Timestamp(first), pd.Timestamp(last))
        expected: dict[str, float | int | None] = {}
        # the window itself (a sanity check that the reference reads the same dates)
        assert math.isclose(row["periods_per_year"], ref.periods_per_year(returns.index), rel_tol=1e-12)
        if by_year:
            years_of = ref.year_returns(returns)
            assert sorted(years_of) == [f"y{y}" for y in years]
            assert sorted(k for k in row if k.startswith("y") and k[1:].isdigit()) == sorted(years_of)
            expected.update(years_of)
        if regime is not None:
            sides = ref.regime_sides(returns, rf, regime)
            for side in ("in", "out"):  # keep each side off the one-year edge (see the reference's docstring)
                side_years = sides[f"_regime_{side}_years"]
                assert isinstance(side_years, float) and abs(side_years - ref.YEAR_LESS_A_WEEK) > 0.05, sides
            expected.update({k: sides[k] for k in REGIME_KEYS})
        if currency is not None:
            assert row["currency"] == currency
            expected["final_value"] = float(curve.values[returns.index[-1]])
            expected["total_return"] = float(np.prod(1.0 + returns.to_numpy()) - 1.0)
        for key, want in expected.items():
            assert key in row, (row["name"], key)
            assert_close(str(row["name"]), key, row[key], want)
            checked += 1
    return checked


def assert_off_threshold(corr: pd.Series, first: str, last: str) -> None:
    near = corr[(corr.index >= pd.Timestamp(first) - pd.Timedelta(days=14)) & (corr.index <= pd.Timestamp(last))]
    assert float(np.nanmin(np.abs(near.to_numpy() - THRESHOLD))) > 1e-9


def assert_matches_stored_signal(corr: pd.Series, results: Path, config: str) -> None:
    """The recomputed correlation agrees with what the regime config's run stored (a check of the reference)."""
    (directory,) = [p for p in (results / config).iterdir() if (p / "run.json").is_file()]
    stored = pd.read_parquet(directory / "signals.parquet")
    stored = stored.set_index(pd.to_datetime(stored["date"]))["corr"]
    both = corr.reindex(stored.index)
    valid = both.notna() & stored.notna()
    assert valid.sum() > 500
    assert np.allclose(both[valid], stored[valid], rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- synthetic data


def test_regime_and_years_synthetic(tmp_path: Path) -> None:
    """Synthetic 2014-2019 runs compared over 2015-2019: regime columns and calendar years, three configs
    (one with a T-bill cash rate, so the regime Sharpe's excess over cash is exercised)."""
    results = tmp_path / "results"
    configs = ["corr_breakdown.yaml", "static_60_40.yaml", "relative_momentum_price_only.yaml"]
    span = ["--source", "synthetic", "--start", "2014-01-01", "--end", "2019-12-31"]
    rows = compare(results, configs, *span, "--period", "2015-01-01:2019-12-31", "--by", "year", *REGIME)
    (directory,) = [p for p in (results / "corr_breakdown").iterdir() if (p / "run.json").is_file()]
    regime, corr = corr_regime(ref.quotes_closes(directory))
    assert_matches_stored_signal(corr, results, "corr_breakdown")
    first, last = "2015-01-02", "2019-12-31"
    assert_off_threshold(corr, first, last)
    assert check_rows(results, rows, first, last, regime=regime) == len(rows) * (5 + len(REGIME_KEYS))


def test_currency_hkd_with_regime_synthetic(tmp_path: Path) -> None:
    """``--currency HKD``: USD runs converted at their fx.parquet rates, a sub-period from the previous close."""
    results = tmp_path / "results"
    configs = ["corr_breakdown.yaml", "hkd/corr_breakdown_hkd.yaml", "static_60_40.yaml"]
    span = ["--source", "synthetic", "--start", "2014-01-01", "--end", "2019-12-31"]
    rows = compare(
        results, configs, *span, "--period", "2015-01-01:2019-12-31", "--currency", "HKD", "--by", "year", *REGIME
    )
    (directory,) = [p for p in (results / "corr_breakdown").iterdir() if (p / "run.json").is_file()]
    regime, corr = corr_regime(ref.quotes_closes(directory))
    assert_off_threshold(corr, "2015-01-02", "2019-12-31")
    assert {r["currency"] for r in rows} == {"HKD"}
    assert {r["name"] for r in rows} >= {"corr_breakdown", "corr_breakdown_hkd", "static_60_40"}
    check_rows(results, rows, "2015-01-02", "2019-12-31", regime=regime, currency="HKD")


@pytest.mark.parametrize("currency", ["HKD", "USD"])
def test_currency_from_initial_capital_synthetic(tmp_path: Path, currency: str) -> None:
    """A window on the runs' first date: the initial capital is converted at the first date's rate."""
    results = tmp_path / "results"
    configs = ["corr_breakdown.yaml", "hkd/corr_breakdown_hkd.yaml"]
    span = ["--source", "synthetic", "--start", "2016-01-01", "--end", "2018-12-31"]
    rows = compare(results, configs, *span, "--currency", currency, "--by", "year")
    check_rows(results, rows, "2016-01-04", "2018-12-31", currency=currency)


# --------------------------------------------------------------------------- real data


def test_regime_and_years_real(tmp_path: Path, data_dir: Path) -> None:
    """Real data 2005-2024, the window from the runs' initial cash; the regime recomputed from GSPC.csv and
    HSI.csv (the first date classified by the close of 2004-12-31, from the history before the start)."""
    results = tmp_path / "results"
    configs = ["corr_breakdown.yaml", "static_60_40.yaml", "relative_momentum_price_only.yaml"]
    span = ["--source", "csv", "--data-dir", str(data_dir), "--start", "2005-01-01", "--end", "2024-12-31"]
    rows = compare(results, configs, *span, "--by", "year", *REGIME)
    regime, corr = corr_regime(ref.csv_closes(data_dir, {"us": "GSPC.csv", "hk": "HSI.csv"}))
    assert_matches_stored_signal(corr, results, "corr_breakdown")
    first, last = "2005-01-03", "2024-12-31"
    assert_off_threshold(corr, first, last)
    assert check_rows(results, rows, first, last, regime=regime) == len(rows) * (20 + len(REGIME_KEYS))


def test_regime_withheld_side_real_csv_hkd(tmp_path: Path, data_dir: Path) -> None:
    """Real data, 2015-2019 out of 2012-2019 runs, in HKD, as CSV: the regime held on about 0.57 years of days,
    so its side shows no annualised figure; the other side does."""
    results = tmp_path / "results"
    configs = ["corr_breakdown.yaml", "relative_momentum_price_only.yaml"]
    span = ["--source", "csv", "--data-dir", str(data_dir), "--start", "2012-01-01", "--end", "2019-12-31"]
    options = ["--period", "2015-01-01:2019-12-31", "--currency", "HKD", "--by", "year", *REGIME]
    rows = compare(results, configs, *span, *options, fmt="csv")
    regime, corr = corr_regime(ref.csv_closes(data_dir, {"us": "GSPC.csv", "hk": "HSI.csv"}))
    first, last = "2015-01-02", "2019-12-31"
    assert_off_threshold(corr, first, last)
    check_rows(results, rows, first, last, regime=regime, currency="HKD")
    assert all(r["regime_in_return"] is None and r["regime_out_return"] is not None for r in rows)
