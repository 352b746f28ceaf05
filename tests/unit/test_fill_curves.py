"""``curves_from_fills`` gives, bit for bit, what the sweep computed before in three passes.

The reference is the pipeline's other path: ``from_fills`` (cash and units at every reported row,
value = cash + units x price), the value times the cash index, then ``average_weights`` on the units.
Both read the same order records; the one-pass walk must add the same numbers in the same order.
"""

from __future__ import annotations

import numpy as np
import pytest
from vectorbt.portfolio.enums import order_dt

from engine.fill_curves import curves_from_fills
from engine.metrics.returns import average_weights
from engine.simulate import from_fills
from tests.helpers import plan_on, plan_prices, random_three_asset_panel


def _reference(records, price, init_cash, n_groups, n_assets, rows, scale, unit_value):
    sim = from_fills(records, price=price, init_cash=init_cash, n_groups=n_groups, n_assets=n_assets, report_rows=rows)
    value = sim.value * scale[:, None]
    return value, average_weights(sim.position, unit_value, value)


def _assert_same_bits(records, price, init_cash, n_groups, n_assets, rows, scale, unit_value) -> None:
    want_value, want_weights = _reference(records, price, init_cash, n_groups, n_assets, rows, scale, unit_value)
    value, weights = curves_from_fills(
        records,
        price=price,
        init_cash=init_cash,
        n_groups=n_groups,
        n_assets=n_assets,
        report_rows=rows,
        scale=scale,
        unit_value=unit_value,
    )
    assert value.shape == want_value.shape and weights.shape == want_weights.shape
    assert np.array_equal(value, want_value, equal_nan=True)
    assert np.array_equal(weights, want_weights, equal_nan=True)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_scheduler_s_fills_give_the_three_pass_curves_and_weights(seed: int) -> None:
    panel = random_three_asset_panel(seed, periods=260)
    rng = np.random.default_rng(seed + 50)
    n, a, k = len(panel.dates), len(panel.assets), 7
    menu = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.3, 0.3, 0.4], [0.5, 0, 0.2], [0, 0, 0], [0.2, 0.7, 0.1]])
    choice = np.repeat(rng.integers(0, len(menu), size=(n // 7 + 1, k)), 7, axis=0)[:n]
    prices = plan_prices(panel, start=5, dividend_yield=0.02, cash_rate=0.03)
    val, close, m = prices.val, prices.close, prices.slots_per_date
    batch = plan_on(
        panel,
        prices,
        menu[choice],
        first_decision=np.full(k, 4),
        lag=rng.integers(0, 3, size=k),
        rebalance=["on_change", "daily", "weekly", "monthly", "band", "on_change", "daily"],
        band=np.array([np.nan, np.nan, 0.05, np.nan, 0.03, 0.1, np.nan]),
    )
    fills = batch.fills
    assert len(fills) > 200 and len(np.unique(fills["col"] // a)) == k
    # several fills of one column on one reported row (a date's sales, then its buys), as the reference sums them
    eod = np.arange(m - 1, len(close), m)
    at = np.searchsorted(eod, fills["idx"])
    assert (np.diff(at[np.diff(fills["col"] // a, prepend=-1) == 0]) == 0).any()
    scale = val.cash_index[5:]
    _assert_same_bits(fills, close, 100_000.0, k, a, eod, scale, val.known[5:])
    # reported on every slot, and on every third date only
    _assert_same_bits(
        fills,
        close,
        100_000.0,
        k,
        a,
        np.arange(len(close)),
        np.ones(len(close)),
        np.ones((len(close), a)),
    )
    _assert_same_bits(fills, close, 100_000.0, k, a, eod[::3], scale[::3], val.known[5:][::3])


def _records(rows: list[tuple[int, int, float, float, float, int]]) -> np.ndarray:
    out = np.zeros(len(rows), dtype=order_dt)
    for i, (col, idx, size, price, fees, side) in enumerate(rows):
        out[i] = (i, col, idx, size, price, fees, side)
    return out


def test_hand_made_fills_edge_cases_match_the_reference() -> None:
    """Two fills of one asset on one row, a NaN price while nothing is held, a column that never trades,
    a fill after the last reported row and one beyond the price table (the binary search's path)."""
    price = np.array([[10.0, 20.0], [np.nan, 21.0], [11.0, 22.0], [12.0, np.nan], [13.0, 23.0], [14.0, 24.0]])
    records = _records(
        [
            (0, 0, 3.0, 10.0, 0.1, 0),
            (0, 0, 1.5, 10.0, 0.05, 0),
            (1, 2, 2.0, 22.0, 0.2, 0),
            (0, 3, 4.5, 12.0, 0.3, 1),
            (1, 5, 1.0, 24.0, 0.0, 1),
            (
                4,
                1,
                0.5,
                21.0,
                0.01,
                0,
            ),  # column 2 buys asset 0; asset 1, which it never holds, has a NaN price on slot 3
            (5, 4, 0.25, 23.0, 0.02, 0),
            (5, 9, 0.25, 23.0, 0.02, 0),  # beyond the table: reported after the last row, so nowhere
        ]
    )
    rows = np.array([0, 2, 3, 5])
    scale = np.array([1.0, 1.01, 1.02, 1.03])
    unit_value = np.array([[10.0, 20.0], [11.0, 22.0], [12.0, 23.0], [14.0, 24.0]])
    _assert_same_bits(records, price, 1000.0, 4, 2, rows, scale, unit_value)
    _assert_same_bits(records[records["idx"] < 5], price, 1000.0, 3, 2, np.array([0, 1, 4]), scale[:3], unit_value[:3])


def test_neighbouring_columns_trading_on_the_same_row_keep_their_own_flows() -> None:
    """A column's last fills and the next column's first reported on the same row: two groups' flows on
    that row, neither merged into the other nor dropped."""
    price = np.array([[10.0, 20.0], [10.5, 20.5], [11.0, 21.0], [11.5, 21.5]])
    records = _records(
        [
            (0, 0, 2.0, 10.0, 0.1, 0),
            (1, 2, 1.0, 21.0, 0.1, 0),
            (2, 1, 3.0, 10.5, 0.2, 0),
            (3, 2, 1.5, 21.0, 0.1, 0),
            (2, 3, 1.0, 11.5, 0.0, 1),
        ]
    )
    rows = np.array([0, 2, 3])
    _assert_same_bits(records, price, 100.0, 2, 2, rows, np.ones(3), price[rows])


def test_a_worthless_row_gives_the_reference_s_inf_and_nan_weights() -> None:
    """All the cash in one asset whose price then reads 0: the row's value is 0, and its weights are
    units x unit value / 0 (inf, or NaN for an asset not held) on both paths, not an exception."""
    price = np.array([[10.0, 5.0], [0.0, 5.0], [10.0, 5.0]])
    records = _records([(0, 0, 10.0, 10.0, 0.0, 0)])
    unit_value = np.array([[10.0, 5.0], [1.0, 5.0], [10.0, 5.0]])
    value, weights = curves_from_fills(
        records, price=price, init_cash=100.0, n_groups=1, n_assets=2, report_rows=np.arange(3),
        scale=np.ones(3), unit_value=unit_value,
    )  # fmt: skip
    assert value[1, 0] == 0.0 and weights[0, 0] == np.inf and np.isnan(weights[0, 1])
    _assert_same_bits(records, price, 100.0, 1, 2, np.arange(3), np.ones(3), unit_value)


def test_records_out_of_order_are_refused() -> None:
    price = np.ones((4, 2))
    kw = dict(price=price, init_cash=10.0, n_groups=2, n_assets=2, report_rows=np.arange(4))
    kw |= dict(scale=np.ones(4), unit_value=np.ones((4, 2)))
    backwards = _records([(0, 2, 1.0, 1.0, 0.0, 0), (1, 1, 1.0, 1.0, 0.0, 0)])
    with pytest.raises(ValueError, match="slot order"):
        curves_from_fills(backwards, **kw)
    interleaved = _records([(0, 0, 1.0, 1.0, 0.0, 0), (2, 1, 1.0, 1.0, 0.0, 0), (1, 2, 1.0, 1.0, 0.0, 0)])
    with pytest.raises(ValueError, match="grouped by column"):
        curves_from_fills(interleaved, **kw)
    beyond = _records([(4, 0, 1.0, 1.0, 0.0, 0)])
    with pytest.raises(ValueError, match="grouped by column"):
        curves_from_fills(beyond, **kw)
    for negative in (-1, -3):  # before any column, whatever the first record
        with pytest.raises(ValueError, match="grouped by column"):
            curves_from_fills(_records([(negative, 0, 1.0, 1.0, 0.0, 0), (0, 1, 1.0, 1.0, 0.0, 0)]), **kw)
