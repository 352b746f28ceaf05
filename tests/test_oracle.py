"""The engine against the independent reference (tests/reference.py), vectorbt, and the hand.

* real data: end-of-day equity to 1e-9 on every day and the same fills as the
  oracle, with targets recomputed from the signal formulas (signals + rules +
  execution + simulation checked together);
* buy and hold equals the price ratio;
* the Rust and Numba engines agree;
* metrics equal vectorbt's returns accessor, and our value equals ``pf.value()``;
* cases computed by hand, and seven-date scenarios for superseding, pending legs and lag 0.

The oracle is fed the panel's prices and, for the strategies, targets it recomputes itself;
cost fractions are derived here from the documented basis points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.config import load_config
from engine.config.models import AssetSpec, Costs, Execution, StrategyConfig
from engine.data.csv import CsvProvider
from engine.data.panel import LoadedPanel, PricePanel, build_panel, load_for_config, load_panel
from engine.pipeline import Allocation, RunResult, required_warmup, run_allocations, run_config, strategy_allocation
from engine.simulate import simulate
from tests import oracle, reference

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
START, END = dt.date(2005, 1, 1), dt.date(2024, 12, 31)
TRADE_KEYS = ["date", "asset", "side"]
TRADE_NUMBERS = ["quantity", "price", "fees"]


#: The shipped configs' costs with a flat 10 bps HK stamp duty, so the oracle's per-asset fees apply.
FLAT_COSTS = Costs(fee_bps=5, slippage_bps=5, hk_stamp_duty_bps=10)


def config(name: str, *, lag: int | None = None, costs: Costs | None = FLAT_COSTS) -> StrategyConfig:
    cfg = load_config(CONFIGS / f"{name}.yaml")
    if lag is not None:
        cfg = cfg.model_copy(update={"execution": cfg.execution.model_copy(update={"lag": lag})})
    if costs is not None:
        cfg = cfg.model_copy(update={"costs": costs})
    return cfg


def load(cfg: StrategyConfig, data_dir: Path, start: dt.date = START, end: dt.date = END) -> LoadedPanel:
    return load_panel(
        CsvProvider(data_dir),
        cfg.assets,
        price_field="close",
        start=start,
        end=end,
        warmup_rows=required_warmup(cfg),
    )


# Independent signals + rules, on the carried-forward closes (us, hk) of the union timeline; the
# windows are read from the config, whose signal names and rules these functions spell out.
TargetsFn = Callable[[dict, np.ndarray, np.ndarray], np.ndarray]
INDEPENDENT_TARGETS: dict[str, TargetsFn] = {
    "corr_breakdown": lambda sig, us, hk: oracle.corr_breakdown_targets(
        us, hk, corr_window=sig["corr"]["window"], mom_window=sig["mom"]["window"]
    ),
    "ratio_trend": lambda sig, us, hk: oracle.ratio_trend_targets(us, hk, window=sig["trend"]["window"]),
    "relative_momentum": lambda sig, us, hk: oracle.relative_momentum_targets(us, hk, window=sig["rel"]["window"]),
}


@dataclass(frozen=True)
class Case:
    cfg: StrategyConfig
    loaded: LoadedPanel
    results: list[RunResult]  # [strategy, *benchmarks]
    data_dir: Path


@pytest.fixture(scope="module")
def cases(data_dir: Path) -> dict[str, Case]:
    out = {}
    for key, cfg in {
        "corr_breakdown": config("corr_breakdown"),  # on_change; fee + slippage + HK stamp duty
        "ratio_trend": config("ratio_trend", lag=2),
        "relative_momentum": config("relative_momentum"),  # monthly, all cash when both momenta are negative
    }.items():
        loaded = load(cfg, data_dir)
        out[key] = Case(cfg, loaded, run_config(cfg, loaded, engine="rust"), data_dir)
    return out


def usd_per_hkd(data_dir: Path, dates: pd.DatetimeIndex) -> np.ndarray:
    """USD per HKD on ``dates``, by hand from HKD_X.csv: closes outside 7.74-7.86 dropped, the last carried forward."""
    fx = pd.read_csv(data_dir / "HKD_X.csv", index_col="Date", parse_dates=True)["Close"].dropna()
    fx = fx[(fx >= 7.74) & (fx <= 7.86)]
    return 1.0 / fx.reindex(fx.index.union(dates)).ffill().reindex(dates).to_numpy()


def reference_run(
    panel: PricePanel,
    start: int,
    targets: np.ndarray,
    *,
    data_dir: Path,
    lag: int,
    rebalance: str,
    fee_bps: float,
    slippage_bps: float,
    stamp_bps: float,
    initial_cash: float,
    yields: dict[str, float] | None = None,
    cash_rate: float | None = None,
    fill: str = "close",
    opens: pd.DataFrame | None = None,
) -> reference.ReferenceRun:
    """The independent reference (tests/reference.py) on the panel's quoted closes, in USD, with the
    USD/HKD closes read by hand from HKD_X.csv (outside 7.74-7.86 dropped, the last carried forward)."""
    closes = pd.DataFrame(panel.close, index=panel.dates, columns=list(panel.assets))
    usdhkd = None
    if "hk" in panel.markets:
        fx = pd.read_csv(data_dir / "HKD_X.csv", index_col="Date", parse_dates=True)["Close"].dropna()
        fx = fx[(fx >= 7.74) & (fx <= 7.86)]
        usdhkd = fx.reindex(fx.index.union(panel.dates)).ffill().reindex(panel.dates)
    return reference.backtest(
        closes,
        markets=dict(zip(panel.assets, panel.markets, strict=True)),
        targets=pd.DataFrame(targets, index=panel.dates, columns=list(panel.assets)),
        start=panel.dates[start],
        lag=lag,
        rebalance=rebalance,
        fill=fill,
        opens=opens,
        base_currency="USD",
        usdhkd=usdhkd,
        fee_bps=fee_bps,
        slippage_bps=slippage_bps,
        stamp_duty={a: stamp_bps if m == "hk" else None for a, m in zip(panel.assets, panel.markets, strict=True)},
        dividend_yield=yields,
        cash_rate=cash_rate,
        initial_cash=initial_cash,
    )


def oracle_run(case: Case, targets: np.ndarray, rebalance: str) -> reference.ReferenceRun:
    costs = case.cfg.costs
    assert costs.fee_bps > 0 and costs.slippage_bps > 0 and costs.hk_stamp_duty_bps  # all in play
    return reference_run(
        case.loaded.panel,
        case.loaded.start,
        targets,
        data_dir=case.data_dir,
        lag=case.cfg.execution.lag,
        rebalance=rebalance,
        fee_bps=costs.fee_bps,
        slippage_bps=costs.slippage_bps,
        stamp_bps=costs.hk_stamp_duty_bps,
        initial_cash=case.cfg.initial_cash,
    )


def assert_same_run(engine: RunResult, expected: reference.ReferenceRun) -> None:
    """Equity to 1e-9 on every date, and the same fills (keys exactly, numbers to 1e-9)."""
    assert list(engine.dates) == list(expected.equity.index)
    np.testing.assert_allclose(engine.value, expected.equity["value"].to_numpy(), rtol=1e-9, atol=0)
    got = engine.trades.reset_index(drop=True)
    want = expected.trades.assign(date=pd.DatetimeIndex(expected.trades["date"]).strftime("%Y-%m-%d"))
    got = got.sort_values(TRADE_KEYS, kind="stable").reset_index(drop=True)
    want = want.sort_values(TRADE_KEYS, kind="stable").reset_index(drop=True)
    assert len(got) == len(want), f"{len(got)} fills, expected {len(want)}"
    pd.testing.assert_frame_equal(got[TRADE_KEYS], want[TRADE_KEYS])
    for col in TRADE_NUMBERS:
        np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=1e-9, atol=0, err_msg=col)


# ----------------------------------------------------------------------------- 1. the oracle on real data


@pytest.mark.realdata
@pytest.mark.parametrize("key", list(INDEPENDENT_TARGETS))
def test_strategy_matches_oracle_with_independent_targets(cases: dict[str, Case], key: str) -> None:
    case = cases[key]
    assert case.loaded.panel.assets == ("us", "hk")
    known = oracle.carried_forward(case.loaded.panel.close)
    targets = INDEPENDENT_TARGETS[key](case.cfg.signals, known[:, 0], known[:, 1])
    # signals + rules first, on their own, for a readable failure
    engine_targets = strategy_allocation(case.cfg, case.loaded.panel).targets
    differ = np.flatnonzero(np.any(targets != engine_targets, axis=1))
    assert differ.size == 0, f"targets differ on {[str(case.loaded.panel.dates[i].date()) for i in differ[:5]]}"

    expected = oracle_run(case, targets, case.cfg.execution.rebalance)
    assert_same_run(case.results[0], expected)

    # the run exercises what it claims to: switches, and HK buys that wait for US proceeds (a US sale
    # at New York's close funds a Hong Kong buy at Hong Kong's next close)
    trades = case.results[0].trades
    assert len(expected.trades) > 90
    us_sales = set(trades.loc[(trades["asset"] == "us") & (trades["side"] == "sell"), "date"])
    hk_buys = trades.loc[(trades["asset"] == "hk") & (trades["side"] == "buy"), "date"]
    dates = case.loaded.panel.dates.strftime("%Y-%m-%d")
    waited = [d for d in hk_buys if dates[dates.get_loc(d) - 1] in us_sales]
    assert waited, "no Hong Kong buy waited for a US sale"
    if key == "relative_momentum":
        held = case.results[0].asset_value.sum(axis=1)
        assert (held[20:] == 0).any(), "no all-cash period after the first month"


@pytest.mark.realdata
@pytest.mark.parametrize("key", list(INDEPENDENT_TARGETS))
def test_50_50_monthly_benchmark_matches_oracle(cases: dict[str, Case], key: str) -> None:
    case = cases[key]
    bench = case.results[3]
    assert bench.name == "50/50 monthly"
    n = len(case.loaded.panel.dates)
    expected = oracle_run(case, np.tile([0.5, 0.5], (n, 1)), "monthly")
    assert_same_run(bench, expected)
    assert len(expected.trades) > 2 * 12 * 19  # both legs every month for 20 years


@pytest.mark.realdata
@pytest.mark.parametrize("key", list(INDEPENDENT_TARGETS))
def test_metrics_match_oracle(cases: dict[str, Case], key: str) -> None:
    for res in (cases[key].results[0], cases[key].results[3]):
        want = oracle.metrics(res.dates, res.value, cases[key].cfg.initial_cash)
        got = {k: res.metrics[k] for k in want}
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=0, err_msg=f"{res.name}: {k}")


@pytest.mark.realdata
@pytest.mark.parametrize("rebalance", ["weekly", "daily"])
def test_other_rebalance_modes_match_oracle(data_dir: Path, rebalance: str) -> None:
    cfg = config("static_60_40")
    cfg = cfg.model_copy(update={"execution": cfg.execution.model_copy(update={"rebalance": rebalance})})
    loaded = load(cfg, data_dir, start=dt.date(2015, 1, 1))
    case = Case(cfg, loaded, run_config(cfg, loaded, engine="rust"), data_dir)
    n = len(loaded.panel.dates)
    assert_same_run(case.results[0], oracle_run(case, np.tile([0.6, 0.4], (n, 1)), rebalance))


@pytest.mark.realdata
def test_two_assets_in_one_market_match_oracle(data_dir: Path) -> None:
    """Two US assets (S&P 500, Nasdaq 100) and the Hang Seng, moving between two mixes every month.

    (0.2, 0.4, 0.4) -> (0.5, 0.5, 0): HK sells, then two US buys share the next US slot; the
    smaller goes first (call_seq auto) and the second is cut to the cash left (fees).
    (0.5, 0.5, 0) -> (0.2, 0.4, 0.4): two US sells share a slot, both sized from the group value
    before the slot (update_value False).  Only here do two orders share a slot.
    """
    specs = {
        "spx": AssetSpec(symbol="^GSPC", market="us"),
        "ndx": AssetSpec(symbol="^NDX", market="us"),
        "hk": AssetSpec(symbol="^HSI", market="hk"),
    }
    loaded = load_panel(
        CsvProvider(data_dir), specs, price_field="close", start=dt.date(2015, 1, 1), end=END, warmup_rows=1
    )
    months = loaded.panel.dates.month.to_numpy()
    targets = np.where((months % 2 == 0)[:, None], [0.2, 0.4, 0.4], [0.5, 0.5, 0.0])
    costs = Costs(fee_bps=5, slippage_bps=5, hk_stamp_duty_bps=10)
    res = run_allocations(
        [Allocation("strategy", "spx_ndx", targets, "on_change")],
        loaded,
        execution=Execution(lag=1, rebalance="on_change"),
        costs=costs,
        initial_cash=100_000.0,
        engine="rust",
    )[0]
    expected = reference_run(
        loaded.panel,
        loaded.start,
        targets,
        data_dir=data_dir,
        lag=1,
        rebalance="on_change",
        fee_bps=5,
        slippage_bps=5,
        stamp_bps=10,
        initial_cash=100_000.0,
    )
    assert_same_run(res, expected)
    us_fills = res.trades[res.trades["asset"] != "hk"].groupby(["date", "side"]).size()
    assert (us_fills == 2).sum() > 100  # two US buys, or two US sells, in one slot


@pytest.mark.realdata
def test_dividends_cash_interest_fx_and_costs_together_match_oracle(data_dir: Path) -> None:
    """corr_breakdown with dividend yields, a 4% cash rate and flat costs, in USD, against the oracle.

    By hand, independently of engine/valuation.py: one unit of asset j is worth
    close x (1 + y_j) ** (days since the first simulated date / 365.25) x USD per unit of its
    currency; cash grows by (1 + 0.04 / 365) ** days from one date to the next.  The oracle
    trades at those prices and credits that interest; the engine simulates in cash-index units.
    """
    cfg = config("corr_breakdown")
    yields = {"us": 0.019, "hk": 0.035}
    assets = {a: spec.model_copy(update={"dividend_yield": yields[a]}) for a, spec in cfg.assets.items()}
    cfg = cfg.model_copy(update={"assets": assets, "cash_rate": 0.04})
    data = cfg.data.model_copy(update={"start": dt.date(2008, 1, 2), "end": dt.date(2016, 12, 30)})
    loaded = load_for_config(
        CsvProvider(data_dir), cfg.model_copy(update={"data": data}), warmup_rows=required_warmup(cfg)
    )
    results = run_config(cfg, loaded, engine="rust")
    panel, start = loaded.panel, loaded.start
    targets = strategy_allocation(cfg, panel).targets
    for res, alloc_targets, rebalance, min_fills in (
        (results[0], targets, cfg.execution.rebalance, 10),
        (results[3], np.tile([0.5, 0.5], (len(panel.dates), 1)), "monthly", 200),
    ):
        expected = reference_run(
            panel,
            start,
            alloc_targets,
            data_dir=data_dir,
            lag=cfg.execution.lag,
            rebalance=rebalance,
            fee_bps=cfg.costs.fee_bps,
            slippage_bps=cfg.costs.slippage_bps,
            stamp_bps=cfg.costs.hk_stamp_duty_bps or 0.0,
            initial_cash=cfg.initial_cash,
            yields=yields,
            cash_rate=0.04,
        )
        assert_same_run(res, expected)
        assert len(expected.trades) > min_fills
    # cash was held (benchmarks keep a little, the strategy more), so interest was earned
    assert results[0].metrics["cash_interest"] > 0


@pytest.mark.realdata
def test_next_open_fills_match_oracle(data_dir: Path) -> None:
    """SPY/QQQ on their opens (fill: next_open), fee and slippage, against the oracle's open fills."""
    specs = {
        "spy": AssetSpec(symbol="SPY", market="us", instrument="etf"),
        "qqq": AssetSpec(symbol="QQQ", market="us", instrument="etf"),
    }
    cfg = StrategyConfig.model_validate(
        {
            "name": "opens",
            "data": {"start": "2018-01-02", "end": "2021-12-31"},
            "assets": {a: s.model_dump(exclude_none=True) for a, s in specs.items()},
            "rules": [{"otherwise": {"spy": 0.6, "qqq": 0.4}}],
            "execution": {"lag": 1, "rebalance": "weekly", "fill": "next_open"},
            "costs": {"fee_bps": 3, "slippage_bps": 4},
        }
    )
    loaded = load_for_config(CsvProvider(data_dir), cfg, warmup_rows=required_warmup(cfg))
    res = run_config(cfg, loaded, engine="rust")[0]
    panel = loaded.panel
    opens = np.column_stack(
        [
            pd.read_csv(data_dir / f"{s}.csv", index_col="Date", parse_dates=True)["Open"].reindex(panel.dates)
            for s in ("SPY", "QQQ")
        ]
    )
    expected = reference_run(
        panel,
        loaded.start,
        np.tile([0.6, 0.4], (len(panel.dates), 1)),
        data_dir=data_dir,
        lag=1,
        rebalance="weekly",
        fee_bps=3,
        slippage_bps=4,
        stamp_bps=0.0,
        initial_cash=cfg.initial_cash,
        fill="next_open",
        opens=pd.DataFrame(opens, index=panel.dates, columns=list(panel.assets)),
    )
    assert_same_run(res, expected)
    assert len(expected.trades) > 150


