"""Tear-sheet statistics on tiny handmade runs: the arithmetic is in the comments (engine/metrics/tearsheet*.py).

The comparisons with quantstats and empyrical on real data are tests/test_tearsheet_libraries.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.metrics.tearsheet import monthly_returns, rolling_series, tail_stats, tearsheet, worst_drawdowns
from engine.metrics.tearsheet_positions import contribution, holdings, switch_stats, time_invested


def _days(n: int, start: str = "2024-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="D", name="date")


# ---------------------------------------------------------------------------------------------
# monthly returns


def test_months_compound_from_the_initial_capital_and_skip_months_without_dates() -> None:
    dates = pd.to_datetime(["2023-12-29", "2024-01-15", "2024-01-31", "2024-03-01"])
    value = pd.Series([102.0, 99.0, 110.0, 121.0], dates)
    got = monthly_returns(value, 100.0)
    assert got == {
        "2023": {"12": 102 / 100 - 1, "year": 102 / 100 - 1},  # the first month from the initial capital
        # January from December's last date (102), February has no date, March from January's last (110)
        "2024": {"1": 110 / 102 - 1, "3": 121 / 110 - 1, "year": 121 / 102 - 1},
    }
    compounded = np.prod([1 + r for y in got.values() for k, r in y.items() if k != "year"]) - 1
    assert compounded == pytest.approx(121 / 100 - 1, abs=1e-15)  # total_return


# ---------------------------------------------------------------------------------------------
# drawdowns


def test_drawdowns_start_at_the_last_high_deepest_first() -> None:
    #            d0     d1    d2    d3     d4     d5    d6     d7
    values = [100.0, 90.0, 95.0, 100.0, 120.0, 60.0, 130.0, 125.0]
    got = worst_drawdowns(pd.Series(values, _days(8)), 100.0)
    assert got == [
        # the high 120 on d4, trough 60 on d5, back above on d6: 60 / 120 - 1, 2 days
        {"start": "2024-01-05", "trough": "2024-01-06", "recovery": "2024-01-07", "depth": -0.5, "days": 2,
         "recovered": True},
        # d0 is at the initial 100 (a high), 90 on d1, back to 100 (>= the peak) on d3
        {"start": "2024-01-01", "trough": "2024-01-02", "recovery": "2024-01-04", "depth": 90 / 100 - 1,
         "days": 3, "recovered": True},
        # from 130 on d6 to 125 on d7, not recovered: days to the last date
        {"start": "2024-01-07", "trough": "2024-01-08", "recovery": None, "depth": 125 / 130 - 1, "days": 1,
         "recovered": False},
    ]  # fmt: skip


def test_a_drawdown_from_the_initial_capital_starts_on_the_first_date() -> None:
    got = worst_drawdowns(pd.Series([95.0, 97.0, 101.0], _days(3)), 100.0)
    assert got == [
        {"start": "2024-01-01", "trough": "2024-01-01", "recovery": "2024-01-03", "depth": 95 / 100 - 1, "days": 2,
         "recovered": True}
    ]  # fmt: skip


def test_only_the_five_deepest_drawdowns() -> None:
    values = [100.0, 99, 100, 98, 100, 97, 100, 96, 100, 95, 100, 94, 100]  # six dips, 1% .. 6%
    got = worst_drawdowns(pd.Series(values, _days(13)), 100.0)
    assert [round(d["depth"], 10) for d in got] == [-0.06, -0.05, -0.04, -0.03, -0.02]


# ---------------------------------------------------------------------------------------------
# daily statistics and rolling


def test_tail_statistics_by_hand() -> None:
    r = pd.Series([-0.05, -0.01, 0.0, 0.02, 0.03])
    got = tail_stats(r)
    # 5th percentile, linear: position (5 - 1) * 0.05 = 0.2 between -0.05 and -0.01
    assert got["var_95"] == pytest.approx(-0.05 + 0.2 * 0.04, abs=1e-15)
    assert got["cvar_95"] == -0.05  # the only return <= -0.042
    assert got["positive_days"] == 2 / 5  # the zero day is not positive
    assert got["skew"] == pytest.approx(r.skew(), abs=1e-15) and got["kurtosis"] == pytest.approx(r.kurt(), abs=1e-15)


def test_rolling_beta_is_two_when_the_strategy_moves_twice_the_asset() -> None:
    asset_returns = np.array([0.0, 0.01, -0.02, 0.015, 0.005, -0.01])
    price = pd.Series(100 * np.cumprod(1 + asset_returns), _days(6))
    value = pd.Series(1000 * np.cumprod(1 + 2 * asset_returns), _days(6))
    series = rolling_series(value, pd.DataFrame({"us": price}), ["us"], window=3)["us"]
    assert len(series) == 5  # from the second date: the first has no asset return
    assert series["beta"].isna().tolist() == [True, True, False, False, False]  # full windows only
    np.testing.assert_allclose(series["beta"].dropna(), 2.0, rtol=1e-12)
    np.testing.assert_allclose(series["correlation"].dropna(), 1.0, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# time invested, holdings and switches


def test_time_invested_by_hand() -> None:
    equity = pd.DataFrame({"us": [0.0, 10.0, 10.0, 0.0], "hk": [0.0, 0.0, 5.0, 5.0]}, index=_days(4))
    # us on d1, d2; hk on d2, d3; nothing on d0
    assert time_invested(equity, ["us", "hk"]) == {"us": 0.5, "hk": 0.5, "cash_only": 0.25}


def test_holdings_are_the_segments_of_constant_targets() -> None:
    dates = _days(6)
    targets = pd.DataFrame(
        {"us": [1.0, 1.0, 0.0, 0.0, 0.5, 0.5], "hk": [0.0, 0.0, 1.0, 1.0, 0.5, 0.5]}, index=dates
    )  # changes on d2 and d4
    value = pd.Series([100.0, 110.0, 105.0, 99.0, 100.0, 130.0], dates)  # 102 - 2 of costs and moves on d0
    segments = holdings(value, targets, 102.0)
    assert segments == [  # the first from the initial capital: d0's fills and costs fall in it
        {"start": "2024-01-01", "end": "2024-01-03", "target": {"us": 1.0, "hk": 0.0}, "return": 105 / 102 - 1,
         "profit": 3.0, "days": 2, "open": False},
        {"start": "2024-01-03", "end": "2024-01-05", "target": {"us": 0.0, "hk": 1.0}, "return": 100 / 105 - 1,
         "profit": -5.0, "days": 2, "open": False},
        {"start": "2024-01-05", "end": "2024-01-06", "target": {"us": 0.5, "hk": 0.5}, "return": 130 / 100 - 1,
         "profit": 30.0, "days": 1, "open": True},
    ]  # fmt: skip
    assert sum(s["profit"] for s in segments) == 130.0 - 102.0  # the profits add up to V_T - C
    assert switch_stats(segments) == {  # the two closed segments: +2.9%, -4.76%
        "count": 2,
        "win_rate": 0.5,
        "avg_win": 105 / 102 - 1,
        "avg_loss": 100 / 105 - 1,
        "avg_days": 2.0,
        "median_days": 2.0,
    }


def test_switch_stats_without_a_closed_segment_or_a_loss() -> None:
    value = pd.Series([100.0, 101.0, 102.0], _days(3))
    one = holdings(value, pd.DataFrame({"us": [1.0, 1.0, 1.0]}, index=_days(3)), 100.0)
    assert switch_stats(one) == {"count": 0, "win_rate": None, "avg_win": None, "avg_loss": None,
                                 "avg_days": None, "median_days": None}  # fmt: skip
    two = holdings(value, pd.DataFrame({"us": [1.0, np.nan, np.nan]}, index=_days(3)), 100.0)  # NaN equals NaN
    assert [s["start"] for s in two] == ["2024-01-01", "2024-01-02"]
    assert switch_stats(two)["avg_loss"] is None and switch_stats(two)["win_rate"] == 1.0


# ---------------------------------------------------------------------------------------------
# contribution: a USD asset bought at the close and sold at the next open, an HKD asset whose currency rises


def _contribution_run() -> dict[str, pd.DataFrame]:
    """Initial capital 1000; d0 buy 50 us at the close 10 (+1% slippage: 10.1, fee 1); d1 cash earns 1%;
    d2 sell 50 us at the open 11.5 (close 12; -1%: 11.385, fee 0.5) and buy 40 hk at the close (HK$110 x 0.11
    = 12.1; +1%: 12.221, fee 0.4); d3 hk at HK$120 x 0.12 = 14.4, cash earns 1.02 / 1.01 - 1."""
    dates = _days(4)
    cash = [1000 - 50 * 10.1 - 1]  # 494
    cash.append(cash[0] * 1.01)  # + 4.94 interest
    cash.append(cash[1] + 50 * 11.385 - 0.5 - (40 * 12.221 + 0.4))
    cash.append(cash[2] * 1.02 / 1.01)
    us, hk = [500.0, 550.0, 0.0, 0.0], [0.0, 0.0, 484.0, 576.0]
    equity = pd.DataFrame(
        {"value": np.add(cash, np.add(us, hk)), "cash": cash, "us": us, "hk": hk, "cash_index": [1, 1.01, 1.01, 1.02]},
        index=dates,
    )
    fx = pd.DataFrame({"us": 1.0, "hk": [0.1, 0.1, 0.11, 0.12]}, index=dates)
    quotes = pd.DataFrame({"us": [10.0, 11, 12, 12], "hk": [100.0, 100, 110, 120]}, index=dates)
    trades = pd.DataFrame(
        {
            "date": dates[[0, 2, 2]],
            "asset": ["us", "us", "hk"],
            "side": ["buy", "sell", "buy"],
            "quantity": [50.0, 50.0, 40.0],
            "price": [10.1, 11.385, 12.221],
            "fees": [1.0, 0.5, 0.4],
            "quoted_price": [10.0, 11.5, 110.0],  # the us sale at the open
        }
    )
    return {"equity": equity, "prices": quotes * fx, "trades": trades, "quotes": quotes, "fx": fx}


def test_contribution_by_hand_adds_up_to_the_total_return() -> None:
    run = _contribution_run()
    got = contribution(
        run["equity"], run["prices"], run["trades"], initial=1000.0, assets=["us", "hk"], quotes=run["quotes"],
        fx=run["fx"],
    )  # fmt: skip
    assert got is not None
    interest = 494 * 0.01 + run["equity"]["cash"].iloc[2] * (1.02 / 1.01 - 1)
    want = {
        # held 50 from 10 to 11 to 12 (+100); sold at the open 11.5 on a day closing at 12: -50 x 0.5
        "us": (50 * 1 + 50 * 1 - 50 * (12 - 11.5)) / 1000,
        # held 40 from 12.1 to 14.4 (+92), of which the currency 40 x HK$120 x (0.12 - 0.11) = 48
        "hk": (40 * (14.4 - 12.1) - 48) / 1000,
        "currency": 40 * 120 * (0.12 - 0.11) / 1000,
        "cash_interest": interest / 1000,
        # fees 1 + 0.5 + 0.4; slippage 50 x 0.1 + 50 x 0.115 + 40 x 0.121
        "costs": -(1.9 + 5 + 5.75 + 4.84) / 1000,
    }
    assert got == pytest.approx(want, abs=1e-12)
    total = run["equity"]["value"].iloc[-1] / 1000 - 1
    assert sum(got.values()) == pytest.approx(total, abs=1e-12)  # type: ignore[arg-type]


def test_contribution_without_fx_keeps_the_currency_in_the_asset() -> None:
    run = _contribution_run()
    args = (run["equity"], run["prices"], run["trades"])
    got = contribution(*args, initial=1000.0, assets=["us", "hk"], quotes=run["quotes"], fx=None)
    assert got is not None and got["currency"] is None
    assert got["hk"] == pytest.approx(40 * (14.4 - 12.1) / 1000, abs=1e-12)  # local and currency together
    assert contribution(*args, initial=1000.0, assets=["us", "hk"], quotes=None, fx=run["fx"]) is None


def test_tearsheet_has_every_key() -> None:
    run = _contribution_run()
    weights = pd.DataFrame({"us_target": [1.0, 1, 0, 0], "hk_target": [0.0, 0, 1, 1]}, index=run["equity"].index)
    got = tearsheet(
        run["equity"], weights, run["prices"], run["trades"], initial=1000.0, assets=["us", "hk"],
        periods_per_year=2.0, quotes=run["quotes"], fx=run["fx"],
    )  # fmt: skip
    assert list(got) == [
        "monthly_returns", "worst_drawdowns", "rolling", "var_95", "cvar_95", "skew", "kurtosis", "positive_days",
        "positive_months", "time_invested", "holdings", "switch_stats", "contribution",
    ]  # fmt: skip
    assert got["rolling"]["window"] == 2 and set(got["rolling"]) == {"window", "us", "hk"}
    assert [h["start"] for h in got["holdings"]] == ["2024-01-01", "2024-01-03"]
