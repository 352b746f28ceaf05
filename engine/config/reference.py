"""The config reference page, ``docs/config.md``, rendered from the pydantic models.

Every field of :class:`~engine.config.models.StrategyConfig` and of the models nested in it gets a
row: its YAML path, its type in plain words, its default, the constraints the model declares, and
its ``description=``.  The prose around the tables (what a section is for, the signal library,
the ``when:`` language) is written here, keyed by model.  Regenerate the page with::

    python -m engine.config.reference > docs/config.md

``tests/test_docs.py`` checks that the file equals :func:`config_reference` exactly.

>>> page = config_reference()
>>> page.splitlines()[0]
'# Config reference (v1)'
>>> "| `initial_cash` | number |" in page
True
>>> plain_type(dict[str, list[int]])
'map of name → list of integer'
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from engine.config.models import (
    AssetSpec,
    Band,
    Benchmark,
    Costs,
    DataSpec,
    Execution,
    Rule,
    Sizing,
    StrategyConfig,
)

__all__ = ["SECTION_PROSE", "config_reference", "model_sections", "plain_type"]

HEADER = """\
# Config reference (v1)

<!-- Generated from engine/config/models.py by engine/config/reference.py; do not edit by hand.
     Regenerate: python -m engine.config.reference > docs/config.md -->

This page is generated from the config models (`engine/config/models.py`): regenerate it with
`python -m engine.config.reference > docs/config.md`. `seesaw schema` prints the same models as a
JSON Schema, for editors.

A config is one YAML file. A complete one:

```yaml
name: corr_breakdown
description: When the US/HK correlation breaks down, hold the market with stronger 63-day momentum.
data: {source: yahoo, start: 2002-01-01, end: null, price: close}     # price: close | adj_close
base_currency: USD            # USD | HKD: the currency of every value; HK prices are converted
cash_rate: ^IRX               # interest on cash (and the risk-free rate): a number (0.03) or a series
assets:
  us: {symbol: ^GSPC, market: us, dividend_yield: 0.019}   # a price index: accrue a yield (approximation)
  hk: {symbol: ^HSI,  market: hk, dividend_yield: 0.035}
signals:
  corr: {fn: rolling_corr, a: us, b: hk, window: 90, on: returns, align: async}
  mom:  {fn: relative_momentum, a: us, b: hk, window: 63}
rules:                        # evaluated top to bottom on every decision date; first match wins
  - when: corr < 0.2 and mom > 0
    weights: {us: 1.0}
  - when: corr < 0.2 and mom <= 0
    weights: {hk: 1.0}
  - otherwise: {us: 0.5, hk: 0.5}     # weights may sum below 1: the rest is cash; {} is all cash
execution: {lag: 1, rebalance: on_change}   # on_change | daily | weekly | monthly
costs: {fee_bps: 5, slippage_bps: 5}        # HK stamp duty: the dated schedule unless set
benchmarks: [{name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}]
initial_cash: 100000
```

Unknown keys are errors, values are not coerced (`"5"` is not a number), and every mistake is one
line naming the file, the YAML path and what was expected, with exit code 2 and nothing written.
The config above saved as `configs/x.yaml` with `corr` misspelt in its second rule gives:

```
error: configs/x.yaml: rules[1].when: unknown name 'cor' (did you mean 'corr'? known: corr, mom) (line 15)
```

Every number has a range a run can use (lags up to 250 sessions, windows up to 10,000, dates from
1900 to 2100, `initial_cash` from 1 to 1e12, …), and the reader accepts plain YAML only, with caps on
nesting, aliases and number size: [guarantees.md](guarantees.md) lists every limit. How the values
are used (the execution timeline, costs, currency, cash, dividends, metrics) is in
[methodology.md](methodology.md).

In the tables, *required* marks a field without a default; *null* is YAML's `null` (or leaving the
key out).
"""

SIGNALS = """\
## `signals.<name>`

A map from a name (used in `when:`) to `fn` (a registered signal function) and that function's
parameters. Parameters named `a`/`b` name assets. `of` (the transforms: `sma`, `ema`, `zscore`,
`lag`, `diff`, `percentile`) names another signal of the config, or an asset whose price series is
then the input; a signal-only asset such as `^VIX` can be read this way, or through `level`, without
being traded. Warm-ups add up along `of`: `{fn: zscore, of: mom, window: 20}` over a 63-row `mom`
needs 19 + 63 rows. A reference must name a signal or an asset, never the signal itself, and
references may not form a cycle; so that a reference names one thing, no signal has an asset's name.
Built in (`strategies/`):

