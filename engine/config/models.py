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

__all__ = [
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


def _iso_date(value: Any) -> Any:
    """Accept ``YYYY-MM-DD`` strings for dates (YAML usually gives a date already)."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Weights = dict[str, Annotated[float, Field(ge=0.0, allow_inf_nan=False)]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DataSpec(_Model):
    """Where prices come from and which period to simulate."""

    source: Literal["yahoo", "csv", "synthetic"] = "yahoo"
    start: Date | None = None
    end: Date | None = None
    price: Literal["close", "adj_close"] = "close"
    data_dir: str | None = Field(default=None, description="directory of Yahoo-style CSVs for source: csv")

    @model_validator(mode="after")
    def _start_before_end(self) -> DataSpec:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class AssetSpec(_Model):
    """One tradable asset: its ticker and the market whose sessions it trades in."""

    symbol: str = Field(min_length=1)
    market: Literal["us", "hk"]


class Rule(_Model):
    """``{when: EXPR, weights: {...}}`` or ``{otherwise: {...}}`` (weights; ``{}`` is all cash)."""

    when: str | None = None
    weights: Weights | None = None
    otherwise: Weights | None = None

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

    lag: int = Field(default=1, ge=0, description="dates between decision and execution (>= 1)")
    rebalance: Literal["on_change", "daily", "weekly", "monthly"] = "on_change"
    allow_same_bar: bool = Field(default=False, description="permit lag: 0 (look-ahead prone; warned)")


class Costs(_Model):
    """Trading costs in basis points of traded value (1 bp = 0.01%)."""

    fee_bps: float = Field(default=0.0, ge=0, le=1000, allow_inf_nan=False)
    slippage_bps: float = Field(default=0.0, ge=0, le=1000, allow_inf_nan=False)
    hk_stamp_duty_bps: float = Field(default=10.0, ge=0, le=1000, allow_inf_nan=False)


class Benchmark(_Model):
    """A static allocation simulated with the same data, costs and execution as the strategy."""

    name: str = Field(min_length=1)
    weights: Weights
    rebalance: Literal["on_change", "daily", "weekly", "monthly"] = "monthly"


class StrategyConfig(_Model):
    """A whole strategy file."""

    name: str = Field(pattern=_RUN_NAME.pattern, max_length=80)
    description: str = ""
    data: DataSpec = DataSpec()
    assets: dict[str, AssetSpec] = Field(min_length=1)
    signals: dict[str, dict[str, Any]] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)
    execution: Execution = Execution()
    costs: Costs = Costs()
    benchmarks: list[Benchmark] = Field(default_factory=list)
    initial_cash: float = Field(default=100_000.0, gt=0, allow_inf_nan=False)