# ----------------------------------------------------------------------------- 2. buy and hold


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "symbol", "base", "local_return"),
    [
        ("buy_hold_us", "GSPC", "USD", 1.200),
        ("buy_hold_hk", "HSI", "USD", -0.330),
        ("buy_hold_us", "GSPC", "HKD", 1.200),
        ("buy_hold_hk", "HSI", "HKD", -0.330),
    ],
)
def test_buy_and_hold_equals_price_ratio_times_fx_ratio(
    data_dir: Path, name: str, symbol: str, base: str, local_return: float
) -> None:
    """The price ratio in the asset's currency, times the exchange-rate ratio when it is not the base."""
    cfg = config(name, costs=Costs(fee_bps=0, slippage_bps=0, hk_stamp_duty_bps=0))
    cfg = cfg.model_copy(update={"base_currency": base})
    loaded = load_for_config(
        CsvProvider(data_dir),
        cfg.model_copy(
            update={"data": cfg.data.model_copy(update={"start": dt.date(2017, 12, 29), "end": dt.date(2024, 12, 31)})}
        ),
        warmup_rows=required_warmup(cfg),
    )
    res = run_config(cfg, loaded, engine="rust")[0]
    # Decided on 2017-12-28 (a warm-up row), bought at the close of 2017-12-29, held to 2024-12-31.
    raw = pd.read_csv(data_dir / f"{symbol}.csv", index_col="Date", parse_dates=True)["Close"]
    ratio = raw.loc["2024-12-31"] / raw.loc["2017-12-29"]
    usd_per_hkd_0, usd_per_hkd_1 = usd_per_hkd(data_dir, pd.DatetimeIndex(["2017-12-29", "2024-12-31"]))
    quoted_in = "HKD" if symbol == "HSI" else "USD"
    fx_ratio = 1.0
    if quoted_in != base:  # HKD in USD: USD per HKD; USD in HKD: HKD per USD
        fx_ratio = usd_per_hkd_1 / usd_per_hkd_0 if base == "USD" else usd_per_hkd_0 / usd_per_hkd_1
        assert abs(fx_ratio - 1.0) > 1e-4  # the currency did move over the period
    assert res.trades[["date", "side"]].values.tolist() == [["2017-12-29", "buy"]]
    assert res.metrics["total_return"] == pytest.approx(ratio * fx_ratio - 1.0, rel=1e-12)
    assert res.metrics["fx_return"] == pytest.approx(fx_ratio - 1.0, rel=1e-9, abs=1e-15)
    assert abs(ratio - 1.0 - local_return) < 0.001  # +120.0% / -33.0% to 0.1 percentage point
    assert res.value[0] == pytest.approx(cfg.initial_cash, rel=1e-12)


