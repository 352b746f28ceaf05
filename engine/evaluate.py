"""The one evaluation path: K columns of targets on one panel -> order plan -> fills -> curves.

A single run (K = the strategy and its benchmarks), a sweep chunk (K = up to 200 combinations)
and a walk-forward's stitched run (K = 1, with a lag, events and costs that follow its folds)
are each one call of :func:`evaluate`:

1. :func:`market` computes what every column on the panel shares, once: unit values and the
   cash index (:mod:`engine.valuation`), the slot prices the simulation sees, the risk-free
   returns;
2. a :class:`Columns` holds what differs per column: targets decided on each row, lag,
   rebalance mode, first decision, costs;
3. :func:`evaluate` plans and fills every column in one compiled kernel
   (:func:`engine.execution.plan_batch`), then either keeps those fills (``engine=None``, the
   sweep's way) or re-simulates the planned orders with vectorbt's ``from_orders``
   (``engine="rust"`` or ``"numba"``, a single run's way, which also gives the frozen-FX
   counterfactual behind ``fx_return``), and returns the (dates, K) equity curves in money
   with what each column traded (:class:`~engine.metrics.specs.Curves`).  :func:`evaluate_curves`
   gives only the curves and each asset's average weight, the sweep's need: with the scheduler's
   fills it values them in one pass (:mod:`engine.fill_curves`) and keeps no cash or units.

The warm-up a config needs and the row of its first decision are defined here too, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numba
import numpy as np
import pandas as pd

from engine.calendar import market_rank
from engine.config.models import AssetSpec, Costs, Rule, Sizing
from engine.costs import CostRates, cost_rates
from engine.data.panel import LoadedPanel, PricePanel
from engine.execution import BatchPlan, next_slots, plan_batch
from engine.fill_curves import curves_from_fills
from engine.metrics.returns import average_weights
from engine.metrics.specs import Curves
from engine.rule_targets import RuleTargets
from engine.signals import signal_lookback
from engine.simulate import BatchSim, Engine, from_fills, simulate_batch
from engine.valuation import Valuation, simulation_prices, valuation

__all__ = [
    "Columns",
    "Evaluation",
    "Market",
    "asset_specs",
    "cost_groups",
    "evaluate",
    "evaluate_curves",
    "first_decision",
    "market",
    "warmup_rows",
]


def warmup_rows(
    signals: Mapping[str, Mapping[str, object]], rules: Iterable[Rule], lag: int, *, sizing: Sizing | None = None
) -> int:
    """Rows of history before the start that make every signal valid for the first decision.

    The longest signal warm-up, one more row for ``crosses_above``/``crosses_below`` (they look at
    the previous value), or the sizing window (``window`` returns need ``window`` rows before the
    decision), whichever is longer, and the lag: the decision that fills on the first simulated date
    is taken ``lag`` rows earlier.
    """
    texts = [text for r in rules for text in (r.when, r.until, *(v for v in r.target.values() if isinstance(v, str)))]
    crosses = any("crosses_" in (text or "") for text in texts)
    return max(signal_lookback(signals) + int(crosses), sizing.window if sizing is not None else 0) + lag


def first_decision(start: int, lag: np.ndarray | int) -> np.ndarray:
    """Row of each column's first decision: ``lag`` rows before the first simulated date (row ``start``)."""
    return np.maximum(start - np.asarray(lag, dtype=np.int64), 0)


def asset_specs(panel: PricePanel, assets: Mapping[str, AssetSpec] | None) -> Mapping[str, AssetSpec]:
    """The config's asset specs, or plain specs of the panel's symbols, markets and currencies."""
    if assets is not None:
        return assets
    return {
        a: AssetSpec.model_validate({"symbol": sym, "market": mk, "currency": ccy})
        for a, sym, mk, ccy in zip(panel.assets, panel.symbols, panel.markets, panel.currencies, strict=True)
    }


