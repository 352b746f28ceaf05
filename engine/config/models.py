"""The config schema (v1), as frozen pydantic models that refuse unknown keys.

Field-level rules live here; rules that relate fields to each other (a rule
names an asset that exists, a ``when:`` parses, a signal's parameters fit its
function) live in :mod:`engine.config.checks`, which reports the exact YAML
path.  Models are strict: ``"5"`` is not a number, and nothing is coerced
silently (dates may be written as YAML dates or ``YYYY-MM-DD`` strings).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from engine.config.refs import resolve_refs
from engine.config.values import (
    DEFAULT_FX_BAND,
    MAX_DIVIDEND_YIELD,
    MAX_GROSS,
    MAX_HOLD,
    MAX_INITIAL_CASH,
    MAX_LAG,
    MAX_VOL,
    MIN_INITIAL_CASH,
    RUN_NAME_PATTERN,
    Bps,
    CashRate,
    Currency,
    Date,
    DisplayName,
    DividendYield,
    FxBand,
    ParamValue,
    PriceField,
    RuleWeights,
    RunName,
    StartDate,
    Ticker,
    Volatility,
    Weights,
)
from engine.markets import MARKETS

__all__ = [
    "AssetSpec",
    "Band",
    "Benchmark",
    "Costs",
    "DataSpec",
    "Execution",
    "Rule",
    "Sizing",
    "StrategyConfig",
    "Weights",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DataSpec(_Model):
    """Where prices come from, which period to simulate, and the exchange-rate series."""

    source: Literal["yahoo", "csv", "synthetic"] = Field(
        default="yahoo",
        description="where prices come from: yahoo (downloaded, cached), csv or synthetic; --source overrides",
    )
    start: StartDate = Field(
        default=None,
        description="first simulated date (signals warm up on the history before it); 'auto' or null: the first "
        "date every series (assets, exchange rate, cash rate) has data, after the warm-up; --start overrides (a date "
        "or auto)",
    )
    end: Date | None = Field(
        default=None, description="last simulated date; null: as far as the data goes; --end overrides"
    )
    price: PriceField = Field(
        default="close",
        description="price column of every asset without its own price: close, or adj_close (dividend-adjusted)",
    )
    data_dir: str | None = Field(
        default=None,
        description="directory of Yahoo-style CSVs for source: csv, or for --source csv with another source (a run "
        "without it refuses it there); a relative path is from the directory the command runs in, not the config's; "
        "--data-dir overrides it, $SEESAW_DATA_DIR applies when neither is set",
    )
    fx_symbol: Ticker = Field(
        default="HKD=X",
        min_length=1,
        description="USD/HKD series, HKD per 1 USD; loaded only when a traded asset's currency differs from "
        "base_currency; refused, as fx_band, when every asset is quoted in base_currency",
    )
    fx_band: FxBand = Field(
        default=DEFAULT_FX_BAND,
        description="USD/HKD closes outside [low, high] are dropped as bad ticks (named in a note) and the previous "
        "close is carried forward; low <= 7.75 and 7.85 <= high <= 100; null: keep every tick",
    )

    @model_validator(mode="after")
    def _check(self) -> DataSpec:
        start = None if self.start == "auto" else self.start
        if start is not None and self.end is not None and start >= self.end:
            raise ValueError(f"start {start} must be before end {self.end}")
        return self

    @property
    def start_date(self) -> dt.date | None:
        """The explicit start date, or None for ``auto``."""
        return None if self.start == "auto" else self.start


class AssetSpec(_Model):
    """One asset: its ticker, the market whose sessions it trades in, and how it is valued and charged.

    An asset named in no rule or benchmark weights is *signal-only*: it feeds signals and is never
    traded (e.g. the index whose signal drives an ETF).
    """

    symbol: Ticker = Field(min_length=1, description="the Yahoo ticker (^GSPC, ^HSI, SPY, 2800.HK)")
    market: Literal["us", "hk"] = Field(description="whose trading days and closing time the asset follows")
    currency: Currency | None = Field(
        default=None, description="the currency its prices are in; default: us USD, hk HKD"
    )
    price: PriceField | None = Field(default=None, description="price column; default: data.price")
    instrument: Literal["index", "etf", "stock", "series"] | None = Field(
        default=None,
        description="index, etf or stock; default: index for a ^ ticker, else stock; an etf pays no stamp duty; "
        "series: a data series that is not a price (a yield such as ^IRX, an exchange rate such as HKD=X), read as "
        "signal input only, never traded",
    )
    dividend_yield: DividendYield = Field(
        default=0.0,
        ge=0.0,
        le=MAX_DIVIDEND_YIELD,
        allow_inf_nan=False,
        description="annual dividend yield as a fraction (0.035), accrued daily while held and reinvested, for price "
        "series without dividends (an approximation); never with the adj_close of an ETF or a stock",
    )
    fee_bps: Bps | None = Field(default=None, description="overrides costs.fee_bps for this asset")
    slippage_bps: Bps | None = Field(default=None, description="overrides costs.slippage_bps for this asset")
    stamp_duty_bps: Bps | None = Field(
        default=None, description="per side; default: Hong Kong's dated schedule for hk indexes and stocks, else 0"
    )

    @property
    def quote_currency(self) -> str:
        """The currency its prices are in."""
        return self.currency or MARKETS[self.market].currency

    @property
    def kind(self) -> str:
        """index, etf or stock (declared, or inferred from the ticker)."""
        return self.instrument or ("index" if self.symbol.startswith("^") else "stock")


class Rule(_Model):
    """``{when: EXPR, weights: {...}}`` or ``{otherwise: {...}}`` (weights; ``{}`` is all cash)."""

    when: str | None = Field(default=None, description="a condition in the when: language over signals and params")
    until: str | None = Field(
        default=None,
        description="hysteresis: once when holds, the rule stays in force until this condition holds (docs/rules.md)",
    )
    weights: RuleWeights | None = Field(
        default=None,
        description="target weights per asset while when holds: numbers, expressions in quotes "
        "(clip(0.4 + 0.1 * z, 0, 1)) or rest (1 minus the others)",
    )
    otherwise: RuleWeights | None = Field(
        default=None, description="the last rule: target weights when no when: holds (and while signals warm up)"
    )

    @model_validator(mode="after")
    def _one_form(self) -> Rule:
        if self.otherwise is not None:
            if self.when is not None or self.weights is not None:
                raise ValueError("a rule is either {when, weights} or {otherwise}, not both")
            if self.until is not None:
                raise ValueError("'until' needs a 'when' to enter the rule; the otherwise rule is always in force")
        elif self.when is None or self.weights is None:
            raise ValueError("a rule needs both 'when' and 'weights' (or is {otherwise: weights})")
        return self

    @property
    def target(self) -> dict[str, float | str]:
        """The weights this rule asks for."""
        out = self.otherwise if self.otherwise is not None else self.weights
        assert out is not None
        return out


class Band(_Model):
    """``rebalance: {band: 0.05}``: trade when a weight drifts more than ``band`` from its target."""

    band: float = Field(
        gt=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="rebalance when an asset's actual weight is more than this far from its target (0.05 = 5 points); "
        "below 1 in a cash account, without every",
    )
    every: Literal["weekly", "monthly"] | None = Field(
        default=None, description="also rebalance on the last date of each week or month, whatever the drift"
    )


def _rebalance_kind(value: Any) -> str:
    """Which form of ``rebalance`` a value is: a mapping is a band, anything else a mode (its errors say so)."""
    return "<band>" if isinstance(value, dict | Band) else "<mode>"


#: A mode or a band; errors name only the form written (tags in angle brackets never reach a message).
Rebalance = Annotated[
    Annotated[Literal["on_change", "daily", "weekly", "monthly"], Tag("<mode>")] | Annotated[Band, Tag("<band>")],
    Discriminator(_rebalance_kind),
]


class Execution(_Model):
    """When decisions turn into trades."""

    lag: int = Field(
        default=1,
        ge=0,
        le=MAX_LAG,
        description="dates of the union timeline between decision and execution (0 needs allow_same_bar)",
    )
    rebalance: Rebalance = Field(
        default="on_change",
        description="on_change: trade when the target changes; daily: back to target every date; weekly, monthly: "
        "decide on the last date of each week or month of the timeline, and on the first decision (the last date "
        "before start when the data has one, else the first date); {band: 0.05}: when a weight drifts more than "
        "5 points from its target (plus {every: weekly|monthly})",
    )
    allow_same_bar: bool = Field(
        default=False, description="permit lag: 0 (look-ahead with fill: close; warned in every output)"
    )
    fill: Literal["close", "next_open"] = Field(
        default="close", description="fill at the close of the execution session, or at its open"
    )
    min_hold: int = Field(
        default=0,
        ge=0,
        le=MAX_HOLD,
        description="dates a rule keeps deciding once it began, before another rule may replace it (docs/rules.md)",
    )
    cooldown: int = Field(
        default=0,
        ge=0,
        le=MAX_HOLD,
        description="dates a rule that stopped deciding may not decide again (otherwise never cools; docs/rules.md)",
    )
    max_gross: float | None = Field(
        default=None,
        gt=0.0,
        le=MAX_GROSS,
        allow_inf_nan=False,
        description="makes the strategy's account a margin account: weights may be negative (shorts) and their "
        "absolute sum may reach this (docs/shorts.md); null: a cash account, long only, no leverage",
    )

    @property
    def mode(self) -> str:
        """The rebalance schedule as a mode of :data:`engine.execution.REBALANCE_MODES` (``band``: none)."""
        if isinstance(self.rebalance, Band):
            return self.rebalance.every or "band"
        return self.rebalance

    @property
    def band(self) -> float | None:
        """The rebalancing band, or None."""
        return self.rebalance.band if isinstance(self.rebalance, Band) else None

    def looks_ahead(self, lag: int | None = None) -> bool:
        """Whether a decision with ``lag`` (default: this lag) fills a US leg at the close the decision used: lag 0
        with ``fill: close``.  With ``fill: next_open`` every leg fills at an open after the decision, lag 0 too."""
        return (self.lag if lag is None else lag) == 0 and self.fill == "close"


class Sizing(_Model):
    """Risk sizing of the strategy's weights on every decision date (docs/rules.md)."""

    target_vol: Volatility | None = Field(
        default=None,
        gt=0.0,
        le=MAX_VOL,
        allow_inf_nan=False,
        description="annualised volatility to scale the portfolio to (0.12 = 12%); null: no volatility targeting",
    )
    window: int = Field(default=63, ge=2, le=MAX_HOLD, description="dates of the trailing volatility window")
    max_gross: float = Field(
        default=1.0,
        gt=0.0,
        le=MAX_GROSS,
        allow_inf_nan=False,
        description="the most the absolute weights may sum to after sizing (at most 1, or execution.max_gross in a "
        "margin account)",
    )
    inverse_vol: list[str] | None = Field(
        default=None, min_length=2, description="assets whose weight is shared in inverse proportion to volatility"
    )
    equal_risk: list[str] | None = Field(
        default=None, min_length=2, description="assets whose weight is shared so each contributes the same risk"
    )

    @model_validator(mode="after")
    def _one_scheme(self) -> Sizing:
        if self.inverse_vol is not None and self.equal_risk is not None:
            raise ValueError("give inverse_vol or equal_risk, not both")
        return self

    @property
    def risk_assets(self) -> tuple[str, ...]:
        """The assets whose weight is shared by risk (empty without a scheme)."""
        return tuple(self.inverse_vol or self.equal_risk or ())


