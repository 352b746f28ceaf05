"""Every user mistake is one error line that carries data, exit code 2, and nothing written.

Table-driven: each case starts from the valid config :data:`BASE`, changes one thing, and names
the YAML path the error must point at, the line it must report, and a fragment of the message.
Each case is checked in-process (the exception's fields) and through the CLI (``run`` and
``validate``: exit 2, one line on stderr, no traceback, nothing created).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.config import load_config, load_configs
from engine.errors import ConfigError, ExpressionError, UserError
from tests.conftest import SHIPPED_CONFIGS

REPO = Path(__file__).resolve().parents[1]

_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")

BASE = """\
name: mini
data: {source: synthetic, start: 2020-01-01, end: 2020-06-30}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  corr: {fn: rolling_corr, a: us, b: hk, window: 20}
  mom: {fn: relative_momentum, a: us, b: hk, window: 10}
rules:
  - when: corr < 0.2 and mom > 0
    weights: {us: 1.0}
  - when: mom < -0.1
    weights: {hk: 1.0}
  - otherwise: {us: 0.5, hk: 0.5}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
"""
WHEN = "when: corr < 0.2 and mom > 0"


@dataclass(frozen=True)
class Case:
    old: str  # text of BASE to replace (must occur in it)
    new: str
    path: str | None  # expected YAML path of the error (None: the file as a whole)
    line_of: str | None  # the error's line is the one line of the broken file containing this
    says: str  # a fragment of the message (not the full wording)
    error: type[UserError] = ConfigError
    got: object = None  # expected ``err.got`` when not None

    def text(self) -> str:
        assert self.old in BASE, self.old
        return BASE.replace(self.old, self.new, 1)

    def line(self) -> int | None:
        if self.line_of is None:
            return None
        lines = [i for i, text in enumerate(self.text().splitlines(), 1) if self.line_of in text]
        assert len(lines) == 1, f"{self.line_of!r} is on lines {lines}"
        return lines[0]


def known_bug(case: Case, reason: str, raises: type[BaseException] | None = None):
    return pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=reason, raises=raises))


CASES = {
    "weights just over 1, their sum shown in full": Case(
        "otherwise: {us: 0.5, hk: 0.5}",
        "otherwise: {us: 0.5, hk: 0.5000001}",
        "rules[2].otherwise",
        "0.5000001",
        "weights sum to 1.0000001; expected at most 1",
    ),
    "a signal named like the weights' rest": Case(
        "  mom: {fn: relative_momentum",
        "  rest: {fn: relative_momentum",
        "signals.rest",
        "rest: {fn",
        "invalid name 'rest'",
    ),
    "an asset named like a column of equity.csv": Case(
        "  hk: {symbol: ^HSI, market: hk}\n",
        "  hk: {symbol: ^HSI, market: hk}\n  Cash: {symbol: ^GSPC, market: us}\n",
        "assets.Cash",
        "Cash: {symbol",
        "asset name 'Cash' is taken by a column of the run's equity.csv",
    ),
    "a signal named date": Case(
        "  mom: {fn: relative_momentum",
        "  date: {fn: relative_momentum",
        "signals.date",
        "date: {fn",
        "signal name 'date' is taken by a column of the run's signals.parquet",
    ),
    "a benchmark named like the column a synthetic run's CSV files end in": Case(
        "costs: {fee_bps: 5, slippage_bps: 5}\n",
        "costs: {fee_bps: 5, slippage_bps: 5}\nbenchmarks:\n  - {name: synthetic, weights: {us: 1.0}}\n",
        "benchmarks[0].name",
        "name: synthetic",
        "benchmark name 'synthetic' is taken by a column of the run's benchmarks.csv or of the results store's views",
    ),
    "a signal named like the column DuckDB adds when the results store's views read a file": Case(
        "  mom: {fn: relative_momentum",
        "  FileName: {fn: relative_momentum",
        "signals.FileName",
        "FileName: {fn",
        "signal name 'FileName' is taken by a column of the run's signals.parquet or of the results store's views",
    ),
    "two assets whose names differ only in case": Case(
        "  hk: {symbol: ^HSI, market: hk}\n",
        "  hk: {symbol: ^HSI, market: hk}\n  HK: {symbol: ^HSI, market: hk}\n",
        "assets.HK",
        "HK: {symbol",
        "asset names 'hk' and 'HK' differ only in case, which the results store's SQL does not tell apart",
    ),
    "a weight expression of numbers only, a short in a cash account": Case(
        "otherwise: {us: 0.5, hk: 0.5}",
        'otherwise: {us: 0.5, hk: "-0.4"}',
        "rules[2].otherwise.hk",
        "otherwise: {us: 0.5",
        "weight -0.4 is a short; shorting needs a margin account",
    ),
    "a weight expression of numbers only, over 1 with the rest": Case(
        "otherwise: {us: 0.5, hk: 0.5}",
        'otherwise: {us: rest, hk: "0.7 * 2"}',
        "rules[2].otherwise",
        "otherwise: {us: rest",
        "weights sum to 1.4; expected at most 1",
    ),
    "a signal named like an asset, which an of: reference would name both": Case(
        "  mom: {fn: relative_momentum",
        "  us: {fn: momentum, a: hk, window: 5}\n  mom: {fn: relative_momentum",
        "signals.us",
        "us: {fn: momentum",
        "signal 'us' has the name of an asset; a signal's of: names a signal or an asset, so names must be unique",
    ),
    "two swept parameters whose names differ only in case": Case(
        "costs: {fee_bps: 5, slippage_bps: 5}\n",
        "costs: {fee_bps: 5, slippage_bps: 5}\nparams: {cut: 0.2, Cut: 0.1}\n"
        "sweep: {cut: [0.1, 0.2], Cut: [0.1, 0.3]}\n",
        "sweep.Cut",
        "sweep: {cut",
        "sweep keys 'cut' and 'Cut' differ only in case, which the results store's SQL does not tell apart",
    ),
    "two benchmarks whose names differ only in case": Case(
        "costs: {fee_bps: 5, slippage_bps: 5}\n",
        "costs: {fee_bps: 5, slippage_bps: 5}\nbenchmarks:\n  - {name: Mix, weights: {us: 1.0}}\n"
        "  - {name: mix, weights: {hk: 1.0}}\n",
        "benchmarks[1].name",
        "name: mix,",
        "benchmark names 'Mix' and 'mix' differ only in case",
    ),
    "a benchmark name ending in a space, which no table shows": Case(
        "costs: {fee_bps: 5, slippage_bps: 5}\n",
        "costs: {fee_bps: 5, slippage_bps: 5}\nbenchmarks:\n  - {name: 'Mix ', weights: {us: 1.0}}\n",
        "benchmarks[0].name",
        "name: 'Mix '",
        "expected a name that neither is empty nor starts or ends with a space, got 'Mix '",
    ),
    "a benchmark named date": Case(
        "costs: {fee_bps: 5, slippage_bps: 5}\n",
        "costs: {fee_bps: 5, slippage_bps: 5}\nbenchmarks:\n  - {name: date, weights: {us: 1.0}}\n",
        "benchmarks[0].name",
        "name: date",
        "benchmark name 'date' is taken by a column of the run's benchmarks.csv",
    ),
    "unknown top-level key": Case(
        "costs:", "benchmark: []\ncosts:", "benchmark", "benchmark: []", "did you mean 'benchmarks'"
    ),
    "unknown key in assets.us": Case(
        "market: us}", "market: us, curency: USD}", "assets.us.curency", "curency", "did you mean 'currency'"
    ),
    "unknown key inside a signal": Case(
        "window: 20}", "window: 20, windw: 30}", "signals.corr.windw", "windw", "did you mean 'window'"
    ),
    "misspelt key inside a signal": Case(
        "window: 20}", "windw: 20}", "signals.corr.windw", "windw", "did you mean 'window'"
    ),
    "a date that names no day": Case(
        "start: 2020-01-01", "start: 2020-02-30", "data.start", "2020-02-30", "no such date: '2020-02-30'"
    ),
    "correlation window of one observation": Case(
        "window: 20}", "window: 1}", "signals.corr.window", "hk, window: 1}", "greater than or equal to 2", got=1
    ),
    "unknown signal function": Case(
        "fn: rolling_corr", "fn: rolling_cor", "signals.corr.fn", "rolling_cor", "did you mean 'rolling_corr'"
    ),
    "unknown asset in a rule's weights": Case(
        "weights: {us: 1.0}", "weights: {usa: 1.0}", "rules[0].weights.usa", "usa", "unknown asset 'usa'", got="usa"
    ),
    "unknown asset in a signal's a": Case(
        "rolling_corr, a: us", "rolling_corr, a: uss", "signals.corr.a", "uss", "unknown asset 'uss'", got="uss"
    ),
    "negative weight": Case(
        "weights: {us: 1.0}", "weights: {us: -0.5}", "rules[0].weights.us", "-0.5", "shorting needs a margin account"
    ),
    "negative benchmark weight in a margin account": Case(
        "execution: {lag: 1, rebalance: on_change}\ncosts: {",
        "execution: {lag: 1, rebalance: on_change, max_gross: 2}\n"
        "benchmarks: [{name: short, weights: {us: -0.5}}]\ncosts: {",
        "benchmarks[0].weights.us",
        "benchmarks:",
        "greater than or equal to 0",
    ),
    "gross above execution.max_gross": Case(
        "otherwise: {us: 0.5, hk: 0.5}\nexecution: {lag: 1, rebalance: on_change}",
        "otherwise: {us: 1.5, hk: -1.0}\nexecution: {lag: 1, rebalance: on_change, max_gross: 2}",
        "rules[2].otherwise",
        "otherwise:",
        "gross exposure (sum of absolute weights) of 2.5",
        got=pytest.approx(2.5),
    ),
    "gross with rest above execution.max_gross": Case(
        "otherwise: {us: 0.5, hk: 0.5}\nexecution: {lag: 1, rebalance: on_change}",
        "otherwise: {us: -2.0, hk: rest}\nexecution: {lag: 1, rebalance: on_change, max_gross: 2}",
        "rules[2].otherwise",
        "otherwise:",
        "gross exposure (sum of absolute weights) of 5",
        got=pytest.approx(5.0),
    ),
    "leverage without a margin account": Case(
        "otherwise: {us: 0.5, hk: 0.5}",
        "otherwise: {us: 1.5}",
        "rules[2].otherwise",
        "otherwise:",
        "needs execution.max_gross",
    ),
    "execution.max_gross above 5": Case(
        "rebalance: on_change}",
        "rebalance: on_change, max_gross: 6}",
        "execution.max_gross",
        "max_gross",
        "less than or equal to 5",
    ),
    "execution.max_gross of zero": Case(
        "rebalance: on_change}",
        "rebalance: on_change, max_gross: 0}",
        "execution.max_gross",
        "max_gross",
        "greater than 0",
    ),
    "negative borrow_bps": Case(
        "costs: {fee_bps: 5,",
        "costs: {borrow_bps: -1, fee_bps: 5,",
        "costs.borrow_bps",
        "costs:",
        "greater than or equal to 0",
    ),
    "margin_spread_bps above 100% a year": Case(
        "costs: {fee_bps: 5,",
        "costs: {margin_spread_bps: 20000, fee_bps: 5,",
        "costs.margin_spread_bps",
        "costs:",
        "less than or equal to 10000",
    ),
    "borrow_bps in a cash account": Case(
        "costs: {fee_bps: 5,",
        "costs: {borrow_bps: 30, fee_bps: 5,",
        "costs.borrow_bps",
        "costs:",
        "a margin account pays it, and this config's account is a cash account",
        got=30,
    ),
    "margin_spread_bps in a cash account": Case(
        "costs: {fee_bps: 5,",
        "costs: {margin_spread_bps: 50, fee_bps: 5,",
        "costs.margin_spread_bps",
        "costs:",
        "it would change nothing",
        got=50,
    ),
    "borrow_bps swept in a cash account": Case(
        "costs: {fee_bps: 5, slippage_bps: 5}\n",
        "costs: {fee_bps: 5, slippage_bps: 5}\nsweep: {costs.borrow_bps: [0, 30]}\n",
        "sweep.costs.borrow_bps",
        "sweep:",
        "varies a cost a margin account pays, and the config's account is a cash account",
    ),
    "sizing.max_gross above execution.max_gross": Case(
        "execution: {lag: 1, rebalance: on_change}\ncosts: {",
        "execution: {lag: 1, rebalance: on_change, max_gross: 2}\nsizing: {max_gross: 2.5}\ncosts: {",
        "sizing.max_gross",
        "max_gross: 2.5",
        "above execution.max_gross",
    ),
    "inverse_vol in a margin account": Case(
        "execution: {lag: 1, rebalance: on_change}\ncosts: {",
        "execution: {lag: 1, rebalance: on_change, max_gross: 2}\nsizing: {inverse_vol: [us, hk]}\ncosts: {",
        "sizing.inverse_vol",
        "sizing:",
        "not available in a margin account",
    ),
    "weights sum above 1": Case(
        "otherwise: {us: 0.5, hk: 0.5}",
        "otherwise: {us: 0.7, hk: 0.7}",
        "rules[2].otherwise",
        "otherwise:",
        "sum to 1.4",
        got=pytest.approx(1.4),
    ),
    "bad date (quoted)": Case("start: 2020-01-01", "start: '2020-13-01'", "data.start", "start:", "2020-13-01"),
    "bad date": Case("start: 2020-01-01", "start: 2020-13-01", "data.start", "start:", "2020-13-01"),
    # Python's date.fromisoformat takes these two; a mistyped date must not silently become one
    "benchmark named like the config": Case(
        "costs: {fee_bps: 5, slippage_bps: 5}",
        "costs: {fee_bps: 5, slippage_bps: 5}\nbenchmarks: [{name: mini, weights: {us: 1.0}}]",
        "benchmarks[0].name",
        "name: mini,",
        "is the config's own name",
        got="mini",
    ),
    "ISO week date": Case("start: 2020-01-01", "start: '2020-W01'", "data.start", "start:", "YYYY-MM-DD"),
    "basic-format date": Case("start: 2020-01-01", "start: '20200101'", "data.start", "start:", "YYYY-MM-DD"),
    "ISO week end date": Case("end: 2020-06-30", "end: '2020-W26'", "data.end", "end:", "YYYY-MM-DD"),
    "start after end": Case("start: 2020-01-01", "start: 2021-01-01", "data", "start:", "before"),
    "non-positive window": Case(
        "window: 20}", "window: 0}", "signals.corr.window", "window: 0", "greater than or equal to 2", got=0
    ),
    "unparsable when": Case(WHEN, "when: corr <", "rules[0].when", "when: corr <", "", ExpressionError, got="corr <"),
    "unknown name in when": Case(
        WHEN, "when: cor < 0.2", "rules[0].when", "when: cor", "known: corr, mom", ExpressionError, got="cor"
    ),
    "otherwise not last": Case(
        f"  - {WHEN}\n    weights: {{us: 1.0}}\n", "  - otherwise: {us: 1.0}\n", "rules[0]", "{us: 1.0}", "last"
    ),
    "missing otherwise": Case("  - otherwise: {us: 0.5, hk: 0.5}\n", "", "rules[1]", "when: mom < -0.1", "otherwise"),
    "duplicate key": Case("execution:", "name: again\nexecution:", "name", "name: again", "duplicate key"),
    "lag 0 without allow_same_bar": Case("lag: 1", "lag: 0", "execution.lag", "lag: 0", "allow_same_bar", got=0),
    "string where a number is expected": Case("fee_bps: 5,", 'fee_bps: "5",', "costs.fee_bps", "fee_bps", "number"),
    "YAML syntax error": Case(
        "  hk: {symbol: ^HSI, market: hk}", "  hk: symbol: ^HSI", None, "hk: symbol", "invalid YAML"
    ),
    "not a mapping": Case(BASE, "- name: mini\n- rules: []\n", None, "- name: mini", "mapping"),
    # issue 4: currency, dividends, cash yield, instruments, fill timing
    "unknown currency": Case(
        "market: us}", "market: us, currency: EUR}", "assets.us.currency", "EUR", "'USD' or 'HKD'", got="EUR"
    ),
    "unknown base currency": Case(
        "costs:", "base_currency: EUR\ncosts:", "base_currency", "base_currency", "'USD' or 'HKD'", got="EUR"
    ),
    "unknown price column of an asset": Case(
        "market: hk}", "market: hk, price: adjusted}", "assets.hk.price", "adjusted", "'close' or 'adj_close'"
    ),
    "unknown instrument": Case(
        "market: hk}", "market: hk, instrument: future}", "assets.hk.instrument", "future", "'etf'"
    ),
    "negative dividend yield": Case(
        "market: hk}",
        "market: hk, dividend_yield: -0.01}",
        "assets.hk.dividend_yield",
        "dividend",
        "greater than or equal to 0",
    ),
    "dividend yield in percent": Case(
        "market: hk}", "market: hk, dividend_yield: 3.5}", "assets.hk.dividend_yield", "dividend", "did you mean 0.035?"
    ),
    "dividend yield on a stock's adjusted closes": Case(
        "market: hk}",
        "market: hk, instrument: stock, price: adj_close, dividend_yield: 0.03}",
        "assets.hk.dividend_yield",
        "dividend",
        "the adjusted closes of a stock already include them",
        got=0.03,
    ),
    "dividend yield on an ETF's adjusted closes": Case(
        "market: hk}",
        "market: hk, instrument: etf, price: adj_close, dividend_yield: 0.03}",
        "assets.hk.dividend_yield",
        "dividend",
        "the adjusted closes of an ETF already include them",
        got=0.03,
    ),
    "negative per-asset stamp duty": Case(
        "market: hk}",
        "market: hk, stamp_duty_bps: -1}",
        "assets.hk.stamp_duty_bps",
        "stamp",
        "greater than or equal to 0",
    ),
    "per-asset fee as a string": Case(
        "market: hk}", 'market: hk, fee_bps: "3"}', "assets.hk.fee_bps", "hk, fee_bps", "number", got="3"
    ),
    "cash rate in percent": Case("costs:", "cash_rate: 5\ncosts:", "cash_rate", "cash_rate", "did you mean 0.05"),
    "cash rate as a quoted number": Case(
        "costs:", 'cash_rate: "0.03"\ncosts:', "cash_rate", "cash_rate", "without quotes"
    ),
    "cash rate of the wrong type": Case(
        "costs:", "cash_rate: [0.03]\ncosts:", "cash_rate", "cash_rate", "a ticker such as ^IRX"
    ),
    "cash rate ticker with spaces": Case(
        "costs:", "cash_rate: T bill\ncosts:", "cash_rate", "cash_rate", "expected a ticker"
    ),
    "unknown fill": Case(
        "rebalance: on_change}", "rebalance: on_change, fill: open}", "execution.fill", "fill", "'next_open'"
    ),
    "fx band upside down": Case(
        "end: 2020-06-30}", "end: 2020-06-30, fx_band: [7.86, 7.74]}", "data.fx_band", "fx_band", "0 < low < high"
    ),
    "fx band of one number": Case(
        "end: 2020-06-30}", "end: 2020-06-30, fx_band: 7.8}", "data.fx_band", "fx_band", "[low, high]"
    ),
    "until on the otherwise rule": Case(
        "  - otherwise: {us: 0.5, hk: 0.5}",
        "  - otherwise: {us: 0.5, hk: 0.5}\n    until: mom > 0",
        "rules[2]",
        "otherwise: {",
        "'until' needs a 'when'",
    ),
    "until outside the grammar": Case(
        WHEN,
        WHEN + "\n    until: corr >> 0.4",
        "rules[0].until",
        "until:",
        "operator '>>' is not allowed",
        error=ExpressionError,
    ),
    "weight expression that is a condition": Case(
        "weights: {us: 1.0}",
        'weights: {us: "mom > 0"}',
        "rules[0].weights.us",
        '"mom > 0"',
        "expected a number",
        error=ExpressionError,
    ),
    "unknown name in a weight expression": Case(
        "weights: {us: 1.0}",
        'weights: {us: "clip(mon, 0, 1)"}',
        "rules[0].weights.us",
        "mon,",
        "unknown name 'mon'",
        error=ExpressionError,
    ),
    "two assets take the rest": Case(
        "otherwise: {us: 0.5, hk: 0.5}",
        "otherwise: {us: rest, hk: rest}",
        "rules[2].otherwise.hk",
        "rest, hk: rest",
        "more than one asset takes the rest",
    ),
    "negative min_hold": Case(
        "rebalance: on_change}",
        "rebalance: on_change, min_hold: -1}",
        "execution.min_hold",
        "min_hold",
        "greater than or equal to 0",
    ),
    "fractional cooldown": Case(
        "rebalance: on_change}", "rebalance: on_change, cooldown: 2.5}", "execution.cooldown", "cooldown", "integer"
    ),
    "target_vol written as percent": Case(
        "costs: {", "sizing: {target_vol: 12}\ncosts: {", "sizing.target_vol", "target_vol", "did you mean 0.12?"
    ),
    "max_gross above 1 (no leverage)": Case(
        "costs: {", "sizing: {max_gross: 1.5}\ncosts: {", "sizing.max_gross", "max_gross", "is above 1"
    ),
    "sizing window of one date": Case(
        "costs: {", "sizing: {window: 1}\ncosts: {", "sizing.window", "sizing:", "greater than or equal to 2"
    ),
    "unknown asset in inverse_vol": Case(
        "costs: {",
        "sizing: {inverse_vol: [us, hkk]}\ncosts: {",
        "sizing.inverse_vol[1]",
        "hkk",
        "unknown asset 'hkk'",
        got="hkk",
    ),
    "inverse_vol over an asset only a benchmark holds": Case(
        "  hk: {symbol: ^HSI, market: hk}\n",
        "  hk: {symbol: ^HSI, market: hk}\n  ewh: {symbol: EWH, market: us}\nsizing: {inverse_vol: [us, ewh]}\n"
        "benchmarks: [{name: b, weights: {ewh: 1.0}}]\n",
        "sizing.inverse_vol[1]",
        "inverse_vol: [us, ewh]",
        "is in no rule's weights",
        got="ewh",
    ),
    "inverse_vol and equal_risk together": Case(
        "costs: {",
        "sizing: {inverse_vol: [us, hk], equal_risk: [us, hk]}\ncosts: {",
        "sizing",
        "equal_risk",
        "not both",
    ),
    "a band of zero": Case(
        "rebalance: on_change}",
        "rebalance: {band: 0}}",
        "execution.rebalance.band",
        "band: 0",
        "greater than 0",
    ),
    "a band rebalancing daily": Case(
        "rebalance: on_change}",
        "rebalance: {band: 0.05, every: daily}}",
        "execution.rebalance.every",
        "every: daily",
        "'weekly' or 'monthly'",
    ),
    "a data series held by a rule": Case(
        "  hk: {symbol: ^HSI, market: hk}\nsignals:\n  corr: {fn: rolling_corr, a: us, b: hk, window: 20}\n"
        "  mom: {fn: relative_momentum, a: us, b: hk, window: 10}\nrules:\n  - when: corr < 0.2 and mom > 0\n"
        "    weights: {us: 1.0}",
        "  hk: {symbol: ^HSI, market: hk}\n  bill: {symbol: ^IRX, market: us, instrument: series}\nsignals:\n"
        "  corr: {fn: rolling_corr, a: us, b: hk, window: 20}\n"
        "  mom: {fn: relative_momentum, a: us, b: hk, window: 10}\nrules:\n  - when: corr < 0.2 and mom > 0\n"
        "    weights: {bill: 1.0}",
        "rules[0].weights.bill",
        "weights: {bill",
        "not a price: it cannot be held",
    ),
    "start neither a date nor auto": Case(
        "start: 2020-01-01", "start: automatic", "data.start", "start:", "or 'auto'", got="automatic"
    ),
}
CASE_PARAMS = [
    pytest.param(*c.values, marks=c.marks, id=k) if not isinstance(c, Case) else pytest.param(c, id=k)
    for k, c in CASES.items()
]


def test_base_config_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text(BASE, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.name == "mini"
    assert len(cfg.rules) == 3


@pytest.mark.parametrize(
    "account",
    [
        "execution: {lag: 1, rebalance: on_change, max_gross: 2}",  # a margin account
        "execution: {lag: 1, rebalance: on_change}\nsweep: {execution.max_gross: [1, 2]}",  # made one by the sweep
    ],
)
def test_margin_costs_are_accepted_where_a_margin_account_pays_them(account: str, tmp_path: Path) -> None:
    path = tmp_path / "margin.yaml"
    text = BASE.replace("execution: {lag: 1, rebalance: on_change}", account)
    text = text.replace("costs: {fee_bps: 5,", "costs: {borrow_bps: 30, margin_spread_bps: 50, fee_bps: 5,")
    swept = text.replace("sweep: {", "sweep: {costs.borrow_bps: [0, 30], ") if "sweep:" in text else text
    for config in (text, swept if swept != text else text + "sweep: {costs.borrow_bps: [0, 30]}\n"):
        path.write_text(config, encoding="utf-8")
        assert load_config(path).costs.borrow_bps == 30


@pytest.mark.parametrize("swept", [False, True])
def test_hk_stamp_duty_is_refused_where_no_traded_asset_pays_it(swept: bool, tmp_path: Path) -> None:
    """``costs.hk_stamp_duty_bps`` applies to hk indexes and stocks: with Hong Kong held through an ETF (which pays
    none) it would change nothing, set or swept; with the index it is read."""
    etf = BASE.replace("  hk: {symbol: ^HSI, market: hk}\n", "  hk: {symbol: 2800.HK, market: hk, instrument: etf}\n")
    assert etf != BASE
    costs = ("costs: {fee_bps: 5,", "costs: {hk_stamp_duty_bps: 20, fee_bps: 5,")
    sweep = "sweep: {costs.hk_stamp_duty_bps: [0, 20]}\n"
    path = tmp_path / "duty.yaml"
    for text, refused in ((BASE, False), (etf, True)):
        path.write_text(text + sweep if swept else text.replace(*costs), encoding="utf-8")
        if not refused:
            load_config(path)
            continue
        result = invoke("validate", str(path))
        assert result.exit_code == 2
        where = "sweep.costs.hk_stamp_duty_bps" if swept else "costs.hk_stamp_duty_bps"
        line = assert_one_error_line(result.stderr, path, where)
        assert ("every combination would be the same run" if swept else "it would change nothing") in line


#: Index signals traded through two ETFs with costs of their own: spx and hsi are signal-only
OWN_COSTS = """\
name: own_costs
data: {source: synthetic, start: 2020-01-01, end: 2020-06-30}
assets:
  spx: {symbol: ^GSPC, market: us}
  hsi: {symbol: ^HSI, market: hk}
  spy: {symbol: SPY, market: us, instrument: etf, fee_bps: 1, slippage_bps: 2}
  ewh: {symbol: EWH, market: us, instrument: etf, slippage_bps: 5, fee_bps: 1}
