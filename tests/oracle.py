"""An independent re-computation of a Seesaw run, for the tests (imports nothing from ``engine``).

Written from the *documented* rules only -- the docstring of
``engine/execution.py`` (events, lag, closed markets, sells before buys,
superseding), ``engine/costs.py`` (fees and slippage) and
``engine/metrics.py`` (conventions) -- and from vectorbt's published order
arithmetic (``vectorbt/portfolio/nb.py``), with plain loops: clarity over
speed.  It takes plain arrays, so the tests can feed it the same prices and
either the engine's per-date targets or targets recomputed here from the
signal formulas.

Timeline.  Every date d of the union timeline has one slot per market present,
in closing order (Hong Kong closes before New York): slot ``d * M + rank``.
In slot (d, r) an asset of a market closing in slot <= r is valued at its
close of d; one closing later at its close of d - 1 (not known yet).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "CLOSING_ORDER",
    "Leg",
    "OracleRun",
    "Plan",
    "carried_forward",
    "corr_breakdown_targets",
    "decision_events",
    "metrics",
    "plan_legs",
    "ratio_trend_targets",
    "relative_momentum_targets",
    "run",
]

#: Markets by closing time within one calendar date: Hong Kong first, New York about 13 hours later.
CLOSING_ORDER = ("hk", "us")
#: Weights closer than this are equal (targets come from YAML; drift estimates are float arithmetic).
WEIGHT_TOL = 1e-12

# vectorbt/utils/math_.py: the tolerances of is_close_nb and friends.
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


# --------------------------------------------------------------------------- prices


def carried_forward(close: np.ndarray) -> np.ndarray:
    """Last traded price at or before each date (NaN before the first one), column by column."""
    out = np.array(close, dtype=float, copy=True)
    for j in range(out.shape[1]):
        last = math.nan
        for d in range(out.shape[0]):
            if math.isnan(out[d, j]):
                out[d, j] = last
            else:
                last = out[d, j]
    return out


# --------------------------------------------------------------------------- rule 1: events


def decision_events(dates: Sequence, targets: np.ndarray, first: int, rebalance: str) -> list[int]:
    """Rows on which an event is decided (execution.py rule 1), from row ``first`` on.

    on_change: ``first`` and every later row whose targets differ from the row before.
    daily: every row.  weekly / monthly: ``first`` and the last row of each
    calendar week (Monday-Sunday) / month of the timeline (the timeline's final row
    ends its period too).
    """
    n = len(dates)
    stamps = [pd.Timestamp(x) for x in dates]
    events: list[int] = []
    for d in range(first, n):
        if d == first or rebalance == "daily":
            events.append(d)
        elif rebalance == "on_change":
            if any(abs(targets[d, j] - targets[d - 1, j]) > WEIGHT_TOL for j in range(targets.shape[1])):
                events.append(d)
        elif rebalance in ("weekly", "monthly"):
            if d == n - 1 or _period(stamps[d], rebalance) != _period(stamps[d + 1], rebalance):
                events.append(d)
        else:
            raise ValueError(f"unknown rebalance {rebalance!r}")
    return events


def _period(t: pd.Timestamp, rebalance: str) -> tuple[int, int]:
    if rebalance == "monthly":
        return (t.year, t.month)
    iso = t.isocalendar()
    return (iso[0], iso[1])


# --------------------------------------------------------------------------- rules 2-5: legs


@dataclass(frozen=True)
class Leg:
    """One asset's order of one event: executes at ``slot`` (None: its market never opens again)."""

    event: int
    decision: int
    asset: int
    target: float
    sell: bool
    slot: int | None


def _ranks(markets: Sequence[str]) -> list[int]:
    present = [m for m in CLOSING_ORDER if m in set(markets)]
    unknown = set(markets) - set(CLOSING_ORDER)
    if unknown:
        raise ValueError(f"unknown markets {sorted(unknown)}")
    return [present.index(m) for m in markets]


@dataclass(frozen=True)
class Plan:
    """The legs that execute, the legs dropped by superseding, and the legs whose market never opened."""

    legs: tuple[Leg, ...]
    superseded: tuple[Leg, ...]
    unfilled: tuple[Leg, ...]
    slots_per_date: int