# ----------------------------------------------------------------------------- 3. engine parity


@pytest.mark.realdata
@pytest.mark.slow
def test_rust_and_numba_engines_agree(cases: dict[str, Case]) -> None:
    case = cases["corr_breakdown"]
    rust = case.results[0]
    numba = run_config(case.cfg, case.loaded, engine="numba")[0]  # compiles for ~20 s on first use
    np.testing.assert_allclose(numba.value, rust.value, rtol=1e-12, atol=0)
    pd.testing.assert_frame_equal(numba.trades, rust.trades, check_exact=False, rtol=1e-12, atol=0)


# ----------------------------------------------------------------------------- 4. against vectorbt itself


@pytest.mark.realdata
@pytest.mark.parametrize("key", list(INDEPENDENT_TARGETS))
def test_metrics_match_vectorbt_returns_accessor(cases: dict[str, Case], key: str) -> None:
    res, initial = cases[key].results[0], cases[key].cfg.initial_cash
    ppy = res.metrics["periods_per_year"]
    rets = pd.Series(res.value / np.concatenate([[initial], res.value[:-1]]) - 1.0, index=res.dates)
    # ann_factor = year_freq / freq = ppy: our annualisation by the run's own periods per year.
    acc = rets.vbt.returns(freq="1D", year_freq=pd.Timedelta(days=ppy))
    assert acc.ann_factor == pytest.approx(ppy, rel=1e-12)
    # Both use the sample standard deviation (ddof=1; vectorbt's settings['returns']['defaults']).
    assert res.metrics["sharpe"] == pytest.approx(acc.sharpe_ratio(ddof=1), rel=1e-9)
    assert res.metrics["ann_vol"] == pytest.approx(acc.annualized_volatility(ddof=1), rel=1e-9)
    # Sortino: vectorbt's downside_risk_1d_nb averages squared shortfalls over all periods, as we do.
    assert res.metrics["sortino"] == pytest.approx(acc.sortino_ratio(), rel=1e-9)
    # Max drawdown: vectorbt's drawdown starts its running peak at the first date's value; ours
    # counts the initial cash as the first peak (a loss on day one -- fees -- is a drawdown).  A
    # zero return before the first date puts the initial cash into vectorbt's curve.
    padded = pd.concat([pd.Series([0.0], index=[res.dates[0] - pd.Timedelta(days=1)]), rets])
    assert res.metrics["max_drawdown"] == pytest.approx(padded.vbt.returns(freq="1D").max_drawdown(), rel=1e-9)


