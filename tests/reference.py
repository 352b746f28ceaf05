"""An independent reference backtester: plain Python loops, no vectorbt, nothing from ``engine``.

It exists to check the engine, so it re-derives every rule from the written contract.  In words:

Timeline and slots
    The index of ``closes`` is the timeline (the union of both markets' trading dates).  Every date
    has one slot per market among the traded assets' markets, in closing order: Hong Kong's close
    (08:00 UTC) first, then New York's close (21:00 UTC) of the same calendar date.  A slot is named
    ``(row, k)`` with ``k = 0`` for Hong Kong and ``k = 1`` for New York, and slots are ordered as
    these pairs.  An asset trades only in its own market's slot and only on a *session*: a date its
    close is not NaN.  Prices are carried forward for valuation only.

Values
    One unit of asset j at the end of date d is worth ``V[d, j] = Qc * G * X`` in the base currency:
    ``Qc`` the last quoted close at or before d; ``G = (1 + y_j) ** (calendar days from start to d /
    365.25)``, the constant dividend yield accrued daily and reinvested (1 on the start date);
    ``X`` the FX factor: 1 in its own currency, ``1 / usdhkd`` for an HKD asset in a USD base,
    ``usdhkd`` for a USD asset in an HKD base (the last quote at or before d).  What a slot knows:
    in Hong Kong's slot of d, Hong Kong assets are worth ``V[d]`` and US assets ``V[d - 1]`` (the
    previous timeline row; row 0 uses ``V[0]``); in New York's slot everything is worth ``V[d]``.
    With ``fill="next_open"`` the legs fill at the session's open (``open * G * X`` of that date),
    and in a market's slot the assets of that market that trade that date are worth their open
    (the others as above).  The end-of-date values are always closes.

Cash
    Cash grows from one timeline date to the next by ``(1 + r / 365) ** calendar days``, ``r`` the
    annual rate known on the earlier date (a constant fraction, or a series in percent a year
    carried forward); the interest is credited at the start of the later date, before its slots.
    The cash index ``B`` (1 on the start date) gives the risk-free return ``rf = B[d] / B[d-1] - 1``.

Decisions and events
    ``targets`` row t is the allocation decided after both closes of t.  The first decision is the
    row ``lag`` rows before ``start`` (row 0 if there are fewer).  Events: ``on_change`` the first
    decision and every row whose targets differ from the previous row's by more than 1e-12 in some
    asset; ``daily`` every row; ``weekly`` / ``monthly`` the first decision and the last row of each
    calendar week (Monday-Sunday) / month (the index's last row ends its period).  An event decided
    on row t executes from row ``t + lag`` (dropped if that is past the end).

Legs
    An event gives a leg to every asset whose target is above 1e-12, that is held, or that has a
    pending leg; each leg is a target-percent order.  A leg is a SALE when its target is below the
    asset's actual weight on the decision date minus 1e-12 (units held at the end of t, valued at
    ``V[t]``, over cash plus all such holdings); every other leg is a BUY.  A sale fills at the
    first session of its asset on or after the execution date.  A buy fills at the first session of
    its asset at a slot at or after the event's latest sale slot (or on/after the execution date if
    the event sells nothing); if one of the event's sales never finds a session, none of its buys
    executes.  A new leg drops every still-pending leg of the same asset at the same or a later
    slot; pending legs at earlier slots stay and fill first.  Only fills change holdings.
    ``lag=0`` with ``fill="close"``: the event is processed just before the date's last slot
    (weights from the holdings before that slot's fills), a US leg can fill at New York's close of
    t, a Hong Kong leg only at a later date.  With ``fill="next_open"`` a leg fills only on a
    date after the decision date.

Order arithmetic (vectorbt's ``from_orders`` with cash sharing, call_seq 'auto', update_value off)
    All the legs of a slot are sized on the value at the slot's start: ``cash + sum units * known
    value`` (a leg's own asset at its fill price).  Order size ``target * value / price - units``.
    The slot's legs run in ascending order of ``target * value - units * price`` (sales first,
    ties in column order).  Slippage moves the price against the trade (``x (1 +/- s)``); fees and
    stamp duty are a fraction of the slipped traded value.  A buy needing more than the cash
    available (within vectorbt's tolerance, rel 1e-9 / abs 1e-12) spends all the cash:
    ``cash / (1 + fee)`` on the asset and the rest as fees; a sale is capped at the units held.
    Sizes that are zero within tolerance are ignored.  Long only, no leverage (the cash account; see
    "Margin account" for ``max_gross``).

Outputs
    ``equity`` from the start date: end-of-date value, cash and each holding's value;
    ``trades``: one row per fill (price in base currency per unit, slippage and dividends included;
    fees include stamp duty).  ``metrics`` (README "How the numbers are computed"): daily returns
    ``r_t = V_t / V_{t-1} - 1`` with ``V_{-1}`` the initial cash; ``periods_per_year = (n - 1) /
    years`` (years = calendar days / 365.25); ``cagr = (V_T / initial) ** (365.25 / days) - 1``;
    ``ann_vol = std(r, ddof 1) * sqrt(ppy)``; with ``e = r - rf`` (rf 0 on the first date),
    ``sharpe = mean(e) / std(e, ddof 1) * sqrt(ppy)`` (NaN when std(e) <= 1e-10 x max|r|: cash
    earning exactly the risk-free rate) and ``sortino = mean(e) / sqrt(mean(min(e, 0) ** 2)) *
    sqrt(ppy)`` (same NaN rule; +inf with no downside); ``max_drawdown = min(V / running max - 1)``
    with the initial cash as first peak; ``calmar = cagr / |max_drawdown|`` (NaN without a
    drawdown); ``fees_paid``; ``turnover = sum(quantity x price) / 2 / mean(V) / years``;
    ``trades`` the number of fills; ``cash_interest`` in money; ``risk_free_return = B_T - 1``;
    ``borrow_paid`` and ``margin_paid``, the financing paid in money (0 for a cash account);
    ``closed_out``, the close-out date 'YYYY-MM-DD' of a margin account or None.

Margin account (docs/shorts.md; only when ``max_gross`` is given)
    Interpretations, where the contract leaves room (the most literal reading was chosen):

    1. ``max_gross`` G must be in (0, 5].  The targets are taken as final: a NaN or a row whose gross
       ``sum |w|`` is above G (+1e-12) is refused with ValueError, never clipped or scaled (making
       computed weights valid is the config step, upstream of the simulation).
    2. ``borrow_bps`` and ``margin_spread_bps`` must be in [0, 10000].  Without ``max_gross`` they
       have no effect (a cash account has no short and no borrowing).
    3. An event gives a leg to every asset with ``|target| > 1e-12``, with units other than 0 (long
       or short), or with a pending leg.
    4. The actual weight on the decision date is ``u * V[t] / (cash + sum u * V[t])`` with whatever
       sign that total has (a negative total flips the signs); at a total of exactly 0 every weight
       is 0.  A leg is a sale when its signed target is below it minus 1e-12.
    5. A leg whose slot-start value is at or below 0 (0 within vectorbt's tolerance) is rejected and
       dropped, never retried later; the other legs of that slot are sized on the same value and so
       are rejected too.
    6. Financing: ``short(d-1)`` uses the units at the end of d-1 (after all its fills) times
       ``V[d-1]`` (the last close carried, with that date's dividend and FX factors); ``debt(d-1)``
       uses the end-of-d-1 cash before d's interest.  The interest on a negative cash is negative and
       counts in ``cash_interest``.
    7. Cash and units after a fill are updated with vectorbt's tolerance snapping (``add_nb``) for
       buys and sales; a sale whose proceeds less fees would be negative does not fill.
    8. ``cagr`` (and so ``calmar``) is NaN when the final value is below 0; returns are computed as
       written (``V_t / V_{t-1} - 1``) whatever the signs.
    9. Close-out (shorts.md rule 3).  After a date's slots and its decision, if the end-of-date value
       ``cash + sum u * V[d]`` is at or below 0 (or 0 within vectorbt's tolerance), the account is
       closed out on that date.  The close-out date's ``equity`` row reports the end-of-date state
       that was valued, holdings and cash as they were (the rule closes positions *because of* that
       end-of-date value, "at those values", so the closing follows it); its value is the same either
       way.  From the next date on: every holding 0, cash = that value (a debt when negative, not
       snapped), growing only with the cash index (its interest counts in ``cash_interest``), no
       borrow and no margin spread (even on a debt), value = cash.  The close-out is not an order:
       it adds no row to ``trades``, no fee and no turnover.  Pending legs and the close-out date's
       own decision are dropped, and no later decision makes a leg.  ``metrics["closed_out"]`` is the
       date as ``'YYYY-MM-DD'``, or None (always None for a cash account, which is never closed out).

    Semantics.  Targets may be negative: a short of that fraction of the account's value; the cash
    weight ``1 - sum w`` may be negative (borrowed cash).  Legs, slots, sales-first, superseding,
    fill prices, currency and dividends are as above, except:

    * Orders: size ``target * value / price - units`` on the slot-start value (shorts count
      negative).  A positive size is a buy paying ``size * price * (1 + slip)`` plus the fee
      fraction of that; a negative size is a sale receiving ``|size| * price * (1 - slip)`` less the
      fee fraction.  Buys are never cut to the cash (cash may go negative), sales never capped at the
      units held (selling below 0 units opens or adds to a short): no partial fills.
    * A short of ``u < 0`` units is worth ``u * V`` (negative, dividends and FX included), moves on
      its own market's closes and keeps its last value when that market is closed; the holding
      column of ``equity`` is then negative.
    * An account worth nothing is closed out (interpretation 9); a leg sized on a value at or below
      0 within a date does not fill (interpretation 5) and does not by itself close the account.
    * Financing: cash, of either sign, grows with the cash index as above.  From the second
      simulated date on, with ``D`` the calendar days between timeline dates d-1 and d, the start of
      d pays, after the interest and before the first slot, ``borrow = borrow_bps / 1e4 * D / 365 *
      sum max(-u, 0) * V[d-1]`` and ``margin = margin_spread_bps / 1e4 * D / 365 * max(-cash(d-1),
      0)``, both computed on the end-of-d-1 state (simple ACT/365).  Nothing is paid for the first
      simulated date.  They are summed in ``borrow_paid`` and ``margin_paid``; ``fees_paid`` stays
      the trading fees and stamp duty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ReferenceRun", "backtest", "hk_stamp_duty_bps"]

HK_SLOT = 0
NY_SLOT = 1
SLOT_OF_MARKET = {"hk": HK_SLOT, "us": NY_SLOT}
WEIGHT_TOL = 1e-12
REL_TOL = 1e-9  # vectorbt.utils.math_.rel_tol
ABS_TOL = 1e-12  # vectorbt.utils.math_.abs_tol

Slot = tuple[int, int]


@dataclass(frozen=True)
class ReferenceRun:
    """What :func:`backtest` returns."""

    equity: pd.DataFrame
    trades: pd.DataFrame
    metrics: dict[str, float | str | None]


# ----------------------------------------------------------------------------------------------
# vectorbt's float tolerances (vectorbt/utils/math_.py), re-implemented


def _is_close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return False
    if a == b:
        return True
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


def _is_close_or_less(a: float, b: float) -> bool:
    return _is_close(a, b) or a < b


def _add(a: float, b: float) -> float:
    """a + b, snapped to 0 when the two cancel within tolerance."""
    zero = _is_close(abs(a), abs(b)) if np.sign(a) != np.sign(b) else _is_close(a + b, 0.0)
    return 0.0 if zero else a + b


# ----------------------------------------------------------------------------------------------
# costs


def hk_stamp_duty_bps(date: pd.Timestamp) -> float:
    """Hong Kong stamp duty per side by fill date: 10 bps, 13 from 2021-08-01, 10 from 2023-11-17."""
    if date < pd.Timestamp("2021-08-01"):
        return 10.0
    if date < pd.Timestamp("2023-11-17"):
        return 13.0
    return 10.0


def _per_asset(value: Mapping[str, float] | float | None, assets: list[str]) -> dict[str, float]:
    if value is None:
        return dict.fromkeys(assets, 0.0)
    if isinstance(value, Mapping):
        return {a: float(value.get(a, 0.0) or 0.0) for a in assets}
    return dict.fromkeys(assets, float(value))


# ----------------------------------------------------------------------------------------------
# the simulation


@dataclass
class _Leg:
    asset: str
    target: float
    slot: Slot
    decided: int  # row of the decision, for the record only


class _Simulator:
    def __init__(
        self,
        closes: pd.DataFrame,
        markets: Mapping[str, str],
        targets: pd.DataFrame,
        start: pd.Timestamp,
        lag: int,
        rebalance: str,
        fill: str,
        opens: pd.DataFrame | None,
        currencies: Mapping[str, str] | None,
        base_currency: str,
        usdhkd: pd.Series | None,
        fee_bps: Mapping[str, float] | float,
        slippage_bps: Mapping[str, float] | float,
        stamp_duty: Mapping[str, float | str | None] | None,
        dividend_yield: Mapping[str, float] | None,
        cash_rate: float | pd.Series | None,
        initial_cash: float,
        max_gross: float | None = None,
        borrow_bps: float = 0.0,
        margin_spread_bps: float = 0.0,
    ) -> None:
        index = closes.index
        if not isinstance(index, pd.DatetimeIndex) or not index.is_monotonic_increasing or not index.is_unique:
            raise ValueError("closes must have a sorted, unique DatetimeIndex")
        start = pd.Timestamp(start)
        if start not in index:
            raise ValueError(f"start {start.date()} is not a date of the index")
        if lag < 0:
            raise ValueError("lag must be >= 0")
        if rebalance not in ("on_change", "daily", "weekly", "monthly"):
            raise ValueError(f"unknown rebalance {rebalance!r}")
        if fill not in ("close", "next_open"):
            raise ValueError(f"unknown fill {fill!r}")
        if fill == "next_open" and opens is None:
            raise ValueError("fill='next_open' needs opens")
        if base_currency not in ("USD", "HKD"):
            raise ValueError(f"unknown base currency {base_currency!r}")
        self.assets = [str(a) for a in closes.columns]
        for a in self.assets:
            if markets.get(a) not in SLOT_OF_MARKET:
                raise ValueError(f"asset {a!r}: market must be 'us' or 'hk'")
        if not targets.index.equals(index) or list(targets.columns) != self.assets:
            raise ValueError("targets must have the index and columns of closes")
        tvals = targets.to_numpy(dtype=float)
        self.margin = max_gross is not None
        if max_gross is None:
            if np.isnan(tvals).any() or (tvals < 0).any():
                raise ValueError("targets must be >= 0 and not NaN (long only)")
        else:
            if not 0 < max_gross <= 5:
                raise ValueError("max_gross must be above 0 and at most 5")
            if np.isnan(tvals).any():
                raise ValueError("targets must not be NaN")
            if (np.abs(tvals).sum(axis=1) > max_gross + WEIGHT_TOL).any():
                raise ValueError(f"a target row's gross exposure is above max_gross {max_gross}")
        for name, bps in (("borrow_bps", borrow_bps), ("margin_spread_bps", margin_spread_bps)):
            if not 0 <= bps <= 10_000:
                raise ValueError(f"{name} must be between 0 and 10000")
        self.borrow_rate = float(borrow_bps) / 1e4
        self.margin_rate = float(margin_spread_bps) / 1e4

        self.index = index
        self.n = len(index)
        self.start_row = int(index.get_loc(start))
        self.lag = lag
        self.rebalance = rebalance
        self.fill = fill
        self.initial_cash = float(initial_cash)
        self.targets = tvals
        self.col = {a: i for i, a in enumerate(self.assets)}
        self.slot_of = {a: SLOT_OF_MARKET[markets[a]] for a in self.assets}
        self.slots = sorted(set(self.slot_of.values()))  # the slots each date has, in closing order

        # ---- FX factor X[d, j]
        default_ccy = {"us": "USD", "hk": "HKD"}
        ccy = {a: (currencies or {}).get(a, default_ccy[markets[a]]) for a in self.assets}
        fx = None
        if usdhkd is not None:
            fx = usdhkd.reindex(index).astype(float).ffill().to_numpy()
        x = np.ones((self.n, len(self.assets)))
        for a, j in self.col.items():
            if ccy[a] == base_currency:
                continue
            if fx is None:
                raise ValueError(f"asset {a!r} is quoted in {ccy[a]}: usdhkd is needed")
            if np.isnan(fx[self.start_row :]).any():
                raise ValueError("usdhkd has no quote at or before the start date")
            x[:, j] = 1.0 / fx if ccy[a] == "HKD" else fx

        # ---- dividend factor G[d, j]
        yields = _per_asset(dividend_yield, self.assets)
        days_from_start = np.array([(d - start).days for d in index], dtype=float)
        g = np.ones((self.n, len(self.assets)))
        for a, j in self.col.items():
            g[:, j] = (1.0 + yields[a]) ** (days_from_start / 365.25)

        raw = closes.to_numpy(dtype=float)
        self.session = ~np.isnan(raw)  # session[d, j]: asset j trades on row d
        self.value = closes.ffill().to_numpy(dtype=float) * g * x  # V[d, j], end of date
        self.open_value = None
        if fill == "next_open":
            assert opens is not None
            if not opens.index.equals(index) or list(opens.columns) != self.assets:
                raise ValueError("opens must have the index and columns of closes")
            self.open_value = opens.to_numpy(dtype=float) * g * x

        # ---- costs (fractions of traded value)
        self.fee_bps = _per_asset(fee_bps, self.assets)
        self.slippage = {a: s / 1e4 for a, s in _per_asset(slippage_bps, self.assets).items()}
        self.stamp = {a: (stamp_duty or {}).get(a) for a in self.assets}
        for a, s in self.stamp.items():
            if isinstance(s, str) and s != "schedule":
                raise ValueError(f"asset {a!r}: stamp duty must be a number, None or 'schedule'")

        # ---- cash rate (annual fraction) known on each date
        if cash_rate is None:
            rate = np.zeros(self.n)
        elif isinstance(cash_rate, pd.Series):
            rate = (cash_rate.reindex(index).astype(float).ffill() / 100.0).to_numpy()
            if np.isnan(rate[self.start_row : self.n - 1]).any():
                raise ValueError("the cash-rate series has no value at or before the start date")
        else:
            rate = np.full(self.n, float(cash_rate))
        self.rate = rate

        # ---- state
        self.cash = self.initial_cash
        self.units = dict.fromkeys(self.assets, 0.0)
        self.pending: list[_Leg] = []
        self.fills: list[dict[str, object]] = []
        self.cash_interest = 0.0
        self.cash_index = 1.0
        self.borrow_paid = 0.0
        self.margin_paid = 0.0
        self.closed_out: int | None = None  # the row the margin account was closed out on

    # ---------------------------------------------------------------- events

    def first_decision_row(self) -> int:
        return max(self.start_row - self.lag, 0)

    def event_rows(self) -> list[int]:
        """Decision rows that trade, with their execution row inside the index."""
        first = self.first_decision_row()
        rows = range(first, self.n)
        if self.rebalance == "daily":
            events = list(rows)
        elif self.rebalance == "on_change":
            events = [first] + [
                i for i in rows if i > first and np.any(np.abs(self.targets[i] - self.targets[i - 1]) > WEIGHT_TOL)
            ]
        else:
            freq = "W-SUN" if self.rebalance == "weekly" else "M"
            periods = self.index.to_period(freq)
            ends = [i for i in rows if i == self.n - 1 or periods[i + 1] != periods[i]]
            events = sorted({first, *ends})
        return [i for i in events if i + self.lag <= self.n - 1]

    def same_bar_close(self) -> bool:
        return self.lag == 0 and self.fill == "close"

    def first_session(self, asset: str, bound: Slot) -> Slot | None:
        """The first slot of ``asset``'s sessions at or after ``bound``, None if there is none."""
        k = self.slot_of[asset]
        j = self.col[asset]
        row = bound[0] if k >= bound[1] else bound[0] + 1
        for r in range(row, self.n):
            if self.session[r, j]:
                return (r, k)
        return None

    def decide(self, t: int) -> None:
        """Turn the event decided on row t into legs (rule 4) and supersede pending legs (rule 5)."""
        targets = {a: float(self.targets[t, j]) for a, j in self.col.items()}
        held_value = {a: u * self.value[t, self.col[a]] for a, u in self.units.items() if u != 0}
        total = self.cash + sum(held_value.values())
        if self.margin and total == 0:
            weight = dict.fromkeys(self.assets, 0.0)
        else:
            weight = {a: held_value.get(a, 0.0) / total for a in self.assets}

        if self.same_bar_close():
            bound: Slot = (t, NY_SLOT)  # the decision exists at New York's close of t
        elif self.fill == "next_open":
            bound = max((t + self.lag, 0), (t + 1, 0))  # never an open of the decision date
        else:
            bound = (t + self.lag, 0)

        pending_assets = {leg.asset for leg in self.pending}
        if self.margin:
            leg_assets = [
                a for a in self.assets if abs(targets[a]) > WEIGHT_TOL or self.units[a] != 0 or a in pending_assets
            ]
        else:
            leg_assets = [a for a in self.assets if targets[a] > WEIGHT_TOL or self.units[a] > 0 or a in pending_assets]
        sales = [a for a in leg_assets if targets[a] < weight[a] - WEIGHT_TOL]
        buys = [a for a in leg_assets if a not in sales]

        new: list[_Leg] = []
        sale_slots = {a: self.first_session(a, bound) for a in sales}
        for a, s in sale_slots.items():
            if s is not None:
                new.append(_Leg(a, targets[a], s, t))
        if all(s is not None for s in sale_slots.values()):
            latest = max([s for s in sale_slots.values() if s is not None], default=bound)
            buy_bound = max(bound, latest)
            for a in buys:
                s = self.first_session(a, buy_bound)
                if s is not None:
                    new.append(_Leg(a, targets[a], s, t))

        for leg in new:
            self.pending = [p for p in self.pending if not (p.asset == leg.asset and p.slot >= leg.slot)]
        self.pending.extend(new)

    # ---------------------------------------------------------------- execution

    def known_value(self, asset: str, r: int, k: int) -> float:
        """What one unit of ``asset`` is worth in slot (r, k), as known at that moment."""
        j = self.col[asset]
        own = self.slot_of[asset] == k
        if own and self.open_value is not None and self.session[r, j]:
            return float(self.open_value[r, j])
        if k == HK_SLOT and self.slot_of[asset] == NY_SLOT and r > 0:
            return float(self.value[r - 1, j])  # New York's close of r is 13 hours away
        return float(self.value[r, j])

    def fee_fraction(self, asset: str, date: pd.Timestamp) -> float:
        stamp = self.stamp[asset]
        stamp_bps = hk_stamp_duty_bps(date) if stamp == "schedule" else float(stamp or 0.0)
        return (self.fee_bps[asset] + stamp_bps) / 1e4

    def execute_slot(self, r: int, k: int) -> None:
        legs = [leg for leg in self.pending if leg.slot == (r, k)]
        if not legs:
            return
        self.pending = [leg for leg in self.pending if leg.slot != (r, k)]
        legs.sort(key=lambda leg: self.col[leg.asset])

        price = {leg.asset: self.known_value(leg.asset, r, k) for leg in legs}
        for leg in legs:
            if not (math.isfinite(price[leg.asset]) and price[leg.asset] > 0):
                raise ValueError(f"{leg.asset}: no valid fill price on {self.index[r].date()}")
        # the slot's value, summed in column order as vectorbt does
        value_now = self.cash
        for a in self.assets:
            if self.units[a] != 0:
                value_now += self.units[a] * (price[a] if a in price else self.known_value(a, r, k))
        # call_seq 'auto': stable ascending sort on the approximate order value (sales first)
        legs.sort(key=lambda leg: leg.target * value_now - self.units[leg.asset] * price[leg.asset])
        for leg in legs:
            if self.margin:
                self.execute_margin_order(r, leg, price[leg.asset], value_now)
            else:
                self.execute_order(r, leg, price[leg.asset], value_now)

    def execute_order(self, r: int, leg: _Leg, price: float, value_now: float) -> None:
        """vectorbt's execute_order_nb + buy_nb / sell_nb for a long-only target-percent order."""
        a = leg.asset
        date = self.index[r]
        fees = self.fee_fraction(a, date)
        slippage = self.slippage[a]
        cash = 0.0 if _is_close(self.cash, 0.0) else self.cash
        position = 0.0 if _is_close(self.units[a], 0.0) else self.units[a]
        value = 0.0 if _is_close(value_now, 0.0) else value_now
        if value <= 0:
            return  # rejected: value zero or negative
        size = leg.target * value / price - position

        if size > 0:  # buy_nb
            adj_price = price * (1 + slippage)
            cash_limit = cash
            if cash_limit == 0:
                return  # rejected: no cash
            req_cash = size * adj_price
            req_fees = req_cash * fees
            total_req = req_cash + req_fees
            if _is_close_or_less(total_req, cash_limit):
                final_size, fees_paid, final_req = size, req_fees, total_req
            else:  # not enough cash: spend it all
                max_req_cash = cash_limit / (1 + fees)
                if max_req_cash <= 0:
                    return
                final_size = max_req_cash / adj_price
                fees_paid = cash_limit - max_req_cash
                final_req = cash_limit
            if _is_close(size, 0.0):
                return  # ignored: size zero
            self.cash = _add(cash, -final_req)
            self.units[a] = _add(position, final_size)
            side = "buy"
        else:  # sell_nb
            adj_price = price * (1 - slippage)
            size_limit = min(position, -size)
            if position == 0:
                return  # rejected: nothing to sell
            if _is_close(size_limit, 0.0):
                return  # ignored: size zero
            acq_cash = size_limit * adj_price
            fees_paid = acq_cash * fees
            final_acq = _add(acq_cash, -fees_paid)
            if final_acq < 0:
                return
            self.cash = cash + final_acq
            self.units[a] = _add(position, -size_limit)
            final_size = size_limit
            side = "sell"
        self.fills.append(
            {"date": date, "asset": a, "side": side, "quantity": final_size, "price": adj_price, "fees": fees_paid}
        )

    def execute_margin_order(self, r: int, leg: _Leg, price: float, value_now: float) -> None:
        """vectorbt's execute_order_nb + buy_nb / sell_nb, direction 'both', cash never limiting."""
        a = leg.asset
        date = self.index[r]
        fees = self.fee_fraction(a, date)
        slippage = self.slippage[a]
        cash = 0.0 if _is_close(self.cash, 0.0) else self.cash
        position = 0.0 if _is_close(self.units[a], 0.0) else self.units[a]
        value = 0.0 if _is_close(value_now, 0.0) else value_now
        if value <= 0:
            return  # rejected: value zero or negative
        size = leg.target * value / price - position
        if _is_close(size, 0.0):
            return  # ignored: size zero
        if size > 0:  # buy: no cash limit
            adj_price = price * (1 + slippage)
            quantity = size
            req_cash = quantity * adj_price
            fees_paid = req_cash * fees
            self.cash = _add(cash, -(req_cash + fees_paid))
            self.units[a] = _add(position, quantity)
            side = "buy"
        else:  # sale: never capped at the units held
            adj_price = price * (1 - slippage)
            quantity = -size
            acq_cash = quantity * adj_price
            fees_paid = acq_cash * fees
            final_acq = _add(acq_cash, -fees_paid)
            if final_acq < 0:
                return
            self.cash = _add(cash, final_acq)
            self.units[a] = _add(position, -quantity)
            side = "sell"
        self.fills.append(
            {"date": date, "asset": a, "side": side, "quantity": quantity, "price": adj_price, "fees": fees_paid}
        )

    def financing(self, r: int, days: int) -> tuple[float, float]:
        """Borrow and margin spread paid at the start of row r, on the end-of-day state of row r - 1."""
        short = 0.0
        for a, u in self.units.items():
            if u < 0:
                short += -u * float(self.value[r - 1, self.col[a]])
        debt = max(-self.cash, 0.0)
        borrow = self.borrow_rate * days / 365.0 * short
        margin = self.margin_rate * days / 365.0 * debt
        return borrow, margin

    # ---------------------------------------------------------------- the run

    def run(self) -> ReferenceRun:
        events = set(self.event_rows())
        for t in range(self.first_decision_row(), self.start_row):
            if t in events:  # decided before the run: nothing held yet
                self.decide(t)

        rows = []
        rf = []
        for r in range(self.start_row, self.n):
            growth = 1.0
            if r > self.start_row:
                days = (self.index[r] - self.index[r - 1]).days
                growth = float((1.0 + self.rate[r - 1] / 365.0) ** days)
                financed = self.margin and self.closed_out is None  # no financing after a close-out
                if financed:
                    borrow, margin = self.financing(r, days)  # on the end of r - 1, before the interest
                before = self.cash
                self.cash = self.cash * growth
                self.cash_interest += self.cash - before
                self.cash_index *= growth
                if financed:
                    self.cash = self.cash - borrow - margin
                    self.borrow_paid += borrow
                    self.margin_paid += margin
            rf.append(growth - 1.0)
            trading = self.closed_out is None  # a closed-out account trades no more
            for k in self.slots:
                if trading and self.same_bar_close() and k == self.slots[-1] and r in events:
                    self.decide(r)
                if trading:
                    self.execute_slot(r, k)
            if trading and not self.same_bar_close() and r in events:
                self.decide(r)
            holdings = {a: (u * self.value[r, self.col[a]] if u != 0 else 0.0) for a, u in self.units.items()}
            value = self.cash + sum(holdings.values())
            rows.append({"value": value, "cash": self.cash, **holdings})
            if self.margin and trading and (value <= 0 or _is_close(value, 0.0)):
                # shorts.md rule 3: close every position at the end-of-date values, without costs
                self.closed_out = r
                self.cash = value
                self.units = dict.fromkeys(self.assets, 0.0)
                self.pending = []

        equity = pd.DataFrame(rows, index=self.index[self.start_row :], columns=["value", "cash", *self.assets])
        trades = pd.DataFrame(self.fills, columns=["date", "asset", "side", "quantity", "price", "fees"])
        trades["date"] = pd.to_datetime(trades["date"])
        for c in ("quantity", "price", "fees"):
            trades[c] = trades[c].astype(float)
        metrics = _metrics(
            equity["value"],
            np.array(rf),
            trades,
            initial_cash=self.initial_cash,
            cash_interest=self.cash_interest,
            cash_index=self.cash_index,
            borrow_paid=self.borrow_paid,
            margin_paid=self.margin_paid,
        )
        metrics["closed_out"] = None if self.closed_out is None else self.index[self.closed_out].strftime("%Y-%m-%d")
        return ReferenceRun(equity=equity, trades=trades, metrics=metrics)