@dataclass(frozen=True)
class Market:
    """What every column simulated on one panel shares, from the first simulated date on."""

    loaded: LoadedPanel
    assets: Mapping[str, AssetSpec]
    val: Valuation
    slots_per_date: int
    asset_slot: np.ndarray  # (A,) the slot of each asset's market within a date
    close: np.ndarray  # (S, A) value of one unit at the end of each slot, cash-index units
    order: np.ndarray  # (S, A) what an order in the slot fills at, same units
    fill: str
    cash_rate: float | None

    @property
    def panel(self) -> PricePanel:
        return self.loaded.panel

    @property
    def start(self) -> int:
        return self.loaded.start

    @property
    def first_slot(self) -> int:
        return self.start * self.slots_per_date

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The run's dates (from the first simulated date)."""
        return self.panel.dates[self.start :]

    @cached_property
    def eod(self) -> np.ndarray:
        """The last slot of each run date, counted from the first simulated slot."""
        return np.arange(self.slots_per_date - 1, len(self.close), self.slots_per_date)

    @cached_property
    def next_slots(self) -> np.ndarray:
        """(n*M + 1, A): the first slot at or after each slot in which each asset trades
        (:func:`engine.execution.next_slots`), the same for every column on this panel."""
        return next_slots(self.panel.traded, self.asset_slot, self.slots_per_date)

    @cached_property
    def cash_slots(self) -> np.ndarray:
        """(S,) the cash index in each slot: money = cash-index units x this."""
        return np.repeat(self.val.cash_index, self.slots_per_date)[self.first_slot :]

    @cached_property
    def accrual(self) -> np.ndarray:
        """(n,) a margin account's financing factor from the previous date to each date of the panel
        (docs/shorts.md): calendar days / 365 x B[d-1] / B[d], so a charge lands in cash-index units of d."""
        b = self.val.cash_index
        days = np.diff(self.panel.dates.to_numpy()).astype("timedelta64[D]").astype(np.float64)
        return np.concatenate([[0.0], days / 365.0 * b[:-1] / b[1:]])

    @cached_property
    def risk_free(self) -> np.ndarray:
        """(n,) per-date risk-free return on the run's dates (0 on the first)."""
        return self.val.risk_free(self.start)

    @property
    def has_fx(self) -> bool:
        """Whether an asset is quoted in another currency than the base (``fx_return`` is then defined)."""
        return self.panel.usdhkd is not None

    def frozen_prices(self) -> tuple[np.ndarray, np.ndarray]:
        """(close, order) as :attr:`close` and :attr:`order`, with exchange rates frozen at the first date."""
        frozen = valuation(
            self.panel, dividend_yields=_yields(self), cash_rate=self.cash_rate, start=self.start, frozen_fx=True
        )
        close, order = simulation_prices(frozen, self.panel.traded, self.asset_slot, self.slots_per_date, self.fill)
        return close[self.first_slot :], order[self.first_slot :]


def _yields(mk: Market) -> np.ndarray:
    return np.array([mk.assets[a].dividend_yield for a in mk.panel.assets], dtype="float64")


def market(
    loaded: LoadedPanel,
    *,
    assets: Mapping[str, AssetSpec] | None = None,
    cash_rate: float | None = None,
    fill: str = "close",
) -> Market:
    """The shared part of every column on ``loaded`` (module docstring, step 1).

    ``cash_rate``: a constant annual rate on cash; None uses the panel's cash-rate series, or none.
    """
    panel, start = loaded.panel, loaded.start
    specs = asset_specs(panel, assets)
    yields = np.array([specs[a].dividend_yield for a in panel.assets], dtype="float64")
    val = valuation(panel, dividend_yields=yields, cash_rate=cash_rate, start=start)
    ranks = market_rank(list(panel.markets))
    ms = len(ranks)
    asset_slot = np.array([ranks[mk] for mk in panel.markets], dtype=np.int64)
    close, order = simulation_prices(val, panel.traded, asset_slot, ms, fill)
    return Market(
        loaded=loaded,
        assets=specs,
        val=val,
        slots_per_date=ms,
        asset_slot=asset_slot,
        close=np.ascontiguousarray(close[start * ms :]),
        order=np.ascontiguousarray(order[start * ms :]),
        fill=fill,
        cash_rate=cash_rate,
    )