def plan_legs(
    *,
    dates: Sequence,
    close: np.ndarray,
    markets: Sequence[str],
    targets: np.ndarray,
    lag: int,
    rebalance: str,
    first_decision: int,
    value: np.ndarray | None = None,
    fill: str = "close",
) -> Plan:
    """Every leg of every event, its slot, and whether a later event superseded it.

    Events are taken in order (rules 2-5 of the execution docstring):

    * lag: an event decided on row t executes from row t + lag (dropped past the
      end), and never before the decision exists: not before the last close of
      row t (with lag 0 a Hong Kong leg goes to Hong Kong's next close; with
      ``fill: next_open`` not before the first open of row t + 1);
    * closed markets: a leg fills at the first session of its market on or after that;
    * sells first: a leg is a *sell* when its target is below the weight the
      asset has drifted to since its last *filled* leg -- a leg scheduled before
      this event's first slot that no later event dropped; pending legs have not
      filled.  That weight: the filled leg's target, grown by the asset's
      unit value (``value``; default the carried-forward close) from the fill date to the decision date (no growth
      when the fill comes after the decision date), over the grown weights plus
      the cash the filled targets left (cash does not grow).  Sells go at the first
      session on or after the event's first slot; buys at the first session of
      their market strictly after the event's last sell slot (never, if a sell never fills);
    * superseding: when an event schedules an asset, that asset's legs of earlier
      events at the same or a later slot (not filled before it) are dropped.

    Every asset gets a leg in every event ("an event rebalances every asset").  (The
    engine skips an asset with a zero target, nothing held and nothing pending: such a
    leg is an order for zero units of a position of zero, and it drops no pending leg.)
    """
    n, n_assets = close.shape
    ranks = _ranks(markets)
    m = max(ranks) + 1
    known = carried_forward(close) if value is None else value  # what a unit is worth, for the drift
    sessions = [[d * m + ranks[j] for d in range(n) if not math.isnan(close[d, j])] for j in range(n_assets)]

    def first_session(j: int, lower: int) -> int | None:
        for s in sessions[j]:
            if s >= lower:
                return s
        return None

    def at(slot: int | None) -> float:
        return math.inf if slot is None else slot  # a leg that never fills stays pending for ever

    decided = [t for t in decision_events(dates, targets, first_decision, rebalance) if t + lag < n]
    alive: list[list[Leg]] = [[] for _ in range(n_assets)]  # per asset, by slot
    superseded: list[Leg] = []
    for k, t in enumerate(decided):
        # next_open: even the last market's open of row t came before the decision
        first = max((t + lag) * m, t * m + (m if fill == "next_open" else m - 1))
        new = [float(targets[t, j]) for j in range(n_assets)]
        held, grown = [0.0] * n_assets, [0.0] * n_assets
        for j in range(n_assets):
            filled = [leg for leg in alive[j] if at(leg.slot) < first]
            if filled:
                last = filled[-1]
                assert last.slot is not None
                fill_row = last.slot // m
                growth = known[t, j] / known[fill_row, j] if fill_row <= t else 1.0
                held[j] = last.target
                grown[j] = last.target * (growth if math.isfinite(growth) else 1.0)
        total = sum(grown) + (1.0 - sum(held))
        estimate = [g / total for g in grown]
        is_sell = [new[j] < estimate[j] - WEIGHT_TOL for j in range(n_assets)]

        sell_slots = {j: first_session(j, first) for j in range(n_assets) if is_sell[j]}
        if any(s is None for s in sell_slots.values()):
            buy_lower: int | None = None  # a sell never fills: no proceeds, the buys never go
        elif sell_slots:
            buy_lower = max(s for s in sell_slots.values() if s is not None) + 1
        else:
            buy_lower = first
        for j in range(n_assets):
            if is_sell[j]:
                slot = sell_slots[j]
            elif buy_lower is None:
                slot = None
            else:
                slot = first_session(j, buy_lower)
            leg = Leg(k, t, j, new[j], is_sell[j], slot)
            superseded += [old for old in alive[j] if at(old.slot) >= at(slot)]
            alive[j] = [old for old in alive[j] if at(old.slot) < at(slot)] + [leg]

    legs = [leg for asset_legs in alive for leg in asset_legs]
    kept = tuple(leg for leg in legs if leg.slot is not None)
    unfilled = tuple(leg for leg in legs if leg.slot is None)
    return Plan(kept, tuple(superseded), unfilled, m)


