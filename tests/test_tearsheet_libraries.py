"""Our tear-sheet numbers against quantstats and empyrical-reloaded (engine/metrics/tearsheet.py says which
library anchors which statistic and where the conventions differ), on real S&P 500 and Hang Seng returns and
on stored real-data runs; and the contribution identity on stored runs of several shipped configs.

The libraries are only imported here (they take seconds to import) and warn a lot, so each call is wrapped in
``warnings.catch_warnings()`` (pytest turns warnings into errors).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.jobs.common import RunOptions
from engine.jobs.run import run_configs
from engine.metrics.tearsheet import daily_returns, monthly_returns, rolling_series, tail_stats, worst_drawdowns
from engine.render.tearsheet_text import risky_assets, run_tearsheet
from engine.store.rundir import dumps_json, load_run
from tests.conftest import CONFIGS

pytestmark = pytest.mark.realdata


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def qs() -> Any:
    return _quiet(__import__, "quantstats")


@pytest.fixture(scope="module")
def ep() -> Any:
    return _quiet(__import__, "empyrical")


def _index(data_dir: Path, name: str) -> pd.Series:
    frame = pd.read_csv(data_dir / f"{name}.csv", parse_dates=["Date"], index_col="Date")
    return frame["Close"].dropna().loc["1995":]


@pytest.fixture(scope="module")
def indexes(data_dir: Path) -> dict[str, pd.Series]:
    """Closes of the S&P 500 and the Hang Seng since 1995."""
    return {"spx": _index(data_dir, "GSPC"), "hsi": _index(data_dir, "HSI")}


#: Configs whose stored runs are checked: USD and HKD base, dividends and a cash rate, adjusted ETF closes,
#: and next_open fills (configs written from these with ``fill: next_open``).
RUN_CONFIGS = ("relative_momentum", "hkd/corr_breakdown_hkd", "relative_momentum_total_return", "etf_pair_us")
OPEN_CONFIGS = ("hkd/corr_breakdown_hkd", "relative_momentum_total_return")


@pytest.fixture(scope="module")
def real_runs(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run directories of :data:`RUN_CONFIGS` and the next_open variants of :data:`OPEN_CONFIGS`, 2005-2026."""
    root = tmp_path_factory.mktemp("tearsheet-real")
    paths = [CONFIGS / f"{c}.yaml" for c in RUN_CONFIGS]
    for c in OPEN_CONFIGS:
        text = (CONFIGS / f"{c}.yaml").read_text(encoding="utf-8")
        name = Path(c).name
        text = text.replace(f"name: {name}", f"name: {name}_open").replace(
            "execution: {", "execution: {fill: next_open, "
        )
        assert "fill: next_open" in text
        (root / f"{name}_open.yaml").write_text(text, encoding="utf-8")
        paths.append(root / f"{name}_open.yaml")
    opts = RunOptions(source="csv", data_dir=data_dir, start=dt.date(2005, 1, 1), results_dir=root / "results")
    report = run_configs(paths, opts, env={}, now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    return {r.config.name: r.run_dir for r in report.runs if r.run_dir is not None}


# ---------------------------------------------------------------------------------------------
# index returns


@pytest.mark.parametrize("name", ["spx", "hsi"])
def test_monthly_returns_are_quantstats(qs: Any, indexes: dict[str, pd.Series], name: str) -> None:
    close = indexes[name]
    ours = monthly_returns(close.iloc[1:], float(close.iloc[0]))  # returns from the first close on
    theirs = _quiet(qs.stats.monthly_returns, close.pct_change().iloc[1:])
    months = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    diffs = []
    for year, row in ours.items():
        their_row = theirs.loc[year]
        diffs += [row[str(m)] - their_row[months[m - 1]] for m in range(1, 13) if str(m) in row]
        diffs.append(row["year"] - their_row["EOY"])
    assert len(diffs) == 13 * len(ours) - (12 - len(ours[max(ours)]) + 1)  # every month of an index has dates
    assert max(map(abs, diffs)) < 1e-12


@pytest.mark.parametrize("name", ["spx", "hsi"])
def test_worst_drawdowns_are_quantstats_drawdown_details(qs: Any, indexes: dict[str, pd.Series], name: str) -> None:
    """quantstats' start is the first date under water (our start's next date), its end the last date under water
    (our recovery's previous date, or the last date), its days count both ends."""
    close = indexes[name]
    value, initial = close.iloc[1:], float(close.iloc[0])
    ours = worst_drawdowns(value, initial)
    dd = _quiet(qs.stats.to_drawdown_series, daily_returns(value, initial))
    theirs = _quiet(qs.stats.drawdown_details, dd).sort_values("max drawdown").head(5)
    dates = [str(d.date()) for d in value.index]
    for mine, (_, their) in zip(ours, theirs.iterrows(), strict=True):
        first_under = dates.index(mine["start"]) + 1
        assert their["start"] == dates[first_under]
        assert their["valley"] == mine["trough"]
        last_under = dates.index(mine["recovery"]) - 1 if mine["recovery"] else len(dates) - 1
        assert their["end"] == dates[last_under]
        assert their["max drawdown"] / 100 == pytest.approx(mine["depth"], abs=1e-12)


@pytest.mark.parametrize("name", ["spx", "hsi"])
def test_tail_statistics_are_empyrical_and_quantstats(
    qs: Any, ep: Any, indexes: dict[str, pd.Series], name: str
) -> None:
    r = indexes[name].pct_change().iloc[1:]
    ours = tail_stats(r)
    assert ours["var_95"] == pytest.approx(_quiet(ep.value_at_risk, r, 0.05), abs=1e-15)
    assert ours["cvar_95"] == pytest.approx(_quiet(ep.conditional_value_at_risk, r, 0.05), abs=1e-15)
    assert ours["skew"] == pytest.approx(_quiet(qs.stats.skew, r), abs=1e-12)
    assert ours["kurtosis"] == pytest.approx(_quiet(qs.stats.kurtosis, r), abs=1e-12)
    # quantstats' win rate leaves the zero days out: positive_days * n = win_rate * (n - zero days)
    n, zeros = len(r), int((r == 0).sum())
    assert ours["positive_days"] * n == pytest.approx(_quiet(qs.stats.win_rate, r) * (n - zeros), abs=1e-9)


def test_rolling_correlation_and_beta_are_pandas_and_empyrical(ep: Any, indexes: dict[str, pd.Series]) -> None:
    both = pd.DataFrame(indexes).dropna()  # the dates both traded
    value = both["spx"] * 1000
    got = rolling_series(value, both, ["hsi"], 252)["hsi"]
    r, x = value.pct_change().iloc[1:], both["hsi"].pct_change().iloc[1:]
    corr = r.rolling(252).corr(x)
    beta = _quiet(ep.roll_beta, r, x, 252)
    assert np.nanmax(np.abs(got["correlation"].to_numpy() - corr.to_numpy())) < 1e-12
    assert np.nanmax(np.abs(got["beta"].dropna().to_numpy() - np.asarray(beta, dtype=float))) < 1e-12
    assert got["beta"].notna().sum() == len(beta)


# ---------------------------------------------------------------------------------------------
# stored runs


def test_a_stored_runs_statistics_are_the_libraries(qs: Any, ep: Any, real_runs: dict[str, Path]) -> None:
    run = load_run(real_runs["relative_momentum"])
    ts = run.metrics["tearsheet"]
    r = daily_returns(run.equity["value"], run.initial_cash)
    assert ts["var_95"] == pytest.approx(_quiet(ep.value_at_risk, r, 0.05), abs=1e-15)
    assert ts["cvar_95"] == pytest.approx(_quiet(ep.conditional_value_at_risk, r, 0.05), abs=1e-15)
    assert ts["skew"] == pytest.approx(_quiet(qs.stats.skew, r), abs=1e-12)
    assert ts["kurtosis"] == pytest.approx(_quiet(qs.stats.kurtosis, r), abs=1e-12)
    theirs = _quiet(qs.stats.monthly_returns, r)
    for year, row in ts["monthly_returns"].items():
        assert row["year"] == pytest.approx(theirs.loc[year, "EOY"], abs=1e-12)
    window = ts["rolling"]["window"]
    for asset in risky_assets(run):
        x = run.prices[asset].pct_change().iloc[1:]
        beta = _quiet(ep.roll_beta, r.iloc[1:], x, window)
        assert ts["rolling"][asset]["beta"]["last"] == pytest.approx(float(beta.iloc[-1]), abs=1e-12)
        assert ts["rolling"][asset]["beta"]["median"] == pytest.approx(float(beta.median()), abs=1e-12)
    dd = _quiet(qs.stats.drawdown_details, _quiet(qs.stats.to_drawdown_series, r))
    assert ts["worst_drawdowns"][0]["depth"] == pytest.approx(dd["max drawdown"].min() / 100, abs=1e-12)
    assert ts["worst_drawdowns"][0]["depth"] == pytest.approx(run.metrics["strategy"]["max_drawdown"], abs=1e-12)


@pytest.mark.parametrize(
    "name", [*(Path(c).name for c in RUN_CONFIGS), *(f"{Path(c).name}_open" for c in OPEN_CONFIGS)]
)
def test_contribution_adds_up_to_the_total_return(real_runs: dict[str, Path], name: str) -> None:
    run = load_run(real_runs[name])
    c = run.metrics["tearsheet"]["contribution"]
    assert c["currency"] is not None and set(c) == {*risky_assets(run), "currency", "cash_interest", "costs"}
    assert sum(c.values()) == pytest.approx(run.metrics["strategy"]["total_return"], abs=1e-9)
    s = run.metrics["strategy"]
    assert -c["costs"] * run.initial_cash == pytest.approx(s["fees_paid"] + s["slippage_paid"], rel=1e-9)
    assert c["cash_interest"] * run.initial_cash == pytest.approx(s["cash_interest"], rel=1e-9, abs=1e-9)
    if run.metrics["data"]["base_currency"] == "HKD" or name.startswith("relative_momentum"):
        assert c["currency"] != 0.0  # a foreign asset was held


@pytest.mark.parametrize("name", ["relative_momentum", "corr_breakdown_hkd_open"])
def test_the_stored_tearsheet_is_recomputed_from_the_stored_tables(real_runs: dict[str, Path], name: str) -> None:
    run = load_run(real_runs[name])
    stored = json.loads((run.run_dir / "metrics.json").read_text(encoding="utf-8"))["tearsheet"]
    metrics = {k: v for k, v in run.metrics.items() if k != "tearsheet"}
    fresh = run_tearsheet(dataclasses.replace(run, metrics=metrics))  # computed, not read back
    assert dumps_json(fresh) == dumps_json(stored)  # byte for byte