class Costs(_Model):
    """Trading costs in basis points of traded value (1 bp = 0.01%); assets may override them."""

    fee_bps: Bps = Field(default=0.0, description="fee on every trade, unless an asset sets its own")
    slippage_bps: Bps = Field(
        default=0.0, description="the fill price moves against the trade by this much, unless an asset sets its own"
    )
    hk_stamp_duty_bps: Bps | None = Field(
        default=None,
        description="flat stamp duty per side for hk indexes and stocks; default (null): the dated schedule",
    )
    borrow_bps: Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)] = Field(
        default=0.0, description="a year, on the value of every short of a margin account (docs/shorts.md)"
    )
    margin_spread_bps: Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)] = Field(
        default=0.0,
        description="a year above the cash rate, on the cash a margin account borrows (docs/shorts.md)",
    )


class Benchmark(_Model):
    """A static allocation simulated with the same data, costs and execution as the strategy."""

    name: DisplayName = Field(min_length=1, max_length=200, description="the row's name in every table")
    weights: Weights = Field(description="static target weights per asset (the rest is cash)")
    rebalance: Literal["on_change", "daily", "weekly", "monthly"] = Field(
        default="monthly", description="as execution.rebalance"
    )


class StrategyConfig(_Model):
    """A whole strategy file."""

    name: RunName = Field(
        pattern=RUN_NAME_PATTERN,
        max_length=80,
        description="names the results directory; unique among the configs of one command; never a store file name",
    )
    description: str = Field(default="", description="a one-line rationale, kept in the resolved config")
    data: DataSpec = Field(default=DataSpec(), description="where prices come from and the simulated period")
    assets: dict[str, AssetSpec] = Field(
        min_length=1, description="a short name (used in signals and rules) for each asset"
    )
    signals: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="a name (used in when:) for each signal: {fn: a registered signal, its parameters}",
    )
    rules: list[Rule] = Field(
        min_length=1, description="evaluated top to bottom on every decision date; the first match wins"
    )
    execution: Execution = Field(default=Execution(), description="when decisions turn into trades")
    costs: Costs = Field(default=Costs(), description="fees, slippage and stamp duty")
    sizing: Sizing | None = Field(
        default=None, description="risk sizing of the strategy's weights: volatility target, inverse-vol, equal risk"
    )
    benchmarks: list[Benchmark] = Field(
        default_factory=list, description="static allocations simulated alongside the strategy"
    )
    initial_cash: float = Field(
        default=100_000.0,
        ge=MIN_INITIAL_CASH,
        le=MAX_INITIAL_CASH,
        allow_inf_nan=False,
        description="starting cash, in base_currency",
    )
    base_currency: Currency = Field(
        default="USD", description="currency of every value, cash, fee and reported number; HK prices are converted"
    )
    cash_rate: CashRate = Field(
        default=None,
        description="interest on uninvested cash: an annual rate (0.03 = 3%) or the ticker of a series in "
        "percent per year (^IRX); also the risk-free rate of Sharpe and Sortino",
    )

    params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description="named numbers used in when: expressions (corr < corr_cut) and as signal arguments ($name)",
    )
    sweep: dict[str, Any] = Field(
        default_factory=dict,
        description="parameter names or YAML paths, each with a list of values or {start, stop, step}; "
        "seesaw sweep runs their product",
    )

    @property
    def resolved_signals(self) -> dict[str, dict[str, Any]]:
        """The signal specs with ``$name`` arguments replaced by the parameters' values."""
        return resolve_refs(self.signals, self.params)

    @property
    def constant_cash_rate(self) -> float | None:
        """``cash_rate`` when it is a number; None when it names a rate series (or is absent)."""
        return float(self.cash_rate) if isinstance(self.cash_rate, float | int) else None

    @property
    def traded_assets(self) -> tuple[str, ...]:
        """Assets named in some rule's or benchmark's weights (the others are signal-only)."""
        named = {a for r in self.rules for a in r.target} | {a for b in self.benchmarks for a in b.weights}
        return tuple(a for a in self.assets if a in named)

    def price_of(self, asset: str) -> str:
        """The price column of ``asset``: its own ``price``, else ``data.price``."""
        return self.assets[asset].price or self.data.price