{signal_table}

Signals see each asset's last traded price on every date of the union timeline (a holiday
contributes a zero return) and only rows up to t. Formulas, warm-ups, the information-time
pairing of `align: async` and a VIX-filtered example are in [signals.md](signals.md). Adding one is
a decorated function in `strategies/` (see `strategies/registry.py`); it is then covered by the
contract tests (`tests/contracts/`) automatically.
"""

#: The built-in signals: (fn, parameters, value at date t, warm-up rows).
SIGNAL_ROWS = (
    (
        "`rolling_corr`",
        "`a, b, window ≥ 2, on: returns|levels, align: async|sync, dates: union|common, currency: local|base`",
        "Pearson correlation over the trailing `window` observations of log returns (or levels). `async` pairs "
        "Hong Kong's day d with New York's day d−1 (HK closes ~13 h before NY, so same-date returns understate "
        "the link); `sync` pairs same dates. `dates: common` takes observations on the dates both traded only "
        "(returns between consecutive common dates; the value stays until the next one); `currency: base` "
        "converts prices at USD/HKD first",
        "`window` (returns) / `window−1` (levels), +1 for `async`, + `window // 4 + 10` for `common`",
    ),
    ("`momentum`", "`a, window`", "`P[t]/P[t−window] − 1`", "`window`"),
    ("`relative_momentum`", "`a, b, window`", "a's trailing return minus b's", "`window`"),
    (
        "`spread_zscore`",
        "`a, b, window ≥ 2`",
        "z-score of `ln(Pb/Pa)` over `window` rows (ddof 1); with a=us, b=hk, log(HK/US)",
        "`window−1`",
    ),
    ("`ratio_trend`", "`a, b, window`", "`ln(R_t / mean(R over window))`, R = Pb/Pa", "`window−1`"),
    ("`realized_vol`", "`a, window ≥ 2`", "std of log returns over `window` rows (ddof 1) × √252", "`window`"),
    ("`drawdown`", "`a, window`", "`P[t] / max(P over window) − 1`", "`window−1`"),
    (
        "`rolling_beta`",
        "`a, b, window ≥ 2, align: async|sync`",
        "OLS beta of a's log returns on b's over `window` rows: cov/var (ddof 1); paired like `rolling_corr`",
        "`window`, +1 for `async`",
    ),
    ("`price_vs_ma`", "`a, window`", "`P[t] / mean(P over window) − 1`", "`window−1`"),
    ("`level`", "`a`", "`P[t]` itself: for series read, not traded (^VIX, ^IRX, HKD=X)", "0"),
    ("`sma`", "`of, window`", "mean of v over the trailing `window` rows (v: what `of` names)", "`window−1` + v's"),
    (
        "`ema`",
        "`of, span`",
        "`Σ w_i·v[t−i]`, `w_i ∝ (1−α)^i`, α = 2/(span+1), i < L = 4·span, weights summing to 1 (a finite window)",
        "`4·span−1` + v's",
    ),
    (
        "`zscore`",
        "`of, window ≥ 2`",
        "`(v_t − mean) / std` over `window` rows (ddof 1); NaN when flat",
        "`window−1` + v's",
    ),
    ("`lag`", "`of, n`", "`v[t−n]`", "`n` + v's"),
    ("`diff`", "`of, n`", "`v[t] − v[t−n]`", "`n` + v's"),
    (
        "`percentile`",
        "`of, window`",
        "share of the trailing `window` values (today's included) that are ≤ `v_t`, in (0, 1]",
        "`window−1` + v's",
    ),
)

WHEN = """\
The `when:` language (parsed by a whitelist over Python's `ast`, never evaluated by Python):

```
condition  := or_expr
or_expr    := and_expr ("or" and_expr)*
and_expr   := not_expr ("and" not_expr)*
not_expr   := "not" not_expr | comparison | "(" condition ")"
comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)+      # chains: 0 < corr < 0.5
sum        := product (("+" | "-") product)*
product    := unary (("*" | "/") unary)*
unary      := ("-" | "+") unary | NAME | NUMBER | "(" sum ")" | call
call       := "abs(" sum ")" | "crosses_above(" sum "," sum ")" | "crosses_below(" sum "," sum ")"
            | "clip(" sum "," sum "," sum ")" | ("min(" | "max(") sum ("," sum)+ ")"
```

Names are the config's signal names and `params`. `crosses_above(x, y)` is true on t when `x > y`
on t and `x <= y` on t−1. `clip(x, lo, hi)` is `min(max(x, lo), hi)`. A `when:` or `until:` must
be a condition; a weight expression must be a number (`sum`). A comparison with NaN is false. A NUMBER
is plain decimal (`10`, `0.5`, `.5`, `1e-3`); Python's other forms (`0x10`, `0b1`, `0o7`, `1_000`, `007`) and a
number too small to be told from 0 (`1e-400`) are refused.
Anything else (attribute access, other calls, subscripts, lambdas, strings, names starting with
`_`) is refused with a one-line error, as are expressions over 500 characters or 32 levels deep.
"""

#: Hand-written prose printed under each model's heading, before its table.
SECTION_PROSE: dict[type[BaseModel], str] = {
    StrategyConfig: """\
The keys of the file. `name` names the results directory: letters, digits, `_`, `-`, `.`; unique
among the configs of one command; never one of the store's own file names (`seesaw.duckdb*`,
`*.duckdb`, `*.wal`, `*.lock`, `*.tmp`). `description` is shown in the HTML report's header and kept in the
resolved config. `compare` shows runs in different `base_currency` in one currency, converting the others at
their own HKD=X closes ([compare.md](compare.md#one-currency)); the HKD view of `corr_breakdown`
ships as `configs/hkd/corr_breakdown_hkd.yaml`. A constant
`cash_rate` lies between -0.05 and 0.5 (`5` is refused with "did you mean 0.05?"); a series such as
`^IRX` is in percent a year. Interest accrues daily (ACT/365).

`params` are named numbers (`{corr_cut: 0.2, mom_window: 63}`) that `when:` expressions use by
name and signal arguments use as `$name`; their names follow the rules of signal names and must
differ from them. `sweep` maps parameter names or sweepable YAML paths to a list of values or a
range `{start, stop, step}` (inclusive of `stop`); `seesaw sweep` runs the product, `seesaw run`
ignores it and runs the `params` as written. See [sweeps.md](sweeps.md).
""",
    DataSpec: """\
**Warm-up:** signals are computed on history *before* `start` when the source has it, so the
strategy is invested from `start`: the decision that fills on the first date is taken on the
previous date with complete signals. How many warm-up dates were used is in the table caption and
`metrics.json` (`data.warmup_dates` of `data.warmup_needed`). The warm-up counts dates of the union
timeline, and each market's last price before the first warm-up date is kept too (when that date is
a holiday of one market), so every signal is complete at the first decision whenever the source has
the history. With too little history a warning says so (also when the union timeline has the warm-up
but a series a signal reads starts later), a note names each signal still incomplete at the first
decision and how many dates of history it lacked, and until the signals are complete the rules
naming them are false. The data sources are described in [data.md](data.md).
""",
    AssetSpec: """\
A map from a short name (used in rules and signals) to an asset: letters, digits and `_`, starting
with a letter, not a word of `when:` (`and`, `true`, a function's name, ...), and not a column the run's
files or the results store's views already hold, in any case: `date`, `value`, `cash`, `cash_index`,
`synthetic` (`equity.csv`), `run_id` or `filename` (the views). A signal is not named `date`, `run_id` or
`filename` either, a benchmark not `date`, `synthetic`, `run_id` or `filename`. Two assets (signals,
benchmarks) differ in more than case: the store's SQL reads `US` and `us` as one name.
An asset named in no rule's or
benchmark's weights is *signal-only*: it is never traded, needs no exchange rate, and shows no
weight. `fee_bps`, `slippage_bps` and `stamp_duty_bps` override `costs:` for this asset
(`stamp_duty_bps` per side, overriding the Hong Kong schedule).
""",
    Rule: """\
Evaluated top to bottom on every date, after both markets' closes; the first rule in force sets the
target `weights`. The last rule must be `otherwise: {...}`. A rule is in force where its `when`
holds; with `until`, from a date its `when` holds until its `until` holds (hysteresis). Weights are
fractions ≥ 0 summing to at most 1 (the rest is cash; `{}` is all cash), an
expression in quotes (`hk: "clip(0.4 + 0.1 * z, 0, 1)"`), or `rest` for one asset (1 minus the
others); expressions are clipped to [0, 1] and scaled to sum at most 1 on the data, and the dates
that needed it are counted in `metrics.json` and a note. **While a signal that a rule names is NaN
(warming up), that rule is false**, so the `otherwise` weights apply. The state semantics (which rule
decides when several are in force, `min_hold`, `cooldown`) are in [rules.md](rules.md). With
`execution.max_gross` the strategy's account is a margin account: a weight may be negative (a short)
and the absolute weights may sum to up to `max_gross`; computed weights are then clipped to
[−max_gross, max_gross] and scaled to that gross ([shorts.md](shorts.md)).
""",
    Execution: """\
A decision taken after the close of date t executes at the close `lag` dates later on the union
timeline. `lag: 0` is refused unless `allow_same_bar: true`; with `fill: close` it prints a look-ahead
warning in every output: US orders then fill at the very close the decision used, and Hong Kong orders
at Hong Kong's next close (never before the decision exists). With `fill: next_open` a lag of 0 fills
at the first opens after the decision, the opens a lag of 1 fills at, and is not warned. `fill:
next_open` fills at the *open* of the session, never earlier than the first session after the decision
date (also with `lag: 0`); it needs an `Open` on every session the asset trades in the run (a one-line
error names the first one missing; the adjusted-only ETF files have none). With `adj_close` the open
is put on the adjusted basis (`Open x Adj Close / Close`). See the [execution
timeline](methodology.md#execution-timeline-two-markets-one-clock). `min_hold` and `cooldown` count
dates of the union timeline and act on the decisions, before the lag ([rules.md](rules.md)).
""",
    Band: """\
`rebalance: {band: 0.05}` trades only when some asset's actual end-of-day weight is more than
`band` from the target decided that date (5 points), and on the first decision; `every: monthly`
(or `weekly`) also rebalances on that schedule. A drift is not checked while an earlier event's
orders are still waiting to fill. Useful with `sizing:` and weight expressions, whose targets move
a little every day.
""",
    Sizing: """\
Optional. Reshapes the strategy's weights on every decision date from the trailing `window` daily
returns of each asset's unit value (base currency): shares the held listed assets' total weight by
`inverse_vol` or `equal_risk`, then scales the portfolio to `target_vol` (its volatility with today's
weights over the window), never above `max_gross`. Benchmarks are not sized. The warm-up covers the
window. Definitions and the counts it reports: [rules.md](rules.md#sizing).
""",
    Costs: """\
In basis points of traded value (1 bp = 0.01%). Stamp duty is charged on buys and sells of
`hk`-market indexes and stocks (not ETFs, not US listings): by default Hong Kong's dated schedule
(10 bps per side, 13 bps from 2021-08-01, 10 bps from 2023-11-17; `engine/costs.py`);
`hk_stamp_duty_bps` sets one flat rate instead, and an asset's `stamp_duty_bps` overrides both. The
statutory rounding up to a whole dollar is not modelled.
""",
    Benchmark: """\
A list of static allocations, simulated with the same data, lag, costs and initial cash as the
strategy, in the same vectorbt call. The shipped configs compare against buy-and-hold US,
buy-and-hold HK and 50/50 monthly. A name is the row's in every table: unique (also without case), not
the config's own, without control characters or a space at either end (which a table would not show).
""",
}

_PLAIN = {str: "text", int: "integer", float: "number", bool: "true or false", dt.date: "date (YYYY-MM-DD)"}


def _strip(tp: Any) -> tuple[Any, list[Any]]:
    """``Annotated[T, *meta]`` -> ``(T, meta)``, the metadata of nested ``Field(...)`` unpacked."""
    meta: list[Any] = []
    while typing.get_origin(tp) is typing.Annotated:
        tp, *extra = typing.get_args(tp)
        for item in extra:
            meta += item.metadata if isinstance(item, FieldInfo) else [item]
    return tp, meta


def _num(x: Any) -> str:
    return f"{x:g}".replace("e+", "e")


def _bounds(meta: list[Any]) -> list[str]:
    """Constraints declared as metadata, in words: ``≥ 0``, ``at most 80 characters``, ``pattern ...``."""
    out = []
    for item in meta:
        if isinstance(item, annotated_types.Ge):
            out.append(f"≥ {_num(item.ge)}")
        elif isinstance(item, annotated_types.Gt):
            out.append(f"> {_num(item.gt)}")
        elif isinstance(item, annotated_types.Le):
            out.append(f"≤ {_num(item.le)}")
        elif isinstance(item, annotated_types.Lt):
            out.append(f"< {_num(item.lt)}")
        elif isinstance(item, annotated_types.MinLen) and item.min_length:
            out.append("not empty" if item.min_length == 1 else f"at least {item.min_length} long")
        elif isinstance(item, annotated_types.MaxLen):
            out.append(f"at most {item.max_length} characters")
        elif getattr(item, "pattern", None):
            out.append(f"matches `{item.pattern}`")
    return out


def _section_of(model: type[BaseModel]) -> str:
    return {
        StrategyConfig: "top level",
        DataSpec: "`data`",
        AssetSpec: "`assets.<name>`",
        Rule: "`rules[]`",
        Execution: "`execution`",
        Band: "`execution.rebalance` band",
        Costs: "`costs`",
        Sizing: "`sizing`",
        Benchmark: "`benchmarks[]`",
    }[model]


def _anchor(model: type[BaseModel]) -> str:
    """The GitHub anchor of a model's heading."""
    words = _section_of(model).strip("`").lower()
    return "#" + "".join(c for c in words.replace(" ", "-") if c.isalnum() or c in "-_")


def plain_type(tp: Any) -> str:
    """A type annotation in words: ``float | None`` -> ``number or null``; a model links to its section."""
    tp, meta = _strip(tp)
    bounds = _bounds(meta)
    suffix = f" ({', '.join(bounds)})" if bounds else ""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is type(None):
        return "null"
    if tp is Any:
        return "any value"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{_section_of(tp)}]({_anchor(tp)})"
    if tp in _PLAIN:
        return _PLAIN[tp] + suffix
    if origin is typing.Literal:
        return f"`{args[0]}`" if len(args) == 1 else "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        if set(args) == {int, float}:
            return "number" + suffix
        words = [plain_type(a) for a in args]
        return ", ".join(words[:-1]) + " or " + words[-1]
    if origin is dict:
        return f"map of name → {plain_type(args[1])}"
    if origin is list:
        return f"list of {plain_type(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(plain_type(a) for a in args) + "]"
    return str(tp)  # pragma: no cover - every annotation of the models is handled above


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "all defaults"
    if value is None:
        return "null"
    if isinstance(value, tuple):
        return "`[" + ", ".join(f"{v:g}" for v in value) + "]`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return '`""`'
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(model: type[BaseModel]) -> str:
    rows = ["| field | type | default | constraints | description |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        constraints = ", ".join(_bounds(field.metadata))
        rows.append(
            f"| `{name}` | {_cell(plain_type(field.annotation))} | {_default(field)} | {_cell(constraints)} "
            f"| {_cell(field.description or '')} |"
        )
    return "\n".join(rows) + "\n"


def model_sections() -> list[type[BaseModel]]:
    """StrategyConfig, then each model nested in it, in the order its fields name them."""
    seen: list[type[BaseModel]] = []

    def walk(model: type[BaseModel]) -> None:
        seen.append(model)
        for field in model.model_fields.values():
            for tp in _models_in(field.annotation):
                if tp not in seen:
                    walk(tp)

    walk(StrategyConfig)
    return seen


def _models_in(tp: Any) -> list[type[BaseModel]]:
    tp, _ = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in typing.get_args(tp) for m in _models_in(arg)]


def config_reference() -> str:
    """``docs/config.md``: the header, then one section per model (prose, then a table of its fields)."""
    parts = [HEADER]
    for model in model_sections():
        title = "Top level" if model is StrategyConfig else _section_of(model)
        parts.append(f"## {title}\n\n{SECTION_PROSE[model]}\n{_table(model)}")
        if model is AssetSpec:
            table = ["| fn | parameters | value at date t | warm-up rows |", "|---|---|---|---|"]
            table += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in SIGNAL_ROWS]
            parts.append(SIGNALS.replace("{signal_table}", "\n".join(table)))
        if model is Rule:
            parts.append(WHEN)
    return "\n".join(parts)


if __name__ == "__main__":
    print(config_reference(), end="")
