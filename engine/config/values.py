"""Value types of the config schema: each field's own validation, as annotated types and limits.

The models of :mod:`engine.config.models` are built from these; a value is checked here on its own
(a date, a rate, a ticker, a weight), never against other fields.  Nothing is coerced silently.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from engine.data.base import TICKER_RULE, is_ticker

__all__ = [
    "DEFAULT_FX_BAND",
    "MAX_CASH_RATE",
    "MAX_DATE",
    "MAX_DIVIDEND_YIELD",
    "MAX_FX",
    "MAX_GROSS",
    "MAX_HOLD",
    "MAX_INITIAL_CASH",
    "MAX_LAG",
    "MAX_PARAM",
    "MAX_VOL",
    "MIN_CASH_RATE",
    "MIN_DATE",
    "MIN_INITIAL_CASH",
    "PEG_HIGH",
    "PEG_LOW",
    "REST",
    "RUN_NAME_PATTERN",
    "WEIGHT_TOLERANCE",
    "Bps",
    "CashRate",
    "Currency",
    "Date",
    "DisplayName",
    "DividendYield",
    "FxBand",
    "ParamValue",
    "PriceField",
    "RuleWeights",
    "RunName",
    "StartDate",
    "Ticker",
    "Volatility",
    "Weights",
    "date_error",
    "iso_date",
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


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: \d also matches others


def iso_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` as a date, and nothing else: Python's ``date.fromisoformat`` also takes ``20150101`` and
    ISO week dates (``2016-W01``), which a mistyped date should not silently become.  ValueError otherwise."""
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"not a date as YYYY-MM-DD: {text!r}")
    return dt.date.fromisoformat(text)


def date_error(value: str, expected: str) -> str:
    """The words for text that is not a date: one written as YYYY-MM-DD that names no day says so
    (``2002-02-30``); anything else, what was ``expected``.

    >>> date_error("2002-02-30", "a date as YYYY-MM-DD"), date_error("30/02/2002", "a date as YYYY-MM-DD")
    ("no such date: '2002-02-30' (no day of the calendar)", "expected a date as YYYY-MM-DD, got '30/02/2002'")
    """
    if _ISO_DATE.fullmatch(value):
        return f"no such date: {value!r} (no day of the calendar)"
    return f"expected {expected}, got {value!r}"


def _iso_date(value: Any) -> Any:
    """Accept ``YYYY-MM-DD`` strings for dates (YAML usually gives a date already), within MIN_DATE-MAX_DATE."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
    if isinstance(value, str):
        try:
            value = iso_date(value)
        except ValueError:
            raise ValueError(date_error(value, "a date as YYYY-MM-DD")) from None
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
            day = iso_date(value)
        except ValueError:
            raise ValueError(date_error(value, "a date as YYYY-MM-DD or 'auto'")) from None
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
#: The literal a rule writes for the asset that takes what its other weights leave.
REST = "rest"
#: Largest accepted ``execution.max_gross``: five times the portfolio's value in assets.
MAX_GROSS = 5.0
#: Longest accepted ``min_hold``, ``cooldown`` and sizing ``window``, in dates (about 40 years).
MAX_HOLD = 10_000


def _rule_weight(value: Any) -> Any:
    """A rule's weight: a number (negative only in a margin account: the rule checks), ``rest``, or an
    expression (text; parsed by the rule checks)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, 'rest' or an expression in quotes, got {value!r}")
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("expected a number, 'rest' or an expression, got empty text")
        return value.strip()
    if not _finite(value):
        raise ValueError(f"expected a finite weight, got {value!r}")
    return float(value)


RuleWeights = dict[str, Annotated[float | str, BeforeValidator(_rule_weight)]]


def _printable(value: Any) -> Any:
    """A name shown in tables: no control characters, not empty, and no space at either end, which a table would
    not show (``"bench"`` and ``"bench "`` would be two rows named alike)."""
    if isinstance(value, str) and not value.isprintable():
        raise ValueError(f"expected a name without control characters, got {value!r}")
    if isinstance(value, str) and (not value.strip() or value != value.strip()):
        raise ValueError(f"expected a name that neither is empty nor starts or ends with a space, got {value!r}")
    return value


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def _volatility(value: Any) -> Any:
    """An annualised volatility as a fraction; a value that looks like percent gets a hint."""
    if isinstance(value, int | float) and not isinstance(value, bool) and _finite(value) and value > MAX_VOL:
        hint = f" (did you mean {value / 100:g}? 0.12 is 12%)" if value / 100 <= MAX_VOL else ""
        raise ValueError(
            f"expected an annualised volatility as a fraction between 0 and {MAX_VOL:g}, got {value!r}{hint}"
        )
    return value


#: Largest accepted ``sizing.target_vol``: 200% a year.
MAX_VOL = 2.0
RunName = Annotated[str, BeforeValidator(_run_name)]
Volatility = Annotated[float, BeforeValidator(_volatility)]
DisplayName = Annotated[str, BeforeValidator(_printable)]
DividendYield = Annotated[float, BeforeValidator(_dividend_yield)]
RUN_NAME_PATTERN = _RUN_NAME.pattern