def test_value_equals_vectorbt_portfolio_value() -> None:
    """simulate() values positions itself (cash + units x price); vectorbt's pf.value() agrees."""
    import vectorbt as vbt

    rng = np.random.default_rng(7)
    n, n_assets = 40, 2
    price = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, n_assets)), axis=0))
    sizes = []
    for _ in range(2):  # two allocations, one call, separate cash
        s = np.full((n, n_assets), np.nan)
        rows = rng.choice(n, 10, replace=False)
        s[rows] = rng.dirichlet([1.0, 1.0, 0.5], size=10)[:, :n_assets]
        sizes.append(s)
    fees, slippage = np.array([0.0005, 0.0015]), np.array([0.0005, 0.0005])
    sims = simulate(sizes=sizes, price=price, fees=fees, slippage=slippage, init_cash=1000.0, engine="rust")
    pf = vbt.Portfolio.from_orders(
        close=np.tile(price, (1, 2)),
        size=np.hstack(sizes),
        size_type="targetpercent",
        direction="longonly",
        price=np.tile(price, (1, 2)),
        val_price=np.tile(price, (1, 2)),
        fees=np.tile(fees, 2),
        slippage=np.tile(slippage, 2),
        init_cash=1000.0,
        cash_sharing=True,
        group_by=np.repeat(np.arange(2), n_assets),
        call_seq="auto",
        allow_partial=True,
        raise_reject=False,
        ffill_val_price=True,
        update_value=False,
        engine="rust",
    )
    value = np.asarray(pf.value(), dtype=float)
    assert sum(len(s.order_size) for s in sims) > 10
    for g, sim in enumerate(sims):
        np.testing.assert_allclose(sim.value, value[:, g], rtol=1e-12, atol=0)


