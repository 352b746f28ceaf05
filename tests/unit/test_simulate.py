"""engine/simulate.py: cash, units and value derived from the order records equal vectorbt's own."""

from __future__ import annotations

import numpy as np
import pytest
import vectorbt as vbt

from engine.simulate import _cash_and_position, group_rows, simulate, simulate_batch


def _orders(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    price = np.ascontiguousarray(100 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, 2)), axis=0)))
    size = np.full((n, 2), np.nan)
    for row in range(0, n, 7):  # a rotation every 7 rows, with a cash period
        size[row] = [(1.0, 0.0), (0.0, 1.0), (0.3, 0.3), (0.0, 0.0)][(row // 7) % 4]
    return price, size


@pytest.mark.parametrize("engine", ["rust", "numba"])
def test_cash_units_value_match_vectorbt(engine: str) -> None:
    price, size = _orders(120, seed=1)
    size_b = np.where(np.isnan(size), np.nan, 0.5)  # a second allocation in its own group
    fees, slip = np.array([0.001, 0.002]), np.array([0.0005, 0.0005])
    kwargs = dict(
        size_type="targetpercent",
        direction="longonly",
        fees=np.tile(fees, 2),
        slippage=np.tile(slip, 2),
        init_cash=1000.0,
        cash_sharing=True,
        group_by=np.array([0, 0, 1, 1]),
        call_seq="auto",
        engine=engine,
    )
    both = np.ascontiguousarray(np.tile(price, (1, 2)))
    pf = vbt.Portfolio.from_orders(close=both, size=np.hstack([size, size_b]), price=both, val_price=both, **kwargs)
    cash, units, _ = _cash_and_position(pf.orders.values, np.arange(len(price)), 2, 2, 1000.0)
    np.testing.assert_allclose(cash, pf.cash().to_numpy(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(units, pf.assets().to_numpy(), rtol=1e-12, atol=1e-12)
    sims = simulate(sizes=[size, size_b], price=price, fees=fees, slippage=slip, init_cash=1000.0, engine=engine)
    np.testing.assert_allclose(np.column_stack([s.value for s in sims]), pf.value().to_numpy(), rtol=1e-12)
    assert len(sims[0].order_slot) + len(sims[1].order_slot) == len(pf.orders.values)
    assert len(sims[0].order_slot) > 10  # the scenario really trades
    # vectorbt was given only the 18 rows with orders (of 120): the same fills and values
    assert np.isnan(size).all(axis=1).sum() > 100


def test_reported_rows_equal_the_full_arrays_at_those_rows() -> None:
    price, size = _orders(120, seed=3)
    kwargs = dict(price=price, fees=np.array([0.001, 0.0]), slippage=np.zeros(2), init_cash=1000.0, n_assets=2)
    full = simulate_batch(size=size, engine="rust", **kwargs)
    rows = np.arange(1, 120, 2)  # e.g. the last slot of each date with two slots a date
    part = simulate_batch(size=size, engine="rust", report_rows=rows, **kwargs)
    np.testing.assert_array_equal(part.cash, full.cash[rows])
    np.testing.assert_array_equal(part.position, full.position[rows])
    np.testing.assert_array_equal(part.value, full.value[rows])
    # irregular rows, and rows ending before the last orders (a row's flows are summed in another order: not bitwise)
    for rows in (np.array([0, 5, 6, 40, 41, 97, 119]), np.arange(2, 90, 3)):
        part = simulate_batch(size=size, engine="rust", report_rows=rows, **kwargs)
        np.testing.assert_allclose(part.cash, full.cash[rows], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(part.position, full.position[rows], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(part.value, full.value[rows], rtol=1e-12, atol=1e-9)


def test_engine_is_pinned_and_restored() -> None:
    previous = vbt.settings["engine"]
    price, size = _orders(30, seed=2)
    simulate(sizes=[size], price=price, fees=np.zeros(2), slippage=np.zeros(2), init_cash=1.0, engine="numba")
    assert vbt.settings["engine"] == previous
    with pytest.raises(ValueError, match="unknown engine"):
        simulate(sizes=[size], price=price, fees=np.zeros(2), slippage=np.zeros(2), init_cash=1.0, engine="auto")  # type: ignore[arg-type]


def test_group_rows_lays_out_each_groups_own_slots() -> None:
    rows, at = group_rows(np.array([7, 3, 3, 9, 5]), np.array([0, 0, 2, 0, 2]), 3)
    # group 0 trades at 3, 7, 9; group 1 never (slot 0); group 2 at 3, 5 (padded with 5)
    np.testing.assert_array_equal(rows, [[3, 0, 3], [7, 0, 5], [9, 0, 5]])
    np.testing.assert_array_equal(at, [1, 0, 0, 2, 1])


@pytest.mark.parametrize("seed", range(20))
def test_group_rows_matches_a_plain_layout(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_groups = int(rng.integers(1, 6))
    slots = rng.integers(0, 40, size=int(rng.integers(1, 60)))
    groups = rng.integers(0, n_groups, size=len(slots))
    rows, at = group_rows(slots, groups, n_groups)
    own = [sorted(set(slots[groups == g].tolist())) for g in range(n_groups)]
    assert rows.shape == (max(len(o) for o in own), n_groups)
    for g, o in enumerate(own):
        padded = o + [o[-1] if o else 0] * (len(rows) - len(o))
        assert rows[:, g].tolist() == padded
    for i, (s, g) in enumerate(zip(slots, groups, strict=True)):
        assert own[g][at[i]] == s


@pytest.mark.parametrize("engine", ["rust", "numba"])
def test_groups_trading_on_different_slots_match_vectorbt(engine: str) -> None:
    # Each group is simulated on its own order slots: the fills and values must still be those of
    # one from_orders call over every slot.
    price, size = _orders(150, seed=5)
    size_b = np.full_like(size, np.nan)
    size_b[2::11] = [0.8, 0.2]
    size_b[6::11] = [0.1, 0.6]
    wide = np.ascontiguousarray(np.hstack([price, price * 1.01, price * 0.99]))  # (S, G*A) prices
    sizes = np.hstack([size, size_b, np.full_like(size, np.nan)])  # the third group never trades
    fees = np.array([0.001, 0.002])
    pf = vbt.Portfolio.from_orders(
        close=wide,
        size=sizes,
        price=wide,
        val_price=wide,
        size_type="targetpercent",
        direction="longonly",
        fees=np.tile(fees, 3),
        slippage=0.0005,
        init_cash=1000.0,
        cash_sharing=True,
        group_by=np.array([0, 0, 1, 1, 2, 2]),
        call_seq="auto",
        engine=engine,
    )
    batch = simulate_batch(
        size=sizes, price=wide, fees=fees, slippage=np.full(6, 0.0005), init_cash=1000.0, engine=engine, n_assets=2
    )
    np.testing.assert_allclose(batch.value, pf.value().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(batch.cash, pf.cash().to_numpy(), rtol=1e-12, atol=1e-9)
    mine = np.sort(batch.records[["col", "idx"]], order=["col", "idx"])
    theirs = np.sort(pf.orders.values[["col", "idx"]], order=["col", "idx"])
    np.testing.assert_array_equal(mine["idx"], theirs["idx"])
    assert len(mine) > 40