# --------------------------------------------------------------------------- vectorbt arithmetic


def _is_close(a: float, b: float) -> bool:
    """vectorbt.utils.math_.is_close_nb."""
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return False
    if a == b:
        return True
    return abs(a - b) <= max(_REL_TOL * max(abs(a), abs(b)), _ABS_TOL)


def _is_close_or_less(a: float, b: float) -> bool:
    """vectorbt.utils.math_.is_close_or_less_nb."""
    return _is_close(a, b) or a < b


def _add(a: float, b: float) -> float:
    """vectorbt.utils.math_.add_nb: a + b, snapped to 0 when the two cancel (is_addition_zero_nb)."""
    opposite = np.sign(a) != np.sign(b)
    zero = _is_close(abs(a), abs(b)) if opposite else _is_close(a + b, 0.0)
    return 0.0 if zero else a + b


def _argsort_nan_last(values: list[float]) -> list[int]:
    """vectorbt.utils.array_.insert_argsort_nb: stable insertion sort, NaN (no order) last."""
    a, idx = list(values), list(range(len(values)))
    for j in range(1, len(a)):
        key, key_i = a[j], idx[j]
        i = j - 1
        while i >= 0 and (a[i] > key or math.isnan(a[i])):
            a[i + 1], idx[i + 1] = a[i], idx[i]
            i -= 1
        a[i + 1], idx[i + 1] = key, key_i
    return idx


@dataclass
class _Fill:
    size: float
    price: float
    fees: float
    side: str


def _execute_target_percent(
    cash: float,
    position: float,
    value: float,
    val_price: float,
    target: float,
    price: float,
    fees: float,
    slippage: float,
) -> tuple[float, float, _Fill | None]:
    """One target-percent, long-only, partial-allowed order: (cash, position, fill or None).

    vectorbt.portfolio.nb.execute_order_nb (numerical clean-up of the state, then
    TargetPercent -> TargetValue -> TargetAmount -> Amount), then buy_nb or sell_nb
    with lock_cash=False, fixed_fees=0, min_size=0, max_size=inf, no granularity.
    """
    # execute_order_nb: "numerical stability" -- values within tolerance of 0 become 0, and the
    # cleaned state is what is returned, even when the order is then ignored.
    cash = 0.0 if _is_close(cash, 0.0) else cash
    position = 0.0 if _is_close(position, 0.0) else position
    val_price = 0.0 if _is_close(val_price, 0.0) else val_price
    value = 0.0 if _is_close(value, 0.0) else value
    if math.isnan(target) or math.isnan(price):
        return cash, position, None  # Ignored: SizeNaN / PriceNaN
    if math.isnan(value) or value <= 0:
        return cash, position, None  # Ignored: ValueNaN / Rejected: ValueZeroNeg
    if math.isnan(val_price):
        return cash, position, None  # Ignored: ValPriceNaN
    size = target
    size *= value  # TargetPercent -> TargetValue
    size /= val_price  # TargetValue -> TargetAmount
    size -= position  # TargetAmount -> Amount

    if size > 0:
        # buy_nb
        adj_price = price * (1 + slippage)
        cash_limit = cash
        if cash_limit == 0:
            return cash, position, None  # Rejected: NoCashLong
        req_cash = size * adj_price
        req_fees = req_cash * fees
        total_req_cash = req_cash + req_fees
        if _is_close_or_less(total_req_cash, cash_limit):
            final_size, fees_paid, final_req_cash = size, req_fees, total_req_cash
        else:
            # not enough cash: spend all of it, fees included
            max_req_cash = _add(cash_limit, -0.0) / (1 + fees)
            if max_req_cash <= 0:
                return cash, position, None  # Rejected: CantCoverFees
            final_size = max_req_cash / adj_price
            fees_paid = cash_limit - max_req_cash
            final_req_cash = cash_limit
        if _is_close(size, 0.0):
            return cash, position, None  # Ignored: SizeZero
        return _add(cash, -final_req_cash), _add(position, final_size), _Fill(final_size, adj_price, fees_paid, "buy")

    # sell_nb (size <= 0), long only: never more than the position
    adj_price = price * (1 - slippage)
    size_limit = min(position, -size)
    if position == 0:
        return cash, position, None  # Rejected: NoOpenPosition
    if _is_close(size_limit, 0.0):
        return cash, position, None  # Ignored: SizeZero
    acq_cash = size_limit * adj_price
    fees_paid = acq_cash * fees
    final_acq_cash = _add(acq_cash, -fees_paid)
    if final_acq_cash < 0:
        return cash, position, None  # Rejected: CantCoverFees
    return cash + final_acq_cash, _add(position, -size_limit), _Fill(size_limit, adj_price, fees_paid, "sell")


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class OracleRun:
    """End-of-day state from row ``start`` on, the fills, and the order plan they came from."""

    dates: pd.DatetimeIndex
    value: np.ndarray  # (n - start,) cash + units x last known close, after the last slot of each date
    cash: np.ndarray
    units: np.ndarray  # (n - start, A)
    trades: pd.DataFrame  # date, asset, side, quantity, price, value, fees; by slot then asset
    plan: Plan


