"""The config schema (v1), as frozen pydantic models that refuse unknown keys.

Field-level rules live here; rules that relate fields to each other (a rule
names an asset that exists, a ``when:`` parses, a signal's parameters fit its
function) live in :mod:`engine.config.checks`, which reports the exact YAML
path.  Models are strict: ``"5"`` is not a number, and nothing is coerced
silently (dates may be written as YAML dates or ``YYYY-MM-DD`` strings).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from engine.config.refs import resolve_refs
from engine.data.base import TICKER_RULE, is_ticker

__all__ = [
    "DEFAULT_FX_BAND",
    "AssetSpec",
    "Benchmark",
    "Costs",
    "DataSpec",
    "Execution",
    "Rule",
    "StrategyConfig",
    "Weights",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
WEIGHT_TOLERANCE = 1e-9

# Ranges a run can use.  Each is far beyond any sensible config and well inside what the code
# after validation handles (pandas timestamps end in 2262; numpy indexes are int64).
#: Dates: pandas and exchange-calendars handle these; no data source has prices outside them.
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
#: Sessions between a decision and its execution (250 is about a year).
MAX_LAG = 250
#: Starting cash in the base currency: at least one unit, at most a trillion.
MIN_INITIAL_CASH, MAX_INITIAL_CASH = 1.0, 1e12
#: Largest magnitude of a named parameter (``params:``; windows are capped where they are used).
MAX_PARAM = 1e12
#: A USD/HKD band must hold the 7.75-7.85 convertibility band, and stay below this many HKD per USD.
PEG_LOW, PEG_HIGH, MAX_FX = 7.75, 7.85, 100.0
#: Results-store files next to the run directories (``<results>/<name>/``): a config name must not
#: be one of them, nor hidden.
_STORE_SUFFIXES = (".duckdb", ".wal", ".lock", ".tmp")


def _in_date_range(value: dt.date) -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"expected a date between {MIN_DATE} and {MAX_DATE}, got {value}")
    return value


def _iso_date(value: Any) -> Any:
    """Accept ``YYYY-MM-DD`` strings for dates (YAML usually gives a date already), within MIN_DATE-MAX_DATE."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    if isinstance(value, dt.date):
        return _in_date_range(value)
    return value


def _ticker(value: Any) -> Any:
    """A Yahoo-style ticker (``^GSPC``, ``0700.HK``, ``HKD=X``): it names cache files, so no paths."""
    if isinstance(value, str) and not is_ticker(value):
        raise ValueError(f"expected a ticker of {TICKER_RULE}, got {value!r}")
    return value


def _run_name(value: Any) -> Any:
    """A config name is a directory of the results store: refuse the store's own file names."""
    if isinstance(value, str):
        lower = value.lower()
        if lower.startswith(("seesaw.duckdb", ".")) or lower.endswith(_STORE_SUFFIXES):
            raise ValueError(
                f"name {value!r} could clash with the results store's files (seesaw.duckdb*, *.wal, *.lock, "
                "*.tmp, *.duckdb, hidden names); choose another"
            )
    return value


def _start_date(value: Any) -> Any:
    """``auto``, a date, or null; runs before the union so an error names ``data.start`` itself."""
    if value == "auto" or value is None:
        return value
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD or 'auto', got {value!r}") from None
        return _in_date_range(day)
    value = _iso_date(value)
    if not isinstance(value, dt.date):
        raise ValueError(f"expected a date as YYYY-MM-DD, 'auto' or null, got {value!r}")
    return value


