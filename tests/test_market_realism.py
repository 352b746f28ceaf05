"""Issue 4 on real data: currency, dividends, cash yield, tradable instruments and fill timing.

Every expected number here is computed by hand from the CSV files with pandas, independently
of the engine (no engine module is used to compute an expectation).  The runs have zero costs
unless a test is about costs, so that closed forms apply exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.config.checks import check_config
from engine.config.models import StrategyConfig
from engine.data.csv import CsvProvider
from engine.data.panel import LoadedPanel, load_for_config
from engine.errors import DataError
from engine.pipeline import RunResult, required_warmup, run_config
from tests.conftest import REPO
from tests.helpers import MemProvider, real_frames

pytestmark = pytest.mark.realdata

ZERO_COSTS = {"fee_bps": 0.0, "slippage_bps": 0.0, "hk_stamp_duty_bps": 0.0}
INDEXES = {"us": {"symbol": "^GSPC", "market": "us"}, "hk": {"symbol": "^HSI", "market": "hk"}}
_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")


def make_config(**fields: Any) -> StrategyConfig:
    """A validated config from keyword fields (defaults: the index pair, zero costs, lag 1)."""
    raw: dict[str, Any] = {"name": "t", "assets": INDEXES, "costs": ZERO_COSTS, **fields}
    cfg = StrategyConfig.model_validate(raw)
    check_config(cfg)
    return cfg


def load(cfg: StrategyConfig, data_dir: Path, start: str | None, end: str) -> LoadedPanel:
    data = cfg.data.model_copy(update={"start": dt.date.fromisoformat(start) if start else None})
    data = data.model_copy(update={"end": dt.date.fromisoformat(end)})
    cfg = cfg.model_copy(update={"data": data})
    return load_for_config(CsvProvider(data_dir), cfg, warmup_rows=required_warmup(cfg))


def run(cfg: StrategyConfig, data_dir: Path, start: str | None = "2010-01-04", end: str = "2024-12-31") -> RunResult:
    return run_config(cfg, load(cfg, data_dir, start, end), engine="rust")[0]


def csv_column(data_dir: Path, file: str, column: str = "Close") -> pd.Series:
    """A column of a data file, by date, without its empty fields."""
    return pd.read_csv(data_dir / file, index_col="Date", parse_dates=True)[column].dropna()


def as_of(series: pd.Series, dates: pd.DatetimeIndex) -> np.ndarray:
    """The last value of ``series`` on or before each of ``dates``."""
    return series.reindex(series.index.union(dates)).ffill().reindex(dates).to_numpy(dtype=float)


def hkd_per_usd(data_dir: Path, dates: pd.DatetimeIndex) -> np.ndarray:
    """USD/HKD closes as the issue specifies: outside 7.74-7.86 dropped, the previous carried forward."""
    fx = csv_column(data_dir, "HKD_X.csv")
    return as_of(fx[(fx >= 7.74) & (fx <= 7.86)], dates)


def days_since(dates: pd.DatetimeIndex, first: pd.Timestamp) -> np.ndarray:
    return np.asarray((dates - first).days, dtype=float)


# --------------------------------------------------------------------------------------- currency


def test_buy_and_hold_hang_seng_in_usd_is_the_hkd_return_times_the_fx_ratio_on_every_day(data_dir: Path) -> None:
    """V_t = V_0 * (HSI_t / HSI_0) * (X_0 / X_t), X = HKD per USD, on every date of the run."""
    res = run(make_config(rules=[{"otherwise": {"hk": 1.0}}]), data_dir)
    hsi = as_of(csv_column(data_dir, "HSI.csv"), res.dates)
    fx = hkd_per_usd(data_dir, res.dates)
    expected = 100_000 * (hsi / hsi[0]) * (fx[0] / fx)
    assert res.trades[["date", "asset", "side"]].values.tolist() == [["2010-01-04", "hk", "buy"]]
    np.testing.assert_allclose(res.value, expected, rtol=1e-12)
    # The currency's contribution: the total return over the return with the rate frozen at the start.
    assert res.metrics["fx_return"] == pytest.approx(fx[0] / fx[-1] - 1.0, rel=1e-9)
    assert abs(res.metrics["fx_return"]) > 1e-4  # USD/HKD did move inside its band over 2010-2024


def test_a_bad_fx_tick_is_dropped_and_the_previous_close_used(data_dir: Path) -> None:
    """PROVENANCE.md: HKD=X closed at 7.6849 on 2008-03-14 (outside the band): a bad tick."""
    cfg = make_config(rules=[{"otherwise": {"hk": 1.0}}])
    loaded = load(cfg, data_dir, "2008-01-02", "2008-06-30")
    panel = loaded.panel
    day = int(panel.dates.get_loc(pd.Timestamp("2008-03-14")))
    fx = csv_column(data_dir, "HKD_X.csv")
    assert fx.loc["2008-03-14"] == pytest.approx(7.6849, abs=1e-4)
    assert panel.usdhkd is not None
    assert panel.usdhkd[day] == fx.loc["2008-03-13"]  # carried forward over the bad tick
    notes = " ".join(panel.notes)
    assert "dropped" in notes and "2008-03-14 7.6849" in notes and "7.74-7.86" in notes

    wide = make_config(rules=[{"otherwise": {"hk": 1.0}}], data={"fx_band": None})
    assert load(wide, data_dir, "2008-01-02", "2008-06-30").panel.usdhkd[day] == fx.loc["2008-03-14"]


def test_hkd_base_converts_the_us_index_and_leaves_the_hang_seng_alone(data_dir: Path) -> None:
    res_hk = run(make_config(base_currency="HKD", rules=[{"otherwise": {"hk": 1.0}}]), data_dir)
    res_us = run(make_config(base_currency="HKD", rules=[{"otherwise": {"us": 1.0}}]), data_dir)
    hsi = as_of(csv_column(data_dir, "HSI.csv"), res_hk.dates)
    spx = as_of(csv_column(data_dir, "GSPC.csv"), res_us.dates)
    fx = hkd_per_usd(data_dir, res_us.dates)
    np.testing.assert_allclose(res_hk.value, 100_000 * hsi / hsi[0], rtol=1e-12)
    np.testing.assert_allclose(res_us.value, 100_000 * (spx / spx[0]) * (fx / fx[0]), rtol=1e-12)
    assert res_hk.metrics["fx_return"] == 0.0


# -------------------------------------------------------------------------------------- dividends


def test_dividend_accrual_of_a_buy_and_hold_is_closed_form_compounding(data_dir: Path) -> None:
    """V_t = V_0 * (P_t / P_0) * (1 + y) ** (calendar days since the purchase / 365.25)."""
    y = 0.035
    hk = {"symbol": "^HSI", "market": "hk", "dividend_yield": y, "currency": "HKD"}
    res = run(
        make_config(base_currency="HKD", assets={**INDEXES, "hk": hk}, rules=[{"otherwise": {"hk": 1.0}}]), data_dir
    )
    hsi = as_of(csv_column(data_dir, "HSI.csv"), res.dates)
    expected = 100_000 * (hsi / hsi[0]) * (1.0 + y) ** (days_since(res.dates, res.dates[0]) / 365.25)
    np.testing.assert_allclose(res.value, expected, rtol=1e-12)
    # Over 15 years the accrual is worth about (1.035 ** 15) - 1 = 68% on top of the price.
    price_only = run(make_config(base_currency="HKD", rules=[{"otherwise": {"hk": 1.0}}]), data_dir)
    years = (res.dates[-1] - res.dates[0]).days / 365.25
    assert res.value[-1] / price_only.value[-1] == pytest.approx((1 + y) ** years, rel=1e-12)


def test_dividends_accrue_only_while_held(data_dir: Path) -> None:
    """Half in the yielding asset (rebalanced daily, zero costs): growth is half the yield, not all of it."""
    us = {"symbol": "^GSPC", "market": "us", "dividend_yield": 0.02}
    cfg = make_config(assets={**INDEXES, "us": us}, rules=[{"otherwise": {"us": 0.5}}])
    with_div = run(cfg, data_dir, "2015-01-02", "2019-12-31")
    cfg0 = make_config(rules=[{"otherwise": {"us": 0.5}}])
    without = run(cfg0, data_dir, "2015-01-02", "2019-12-31")
    years = (with_div.dates[-1] - with_div.dates[0]).days / 365.25
    extra = (with_div.value[-1] / without.value[-1]) ** (1 / years) - 1
    assert 0.005 < extra < 0.015  # about 1% a year: half of 2%, not 2%
    assert with_div.metrics["cash_interest"] == 0.0


# -------------------------------------------------------------------------------------- cash yield


def test_cash_at_a_constant_rate_accrues_closed_form(data_dir: Path) -> None:
    """All cash at 3%: V_t = V_0 * (1 + 0.03 / 365) ** (calendar days since the first date)."""
    res = run(make_config(cash_rate=0.03, rules=[{"otherwise": {}}]), data_dir)
    expected = 100_000 * (1 + 0.03 / 365) ** days_since(res.dates, res.dates[0])
    np.testing.assert_allclose(res.value, expected, rtol=1e-12)
    assert res.metrics["cash_interest"] == pytest.approx(res.value[-1] - 100_000, rel=1e-9)
    assert res.metrics["risk_free_return"] == pytest.approx(res.metrics["total_return"], rel=1e-12)
    assert math.isnan(res.metrics["sharpe"])  # all cash: no excess return, no variation
    assert len(res.trades) == 0


def test_cash_earns_the_t_bill_rate_known_on_each_day(data_dir: Path) -> None:
    """^IRX in percent a year: cash grows by (1 + irx_(d-1) / 100 / 365) ** days(d-1, d) from d-1 to d."""
    res = run(make_config(cash_rate="^IRX", rules=[{"otherwise": {}}]), data_dir, "2018-01-02", "2019-12-31")
    irx = as_of(csv_column(data_dir, "IRX.csv"), res.dates) / 100.0
    days = np.diff(res.dates.to_numpy()).astype("timedelta64[D]").astype(float)
    expected = 100_000 * np.concatenate([[1.0], np.cumprod((1 + irx[:-1] / 365) ** days)])
    np.testing.assert_allclose(res.value, expected, rtol=1e-12)
    assert 0.035 < res.metrics["total_return"] < 0.045  # T-bills paid about 1.4-2.4% a year in 2018-2019


def test_sharpe_is_in_excess_of_the_cash_rate(data_dir: Path) -> None:
    res = run(make_config(cash_rate=0.03, rules=[{"otherwise": {"us": 1.0}}]), data_dir)
    v = np.concatenate([[100_000.0], res.value])
    r = v[1:] / v[:-1] - 1
    days = days_since(res.dates, res.dates[0])
    b = (1 + 0.03 / 365) ** days
    rf = np.concatenate([[0.0], b[1:] / b[:-1] - 1])
    ppy = (len(res.dates) - 1) / ((res.dates[-1] - res.dates[0]).days / 365.25)
    e = r - rf
    assert res.metrics["sharpe"] == pytest.approx(e.mean() / e.std(ddof=1) * math.sqrt(ppy), rel=1e-9)
    down = math.sqrt(np.mean(np.minimum(e, 0) ** 2))
    assert res.metrics["sortino"] == pytest.approx(e.mean() / down * math.sqrt(ppy), rel=1e-9)
    plain = run(make_config(rules=[{"otherwise": {"us": 1.0}}]), data_dir)
    assert res.metrics["sharpe"] < plain.metrics["sharpe"]  # the same curve, less excess


# ----------------------------------------------------------------------------- stamp duty schedule


@pytest.mark.parametrize(
    ("day", "bps"),
    [("2021-07-30", 10.0), ("2021-08-02", 13.0), ("2023-11-16", 13.0), ("2023-11-17", 10.0)],
)
def test_hk_stamp_duty_follows_its_dated_schedule(data_dir: Path, day: str, bps: float) -> None:
    """Buy the Hang Seng on ``day`` with no other cost: the fee is the stamp duty in force that day."""
    cfg = make_config(costs={"fee_bps": 0.0, "slippage_bps": 0.0}, rules=[{"otherwise": {"hk": 1.0}}])
    res = run(cfg, data_dir, day, "2024-06-28")
    [trade] = res.trades.to_dict("records")
    assert trade["date"] == day
    assert trade["fees"] == pytest.approx(trade["value"] * bps / 10_000, rel=1e-12)


# -------------------------------------------------------------------------- instruments and ETFs


def test_etf_pair_config_runs_on_real_data_trading_only_the_etfs_on_new_york_sessions(
    data_dir: Path, tmp_path: Path
) -> None:
    args = ["run", str(REPO / "configs" / "etf_pair_us.yaml"), "--source", "csv", "--data-dir", str(data_dir)]
    args += ["--start", "2005-01-01", "--end", "2024-12-31", "--format", "json", "--results-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args, env=dict.fromkeys(_RICH_ENV))
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    strategy = rows[0]
    assert strategy["name"] == "etf_pair_us"
    assert set(strategy["avg_weight"]) == {"spy", "ewh"}  # the index assets are signal-only
    assert strategy["trades"] > 20
    trades = pd.read_csv(Path(strategy["run_dir"]) / "trades.csv")
    assert set(trades["asset"]) == {"spy", "ewh"}
    spy = csv_column(data_dir, "SPY.csv", "Adj Close")
    ewh = csv_column(data_dir, "EWH.csv", "Adj Close")
    for asset, series in (("spy", spy), ("ewh", ewh)):
        mine = trades[trades["asset"] == asset]
        dates = pd.DatetimeIndex(pd.to_datetime(mine["date"]))
        assert dates.isin(series.index).all()  # only on dates the ETF traded in New York
        # the exchange's adjusted close of that date, in USD, and the price before slippage
        np.testing.assert_allclose(mine["quoted_price"], series.reindex(dates).to_numpy(), rtol=1e-12)
        # ETFs pay no stamp duty: the fee is the asset's own fee_bps (1 bp) and nothing else
        np.testing.assert_allclose(mine["fees"], mine["value"] * 1e-4, rtol=1e-9)
    assert strategy["fx_return"] == 0.0  # everything traded is quoted in USD
    assert any("signal-only" in line for line in strategy["assumptions"])
    # adjusted closes of ETFs include their dividends: no line says they are left out
    assert not any("dividends not included" in line for line in strategy["assumptions"])


def test_a_close_only_column_that_is_missing_says_which_key_to_set(data_dir: Path, tmp_path: Path) -> None:
    """EWH.csv has only Adj Close: asking for its Close is one line naming assets.ewh.price."""
    cfg = make_config(
        assets={**INDEXES, "ewh": {"symbol": "EWH", "market": "us", "instrument": "etf"}},
        rules=[{"otherwise": {"ewh": 1.0}}],
    )
    with pytest.raises(DataError) as info:
        load(cfg, data_dir, "2010-01-04", "2012-12-31")
    assert "EWH: no 'Close' values" in info.value.message
    assert "set assets.ewh.price: adj_close" in info.value.message

    path = tmp_path / "ewh.yaml"
    path.write_text(
        "name: ewh\nassets:\n  ewh: {symbol: EWH, market: us, instrument: etf}\nrules:\n  - otherwise: {ewh: 1.0}\n",
        encoding="utf-8",
    )
    out = CliRunner().invoke(
        app, ["run", str(path), "--source", "csv", "--data-dir", str(data_dir), "--results-dir", str(tmp_path / "r")]
    )
    assert out.exit_code == 2
    assert len(out.stderr.splitlines()) == 1 and "assets.ewh.price: adj_close" in out.stderr
    assert not (tmp_path / "r").exists()


def test_a_proxy_with_a_shorter_history_names_its_first_date_or_starts_auto(data_dir: Path) -> None:
    tracker = {"symbol": "2800.HK", "market": "hk", "instrument": "etf", "price": "adj_close"}
    cfg = make_config(assets={**INDEXES, "tracker": tracker}, rules=[{"otherwise": {"tracker": 1.0}}])
    with pytest.raises(DataError) as info:
        load(cfg, data_dir, "2005-01-03", "2019-12-31")
    assert "asset 'tracker' (2800.HK) has no data before 2007-12-31" in info.value.message
    assert "start: auto" in info.value.message

    auto = cfg.model_copy(update={"data": cfg.data.model_copy(update={"start": "auto"})})
    loaded = load_for_config(
        CsvProvider(data_dir),
        auto.model_copy(update={"data": auto.data.model_copy(update={"end": dt.date(2019, 12, 31)})}),
        warmup_rows=required_warmup(auto),
    )
    # The first date every series has (2800.HK's first row), plus the warm-up of one row (lag 1).
    first = loaded.panel.dates[loaded.start]
    assert loaded.panel.dates[loaded.start - 1] == pd.Timestamp("2007-12-31")
    assert first > pd.Timestamp("2007-12-31")


# -------------------------------------------------------------------------------------- fill timing


def _next_open_config(lag: int = 1) -> StrategyConfig:
    """Hold SPY after a positive QQQ day, QQQ otherwise: many switches, both ETFs have opens."""
    assets = {
        "spy": {"symbol": "SPY", "market": "us", "instrument": "etf"},
        "qqq": {"symbol": "QQQ", "market": "us", "instrument": "etf"},
    }
    return make_config(
        assets=assets,
        signals={"q": {"fn": "momentum", "a": "qqq", "window": 1}},
        rules=[{"when": "q > 0", "weights": {"spy": 1.0}}, {"otherwise": {"qqq": 1.0}}],
        execution={"lag": lag, "fill": "next_open", "allow_same_bar": lag == 0},
        costs={"fee_bps": 1.0, "slippage_bps": 2.0},
    )


def _run_frames(cfg: StrategyConfig, frames: dict[str, pd.DataFrame]) -> RunResult:
    data = cfg.data.model_copy(update={"start": dt.date(2020, 1, 2), "end": dt.date(2020, 12, 31)})
    cfg = cfg.model_copy(update={"data": data})
    loaded = load_for_config(MemProvider(frames), cfg, warmup_rows=required_warmup(cfg), check_calendar=False)
    return run_config(cfg, loaded, engine="rust")[0]


def test_next_open_fills_at_the_open_of_the_day_after_the_decision(data_dir: Path) -> None:
    frames = real_frames(data_dir, ["SPY", "QQQ"])
    res = _run_frames(_next_open_config(), frames)
    assert len(res.trades) > 50
    for row in res.trades.itertuples():
        frame = frames["SPY" if row.asset == "spy" else "QQQ"]
        assert row.quoted_price == frame.loc[row.date, "Open"]  # the exchange's open, before slippage
        side = 1 if row.side == "buy" else -1
        assert row.price == pytest.approx(frame.loc[row.date, "Open"] * (1 + side * 2e-4), rel=1e-12)


@pytest.mark.parametrize("lag", [0, 1])
def test_next_open_never_uses_the_close_of_the_fill_day(data_dir: Path, lag: int) -> None:
    """Change the closes of a fill day: no trade of that day moves (decision and fill came before them)."""
    frames = real_frames(data_dir, ["SPY", "QQQ"])
    base = _run_frames(_next_open_config(lag), frames)
    days = sorted(set(base.trades["date"]))[5:45:4]
    for day in days:
        changed = {s: f.copy() for s, f in frames.items()}
        for f in changed.values():
            # +20%: a larger one-day move that reverts is a spike, which loading drops (engine.data.validate)
            f.loc[day, ["Close", "Adj Close", "High", "Low"]] *= 1.2
        other = _run_frames(_next_open_config(lag), changed)
        mine = base.trades[base.trades["date"] <= day].reset_index(drop=True)
        theirs = other.trades[other.trades["date"] <= day].reset_index(drop=True)
        pd.testing.assert_frame_equal(theirs, mine, check_exact=True)
        # ... while a change of the fill day's open does move its fills
        moved = {s: f.copy() for s, f in frames.items()}
        for f in moved.values():
            f.loc[day, "Open"] *= 1.01
        shifted = _run_frames(_next_open_config(lag), moved).trades
        assert not shifted[shifted["date"] == day]["price"].equals(mine[mine["date"] == day]["price"])


def test_next_open_without_opens_is_a_clear_error(data_dir: Path) -> None:
    cfg = make_config(
        assets={**INDEXES, "ewh": {"symbol": "EWH", "market": "us", "instrument": "etf", "price": "adj_close"}},
        rules=[{"otherwise": {"ewh": 1.0}}],
        execution={"fill": "next_open"},
    )
    with pytest.raises(DataError) as info:
        load(cfg, data_dir, "2010-01-04", "2012-12-31")
    assert "asset 'ewh' (EWH) has no Open" in info.value.message
    assert "use fill: close" in info.value.message