def run(
    *,
    dates: Sequence,
    close: np.ndarray,
    markets: Sequence[str],
    targets: np.ndarray,
    lag: int,
    rebalance: str,
    fees: Sequence[float] | np.ndarray,
    slippage: float | Sequence[float] | np.ndarray,
    initial_cash: float,
    start: int,
    assets: Sequence[str] | None = None,
    value: np.ndarray | None = None,
    cash_growth: np.ndarray | None = None,
    fill_price: np.ndarray | None = None,
) -> OracleRun:
    """Re-compute a run: events and legs, then vectorbt's slot-by-slot order arithmetic.

    ``close[d, j]``: asset j's price on date d, NaN when it did not trade.
    ``targets[d, j]``: the weights decided after the last close of date d.
    ``fees``: fraction per asset (fee plus stamp duty); ``slippage``: fraction
    (scalar or per asset).  ``start``: first simulated row; the first decision
    is taken ``lag`` rows earlier (row 0 at the earliest).

    Money (all optional): ``value[d, j]`` is what one unit is worth at the end of
    date d (default: the last close carried forward); ``cash_growth[d]`` multiplies
    the cash at the start of date d (interest since the previous date);
    ``fill_price[d, j]`` is the price an order fills at in asset j's slot of date d
    (default: the close; the open for ``fill: next_open``); it is also what the asset
    is valued at when that slot's orders are sized.

    Simulation (vectorbt ``Portfolio.from_orders`` with size_type targetpercent,
    cash sharing, call_seq auto, long only, allow_partial, update_value False,
    val_price = the price known in the slot; ``simulate_from_orders_nb``): for
    every slot, the group value is cash + sum(units x valuation price) *before*
    any order of the slot; each order's approximate value is
    target x group value - units x valuation price (``approx_order_value_nb``);
    orders go in ascending order of that value (sells first), each against the
    cash left by the previous one.
    """
    dates = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    close = np.asarray(close, dtype=float)
    n, n_assets = close.shape
    names = list(assets) if assets is not None else [str(j) for j in range(n_assets)]
    fee = [float(x) for x in np.broadcast_to(np.asarray(fees, dtype=float), (n_assets,))]
    slip = [float(x) for x in np.broadcast_to(np.asarray(slippage, dtype=float), (n_assets,))]

    plan = plan_legs(
        dates=dates,
        close=close,
        markets=markets,
        targets=np.asarray(targets, dtype=float),
        lag=lag,
        rebalance=rebalance,
        first_decision=max(start - lag, 0),
        value=value,
        fill="close" if fill_price is None else "next_open",
    )
    m = plan.slots_per_date
    orders: dict[int, dict[int, float]] = {}
    for leg in plan.legs:
        assert leg.slot is not None
        orders.setdefault(leg.slot, {})[leg.asset] = leg.target

    ranks = _ranks(markets)
    known = carried_forward(close) if value is None else np.asarray(value, dtype=float)
    fills = close if fill_price is None else np.asarray(fill_price, dtype=float)
    cash = float(initial_cash)
    units = [0.0] * n_assets
    last_val = [math.nan] * n_assets  # ffill_val_price=True: a NaN valuation price keeps the last one
    eod_value, eod_cash, eod_units = [], [], []
    rows: list[tuple] = []
    for d in range(start, n):
        if cash_growth is not None and d > start:
            cash *= float(cash_growth[d])
        for r in range(m):
            slot = d * m + r
            for j in range(n_assets):
                # the price known in this slot: today's close if the market has closed, else yesterday's
                vp = known[d, j] if ranks[j] <= r else known[max(d - 1, 0), j]
                if ranks[j] == r and not math.isnan(close[d, j]):
                    vp = fills[d, j]  # its own session: valued at the fill price when sizing
                if not math.isnan(vp):
                    last_val[j] = vp
            group_value = cash
            for j in range(n_assets):
                if units[j] != 0:
                    group_value += units[j] * last_val[j]
            wanted = orders.get(slot, {})
            size = [wanted.get(j, math.nan) for j in range(n_assets)]
            approx = [size[j] * group_value - units[j] * last_val[j] for j in range(n_assets)]
            for j in _argsort_nan_last(approx):
                # every column is processed, also without an order (state clean-up in execute_order_nb)
                price = fills[d, j] if ranks[j] == r and not math.isnan(close[d, j]) else math.nan
                if not math.isnan(size[j]) and math.isnan(price):
                    raise AssertionError(f"leg of asset {j} in slot {slot} but its market did not trade")
                cash, units[j], fill = _execute_target_percent(
                    cash, units[j], group_value, last_val[j], size[j], price, fee[j], slip[j]
                )
                if fill is not None:
                    rows.append((slot, j, fill))
        eod_cash.append(cash)
        eod_units.append(list(units))
        eod_value.append(cash + sum(units[j] * known[d, j] for j in range(n_assets) if units[j] != 0))

    rows.sort(key=lambda x: (x[0], x[1]))
    trades = pd.DataFrame(
        {
            "date": [dates[s // m].strftime("%Y-%m-%d") for s, _, _ in rows],
            "asset": [names[j] for _, j, _ in rows],
            "side": [f.side for _, _, f in rows],
            "quantity": [f.size for _, _, f in rows],
            "price": [f.price for _, _, f in rows],
            "value": [f.size * f.price for _, _, f in rows],
            "fees": [f.fees for _, _, f in rows],
        }
    )
    return OracleRun(
        dates=dates[start:],
        value=np.array(eod_value),
        cash=np.array(eod_cash),
        units=np.array(eod_units).reshape(n - start, n_assets),
        trades=trades,
        plan=plan,
    )


# --------------------------------------------------------------------------- metrics


def metrics(dates: Sequence, value: Sequence[float], initial: float) -> dict[str, float]:
    """The metrics of engine/metrics.py, re-derived from their definitions.

    Daily simple returns with the initial cash before the first date;
    years = calendar days first -> last / 365.25; periods per year =
    (number of dates - 1) / years; sample standard deviation (n - 1); zero
    risk-free rate and Sortino target; the downside deviation averages squared
    negative returns over *all* dates; the drawdown counts the initial cash as
    the first peak.
    """
    stamps = [pd.Timestamp(x) for x in dates]
    years = (stamps[-1] - stamps[0]).days / 365.25
    ppy = (len(stamps) - 1) / years
    values = [float(v) for v in value]
    previous = [float(initial), *values[:-1]]
    rets = [v / p - 1.0 for v, p in zip(values, previous, strict=True)]
    k = len(rets)
    mean = math.fsum(rets) / k
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in rets) / (k - 1))
    downside = math.sqrt(math.fsum(min(x, 0.0) ** 2 for x in rets) / k)
    peak, mdd = float(initial), 0.0
    for v in values:
        peak = max(peak, v)
        mdd = min(mdd, v / peak - 1.0)
    cagr = (values[-1] / initial) ** (1.0 / years) - 1.0
    return {
        "total_return": values[-1] / initial - 1.0,
        "cagr": cagr,
        "ann_vol": sd * math.sqrt(ppy),
        "sharpe": mean / sd * math.sqrt(ppy) if sd > 0 else math.nan,
        "sortino": mean / downside * math.sqrt(ppy) if downside > 0 else math.nan,
        "max_drawdown": mdd,
        "calmar": cagr / abs(mdd) if mdd < 0 else math.nan,
        "years": years,
        "periods_per_year": ppy,
    }