def _cash_rate(value: Any) -> Any:
    """An annual rate (a number) or a ticker (a string that is not a number), checked before the union."""
    if value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected an annual rate such as 0.03 or a ticker such as ^IRX, got {value!r}")
    if isinstance(value, str):
        if not is_ticker(value):
            raise ValueError(f"expected a ticker such as ^IRX (letters, digits, ^ . = - _), got {value!r}")
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError(f"expected a number, not a string: write {value} without quotes (0.03 = 3%)")
    if value != value or abs(value) == float("inf"):
        raise ValueError(f"expected a finite annual rate, got {value!r}")
    if not MIN_CASH_RATE <= value <= MAX_CASH_RATE:
        hint = f" (did you mean {value / 100:g}? rates are fractions: 0.03 = 3%)" if value > MAX_CASH_RATE else ""
        raise ValueError(
            f"expected an annual rate between {MIN_CASH_RATE:g} and {MAX_CASH_RATE:g}, got {value!r}{hint}"
        )
    return float(value)


def _fx_band(value: Any) -> Any:
    """``[low, high]`` (a YAML list) -> a tuple, with 0 < low <= 7.75 and 7.85 <= high <= 100; null keeps every tick.

    USD/HKD closes outside the band are dropped as bad ticks: a band that does not hold the
    convertibility band 7.75-7.85 would drop good closes (or all of them).
    """
    if value is None:
        return value
    ok = isinstance(value, list | tuple) and len(value) == 2
    ok = ok and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
    if not ok or not all(map(_finite, value)) or not 0 < value[0] < value[1]:
        raise ValueError(f"expected [low, high] with 0 < low < high (HKD per USD), got {value!r}")
    if not (value[0] <= PEG_LOW and PEG_HIGH <= value[1] <= MAX_FX):
        raise ValueError(
            f"expected [low, high] HKD per USD with 0 < low <= {PEG_LOW:g} and {PEG_HIGH:g} <= high <= {MAX_FX:g} "
            f"(the band must hold the {PEG_LOW:g}-{PEG_HIGH:g} peg), got {value!r}"
        )
    return (float(value[0]), float(value[1]))