@dataclass(frozen=True)
class Columns:
    """What differs between the K columns of one evaluation."""

    targets: np.ndarray | RuleTargets  # (n, K, A) decided on each row of the panel (warm-up included), or by rule
    lag: np.ndarray  # (K,), or (n, K) for a lag that changes over time
    rebalance: Sequence[str]  # K modes
    costs: Sequence[tuple[np.ndarray, CostRates]]  # (columns, rates): every column in exactly one group
    first_decision: np.ndarray  # (K,) rows
    events: np.ndarray | None = None  # (n, K) decision events, instead of those the modes give
    band: np.ndarray | None = None  # (K,) rebalancing bands (NaN: none)
    margin: np.ndarray | None = None  # (K,) bool: margin accounts (docs/shorts.md); None: all cash accounts

    def financing(self) -> np.ndarray:
        """(K, 2) each margin account's borrow and spread fractions a year (0 for a cash account)."""
        k = self.targets.shape[1]
        out = np.zeros((k, 2))
        for rows, rates in self.costs:
            out[rows] = (rates.borrow, rates.margin_spread)
        if self.margin is not None:
            out[~np.asarray(self.margin, dtype=bool)] = 0.0
        return out


def cost_groups(groups: Sequence[tuple[np.ndarray, Costs]], mk: Market) -> list[tuple[np.ndarray, CostRates]]:
    """Each group's cost settings as per-date rates of the panel's assets."""
    return [(rows, cost_rates(c, mk.assets, mk.panel.assets, mk.panel.dates)) for rows, c in groups]