# ----------------------------------------------------------------------------- 5. by hand


def test_switch_by_hand() -> None:
    """All in US, then switch to HK: fee 10 bps, no slippage, lag 1, HK closed on 01-08.

    date    us    hk   decided  what happens (closes: HK first, then New York)
    01-02  100    50   us       warm-up row: the decision "all US" is taken after the close
    01-03  100    50   us       buy US at the US close 100 with all the cash: 100,100 / 1.001 = 100,000
                                -> 1,000 units, fee 100; equity 1,000 x 100 = 100,000
    01-04  120    48   hk       equity 1,000 x 120 = 120,000; decision: switch to HK
    01-05  125    50   hk       sell US at the US close: 1,000 x 125 = 125,000, fee 125 -> cash 124,875.
                                HK closed ~13 h before New York: the HK buy waits for the proceeds
    01-08  130    --   hk       HK closed: still cash, equity 124,875
    01-09  131    40   hk       buy HK at 40 with all the cash: 124,875 / 1.001 = 124,750.2497...
                                -> 3,118.756... units, fee 124.7502...; equity 124,750.2497...
    """
    us = pd.Series([100.0, 100, 120, 125, 130, 131], index=pd.to_datetime(DATES_US))
    hk = pd.Series([50.0, 50, 48, 50, 40], index=pd.to_datetime(DATES_HK))
    specs = {"us": AssetSpec(symbol="US", market="us"), "hk": AssetSpec(symbol="HK", market="hk", currency="USD")}
    panel = build_panel({"us": us, "hk": hk}, specs, price_field="close", source="hand", synthetic=True)
    loaded = LoadedPanel(panel=panel, start=1, warmup_needed=1)
    targets = np.array([[1.0, 0.0]] * 2 + [[0.0, 1.0]] * 4)  # the "decided" column
    costs = Costs(fee_bps=10, slippage_bps=0, hk_stamp_duty_bps=0)
    res = run_allocations(
        [Allocation("strategy", "by_hand", targets, "on_change")],
        loaded,
        execution=Execution(lag=1, rebalance="on_change"),
        costs=costs,
        initial_cash=100_100.0,
        engine="rust",
    )[0]

    hk_units = 124_875 / 1.001 / 40
    expected_value = [100_000, 120_000, 124_875, 124_875, hk_units * 40]
    np.testing.assert_allclose(res.value, expected_value, rtol=1e-12, atol=0)
    expected_trades = pd.DataFrame(
        {
            "date": ["2024-01-03", "2024-01-05", "2024-01-09"],
            "asset": ["us", "us", "hk"],
            "side": ["buy", "sell", "buy"],
            "quantity": [1_000, 1_000, hk_units],
            "price": [100.0, 125.0, 40.0],
            "fees": [100.0, 125.0, 124_875 - 124_875 / 1.001],
        }
    )
    pd.testing.assert_frame_equal(
        res.trades[list(expected_trades)], expected_trades, check_exact=False, rtol=1e-12, check_dtype=False
    )

    # the oracle agrees with the hand
    mine = reference.backtest(
        pd.DataFrame(panel.close, index=panel.dates, columns=list(panel.assets)),
        markets={"us": "us", "hk": "hk"},
        currencies={"us": "USD", "hk": "USD"},
        targets=pd.DataFrame(targets, index=panel.dates, columns=list(panel.assets)),
        start=panel.dates[1],
        fee_bps=10,
        initial_cash=100_100.0,
    )
    np.testing.assert_allclose(mine.equity["value"], expected_value, rtol=1e-12, atol=0)