def _number(value: Any) -> Any:
    """A parameter's value: an int or a float (never a bool or a string), at most MAX_PARAM in magnitude."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
        raise ValueError(f"expected a number, got {value!r}")
    if abs(value) > MAX_PARAM:
        raise ValueError(f"expected a number between {-MAX_PARAM:g} and {MAX_PARAM:g}, got {value!r}")
    return value


def _dividend_yield(value: Any) -> Any:
    """A fraction a year in [0, 0.2]; a value that looks like percent gets a hint."""
    if isinstance(value, int | float) and not isinstance(value, bool) and _finite(value) and value > MAX_DIVIDEND_YIELD:
        raise ValueError(
            f"expected an annual yield as a fraction between 0 and {MAX_DIVIDEND_YIELD:g}, got {value!r}"
            + (f" (did you mean {value / 100:g}? 0.035 = 3.5%)" if value / 100 <= MAX_DIVIDEND_YIELD else "")
        )
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
ParamValue = Annotated[int | float, BeforeValidator(_number)]
StartDate = Annotated[dt.date | Literal["auto"] | None, BeforeValidator(_start_date)]
CashRate = Annotated[float | str | None, BeforeValidator(_cash_rate)]
FxBand = Annotated[tuple[float, float] | None, BeforeValidator(_fx_band)]
#: Bounds of a constant ``cash_rate``: negative rates exist, 50% a year is surely a typo for 0.5%.
MIN_CASH_RATE, MAX_CASH_RATE = -0.05, 0.5
MAX_DIVIDEND_YIELD = 0.2
Ticker = Annotated[str, BeforeValidator(_ticker)]
Currency = Literal["USD", "HKD"]
PriceField = Literal["close", "adj_close"]
Bps = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
#: Plausible USD/HKD closes: the 7.75-7.85 convertibility band, slightly widened.
DEFAULT_FX_BAND = (7.74, 7.86)
Weights = dict[str, Annotated[float, Field(ge=0.0, allow_inf_nan=False)]]


def _printable(value: Any) -> Any:
    """A name shown in tables: no control characters."""
    if isinstance(value, str) and not value.isprintable():
        raise ValueError(f"expected a name without control characters, got {value!r}")
    return value


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


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
        "date every series (assets, exchange rate, cash rate) has data, after the warm-up; --start overrides",
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
        description="directory of Yahoo-style CSVs for source: csv; --data-dir overrides it, $SEESAW_DATA_DIR "
        "applies when neither is set",
    )
    fx_symbol: Ticker = Field(
        default="HKD=X",
        min_length=1,
        description="USD/HKD series, HKD per 1 USD; loaded only when a traded asset's currency differs from "
        "base_currency",
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
    instrument: Literal["index", "etf", "stock"] | None = Field(
        default=None,
        description="index, etf or stock; default: index for a ^ ticker, else stock; an etf pays no stamp duty",
    )
    dividend_yield: Annotated[float, BeforeValidator(_dividend_yield)] = Field(
        default=0.0,
        ge=0.0,
        le=MAX_DIVIDEND_YIELD,
        allow_inf_nan=False,
        description="annual dividend yield as a fraction (0.035), accrued daily while held and reinvested, for price "
        "series without dividends (an approximation); never with adj_close",
    )
    fee_bps: Bps | None = Field(default=None, description="overrides costs.fee_bps for this asset")
    slippage_bps: Bps | None = Field(default=None, description="overrides costs.slippage_bps for this asset")
    stamp_duty_bps: Bps | None = Field(
        default=None, description="per side; default: Hong Kong's dated schedule for hk indexes and stocks, else 0"
    )

    @property
    def quote_currency(self) -> str:
        """The currency its prices are in."""
        from engine.calendar import MARKETS

        return self.currency or MARKETS[self.market].currency

    @property
    def kind(self) -> str:
        """index, etf or stock (declared, or inferred from the ticker)."""
        return self.instrument or ("index" if self.symbol.startswith("^") else "stock")


class Rule(_Model):
    """``{when: EXPR, weights: {...}}`` or ``{otherwise: {...}}`` (weights; ``{}`` is all cash)."""

    when: str | None = Field(default=None, description="a condition in the when: language over signals and params")
    weights: Weights | None = Field(default=None, description="target weights per asset while when holds")
    otherwise: Weights | None = Field(
        default=None, description="the last rule: target weights when no when: holds (and while signals warm up)"
    )

    @model_validator(mode="after")
    def _one_form(self) -> Rule:
        if self.otherwise is not None:
            if self.when is not None or self.weights is not None:
                raise ValueError("a rule is either {when, weights} or {otherwise}, not both")
        elif self.when is None or self.weights is None:
            raise ValueError("a rule needs both 'when' and 'weights' (or is {otherwise: weights})")
        return self

    @property
    def target(self) -> dict[str, float]:
        """The weights this rule asks for."""
        out = self.otherwise if self.otherwise is not None else self.weights
        assert out is not None
        return out


class Execution(_Model):
    """When decisions turn into trades."""

    lag: int = Field(
        default=1,
        ge=0,
        le=MAX_LAG,
        description="dates of the union timeline between decision and execution (0 needs allow_same_bar)",
    )
    rebalance: Literal["on_change", "daily", "weekly", "monthly"] = Field(
        default="on_change",
        description="on_change: trade when the target changes; daily: back to target every date; weekly, monthly: "
        "decide on the last date of each week or month of the timeline",
    )
    allow_same_bar: bool = Field(default=False, description="permit lag: 0 (look-ahead; warned in every output)")
    fill: Literal["close", "next_open"] = Field(
        default="close", description="fill at the close of the execution session, or at its open"
    )


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


class Benchmark(_Model):
    """A static allocation simulated with the same data, costs and execution as the strategy."""

    name: Annotated[str, BeforeValidator(_printable)] = Field(
        min_length=1, max_length=200, description="the row's name in every table"
    )
    weights: Weights = Field(description="static target weights per asset (the rest is cash)")
    rebalance: Literal["on_change", "daily", "weekly", "monthly"] = Field(
        default="monthly", description="as execution.rebalance"
    )


class StrategyConfig(_Model):
    """A whole strategy file."""

    name: Annotated[str, BeforeValidator(_run_name)] = Field(
        pattern=_RUN_NAME.pattern,
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