# --------------------------------------------------------------------------- signals + rules


def _window_mean(x: np.ndarray, t: int, window: int) -> float:
    return float(np.mean(x[t - window + 1 : t + 1])) if t + 1 >= window else math.nan


def ratio_trend_targets(us: np.ndarray, hk: np.ndarray, window: int) -> np.ndarray:
    """configs/ratio_trend.yaml: HK when ln(R_t / SMA_window(R)_t) > 0 with R = HK / US, else US.

    ``us``, ``hk``: carried-forward closes on the union timeline.  Columns (us, hk).
    While the average is warming up (NaN) the rule is false: US.
    """
    ratio = hk / us
    out = np.zeros((len(us), 2))
    for t in range(len(us)):
        sma = _window_mean(ratio, t, window)
        trend = math.log(ratio[t] / sma) if math.isfinite(sma) and math.isfinite(ratio[t]) else math.nan
        out[t] = (0.0, 1.0) if (not math.isnan(trend) and trend > 0) else (1.0, 0.0)
    return out


def _trailing_return(p: np.ndarray, t: int, window: int) -> float:
    return p[t] / p[t - window] - 1.0 if t >= window else math.nan


def relative_momentum_targets(us: np.ndarray, hk: np.ndarray, window: int) -> np.ndarray:
    """configs/relative_momentum.yaml: US if rel > 0 and mom_us > 0; HK if rel <= 0 and mom_hk > 0; else cash.

    mom_x = P[t] / P[t - window] - 1, rel = mom_us - mom_hk; a rule naming a NaN signal is false.
    """
    out = np.zeros((len(us), 2))
    for t in range(len(us)):
        mu, mh = _trailing_return(us, t, window), _trailing_return(hk, t, window)
        rel = mu - mh
        if not (math.isnan(rel) or math.isnan(mu)) and rel > 0 and mu > 0:
            out[t] = (1.0, 0.0)
        elif not (math.isnan(rel) or math.isnan(mh)) and rel <= 0 and mh > 0:
            out[t] = (0.0, 1.0)
    return out


