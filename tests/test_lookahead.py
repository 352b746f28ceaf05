"""Look-ahead audits of the whole pipeline on the real history (STYLE.md, principle 2).

a. Future data: for every shipped config and several cut dates t, rescaling every price
   after t by random factors, or cutting the data off after t, changes nothing on or
   before t: signals, decided targets, the order plan, end-of-day equity, targets in
   force, positions and trades.
b. Within a date: Hong Kong closes about 13 hours before New York.  Changing New York's
   close of t changes no Hong Kong trade dated <= t and no US trade dated < t; changing
   Hong Kong's close of t changes no trade dated < t.
c. What (b) prevents: the naive date join of US and HK returns finds a Sharpe near 3 in a
   rule that Seesaw, with the timeline respected, scores below 1.

Runs use 2005-01-01 .. 2024-12-31 and the rust engine; equality is exact.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.config import load_config
from engine.config.checks import check_config
from engine.config.models import StrategyConfig
from engine.data.panel import load_for_config
from engine.pipeline import RunResult, required_warmup, run_strategy
from engine.rules import compile_rules, decide
from engine.signals import compute_signals
from tests.conftest import SHIPPED_CONFIGS
from tests.helpers import MemProvider, real_frames, scale_close_on, scale_prices_after, truncate_after

START, END = dt.date(2005, 1, 1), dt.date(2024, 12, 31)
#: Lehman, the 2015 China sell-off, the March 2020 crash, the 2022 Hang Seng low.
CUTS = ("2008-09-15", "2015-08-24", "2020-03-16", "2022-10-31")
#: Dates on which both markets traded, for the within-date checks (more are taken from each run's HK trades).
SAME_DAY = ("2008-09-16", "2015-08-24", "2020-03-16", "2022-10-31")
#: How the close of one date is changed in (b): a crash and a doubling.
CLOSE_FACTORS = (0.5, 2.0)
CONFIG_IDS = [p.stem for p in SHIPPED_CONFIGS]


@functools.cache
def _config(path: Path) -> StrategyConfig:
    return load_config(path)


@pytest.fixture(scope="module")
def frames(data_dir) -> dict[str, pd.DataFrame]:
    """Raw frames of every symbol the shipped configs use (read once)."""
    symbols = {spec.symbol for path in SHIPPED_CONFIGS for spec in _config(path).assets.values()}
    symbols |= {_config(path).data.fx_symbol for path in SHIPPED_CONFIGS}  # HK prices are converted to USD
    symbols |= {c for path in SHIPPED_CONFIGS if isinstance(c := _config(path).cash_rate, str)}
    return real_frames(data_dir, sorted(symbols))


@dataclass(frozen=True)
class Trace:
    """Every intermediate of one run, on the panel's rows (warm-up included) or the run's dates."""

    dates: pd.DatetimeIndex
    signals: dict[str, np.ndarray]
    rule: np.ndarray
    targets: np.ndarray
    plan_size: np.ndarray  # (rows * slots_per_date, assets)
    slots_per_date: int
    result: RunResult


def trace(cfg: StrategyConfig, frames: Mapping[str, pd.DataFrame], start: dt.date = START) -> Trace:
    """Run ``cfg`` on ``frames`` and keep its signals, decisions and order plan as well."""
    cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"start": start, "end": END})})
    loaded = load_for_config(MemProvider(frames), cfg, warmup_rows=required_warmup(cfg), check_calendar=False)
    panel = loaded.panel
    signals = compute_signals(cfg.resolved_signals, panel.signal_inputs())
    compiled = compile_rules(cfg.rules, panel.assets, [*cfg.signals, *cfg.params])
    rule, targets = decide(compiled, {**signals, **cfg.params}, len(panel.dates))
    result = run_strategy(cfg, loaded, engine="rust")
    assert result.plan is not None
    assert np.array_equal(result.target, result.plan.in_force(len(panel.dates))[loaded.start :])
    return Trace(panel.dates, signals, rule, targets, result.plan.size, result.plan.slots_per_date, result)


@pytest.fixture(scope="module")
def base(frames):
    """The unperturbed trace of each shipped config (computed once)."""
    cache: dict[Path, Trace] = {}

    def get(path: Path) -> Trace:
        if path not in cache:
            cache[path] = trace(_config(path), frames)
        return cache[path]

    return get


def _rows_through(dates: pd.DatetimeIndex, day: pd.Timestamp) -> int:
    return int(dates.searchsorted(day, side="right"))


def _trades_through(res: RunResult, day: pd.Timestamp, *, strict: bool = False) -> pd.DataFrame:
    d = pd.to_datetime(res.trades["date"])
    keep = d < day if strict else d <= day
    return res.trades[keep.to_numpy()].reset_index(drop=True)


# ----------------------------------------------------------------------------- a. future data


def assert_same_through(base: Trace, other: Trace, day: pd.Timestamp) -> None:
    """Everything on rows dated <= ``day`` (and present in both) is bit-for-bit equal."""
    k = min(_rows_through(base.dates, day), _rows_through(other.dates, day))
    assert other.dates[:k].equals(base.dates[:k])
    for name, values in base.signals.items():
        assert np.array_equal(other.signals[name][:k], values[:k], equal_nan=True), f"signal {name}"
    assert np.array_equal(other.rule[:k], base.rule[:k]), "rule"
    assert np.array_equal(other.targets[:k], base.targets[:k]), "targets"
    m = base.slots_per_date
    assert np.array_equal(other.plan_size[: k * m], base.plan_size[: k * m], equal_nan=True), "order plan"
    b, o = base.result, other.result
    kr = min(_rows_through(b.dates, day), _rows_through(o.dates, day))
    assert o.dates[:kr].equals(b.dates[:kr])
    assert np.array_equal(o.value[:kr], b.value[:kr]), "end-of-day equity"
    assert np.array_equal(o.target[:kr], b.target[:kr]), "targets in force"
    assert np.array_equal(o.asset_value[:kr], b.asset_value[:kr]), "asset values"
    last = b.dates[kr - 1]
    pd.testing.assert_frame_equal(_trades_through(o, last), _trades_through(b, last), check_exact=True)


@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=CONFIG_IDS)
def test_prices_after_t_rescaled_change_nothing_up_to_t(path, cut, frames, base):
    cfg, day = _config(path), pd.Timestamp(cut)
    seed = CUTS.index(cut)
    changed = {s: scale_prices_after(f, cut, seed=10 * seed + i) for i, (s, f) in enumerate(sorted(frames.items()))}
    other = trace(cfg, changed)
    assert_same_through(base(path), other, day)
    # the perturbation is real: equity after t moved
    k = _rows_through(other.result.dates, day)
    assert not np.array_equal(other.result.value[k:], base(path).result.value[k:])


@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=CONFIG_IDS)
def test_data_cut_off_after_t_changes_nothing_up_to_t(path, cut, frames, base):
    cfg, day = _config(path), pd.Timestamp(cut)
    other = trace(cfg, {s: truncate_after(f, cut) for s, f in frames.items()})
    # the run ends on the last date every asset has data: at t, or the last date before it
    assert day - pd.Timedelta(days=7) <= other.result.dates[-1] <= day
    assert_same_through(base(path), other, day)


# ----------------------------------------------------------------------------- b. within a date


def _market_symbols(cfg: StrategyConfig, market: str) -> list[str]:
    return sorted({spec.symbol for spec in cfg.assets.values() if spec.market == market})


def _assets_of(cfg: StrategyConfig, market: str) -> set[str]:
    return {a for a, spec in cfg.assets.items() if spec.market == market}


def _both_traded(cfg: StrategyConfig, frames: Mapping[str, pd.DataFrame], day: pd.Timestamp) -> bool:
    return all(day in frames[spec.symbol].index for spec in cfg.assets.values())


def within_date_days(cfg: StrategyConfig, base: Trace, frames: Mapping[str, pd.DataFrame]) -> list[pd.Timestamp]:
    """:data:`SAME_DAY` plus three dates, spread out, on which the base run traded in Hong Kong.

    Preferably dates on which it also held US assets from the previous date: the size of
    such a trade depends on how the US position is valued in the HK slot (at New York's
    previous close).  Only dates on which both markets traded, after the first and before
    the last date of the run (so that a changed close has a later date on which to show).
    """
    res = base.result
    hk, us = _assets_of(cfg, "hk"), _assets_of(cfg, "us")
    us_cols = [j for j, a in enumerate(res.assets) if a in us]
    hk_days = pd.to_datetime(res.trades.loc[res.trades["asset"].isin(hk), "date"]).drop_duplicates()
    usable = [d for d in hk_days if res.dates[0] < d < res.dates[-1] and _both_traded(cfg, frames, d)]
    holding_us = [d for d in usable if res.asset_value[_rows_through(res.dates, d) - 2, us_cols].sum() > 0]
    ranked = holding_us or usable
    picked = [ranked[i] for i in np.linspace(0, len(ranked) - 1, 3).astype(int)] if ranked else []
    days = {pd.Timestamp(d) for d in SAME_DAY} | set(picked)
    return sorted(d for d in days if _both_traded(cfg, frames, d) and d < res.dates[-1])


def _hk_trades(res: RunResult, hk: set[str], day: pd.Timestamp) -> pd.DataFrame:
    t = _trades_through(res, day)
    return t[t["asset"].isin(hk)].reset_index(drop=True)


def within_date_problems(
    cfg: StrategyConfig, base: Trace, frames: Mapping[str, pd.DataFrame], market: str, days: list[pd.Timestamp]
) -> list[str]:
    """Change ``market``'s close of each day (x0.5, x2) and list the trades that must not have moved but did.

    Changing New York's close of t may move US trades of t and anything later; Hong Kong's
    close of t comes first, so it may move HK trades of t, US trades of t and anything later.
    """
    hk, us = _assets_of(cfg, "hk"), _assets_of(cfg, "us")
    problems = []
    for day in days:
        for factor in CLOSE_FACTORS:
            changed = dict(frames)
            for symbol in _market_symbols(cfg, market):
                changed[symbol] = scale_close_on(frames[symbol], day, factor)
            other = trace(cfg, changed).result
            b = base.result
            before = _trades_through(b, day, strict=True)
            got_before = _trades_through(other, day, strict=True)
            if not before.equals(got_before):
                problems.append(f"{market} close of {day.date()} x{factor}: trades dated before it changed")
            if market == "us" and not _hk_trades(other, hk, day).equals(_hk_trades(b, hk, day)):
                problems.append(f"us close of {day.date()} x{factor}: a Hong Kong trade dated on or before it changed")
            k = _rows_through(b.dates, day)
            if not np.array_equal(other.value[: k - 1], b.value[: k - 1]):
                problems.append(f"{market} close of {day.date()} x{factor}: equity before it changed")
            # the change is real: if the portfolio held that market at the end of t, equity from t on
            # moved (through the value of t, or through the units bought at the changed close)
            cols = [j for j, a in enumerate(b.assets) if a in (us if market == "us" else hk)]
            if b.asset_value[k - 1, cols].sum() > 0 and np.array_equal(other.value[k - 1 :], b.value[k - 1 :]):
                problems.append(f"{market} close of {day.date()} x{factor}: had no effect on equity")
    return problems


@pytest.mark.parametrize("market", ["us", "hk"])
@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=CONFIG_IDS)
def test_a_close_moves_no_trade_that_came_before_it(path, market, frames, base):
    cfg = _config(path)
    days = within_date_days(cfg, base(path), frames)
    assert len(days) >= len(SAME_DAY)
    assert within_date_problems(cfg, base(path), frames, market, days) == []


# ----------------------------------------------------------------------------- c. the naive join


def _us_ret_config(lag: int) -> StrategyConfig:
    """Hold the Hang Seng after a positive S&P 500 day, otherwise cash; no costs."""
    cfg = StrategyConfig.model_validate(
        {
            "name": "us_ret_to_hk",
            "assets": {"us": {"symbol": "^GSPC", "market": "us"}, "hk": {"symbol": "^HSI", "market": "hk"}},
            "signals": {"us_ret": {"fn": "momentum", "a": "us", "window": 1}},
            "rules": [{"when": "us_ret > 0", "weights": {"hk": 1.0}}, {"otherwise": {}}],
            "execution": {"lag": lag, "rebalance": "on_change", "allow_same_bar": lag == 0},
            "costs": {"fee_bps": 0.0, "slippage_bps": 0.0, "hk_stamp_duty_bps": 0.0},
        }
    )
    check_config(cfg)
    return cfg


def _sharpe(daily: pd.Series) -> float:
    """Annualised Sharpe ratio of daily returns, zero risk-free rate: mean / std (ddof 1) * sqrt(252)."""
    return float(daily.mean() / daily.std() * np.sqrt(252))


def test_naive_date_join_finds_a_sharpe_that_the_timeline_removes(frames):
    us = frames["^GSPC"]["Close"].dropna()
    hk = frames["^HSI"]["Close"].dropna()
    # Each market's returns over its own sessions, then joined on the date as a spreadsheet would.
    joined = pd.concat({"us": np.log(us).diff(), "hk": hk.pct_change()}, axis=1, join="inner")
    joined = joined.loc["2002-01-01":"2024-12-31"].dropna()
    # "Lagged by one row, so no look-ahead": hold HK on row d+1 after a positive US return on row d.
    # But HK's row-(d+1) return starts at HK's close of d, 13 hours before New York's close of d.
    lagged = joined["hk"] * (joined["us"] > 0).shift(1, fill_value=False)
    assert _sharpe(lagged) > 2  # about 3.0
    # Same row: US return of d "decides" HK's return of d, which ended before New York opened.
    assert _sharpe(joined["hk"] * (joined["us"] > 0)) > 1  # about 1.6

    # Seesaw: decided after New York's close of d, filled at Hong Kong's close of d+1.
    cfg = _us_ret_config(lag=1)
    # (From 2002: the USD/HKD history that converts the Hang Seng to USD starts in July 2001.)
    res = trace(cfg, frames, start=dt.date(2002, 1, 1)).result
    assert res.metrics["sharpe"] < 1  # about 0.3
    assert res.metrics["trades"] > 1000  # the rule did trade


def test_same_bar_execution_never_fills_hk_before_the_decision(frames):
    """Regression: lag 0 once filled Hong Kong legs ~13 h before the New York close they were decided on."""
    cfg = _us_ret_config(lag=0)
    base = trace(cfg, frames)
    days = [pd.Timestamp(d) for d in SAME_DAY]
    assert within_date_problems(cfg, base, frames, "us", days) == []