def _metrics(
    value: pd.Series,
    rf: np.ndarray,
    trades: pd.DataFrame,
    *,
    initial_cash: float,
    cash_interest: float,
    cash_index: float,
    borrow_paid: float = 0.0,
    margin_paid: float = 0.0,
) -> dict[str, float | str | None]:
    """README "How the numbers are computed", from the end-of-date values."""
    v = value.to_numpy(dtype=float)
    n = len(v)
    days = (value.index[-1] - value.index[0]).days
    years = days / 365.25
    final = float(v[-1])
    prev = np.concatenate([[initial_cash], v[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):  # a margin account's value may reach 0
        r = v / prev - 1.0
    e = r - rf
    nan = float("nan")
    ppy = (n - 1) / years if years > 0 else nan
    growth = final / initial_cash
    cagr = growth ** (365.25 / days) - 1.0 if days > 0 and growth >= 0 else nan
    std_r = float(np.std(r, ddof=1)) if n > 1 else nan
    std_e = float(np.std(e, ddof=1)) if n > 1 else nan
    no_excess_variation = not (std_e > 1e-10 * float(np.max(np.abs(r))))  # NaN-safe
    sharpe = nan if no_excess_variation else float(np.mean(e)) / std_e * math.sqrt(ppy)
    downside = math.sqrt(float(np.mean(np.minimum(e, 0.0) ** 2)))
    if no_excess_variation:
        sortino = nan
    elif downside == 0:
        sortino = math.inf if float(np.mean(e)) > 0 else nan
    else:
        sortino = float(np.mean(e)) / downside * math.sqrt(ppy)
    peaks = np.maximum.accumulate(np.concatenate([[initial_cash], v]))[1:]
    mdd = float(np.min(v / peaks - 1.0))
    traded = float((trades["quantity"] * trades["price"]).sum())
    mean_value = float(np.mean(v))
    return {
        "final_value": final,
        "total_return": final / initial_cash - 1.0,
        "cagr": cagr,
        "periods_per_year": ppy,
        "ann_vol": std_r * math.sqrt(ppy),
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": mdd,
        "calmar": cagr / abs(mdd) if mdd < 0 else nan,
        "fees_paid": float(trades["fees"].sum()),
        "turnover": traded / 2.0 / mean_value / years if years > 0 else nan,
        "trades": float(len(trades)),
        "cash_interest": float(cash_interest),
        "risk_free_return": float(cash_index - 1.0),
        "borrow_paid": float(borrow_paid),
        "margin_paid": float(margin_paid),
    }


def backtest(
    closes: pd.DataFrame,
    *,
    markets: Mapping[str, str],
    targets: pd.DataFrame,
    start: pd.Timestamp,
    lag: int = 1,
    rebalance: str = "on_change",
    fill: str = "close",
    opens: pd.DataFrame | None = None,
    currencies: Mapping[str, str] | None = None,
    base_currency: str = "USD",
    usdhkd: pd.Series | None = None,
    fee_bps: Mapping[str, float] | float = 0.0,
    slippage_bps: Mapping[str, float] | float = 0.0,
    stamp_duty: Mapping[str, float | str | None] | None = None,
    dividend_yield: Mapping[str, float] | None = None,
    cash_rate: float | pd.Series | None = None,
    initial_cash: float = 100_000.0,
    max_gross: float | None = None,
    borrow_bps: float = 0.0,
    margin_spread_bps: float = 0.0,
) -> ReferenceRun:
    """Simulate ``targets`` on ``closes`` under the contract of the module docstring.

    ``max_gross`` makes the account a margin account (shorts, leverage, financing; see the module
    docstring's "Margin account"); ``None`` keeps the long-only cash account.
    """
    sim = _Simulator(
        closes,
        markets,
        targets,
        start,
        lag,
        rebalance,
        fill,
        opens,
        currencies,
        base_currency,
        usdhkd,
        fee_bps,
        slippage_bps,
        stamp_duty,
        dividend_yield,
        cash_rate,
        initial_cash,
        max_gross,
        borrow_bps,
        margin_spread_bps,
    )
    return sim.run()