def corr_breakdown_targets(us: np.ndarray, hk: np.ndarray, corr_window: int, mom_window: int) -> np.ndarray:
    """configs/corr_breakdown.yaml: corr < 0.2 -> the stronger 63-row momentum (US if mom > 0), else 50/50.

    corr_t = Pearson correlation over rows t-window+1..t of (US log return of the
    *previous* row, HK log return of the row): Hong Kong's day d reacts to New
    York's day d-1 (``align: async``).  mom = mom_us - mom_hk.
    """
    n = len(us)
    r_us = np.full(n, math.nan)
    r_hk = np.full(n, math.nan)
    for t in range(1, n):
        r_us[t] = math.log(us[t] / us[t - 1])
        r_hk[t] = math.log(hk[t] / hk[t - 1])
    u = np.concatenate([[math.nan], r_us[:-1]])  # US return of the previous row
    out = np.zeros((n, 2))
    for t in range(n):
        corr = math.nan
        if t + 1 >= corr_window:
            a, b = u[t - corr_window + 1 : t + 1], r_hk[t - corr_window + 1 : t + 1]
            if np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
                da, db = a - a.mean(), b - b.mean()
                corr = float(np.sum(da * db) / math.sqrt(np.sum(da * da) * np.sum(db * db)))
        mom = _trailing_return(us, t, mom_window) - _trailing_return(hk, t, mom_window)
        ok = not (math.isnan(corr) or math.isnan(mom))
        if ok and corr < 0.2 and mom > 0:
            out[t] = (1.0, 0.0)
        elif ok and corr < 0.2 and mom <= 0:
            out[t] = (0.0, 1.0)
        else:
            out[t] = (0.5, 0.5)
    return out