signals:
  mom: {fn: relative_momentum, a: spx, b: hsi, window: 10}
rules:
  - when: mom > 0
    weights: {spy: 1.0}
  - otherwise: {ewh: 1.0}
"""
SIGNAL_ONLY = OWN_COSTS

#: BASE with cash for its otherwise rule: each rule holds one market, or none
ROTATION = BASE.replace("otherwise: {us: 0.5, hk: 0.5}", "otherwise: {}")

#: BASE with both assets quoted in USD: no exchange rate to load
ALL_USD = BASE.replace("market: hk}", "market: hk, currency: USD}")
#: BASE with its otherwise rule alone
ONE_RULE = (
    BASE[: BASE.index("rules:")] + "rules:\n  - otherwise: {us: 0.5, hk: 0.5}\n" + BASE[BASE.index("execution:") :]
)


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (
            ONE_RULE.replace("on_change}", "on_change, min_hold: 20}"),
            "execution.min_hold",
            "and this config has one rule: it would change nothing",
        ),
        (
            ONE_RULE.replace("on_change}", "on_change, cooldown: 5}"),
            "execution.cooldown",
            "and this config has one rule: it would change nothing",
        ),
        (ONE_RULE + "sweep: {execution.min_hold: [0, 20]}\n", "sweep.execution.min_hold", "the same run"),
        (BASE + "sizing: {window: 20}\n", "sizing.window", "this sizing block has none of them"),
        (BASE + "sizing: {max_gross: 0.8}\nsweep: {sizing.window: [20, 40]}\n", "sweep.sizing.window", "same run"),
        (ALL_USD.replace("2020-06-30}", "2020-06-30, fx_band: [7.7, 7.9]}"), "data.fx_band", "no exchange rate"),
        (ALL_USD.replace("2020-06-30}", "2020-06-30, fx_symbol: USDHKD=X}"), "data.fx_symbol", "no exchange rate"),
        (OWN_COSTS + "costs: {fee_bps: 5}\n", "costs.fee_bps", "every traded asset sets its own fee_bps"),
        (OWN_COSTS + "costs: {slippage_bps: 3}\n", "costs.slippage_bps", "sets its own slippage_bps"),
        (OWN_COSTS + "sweep: {costs.fee_bps: [0, 5]}\n", "sweep.costs.fee_bps", "the same run"),
        (BASE.replace("on_change}", "on_change, allow_same_bar: true}"), "execution.allow_same_bar", "lag is 1"),
        (SIGNAL_ONLY.replace("market: us}", "market: us, fee_bps: 10}", 1), "assets.spx.fee_bps", "signal-only"),
        (
            SIGNAL_ONLY.replace("market: us}", "market: us, dividend_yield: 0.02}", 1),
            "assets.spx.dividend_yield",
            "never traded nor held",
        ),
        (
            SIGNAL_ONLY.replace("market: hk}", "market: hk, stamp_duty_bps: 13}"),
            "assets.hsi.stamp_duty_bps",
            "so its stamp_duty_bps",
        ),
        (BASE.replace("rebalance: on_change}", "rebalance: {band: 1}}"), "execution.rebalance.band", "first decision"),
        (
            BASE.replace("rebalance: on_change}", "rebalance: {band: 0.1}}")
            + "sweep: {execution.rebalance.band: [0.5, 1]}\n",
            "sweep.execution.rebalance.band[1]",
            "would trade on its first decision only",
        ),
        (
            ROTATION + "sizing: {inverse_vol: [us, hk]}\n",
            "sizing.inverse_vol",
            "no rule holds two of them",
        ),
        (ROTATION + "sizing: {target_vol: 0.1, equal_risk: [hk, us]}\n", "sizing.equal_risk", "no rule holds two"),
        (  # a weight of 0 holds nothing
            ROTATION.replace("weights: {hk: 1.0}", "weights: {hk: 1.0, us: 0}") + "sizing: {inverse_vol: [us, hk]}\n",
            "sizing.inverse_vol",
            "no rule holds two",
        ),
        (
            OWN_COSTS.replace(
                "window: 10}", "window: 10}\n  c: {fn: rolling_corr, a: spy, b: ewh, window: 20, currency: base}"
            ).replace("when: mom > 0", "when: mom > 0 and c < 0.5"),
            "signals.c.currency",
            "spy and ewh are quoted in it",
        ),
        (
            BASE.replace("on_change}", "on_change, allow_same_bar: true}") + "sweep: {execution.lag: [1, 2]}\n",
            "execution.allow_same_bar",
            "nor does a sweep take it to 0",
        ),
        (  # rest gets what the numbers leave: nothing
            ROTATION.replace("weights: {hk: 1.0}", "weights: {us: 1.0, hk: rest}")
            + "sizing: {inverse_vol: [us, hk]}\n",
            "sizing.inverse_vol",
            "no rule holds two",
        ),
    ],
)
def test_a_setting_nothing_reads_is_refused(text: str, where: str, says: str, tmp_path: Path) -> None:
    """min_hold and cooldown hold back a change of rule (none with one rule); sizing.window is the window of
    target_vol's, inverse_vol's or equal_risk's volatility: set or swept without them, they would change nothing; nor
    would data.fx_symbol and fx_band (the exchange rate and its band) with every asset quoted in the base currency."""
    path = tmp_path / "unread.yaml"
    path.write_text(text, encoding="utf-8")
    result = invoke("validate", str(path))
    assert result.exit_code == 2, result.stdout
    assert says in assert_one_error_line(result.stderr, path, where)


@pytest.mark.parametrize(
    "text",
    [
        BASE.replace("on_change}", "on_change, min_hold: 20, cooldown: 5}"),  # three rules
        BASE + "sizing: {window: 20, target_vol: 0.1}\n",
        BASE + "sizing: {max_gross: 0.8}\n",  # a cap on the weights, without a window
        BASE + "sizing: {max_gross: 0.8}\nsweep: {sizing.window: [20, 40], sizing.target_vol: [0.1, 0.2]}\n",
        BASE + "sizing: {window: 20}\nsweep: {sizing.target_vol: [0.1, 0.2]}\n",  # the sweep gives it a target
        BASE.replace("2020-06-30}", "2020-06-30, fx_band: [7.7, 7.9], fx_symbol: HKD=X}"),  # hk is in HKD
        ALL_USD.replace("market: us}", "market: us, currency: HKD}").replace(
            "2020-06-30}", "2020-06-30, fx_band: null}"
        ),
        OWN_COSTS.replace(", fee_bps: 1}", "}")
        + "costs: {fee_bps: 5}\nsweep: {costs.fee_bps: [0, 5]}\n",  # ewh pays it
        BASE.replace("lag: 1,", "lag: 0,").replace("on_change}", "on_change, allow_same_bar: true}"),
        BASE.replace("on_change}", "on_change, allow_same_bar: true}") + "sweep: {execution.lag: [0, 1]}\n",
        BASE.replace("on_change}", "on_change, allow_same_bar: true}")
        + "sweep: {execution.lag: {start: 0, stop: 2, step: 1}}\n",
        SIGNAL_ONLY.replace("market: us}", "market: us, currency: USD, price: close}", 1),  # signals read them
        BASE.replace("rebalance: on_change}", "rebalance: {band: 0.99}}"),  # a full switch drifts 1
        BASE.replace("rebalance: on_change}", "rebalance: {band: 1, every: monthly}}"),  # the calendar trades
        BASE.replace("rebalance: on_change}", "rebalance: {band: 1}, max_gross: 2}").replace(
            "weights: {hk: 1.0}", "weights: {hk: 1.0, us: -1.0}"
        ),  # a margin account: a short drifts further
        BASE.replace("rebalance: on_change}", "rebalance: {band: 1}}") + "sweep: {execution.max_gross: [1.5, 2]}\n",
        BASE.replace("rebalance: on_change}", "rebalance: {band: 1}}")
        + "sweep: {execution.rebalance: [monthly, weekly]}\n",
        SIGNAL_ONLY.replace("market: us}", "market: us, dividend_yield: 0, fee_bps: null}", 1),  # the defaults
        ALL_USD.replace("2020-06-30}", "2020-06-30, fx_band: [7.74, 7.86], fx_symbol: HKD=X}"),  # the defaults
        OWN_COSTS + "costs: {fee_bps: 0, slippage_bps: 0}\n",  # the defaults, as a run's config.yaml writes them
        BASE + "sizing: {max_gross: 0.8, window: 63}\n",  # the default window, written out
        BASE + "sizing: {inverse_vol: [us, hk]}\n",  # the otherwise rule holds both
        ROTATION.replace("weights: {hk: 1.0}", "weights: {us: 0.4, hk: rest}") + "sizing: {inverse_vol: [us, hk]}\n",
        BASE.replace("market: hk}", "market: hk, price: adj_close, dividend_yield: 0.03}"),  # an index's is its close
        ROTATION.replace("weights: {hk: 1.0}", "weights: {hk: 1.0, us: w}")
        + "params: {w: 0}\nsizing: {inverse_vol: [us, hk]}\n",
        OWN_COSTS.replace(
            "window: 10}", "window: 10}\n  c: {fn: rolling_corr, a: spy, b: hsi, window: 20, currency: base}"
        ).replace("when: mom > 0", "when: mom > 0 and c < 0.5"),  # hsi is in HKD
        BASE + "params: {cut: 0.2}\n",  # compare --regime "corr < cut" --regime-config reads it
        BASE.replace("source: synthetic", "source: csv").replace("30}", "30, data_dir: csvs}"),
        BASE.replace("30}", "30, data_dir: csvs}"),  # --source csv reads it (a run without it refuses it)
    ],
)
def test_the_same_settings_are_accepted_where_they_are_read(text: str, tmp_path: Path) -> None:
    path = tmp_path / "read.yaml"
    path.write_text(text, encoding="utf-8")
    load_config(path)


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda p: p.stem)
def test_a_stored_config_yaml_loads_again(path: Path, tmp_path: Path) -> None:
    """A run's config.yaml writes every default (docs/store.md): none of them reads as a setting nothing reads.
    ``etf_pair_us`` writes costs.fee_bps 0 beside its ETFs' own fees; an all-USD config writes data.fx_band."""
    import yaml

    from engine.jobs.run import resolved_config

    stored = tmp_path / "config.yaml"
    stored.write_text(yaml.safe_dump(resolved_config(load_config(path)), sort_keys=False), encoding="utf-8")
    assert load_config(stored).name == load_config(path).name