def test_metrics_by_hand() -> None:
    """Initial 100, then 99, 98, 101, 100 over four dates spanning 365.25 / 4 days... in plain numbers.

    returns: 99/100-1 = -0.01, 98/99-1 = -0.010101, 101/98-1 = +0.030612, 100/101-1 = -0.009901
    max drawdown: the initial 100 is the first peak -> 98/100 - 1 = -0.02 (not 98/99 - 1)
    years = 3 days / 365.25; periods per year = (4 - 1) / years = 365.25
    """
    from engine import metrics as em

    dates = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    value = np.array([99.0, 98.0, 101.0, 100.0])
    want = oracle.metrics(dates, value, 100.0)
    assert want["max_drawdown"] == pytest.approx(-0.02, rel=1e-12)
    assert want["periods_per_year"] == pytest.approx(365.25, rel=1e-12)
    rets = em.daily_returns(value, 100.0)
    np.testing.assert_allclose(rets, [-0.01, 98 / 99 - 1, 101 / 98 - 1, 100 / 101 - 1], rtol=1e-12)
    years = em.years_between(dates[0].date(), dates[-1].date())
    ppy = em.periods_per_year(len(dates), years)
    got = {
        "total_return": em.total_return(value, 100.0),
        "cagr": em.cagr(value, 100.0, years),
        "ann_vol": em.annual_volatility(rets, ppy),
        "sharpe": em.sharpe(rets, ppy),
        "sortino": em.sortino(rets, ppy),
        "max_drawdown": em.max_drawdown(value, 100.0),
        "years": years,
        "periods_per_year": ppy,
    }
    for k, v in got.items():
        assert v == pytest.approx(want[k], rel=1e-12, abs=0), k


