"""Cross-field checks of a :class:`~engine.config.models.StrategyConfig`.

Each check is a named function that raises :class:`~engine.errors.ConfigError`
(or :class:`~engine.errors.ExpressionError`) carrying the YAML path of the
offending value, e.g. ``rules[1].when`` or ``signals.corr.window``.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import ValidationError

from engine import expr
from engine.config.messages import first_error, format_loc, pydantic_message, unknown
from engine.config.models import StrategyConfig
from engine.config.refs import resolve_refs
from engine.config.unread import cash_account
from engine.config.values import MAX_PARAM, REST, WEIGHT_TOLERANCE
from engine.errors import ConfigError, ExpressionError

__all__ = ["CHECKS", "MAX_WINDOW", "check_config"]

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Largest integer argument of a signal: every one is a window of sessions (10,000 is about 40 years).
MAX_WINDOW = 10_000
_RESERVED = frozenset({"and", "or", "not", "true", "false", "none", REST, *expr.FUNCTIONS})  # REST: rules' weights
#: Column names a run's files give their own columns, beside one column per asset (``equity.csv``; ``prices``,
#: ``quotes`` and ``fx`` hold ``date``), per signal (``signals.parquet``) or per benchmark (``benchmarks.csv``): a
#: name among them would put two columns of one name in a file, one overwriting the other (a CSV file of a run on
#: synthetic data ends in a column ``synthetic``); the results store's views of those files add ``run_id`` and
#: read DuckDB's ``filename`` (a file with a column of that name cannot be read).  Compared without case, as the
#: store's SQL compares column names.  Section: (the file named, its own columns and the views').
_VIEWS = frozenset({"run_id", "filename"})
_OWN_COLUMNS = {
    "assets": ("equity.csv", frozenset({"date", "value", "cash", "cash_index", "synthetic"}) | _VIEWS),
    "signals": ("signals.parquet", frozenset({"date"}) | _VIEWS),
    "benchmarks": ("benchmarks.csv", frozenset({"date", "synthetic"}) | _VIEWS),
}


def check_names(cfg: StrategyConfig) -> None:
    """Asset and signal names are identifiers that expressions can use."""
    for section, names in (("assets", cfg.assets), ("signals", cfg.signals), ("params", cfg.params)):
        seen: dict[str, str] = {}  # lower case: as written
        for name in names:
            if not _IDENT.match(name) or keyword.iskeyword(name) or name.lower() in _RESERVED:
                raise ConfigError(
                    f"invalid name {name!r}",
                    path=f"{section}.{name}",
                    expected="a name of letters, digits and _ that starts with a letter and is not a keyword "
                    f"(and, or, not, true, false, none, {REST}, or a function of when:)",
                    got=name,
                )
            if section in _OWN_COLUMNS:
                _check_not_a_column(section, name, f"{section}.{name}")
                _check_unlike(seen, section[:-1], name, f"{section}.{name}")
    for name in cfg.signals:
        if name in cfg.assets:  # an of: reference would name both
            raise ConfigError(
                f"signal {name!r} has the name of an asset; a signal's of: names a signal or an asset, so names "
                "must be unique",
                path=f"signals.{name}",
                expected="a name that is not an asset's",
                got=name,
            )
    for name in cfg.params:
        if name in cfg.signals:
            raise ConfigError(
                f"parameter {name!r} has the name of a signal; names in when: must be unique",
                path=f"params.{name}",
                got=name,
            )


def _check_unlike(seen: dict[str, str], kind: str, name: str, path: str) -> None:
    """``name`` differs from every name of ``seen`` (lower case: as written) in more than case: each is a column of
    the run's files, which the results store's SQL tells apart without case (``SELECT US`` would read ``us``)."""
    other = seen.setdefault(name.lower(), name)
    if other != name:
        raise ConfigError(
            f"{kind} names {other!r} and {name!r} differ only in case, which the results store's SQL does not "
            "tell apart",
            path=path,
            expected="names that differ in more than case",
            got=name,
        )


def _check_not_a_column(section: str, name: str, path: str) -> None:
    """``name`` (of an asset, a signal or a benchmark) is not one of the run files' or the store's own columns."""
    file, own = _OWN_COLUMNS[section]
    if name.lower() in own:
        listed = ", ".join(sorted(own))
        raise ConfigError(
            f"{section[:-1]} name {name!r} is taken by a column of the run's {file} or of the results store's "
            f"views ({listed}); choose another name",
            path=path,
            expected=f"a name other than {listed}",
            got=name,
        )


def check_signals(cfg: StrategyConfig) -> None:
    """Every signal names a registered function, with parameters that fit it and assets that exist;
    a signal reference (``of:``) names another signal or an asset, and references form no cycle."""
    from strategies import get_signal

    resolved = resolve_refs(cfg.signals, cfg.params)
    reads: dict[str, list[tuple[str, str]]] = {}  # signal -> (parameter, signal it reads)
    for name, spec in resolved.items():
        base = f"signals.{name}"
        fn = spec.get("fn")
        if fn is None:
            raise ConfigError("missing 'fn' (the signal function to use)", path=f"{base}.fn", expected="fn: NAME")
        if not isinstance(fn, str):
            raise ConfigError(
                f"'fn' is the name of one signal function, got {_yaml_kind(fn)}",
                path=f"{base}.fn",
                expected="fn: NAME",
                got=fn,
            )
        try:
            sdef = get_signal(fn)
        except KeyError as exc:
            raise ConfigError(str(exc.args[0]), path=f"{base}.fn", got=fn) from None
        params = {k: v for k, v in spec.items() if k != "fn"}
        try:
            sdef.params(**params)
        except ValidationError as exc:
            err = first_error(exc)
            where = format_loc((*tuple(err["loc"]),))
            message = pydantic_message(err, sorted(sdef.params.model_fields))
            raise ConfigError(message, path=f"{base}.{where}" if where else base, got=err.get("input")) from None
        _check_signal_numbers(params, base)
        for pname in sdef.asset_params:
            if params[pname] not in cfg.assets:
                raise ConfigError(
                    unknown("asset", params[pname], cfg.assets), path=f"{base}.{pname}", got=params[pname]
                )
        reads[name] = [(p, params[p]) for p in sdef.signal_params if params[p] in cfg.signals]
        _check_signal_refs(cfg, name, {p: params[p] for p in sdef.signal_params})
    _check_signal_cycles(reads)


def _check_signal_refs(cfg: StrategyConfig, name: str, refs: Mapping[str, str]) -> None:
    """Each SignalRef argument of signal ``name`` names another signal or an asset of the config."""
    for pname, ref in refs.items():
        path = f"signals.{name}.{pname}"
        if ref == name:
            raise ConfigError(
                f"signal {name!r} reads itself", path=path, expected="another signal or an asset", got=ref
            )
        if ref not in cfg.signals and ref not in cfg.assets:
            others = [s for s in cfg.signals if s != name]  # never suggested: a signal cannot read itself
            raise ConfigError(unknown("signal or asset", ref, [*others, *cfg.assets]), path=path, got=ref)


def _check_signal_cycles(reads: Mapping[str, list[tuple[str, str]]]) -> None:
    """No signal reads itself through others; the error points at the reference that closes the cycle."""
    done: set[str] = set()
    stack: list[str] = []

    def visit(name: str) -> None:
        stack.append(name)
        for pname, ref in reads.get(name, []):
            if ref in stack:
                cycle = " -> ".join([*stack[stack.index(ref) :], ref])
                raise ConfigError(
                    f"signals read each other in a cycle: {cycle}", path=f"signals.{name}.{pname}", got=ref
                )
            if ref not in done:
                visit(ref)
        stack.pop()
        done.add(name)

    for name in reads:
        if name not in done:
            visit(name)


def _check_signal_numbers(params: Mapping[str, object], base: str) -> None:
    """Integer arguments (windows) are at most MAX_WINDOW; float arguments are finite and at most MAX_PARAM."""
    for key, value in params.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value > MAX_WINDOW:
            raise ConfigError(
                f"{key} {value} is longer than {MAX_WINDOW:,} sessions (about 40 years)",
                path=f"{base}.{key}",
                expected=f"at most {MAX_WINDOW:,}",
                got=value,
            )
        if isinstance(value, float) and not abs(value) <= MAX_PARAM:
            raise ConfigError(
                f"{key} {value!r} is not between {-MAX_PARAM:g} and {MAX_PARAM:g}",
                path=f"{base}.{key}",
                expected=f"a finite number of magnitude at most {MAX_PARAM:g}",
                got=value,
            )


def _check_weights(
    weights: Mapping[str, float | str], cfg: StrategyConfig, path: str, *, max_gross: float | None = None
) -> None:
    """Assets exist; at most one ``rest``; expressions parse as numbers; the numbers, and the expressions of
    numbers and params only (the same on every date: ``"-0.4"``), are >= 0 and sum to at most 1, or, in a
    margin account (``max_gross``, docs/shorts.md), their absolute values sum to at most it."""
    weights = dict(weights)
    for asset, value in list(weights.items()):
        if asset not in cfg.assets:
            raise ConfigError(unknown("asset", asset, cfg.assets), path=f"{path}.{asset}", got=asset)
        if isinstance(value, str) and value != REST:
            try:
                tree = expr.parse_number(value, known=[*cfg.signals, *cfg.params])
            except ExpressionError as exc:
                raise exc.located(path=f"{path}.{asset}") from None
            if expr.names(tree) <= set(cfg.params):  # a constant: checked as the number it is
                weights[asset] = value = _constant_weight(tree, value, cfg, f"{path}.{asset}")
        if not isinstance(value, str) and value < 0 and max_gross is None:
            raise ConfigError(
                f"weight {value:g} is a short; shorting needs a margin account (execution.max_gross, docs/shorts.md)",
                path=f"{path}.{asset}",
                expected="a weight >= 0 (no shorting without execution.max_gross)",
                got=value,
            )
    rest = [a for a, v in weights.items() if v == REST]
    if len(rest) > 1:
        raise ConfigError(
            f"more than one asset takes the rest ({', '.join(rest)}); at most one may",
            path=f"{path}.{rest[1]}",
            expected="rest for at most one asset",
            got=REST,
        )
    numbers = [v for v in weights.values() if not isinstance(v, str)]
    if max_gross is not None:
        gross = sum(abs(v) for v in numbers)
        if rest and len(numbers) == len(weights) - 1:  # constants and rest: rest is known too
            gross += abs(1.0 - sum(numbers))
        if gross > max_gross + WEIGHT_TOLERANCE:
            raise ConfigError(
                f"weights have a gross exposure (sum of absolute weights) of {gross:.12g}; "
                f"expected at most execution.max_gross = {max_gross:g}",
                path=path,
                expected=f"sum of |weights| <= {max_gross:g}",
                got=gross,
            )
        return
    total = sum(numbers)
    if total > 1.0 + WEIGHT_TOLERANCE:
        raise ConfigError(
            f"weights sum to {total:.12g}; expected at most 1 (the rest is cash; leverage needs execution.max_gross)",
            path=path,
            expected="sum of weights <= 1",
            got=total,
        )


def _constant_weight(tree: expr.Expr, text: str, cfg: StrategyConfig, path: str) -> float:
    """The value of a weight expression of numbers and params only, refused when it is not finite."""
    with np.errstate(all="ignore"):
        value = float(expr.evaluate(tree, cfg.params))
    if not math.isfinite(value):
        raise ConfigError(f"weight {text!r} is {value} on every date", path=path, expected="a finite weight", got=text)
    return value


def check_rules(cfg: StrategyConfig) -> None:
    """Rules end with one ``otherwise``, name known assets, and their ``when:``/``until:``/weights parse."""
    last = len(cfg.rules) - 1
    known = [*cfg.signals, *cfg.params]
    for i, rule in enumerate(cfg.rules):
        path = f"rules[{i}]"
        if rule.otherwise is not None and i != last:
            raise ConfigError("'otherwise' must be the last rule", path=path)
        if rule.otherwise is None and i == last:
            raise ConfigError(
                "the last rule must be {otherwise: weights} (what to hold when no rule matches)",
                path=path,
                expected="otherwise: {...}",
            )
        key = "otherwise" if rule.otherwise is not None else "weights"
        _check_weights(rule.target, cfg, f"{path}.{key}", max_gross=cfg.execution.max_gross)
        for key in ("when", "until"):
            text = getattr(rule, key)
            if text is not None:
                try:
                    expr.parse_condition(text, known=known)
                except ExpressionError as exc:
                    raise exc.located(path=f"{path}.{key}") from None


def check_benchmarks(cfg: StrategyConfig) -> None:
    """Benchmark names are unique and not the config's own (a table's row names tell strategy and benchmarks
    apart), and their weights name known assets."""
    seen: set[str] = set()
    lower: dict[str, str] = {}
    for i, bench in enumerate(cfg.benchmarks):
        if bench.name in seen:
            raise ConfigError(f"duplicate benchmark name {bench.name!r}", path=f"benchmarks[{i}].name")
        if bench.name == cfg.name:
            raise ConfigError(
                f"benchmark name {bench.name!r} is the config's own name",
                path=f"benchmarks[{i}].name",
                expected="a name of its own",
                got=bench.name,
            )
        _check_not_a_column("benchmarks", bench.name, f"benchmarks[{i}].name")
        _check_unlike(lower, "benchmark", bench.name, f"benchmarks[{i}].name")
        seen.add(bench.name)
        _check_weights(bench.weights, cfg, f"benchmarks[{i}].weights")


def check_execution(cfg: StrategyConfig) -> None:
    """``lag: 0`` trades on the close that produced the signal: only with ``allow_same_bar: true``; a band of 1 or
    more in a cash account, whose weights stay within [0, 1], would never trade after the first decision."""
    band = cfg.execution.band
    kept = cash_account(cfg) and "execution.rebalance" not in cfg.sweep  # a combination's config has no sweep
    if band is not None and band >= 1 and cfg.execution.mode == "band" and kept:
        raise ConfigError(
            "a cash account's weights stay within [0, 1], so none ever drifts more than 1 from its target: the "
            "strategy would trade on its first decision only, and hold that whatever the rules say",
            path="execution.rebalance.band",
            expected="a band below 1 in a cash account (0.05 = 5 points)",
            got=band,
        )
    if cfg.execution.lag == 0 and not cfg.execution.allow_same_bar:
        raise ConfigError(
            "lag 0 trades at the close the decision was made on (look-ahead); "
            "use lag >= 1 or set execution.allow_same_bar: true",
            path="execution.lag",
            expected="lag >= 1",
            got=0,
        )


#: An instrument's kind as a message names it.
_ARTICLED = {"etf": "an ETF", "stock": "a stock", "series": "a series"}


def check_assets(cfg: StrategyConfig) -> None:
    """A ``dividend_yield`` is for price series without dividends: not with the ``adj_close`` of an ETF or a stock,
    which has them (an index's adjusted close is its close: it has no corporate actions); an ``instrument: series``
    (not a price) is never traded."""
    series = {name for name, spec in cfg.assets.items() if spec.kind == "series"}
    holders: list[tuple[str, Mapping[str, object]]] = [
        (f"rules[{i}].{'otherwise' if r.otherwise is not None else 'weights'}", r.target)
        for i, r in enumerate(cfg.rules)
    ]
    holders += [(f"benchmarks[{i}].weights", b.weights) for i, b in enumerate(cfg.benchmarks)]
    for path, weights in holders:
        for asset in series & set(weights):
            raise ConfigError(
                f"asset {asset!r} is a data series (instrument: series), not a price: it cannot be held",
                path=f"{path}.{asset}",
                expected="series assets only in signals",
                got=asset,
            )
    for name, spec in cfg.assets.items():
        if spec.dividend_yield > 0 and cfg.price_of(name) == "adj_close" and spec.kind != "index":
            where = "assets." + name + ".price" if spec.price else "data.price"
            raise ConfigError(
                f"dividend_yield {spec.dividend_yield:g} with adj_close prices ({where}) counts dividends twice: "
                f"the adjusted closes of {_ARTICLED.get(spec.kind, spec.kind)} already include them",
                path=f"assets.{name}.dividend_yield",
                expected="dividend_yield: 0 with adj_close, or price: close",
                got=spec.dividend_yield,
            )


def _held(target: Mapping[str, Any]) -> set[str]:
    """The assets a rule's weights may hold: a positive number, an expression (it may be), ``rest`` unless numbers
    alone leave it nothing."""
    numbers = [w for w in target.values() if isinstance(w, int | float)]
    rest_left = len(numbers) < len(target) - 1 or sum(numbers) < 1
    return {a for a, w in target.items() if (w > 0 if isinstance(w, int | float) else rest_left if w == REST else True)}


def check_sizing(cfg: StrategyConfig) -> None:
    """The assets ``sizing:`` shares by risk exist, are traded, and are listed once."""
    if cfg.sizing is None:
        return
    limit = cfg.execution.max_gross
    if cfg.sizing.max_gross > (limit or 1.0):
        above = (
            "execution.max_gross" if limit else "1, the most a cash account holds (leverage needs execution.max_gross)"
        )
        raise ConfigError(
            f"sizing.max_gross {cfg.sizing.max_gross:g} is above {above}",
            path="sizing.max_gross",
            expected=f"at most {limit or 1.0:g}",
            got=cfg.sizing.max_gross,
        )
    if limit is not None and cfg.sizing.risk_assets:
        key = "inverse_vol" if cfg.sizing.inverse_vol is not None else "equal_risk"
        raise ConfigError(
            f"sizing.{key} shares a long weight by risk; it is not available in a margin account (execution.max_gross)",
            path=f"sizing.{key}",
            expected="no inverse_vol or equal_risk with execution.max_gross",
            got=key,
        )
    key = "inverse_vol" if cfg.sizing.inverse_vol is not None else "equal_risk"
    traded = {a for r in cfg.rules for a in r.target}  # sizing never touches the benchmarks
    for i, asset in enumerate(cfg.sizing.risk_assets):
        path = f"sizing.{key}[{i}]"
        if asset not in cfg.assets:
            raise ConfigError(unknown("asset", asset, cfg.assets), path=path, got=asset)
        if asset not in traded:
            raise ConfigError(
                f"asset {asset!r} is in no rule's weights: sizing can only share the weight of traded assets",
                path=path,
                expected="an asset some rule holds",
                got=asset,
            )
        if asset in cfg.sizing.risk_assets[:i]:
            raise ConfigError(f"asset {asset!r} is listed twice", path=path, got=asset)
    listed = set(cfg.sizing.risk_assets)
    held = [_held(r.target) for r in cfg.rules]
    if listed and not any(len(listed & assets) >= 2 for assets in held):
        raise ConfigError(
            f"sizing.{key} shares anew the weight of its assets a rule holds together, and no rule holds two of "
            "them (a rule holding one is unchanged): it would change nothing",
            path=f"sizing.{key}",
            expected=f"a rule whose weights hold two or more of {', '.join(cfg.sizing.risk_assets)}, or no {key}",
            got=", ".join(cfg.sizing.risk_assets),
        )


CHECKS = (
    check_names,
    check_signals,
    check_rules,
    check_benchmarks,
    check_execution,
    check_assets,
    check_sizing,
)


def check_config(cfg: StrategyConfig) -> None:
    """Run every cross-field check; the first failure raises (the ``sweep:`` block is
    :func:`engine.config.params.check_sweep`'s)."""
    for check in CHECKS:
        check(cfg)


def _yaml_kind(value: object) -> str:
    """What a YAML value is, in YAML's words: 'a list', 'a mapping', 'a number', 'true'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a number" if isinstance(value, (int, float)) else f"a {type(value).__name__}"