def invoke(*args: str):
    """The CLI in-process; stdout and stderr kept apart; a crash re-raises with its traceback."""
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_RICH_ENV), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def assert_one_error_line(stderr: str, file: Path | str, path: str | None) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    prefix = f"error: {file}: " + (f"{path}: " if path else "")
    assert lines[0].startswith(prefix), lines[0]
    assert "Traceback" not in stderr
    return lines[0]


def assert_only(directory: Path, names: set[str]) -> None:
    """Nothing but ``names`` exists in ``directory`` (no results dir, no config subfolder)."""
    assert {p.name for p in directory.iterdir()} == names


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_config_error_in_process(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(case.text(), encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_config(path)
    err = info.value
    assert type(err) is case.error
    assert err.file == str(path)
    assert err.path == case.path
    assert err.line == case.line()
    assert case.says in err.message
    assert "\n" not in err.one_line()
    if case.got is not None:
        assert err.got == case.got


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_config_error_through_the_cli(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(case.text(), encoding="utf-8")
    results = tmp_path / "results"
    for args in (["run", str(path), "--source", "synthetic", "--results-dir", str(results)], ["validate", str(path)]):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        line = assert_one_error_line(result.stderr, path, case.path)
        assert case.says in line
        assert result.stdout == ""
        assert_only(tmp_path, {"broken.yaml"})


def test_schema_errors_carry_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BASE.replace("fee_bps: 5,", 'fee_bps: "5",'), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.path == "costs.fee_bps"
    assert info.value.got == "5"


def test_two_configs_with_the_same_name_in_one_run(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(BASE, encoding="utf-8")
    second.write_text(BASE.replace("rebalance: on_change", "rebalance: daily"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_configs([first, second])
    assert info.value.file == str(second)
    assert info.value.path == "name"
    assert str(first) in info.value.message  # names the other file

    results = tmp_path / "results"
    result = invoke("run", str(first), str(second), "--source", "synthetic", "--results-dir", str(results))
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, second, "name")
    assert result.stdout == ""
    assert_only(tmp_path, {"a.yaml", "b.yaml"})  # the valid first config did not run either

    twice = invoke("run", str(first), str(tmp_path / "." / "a.yaml"), "--source", "synthetic", "--results-dir", "r")
    assert twice.exit_code == 2
    assert assert_one_error_line(twice.stderr, tmp_path / "." / "a.yaml", None).endswith(
        "given twice; name each config once"
    )  # not "also used by" itself


# ---------------------------------------------------------------------------------------------
# hostile `when:` expressions

# expression -> what the error's ``got`` names: the forbidden construct itself
HOSTILE = {
    "__import__('os').system('touch CANARY')": "__import__('os').system",
    "().__class__.__bases__[0].__subclasses__()": "().__class__.__bases__[0].__subclasses__",
    "corr.__class__": "corr.__class__",
    "open('x')": "open",
    "eval('1')": "eval",
    "[c for c in corr]": "[c for c in corr]",
    "lambda: 1": "lambda: 1",
    "corr if mom else 1": "corr if mom else 1",
}
CANARY_EXPRESSION = next(iter(HOSTILE))


def _hostile_config(expression: str) -> str:
    assert '"' not in expression
    return BASE.replace(WHEN, f'when: "{expression}"', 1)


@pytest.mark.parametrize(("expression", "construct"), HOSTILE.items())
def test_hostile_when_is_rejected_before_anything_runs(
    expression: str, construct: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(_hostile_config(expression), encoding="utf-8")
    with pytest.raises(ExpressionError) as info:
        load_config(path)
    assert (info.value.file, info.value.path, info.value.line) == (str(path), "rules[0].when", 10)
    assert info.value.got == construct

    monkeypatch.chdir(tmp_path)  # a command that ran would create its file here
    for args in (["run", "evil.yaml", "--source", "synthetic"], ["validate", "evil.yaml"]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert_one_error_line(result.stderr, "evil.yaml", "rules[0].when")
        assert_only(tmp_path, {"evil.yaml"})  # no CANARY, no x, no results/


def test_hostile_when_runs_no_code_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "evil.yaml").write_text(_hostile_config(CANARY_EXPRESSION), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in _RICH_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "run", "evil.yaml", "--source", "synthetic", "--results-dir", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr, "evil.yaml", "rules[0].when")
    assert not (tmp_path / "CANARY").exists()
    assert_only(tmp_path, {"evil.yaml"})


def test_the_canary_would_catch_code_that_ran(tmp_path: Path) -> None:
    """The canary works: the same text run by Python does create the file."""
    subprocess.run([sys.executable, "-c", CANARY_EXPRESSION], cwd=tmp_path, check=True, timeout=60)
    assert (tmp_path / "CANARY").exists()


# ---------------------------------------------------------------------------------------------
# lag 0 with allow_same_bar, and data errors

SAME_BAR = BASE.replace("lag: 1,", "lag: 0, allow_same_bar: true,")


def test_lag_0_with_allow_same_bar_runs_with_a_look_ahead_warning(tmp_path: Path) -> None:
    path = tmp_path / "same_bar.yaml"
    path.write_text(SAME_BAR, encoding="utf-8")
    assert load_config(path).execution.lag == 0

    table = invoke("run", str(path), "--source", "synthetic", "--results-dir", str(tmp_path / "table"))
    assert table.exit_code == 0, table.stderr
    warning_lines = [line for line in table.stdout.splitlines() if "WARNING" in line and "look-ahead" in line]
    assert len(warning_lines) == 1, table.stdout
    [run_dir] = (tmp_path / "table" / "mini").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert any("look-ahead" in w for w in metrics["warnings"])

    as_json = invoke(
        "run", str(path), "--source", "synthetic", "--format", "json", "--results-dir", str(tmp_path / "json")
    )
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.stdout)[0]["name"] == "mini"  # warnings stay off stdout
    assert "look-ahead" in " ".join(as_json.stderr.split())


def test_lag_0_filling_at_the_next_open_is_not_warned_as_look_ahead(tmp_path: Path) -> None:
    """With ``fill: next_open`` every leg fills at an open after the decision, lag 0 too (the opens lag 1 fills
    at): it was warned as filling at the close the decision used, in the run's table, metrics and ``today``."""
    path = tmp_path / "next_open.yaml"
    path.write_text(SAME_BAR.replace("allow_same_bar: true", "allow_same_bar: true, fill: next_open"), encoding="utf-8")
    assert load_config(path).execution.fill == "next_open"
    table = invoke("run", str(path), "--source", "synthetic", "--results-dir", str(tmp_path / "table"))
    assert table.exit_code == 0, table.stderr
    assert "look-ahead" not in table.stdout + table.stderr
    [run_dir] = (tmp_path / "table" / "mini").iterdir()
    assert not any("look-ahead" in w for w in json.loads((run_dir / "metrics.json").read_bytes())["warnings"])
    today = invoke("today", str(path), "--source", "synthetic", "--format", "json")
    assert today.exit_code == 0, today.stderr
    assert not any("look-ahead" in w for w in json.loads(today.stdout)[0]["warnings"])
    path.write_text(path.read_text(encoding="utf-8").replace("lag: 0", "lag: 1"), encoding="utf-8")
    today = invoke("today", str(path), "--source", "synthetic", "--format", "json")  # allowed, and not used: refused
    assert today.exit_code == 2
    assert "this config's lag is 1" in assert_one_error_line(today.stderr, path, "execution.allow_same_bar")


def test_json_mode_warnings_are_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "same_bar.yaml"
    path.write_text(SAME_BAR, encoding="utf-8")
    result = invoke("run", str(path), "--source", "synthetic", "--format", "json", "--results-dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("warning: ") for line in lines), lines
    assert any("look-ahead" in line for line in lines)


def test_lag_1_has_no_look_ahead_warning(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text(BASE, encoding="utf-8")
    result = invoke("run", str(path), "--source", "synthetic", "--results-dir", str(tmp_path / "results"))
    assert result.exit_code == 0, result.stderr
    assert "look-ahead" not in result.stdout


def test_missing_data_file_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text(BASE, encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    results = tmp_path / "results"
    result = invoke("run", str(path), "--source", "csv", "--data-dir", str(empty), "--results-dir", str(results))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "GSPC.csv" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert_only(tmp_path, {"mini.yaml", "empty"})
    assert_only(empty, set())


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_a_period_without_two_trading_dates_names_the_config_and_the_start(command: str, tmp_path: Path) -> None:
    """A weekend: no trading date from the start; the line names the config (not only a date before the
    period, as if the data were at fault) and what was found."""
    path = REPO / ("configs/sweeps/corr_breakdown_sweep.yaml" if command == "sweep" else "configs/corr_breakdown.yaml")
    results = tmp_path / "results"
    args = ["--source", "synthetic", "--start", "2024-03-09", "--end", "2024-03-10", "--results-dir", str(results)]
    result = invoke(command, str(path), *args)
    assert result.exit_code == 2
    line = assert_one_error_line(result.stderr, path, None)
    assert line.endswith(
        "fewer than two trading dates to simulate from the start 2024-03-09 (none: the data in the period end on "
        "2024-03-08)"
    )
    assert not results.exists()