# Scenarios on flat prices (US 100, HK 50) and zero costs, so that only the rules move money.
SCENARIO_DATES = ["2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12", "2024-01-15", "2024-01-16"]


def scenario(
    us_closed: list[str], targets: list[list[float]], lag: int = 1
) -> tuple[RunResult, reference.ReferenceRun]:
    """The engine and the oracle on a seven-date (us, hk) panel with ``targets`` decided each date."""
    dates = pd.to_datetime(SCENARIO_DATES)
    us = pd.Series(100.0, index=dates.drop(pd.to_datetime(us_closed)))
    hk = pd.Series(50.0, index=dates)
    specs = {"us": AssetSpec(symbol="US", market="us"), "hk": AssetSpec(symbol="HK", market="hk", currency="USD")}
    panel = build_panel({"us": us, "hk": hk}, specs, price_field="close", source="scenario", synthetic=True)
    res = run_allocations(
        [Allocation("strategy", "scenario", np.array(targets), "on_change")],
        LoadedPanel(panel=panel, start=1, warmup_needed=1),
        execution=Execution(lag=lag, rebalance="on_change", allow_same_bar=lag == 0),
        costs=Costs(fee_bps=0, slippage_bps=0, hk_stamp_duty_bps=0),
        initial_cash=100_000.0,
        engine="rust",
    )[0]
    mine = reference.backtest(
        pd.DataFrame(panel.close, index=panel.dates, columns=list(panel.assets)),
        markets={"us": "us", "hk": "hk"},
        currencies={"us": "USD", "hk": "USD"},
        targets=pd.DataFrame(np.array(targets), index=panel.dates, columns=list(panel.assets)),
        start=panel.dates[1],
        lag=lag,
        initial_cash=100_000.0,
    )
    return res, mine