def _slot_costs(mk: Market, groups: Sequence[tuple[np.ndarray, CostRates]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Fee and slippage fractions per slot from the first simulated one: the shared (S, A) and
    (A,) or (S, A) when every column pays the same rates, else (S, K*A) and (K*A,) or (S, K*A).

    Rates are per date (a fill pays its date's rates); a slippage per date and asset ((n, A),
    a walk-forward's folds) is repeated over the date's slots like the fees.
    """
    ms, cut = mk.slots_per_date, mk.first_slot

    def per_slot(x: np.ndarray) -> np.ndarray:
        return np.repeat(x, ms, axis=0)[cut:] if x.ndim == 2 else x

    if len(groups) == 1:
        rates = groups[0][1]
        return per_slot(rates.fees), per_slot(rates.slippage)
    n_assets = len(mk.panel.assets)
    fees = np.empty((len(mk.close), k, n_assets))
    slip_2d = any(r.slippage.ndim == 2 for _, r in groups)
    slippage = np.empty((len(mk.close), k, n_assets) if slip_2d else (k, n_assets))
    for rows, r in groups:  # a loop over cost settings, not columns
        fees[:, rows, :] = per_slot(r.fees)[:, None, :]
        slip = per_slot(r.slippage)
        slippage[..., rows, :] = slip[:, None, :] if slip.ndim == 2 else slip
    width = k * n_assets
    return fees.reshape(len(fees), width), slippage.reshape(len(fees), width) if slip_2d else slippage.reshape(-1)


@dataclass(frozen=True)
class Evaluation:
    """The K columns simulated: the plan, the state at the end of each run date, the curves in money."""

    plan: BatchPlan
    records: np.ndarray  # the K columns' vectorbt order records (``idx``: run slot, ``col``: k*A + j)
    cash: np.ndarray  # (n, K) cash at the end of each run date, cash-index units
    units: np.ndarray  # (n, K*A) units held at the end of each run date
    value: np.ndarray  # (n, K) money at the end of each run date
    curves: Curves
    frozen_value: np.ndarray | None  # (n, K) money with exchange rates frozen (only with ``frozen_fx``)
    financing: np.ndarray | None = None  # (K, 2) margin accounts' borrow and margin spread paid, money


def evaluate(
    mk: Market,
    cols: Columns,
    *,
    init_cash: float,
    engine: Engine | None,
    reference: np.ndarray | None = None,
    frozen_fx: bool = False,
) -> Evaluation:
    """Plan, fill and value the columns ``cols`` on ``mk`` (module docstring, step 3).

    ``engine``: None keeps the plan's own fills (made with vectorbt's order primitives as
    ``from_orders`` makes them); ``"rust"``/``"numba"`` re-simulate the planned orders with
    ``from_orders`` on that engine.  ``frozen_fx`` (with an engine) adds the K columns again with
    exchange rates frozen at the first date, in the same call.  ``reference``: an (n,) equity
    curve the curves are compared with (information ratio, tracking error).
    """
    panel = mk.panel
    k, n_assets = cols.targets.shape[1], len(panel.assets)
    fees, slippage = _slot_costs(mk, cols.costs, k)
    plan = _plan(mk, cols, fees, slippage, init_cash)
    frozen_value = financing = None
    if plan.has_margin:  # from_orders cannot debit financing: the scheduler's fills are the simulation
        sim, value = _own_fills(mk, plan, init_cash)
        financing = _financing_money(mk, plan)
        if frozen_fx and engine is not None and mk.has_fx:
            close_f, order_f = mk.frozen_prices()
            frozen = replace(mk, close=close_f, order=order_f)
            again = replace(cols, events=plan.events, band=None)
            frozen_value = _own_fills(frozen, _plan(frozen, again, fees, slippage, init_cash), init_cash)[1]
    elif engine is None:
        sim = from_fills(
            plan.fills, price=mk.close, init_cash=init_cash, n_groups=k, n_assets=n_assets, report_rows=mk.eod
        )
        value = sim.value[:, :k] * mk.val.cash_index[mk.start :, None]
    else:
        sim = _simulate(mk, plan, fees, slippage, init_cash, engine, frozen_fx and mk.has_fx)
        if sim.value.shape[1] > k:
            frozen_value = sim.value[:, k:] * mk.val.cash_index[mk.start :, None]
        value = sim.value[:, :k] * mk.val.cash_index[mk.start :, None]
    records = sim.records if sim.value.shape[1] == k else sim.records[sim.records["col"] < k * n_assets]
    curves = _curves(mk, value, records, plan.switches, init_cash, reference)
    units = sim.position[:, : k * n_assets]
    return Evaluation(plan, records, sim.cash[:, :k], units, value, curves, frozen_value, financing)


def evaluate_curves(
    mk: Market, cols: Columns, *, init_cash: float, engine: Engine | None, reference: np.ndarray | None = None
) -> tuple[Curves, np.ndarray]:
    """The curves of :func:`evaluate` and each asset's average weight (K, A) (units x unit value / value,
    the mean over the run's dates), without the cash and units of every date.

    With the scheduler's fills (``engine=None``) and no margin account, the fills are valued and the
    weights summed in one pass (:func:`engine.fill_curves.curves_from_fills`); otherwise this is
    :func:`evaluate` followed by :func:`engine.metrics.returns.average_weights`.  Both give the same bits.
    """
    unit_value = mk.val.known[mk.start :]
    if engine is not None or cols.margin is not None:
        ev = evaluate(mk, cols, init_cash=init_cash, engine=engine, reference=reference)
        return ev.curves, average_weights(ev.units, unit_value, ev.value)
    k, n_assets = cols.targets.shape[1], len(mk.panel.assets)
    fees, slippage = _slot_costs(mk, cols.costs, k)
    plan = _plan(mk, cols, fees, slippage, init_cash)
    value, weights = curves_from_fills(
        plan.fills,
        price=mk.close,
        init_cash=init_cash,
        n_groups=k,
        n_assets=n_assets,
        report_rows=mk.eod,
        scale=mk.val.cash_index[mk.start :],
        unit_value=unit_value,
    )
    return _curves(mk, value, plan.fills, plan.switches, init_cash, reference), weights


def _plan(mk: Market, cols: Columns, fees: np.ndarray, slippage: np.ndarray, init_cash: float) -> BatchPlan:
    """The columns' order plan and the scheduler's own fills on ``mk``'s prices."""
    panel = mk.panel
    return plan_batch(
        targets=cols.targets,
        traded=panel.traded,
        markets=panel.markets,
        dates=panel.dates,
        first_decision=cols.first_decision,
        lag=cols.lag,
        rebalance=cols.rebalance,
        close=mk.close,
        order_price=mk.order,
        fees=fees,
        slippage=slippage,
        init_cash=init_cash,
        first_slot=mk.first_slot,
        fill=mk.fill,
        events=cols.events,
        band=cols.band,
        margin=cols.margin,
        financing=cols.financing() if cols.margin is not None else None,
        accrual=mk.accrual if cols.margin is not None else None,
        next_slot=mk.next_slots,
    )


def _own_fills(mk: Market, plan: BatchPlan, init_cash: float) -> tuple[BatchSim, np.ndarray]:
    """The scheduler's fills as cash, units and value at the end of each run date, the margin accounts'
    financing taken from cash (cash-index units), and the (n, K) value in money."""
    k, n_assets = plan.n_allocations, len(mk.panel.assets)
    sim = from_fills(plan.fills, price=mk.close, init_cash=init_cash, n_groups=k, n_assets=n_assets, report_rows=mk.eod)
    if plan.charges is not None:
        paid = np.cumsum(plan.charges[mk.start :].sum(axis=2), axis=0)
        sim = replace(sim, cash=sim.cash - paid, value=sim.value - paid)
    ruined = plan.ruined if plan.ruined is not None else np.full(k, -1)
    for c in np.flatnonzero(ruined >= mk.start):
        r = ruined[c] - mk.start  # closed out at the end of run row r: its value stays in cash
        sim.cash[r + 1 :, c] = sim.value[r + 1 :, c] = sim.value[r, c]
        sim.position[r + 1 :, c * n_assets : (c + 1) * n_assets] = 0.0
    return sim, sim.value * mk.val.cash_index[mk.start :, None]


def _financing_money(mk: Market, plan: BatchPlan) -> np.ndarray:
    """(K, 2): the borrow and margin spread each column paid over the run, in money."""
    assert plan.charges is not None
    return np.einsum("nkc,n->kc", plan.charges[mk.start :], mk.val.cash_index[mk.start :])


def _simulate(
    mk: Market,
    plan: BatchPlan,
    fees: np.ndarray,
    slippage: np.ndarray,
    init_cash: float,
    engine: Engine,
    frozen: bool,
) -> BatchSim:
    """The planned orders through vectorbt's ``from_orders`` on ``engine``; with ``frozen``, the same
    orders again on the frozen-FX prices, as K more groups of the same call."""
    k = plan.n_allocations
    size = plan.size[mk.first_slot :]
    prices: list[np.ndarray] = [mk.close] * k
    orders: list[np.ndarray] = [mk.order] * k
    if frozen:
        close_f, order_f = mk.frozen_prices()
        size, prices, orders = np.hstack([size, size]), prices + [close_f] * k, orders + [order_f] * k
        if fees.shape[1] != len(mk.panel.assets):  # per column: the frozen copies pay the same
            fees = np.hstack([fees, fees])
            slippage = np.concatenate([slippage, slippage], axis=-1)
    return simulate_batch(
        size=size,
        price=prices,
        order_price=orders,
        fees=fees,
        slippage=slippage,
        init_cash=init_cash,
        engine=engine,
        n_assets=len(mk.panel.assets),
        report_rows=mk.eod,
    )


def _curves(
    mk: Market,
    value: np.ndarray,
    records: np.ndarray,
    switches: np.ndarray,
    init_cash: float,
    reference: np.ndarray | None,
) -> Curves:
    """The K curves with what each traded (``records``: vectorbt's order records of the K columns)."""
    k, n_assets = value.shape[1], len(mk.panel.assets)
    traded, fees, trades = _record_totals_nb(
        records["col"], records["idx"], records["size"], records["price"], records["fees"], mk.cash_slots, n_assets, k
    )
    return Curves(
        dates=mk.dates,
        value=value,
        initial=init_cash,
        risk_free=mk.risk_free,
        traded=traded,
        fees=fees,
        trades=trades,
        switches=switches,
        reference=reference,
    )


@numba.njit(cache=True, nogil=True)
def _record_totals_nb(col, idx, size, price, fees, growth, n_assets, k):  # pragma: no cover - compiled
    """Per column g of k: the value traded (size x price x growth) and fees paid (fees x growth) summed
    in record order, and the number of fills, of the order records with ``col // n_assets == g``
    (``growth``: the cash index per slot, ``idx`` a record's slot).  The bits of ``np.bincount`` with
    those weights, in one pass over the records instead of three and their temporaries (floats also when
    no column traded, where ``np.bincount`` gives integer zeros).  A record outside the k columns or the
    slots raises IndexError rather than reading or writing past an array (numba checks no bounds)."""
    traded, paid, count = np.zeros(k), np.zeros(k), np.zeros(k, dtype=np.int64)
    for r in range(len(col)):
        g = col[r] // n_assets
        if not (0 <= g < k and 0 <= idx[r] < len(growth)):
            raise IndexError("an order record outside the columns or the slots")
        w = growth[idx[r]]
        traded[g] += size[r] * price[r] * w
        paid[g] += fees[r] * w
        count[g] += 1
    return traded, paid, count
