"""``seesaw compare --currency`` and mixed-currency ``--runs latest``, on real data.

The oracle reads the raw Yahoo-style CSVs itself (no engine code): a buy-and-hold of the S&P 500
stored in HKD and shown in USD must return what the ^GSPC closes return (its dividend yield is 0
in the shipped config), because the HKD=X rate it went through is divided out again; and the HKD
strategy's curve in USD is its HKD curve divided by the HKD=X close of each date.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.test_compare import invoke, ok

REPO = Path(__file__).resolve().parents[1]
HKD = REPO / "configs" / "hkd" / "corr_breakdown_hkd.yaml"
USD = REPO / "configs" / "corr_breakdown.yaml"
WINDOW = ("--start", "2015-01-01", "--end", "2019-12-31")


def _csv_close(data_dir: Path, name: str) -> pd.Series:
    frame = pd.read_csv(data_dir / name, parse_dates=["Date"]).set_index("Date")
    return frame["Close"].dropna()


@pytest.fixture(scope="module")
def mixed(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = tmp_path_factory.mktemp("currency") / "results"
    ok(
        "run",
        str(HKD),
        str(USD),
        "--source",
        "csv",
        "--data-dir",
        str(data_dir),
        *WINDOW,
        "--results-dir",
        str(results),
    )
    return results


def _compare_json(results: Path, *args: str) -> dict:
    return json.loads(ok("compare", "--runs", "latest", "--results-dir", str(results), "--reps", "100", "--format",
                         "json", *args))  # fmt: skip


@pytest.mark.realdata
def test_mixed_latest_runs_compare_in_the_majority_currency_and_say_so(mixed: Path) -> None:
    result = invoke("compare", "--runs", "latest", "--results-dir", str(mixed), "--reps", "100")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    # one run each: a tie, so USD; the HKD run is the one converted
    assert "Shown in USD (USD on a tie; --currency USD|HKD chooses): corr_breakdown_hkd (HKD) converted" in text


@pytest.mark.realdata
@pytest.mark.parametrize("currency", ["USD", "HKD"])
def test_every_row_is_in_the_currency_asked_for(mixed: Path, currency: str) -> None:
    doc = _compare_json(mixed, "--currency", currency)
    assert {row["currency"] for row in doc["rows"]} == {currency}


@pytest.mark.realdata
def test_the_hkd_run_in_usd_matches_the_raw_closes(mixed: Path, data_dir: Path) -> None:
    """From 2016 on (a sub-period starts from the previous close, after the first fills' costs)."""
    doc = _compare_json(mixed, "--currency", "USD", "--period", "2016-01-01:2019-12-31")
    run_dir = next((mixed / "corr_breakdown_hkd").iterdir())
    equity = pd.read_csv(run_dir / "equity.csv", parse_dates=["date"]).set_index("date")["value"]
    first, last = pd.Timestamp(doc["first"]), pd.Timestamp(doc["last"])
    before = equity.index[equity.index.get_loc(first) - 1]  # the previous close of the run's timeline
    spx, hkd_per_usd = _csv_close(data_dir, "GSPC.csv"), _csv_close(data_dir, "HKD_X.csv")
    rows = {row["name"]: row for row in doc["rows"]}
    # the S&P 500 held through HKD and shown in USD is the S&P 500 (the USD run's twin is merged into it)
    assert rows["buy & hold US"]["total_return"] == pytest.approx(spx.asof(last) / spx.asof(before) - 1, rel=1e-9)
    # the HKD strategy's stored HKD curve divided by HKD=X on each date
    hkd_name = next(n for n in rows if n.startswith("corr_breakdown") and n != "corr_breakdown")
    in_usd = equity / hkd_per_usd.reindex(equity.index, method="ffill")
    assert rows[hkd_name]["total_return"] == pytest.approx(in_usd[last] / in_usd[before] - 1, rel=1e-9)


@pytest.mark.realdata
def test_an_unknown_currency_is_a_usage_error(mixed: Path) -> None:
    result = invoke("compare", "--runs", "latest", "--results-dir", str(mixed), "--currency", "EUR")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: Invalid value for '--currency': 'EUR' is not one of 'USD', 'HKD'.")