def fills(res: RunResult) -> list[list]:
    return res.trades[["date", "asset", "side", "quantity"]].values.tolist()


def test_superseded_leg_is_dropped() -> None:
    """A later event's leg at an earlier slot drops the pending leg (execution.py rule 5).

    date   us   hk   decided    legs (lag 1; slots: HK close, then US close)
    01-08  100  50   A 50/50    warm-up row
    01-09  100  50   B all HK   A: buy 1,000 HK at the HK close, 500 US at the US close
    01-10   --  50   C 60/20    B: US closed -> sell US at US 01-12; buy HK strictly after: HK 01-15
    01-11   --  50   60/20      C: HK's last filled leg (A) holds 0.5 > 0.2 -> sell at HK 01-11,
                                600 units -> cash 30,000; US 0.6 > 0.5 is a buy after it: US 01-12
    01-12  100  50   60/20      C's US buy replaces B's US sell (same slot): +100 units, cash 20,000
    01-15  100  50   60/20      B's HK buy is gone: C scheduled HK at an earlier slot (01-11).  Kept,
                                it would spend the 20% cash C asks to keep.
    """
    res, mine = scenario(["2024-01-10", "2024-01-11"], [[0.5, 0.5], [0.0, 1.0]] + [[0.6, 0.2]] * 5)
    assert fills(res) == [
        ["2024-01-09", "hk", "buy", 1000.0],
        ["2024-01-09", "us", "buy", 500.0],
        ["2024-01-11", "hk", "sell", 600.0],
        ["2024-01-12", "us", "buy", 100.0],
    ]
    np.testing.assert_allclose(res.cash[-1], 20_000.0, rtol=1e-12)
    np.testing.assert_allclose(res.weights[-1], [0.6, 0.2], rtol=1e-12)
    assert_same_run(res, mine)


def test_pending_legs_do_not_count_as_held() -> None:
    """Regression: the sells-first estimate must use what has *filled*, not a pending event's targets.

    date   us   hk   decided    legs
    01-08  100  50   A all US   warm-up row
    01-09  100  50   A          A: buy 1,000 US
    01-10  100  50   B all HK
    01-11   --  50   C 50/50    B: US closed -> sell US at US 01-12, buy HK after it: HK 01-15
    01-12  100  50   50/50      C: HK holds nothing yet (B is pending), so HK 0.5 is a *buy* after
                                C's US sell: sell 500 US at US 01-12 (replaces B's), buy 1,000 HK
    01-15  100  50   50/50      at HK 01-15 (replaces B's) -> 50/50, as C asks

    With the estimate taken from B's targets (the engine before the 'last filled order' rule), C's
    HK leg was a "sell" at HK 01-12, ran before the US proceeds existed, filled nothing and was
    never retried: half the portfolio sat in cash until the targets next changed.
    """
    res, mine = scenario(["2024-01-11"], [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]] + [[0.5, 0.5]] * 4)
    assert fills(res) == [
        ["2024-01-09", "us", "buy", 1000.0],
        ["2024-01-12", "us", "sell", 500.0],
        ["2024-01-15", "hk", "buy", 1000.0],
    ]
    np.testing.assert_allclose(res.weights[-1], [0.5, 0.5], rtol=1e-12)
    assert_same_run(res, mine)


def test_lag_zero_never_fills_before_the_decision() -> None:
    """lag 0 (allow_same_bar): decided after the US close of 01-09, 50/50.

    The US leg fills at that same US close (the look-ahead lag 0 accepts); the HK close of 01-09
    came 13 hours *before* the decision, so the HK leg goes to the next HK close, 01-10.
    """
    res, mine = scenario([], [[0.0, 0.0]] + [[0.5, 0.5]] * 6, lag=0)
    assert fills(res) == [["2024-01-09", "us", "buy", 500.0], ["2024-01-10", "hk", "buy", 1000.0]]
    assert_same_run(res, mine)


DATES_US = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"]
DATES_HK = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-09"]
