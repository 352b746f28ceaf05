"""Named parameters, ``$name`` references, and the ``sweep:`` grid of a config.

A config may name its knobs once and use them twice::

    params: {corr_cut: 0.2, mom_window: 63}
    signals:
      mom: {fn: relative_momentum, a: us, b: hk, window: $mom_window}   # a signal argument
    rules:
      - when: corr < corr_cut and mom > 0                              # a name in an expression
    sweep: {corr_cut: [0.0, 0.1, 0.2, 0.3], mom_window: {start: 20, stop: 260, step: 5}, execution.lag: [1, 2]}

``sweep:`` keys are parameter names (or ``params.<name>``) or one of the YAML paths in
:data:`SWEEPABLE_PATHS` / ``signals.<signal>.<argument>``; values are a non-empty list, or a range
``{start, stop, step}`` that includes ``stop`` when it is on the grid (``start + i * step <= stop``,
with a tolerance of 1e-9 steps for floats).  A range holds at most :data:`MAX_RANGE_VALUES` values,
counted from its bounds before anything is expanded; a list at most :data:`MAX_LIST_VALUES`.
The grid is the product of the lists, in the order the keys are written, the last key varying
fastest.  Paths that would change the data (assets, dates, currency, cash rate, fills) are not
sweepable: a sweep runs on one panel.

Everything here is pure: configs in, configs or value lists out.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine.config.checks import check_config
from engine.config.messages import first_error, format_loc, pydantic_message, unknown
from engine.config.models import StrategyConfig
from engine.config.unread import check_swept_unread
from engine.errors import ConfigError
from engine.sweep_columns import taken_names

__all__ = [
    "SWEEPABLE_PATHS",
    "Combination",
    "Grid",
    "apply_combination",
    "check_sweep",
    "expand_values",
    "grid",
    "sweep_target",
]

#: YAML paths a sweep may vary besides parameters and signal arguments.
SWEEPABLE_PATHS = (
    "execution.lag",
    "execution.rebalance",
    "costs.fee_bps",
    "costs.slippage_bps",
    "costs.hk_stamp_duty_bps",
    "execution.rebalance.band",
    "execution.min_hold",
    "execution.cooldown",
    "sizing.target_vol",
    "sizing.window",
    "sizing.max_gross",
    "execution.max_gross",
    "costs.borrow_bps",
    "costs.margin_spread_bps",
)
#: A range may expand to at most this many values (the grid's own cap is ``--max-combos``).
MAX_RANGE_VALUES = 100_000
#: A list may hold at most this many values (each is validated on its own; write a range for more).
MAX_LIST_VALUES = 10_000

Combination = dict[str, Any]  # sweep key -> value


def _check_path_key(cfg: StrategyConfig, key: str) -> None:
    """Refuse a sweepable path ``key`` that would vary nothing in ``cfg`` (a band, a sizing block, a margin cost
    it has not)."""
    if key == "execution.rebalance.band" and cfg.execution.band is None:
        raise ConfigError(
            f"sweep key {key!r} varies a rebalancing band, and execution.rebalance is {cfg.execution.rebalance!r}",
            path=f"sweep.{key}",
            expected="execution.rebalance: {band: ...} to vary",
            got=key,
        )
    check_swept_unread(cfg, key)
    if key.startswith("sizing.") and cfg.sizing is None:
        raise ConfigError(
            f"sweep key {key!r} varies the sizing: block, and the config has none",
            path=f"sweep.{key}",
            expected="a sizing: block (e.g. sizing: {target_vol: 0.12}) to vary",
            got=key,
        )


def sweep_target(cfg: StrategyConfig, key: str) -> tuple[str, ...]:
    """Where sweep key ``key`` points: ``("params", name)``, ``("signals", sig, arg)`` or a path's parts.

    Raises :class:`ConfigError` at ``sweep.<key>`` for a key that names nothing sweepable.
    """
    from strategies import get_signal

    parts = tuple(key.split("."))
    if key in cfg.params:
        return ("params", key)
    if len(parts) == 2 and parts[0] == "params" and parts[1] in cfg.params:
        return parts
    if key in SWEEPABLE_PATHS:
        _check_path_key(cfg, key)
        return parts
    if len(parts) == 3 and parts[0] == "signals":
        if parts[1] not in cfg.signals:
            raise ConfigError(unknown("signal", parts[1], list(cfg.signals)), path=f"sweep.{key}", got=key)
        fn = cfg.signals[parts[1]].get("fn")
        sdef = get_signal(str(fn))
        names = (*sdef.asset_params, *sdef.signal_params)  # a sweep varies numbers and options, not what is read
        arguments = [p for p in sdef.params.model_fields if p not in names]
        if parts[2] in arguments:
            return parts
        raise ConfigError(
            unknown(f"argument of signal {parts[1]!r} ({fn})", parts[2], arguments),
            path=f"sweep.{key}",
            got=key,
        )
    sweepable = [*cfg.params, *SWEEPABLE_PATHS, "signals.<signal>.<argument>"]
    close = difflib.get_close_matches(key, [*cfg.params, *SWEEPABLE_PATHS], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    changes_data = parts[0] in ("data", "assets", "base_currency", "cash_rate", "benchmarks", "initial_cash")
    what = (
        f"sweep key {key!r} cannot be swept: it changes the data or the benchmarks, and a sweep runs on one panel"
        if changes_data
        else f"unknown sweep key {key!r}"
    )
    raise ConfigError(
        f"{what} ({hint}sweepable: {', '.join(sweepable)})",
        path=f"sweep.{key}",
        expected="a parameter name or a sweepable YAML path",
        got=key,
    )


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def expand_values(key: str, spec: Any) -> list[Any]:
    """The values of one sweep entry: a non-empty list, or ``{start, stop, step}`` (module docstring)."""
    path = f"sweep.{key}"
    if isinstance(spec, list):
        if not spec:
            raise ConfigError("empty list of values", path=path, expected="at least one value", got=spec)
        if len(spec) > MAX_LIST_VALUES:
            raise ConfigError(
                f"list of {len(spec):,} values exceeds the limit of {MAX_LIST_VALUES:,} "
                "(a range {start, stop, step} may hold more)",
                path=path,
                expected=f"at most {MAX_LIST_VALUES:,} values",
                got=len(spec),
            )
        seen: set[Any] = set()
        for i, value in enumerate(spec):
            if not (_is_number(value) or isinstance(value, str)):
                hint = " (a band is swept as execution.rebalance.band)" if isinstance(value, dict) else ""
                raise ConfigError(
                    f"value {value!r} is not a number or a name{hint}",
                    path=f"{path}[{i}]",
                    expected="a number",
                    got=value,
                )
            if value in seen:
                raise ConfigError(f"value {value!r} is listed twice", path=path, expected="distinct values", got=value)
            seen.add(value)
        return list(spec)
    if isinstance(spec, dict):
        missing = [k for k in ("start", "stop", "step") if k not in spec]
        extra = [k for k in spec if k not in ("start", "stop", "step")]
        if extra:
            raise ConfigError(
                unknown("key", str(extra[0]), ["start", "step", "stop"]), path=f"{path}.{extra[0]}", got=extra[0]
            )
        if missing:
            raise ConfigError(f"missing required key {missing[0]!r}", path=path, expected="{start, stop, step}")
        for k in ("start", "stop", "step"):
            if not _is_number(spec[k]):
                raise ConfigError(
                    f"{k} must be a number, got {spec[k]!r}", path=f"{path}.{k}", expected="a number", got=spec[k]
                )
        start, stop, step = spec["start"], spec["stop"], spec["step"]
        count = _range_count(key, start, stop, step)
        if all(isinstance(spec[k], int) for k in ("start", "stop", "step")):
            return [start + i * step for i in range(count)]
        return [float(round(start + i * step, 12)) for i in range(count)]
    raise ConfigError(
        "expected a list of values or a range {start, stop, step}",
        path=path,
        expected="[v1, v2, ...] or {start, stop, step}",
        got=spec,
    )


def _range_count(key: str, start: float, stop: float, step: float) -> int:
    """How many values ``{start, stop, step}`` holds, from the bounds alone; ConfigError over MAX_RANGE_VALUES."""
    path = f"sweep.{key}"
    if step <= 0:
        raise ConfigError("step must be positive", path=f"{path}.step", expected="step > 0", got=step)
    if stop < start:
        raise ConfigError(f"stop {stop} is below start {start}", path=f"{path}.stop", expected=">= start", got=stop)
    count: int | None
    if all(isinstance(x, int) for x in (start, stop, step)):
        count = int((stop - start) // step) + 1
    else:
        steps = (stop - start) / step  # inf when the bounds are far apart and the step tiny
        count = math.floor(steps + 1e-9) + 1 if steps <= MAX_RANGE_VALUES else None
    if count is None or count > MAX_RANGE_VALUES:
        size = f"{count:,} values" if count is not None else f"more than {MAX_RANGE_VALUES:,} values"
        raise ConfigError(
            f"range of {size} exceeds the limit of {MAX_RANGE_VALUES:,}",
            path=path,
            expected=f"at most {MAX_RANGE_VALUES:,} values",
            got=count,
        )
    return count


def apply_combination(cfg: StrategyConfig, combo: Mapping[str, Any]) -> StrategyConfig:
    """``cfg`` with the combination's values set and no ``sweep:`` block, validated and checked.

    The result is the config of one point of the grid, as a user could have written it; a value
    the config does not accept raises :class:`ConfigError` at ``sweep.<key>``.
    """
    raw = cfg.model_dump(mode="python", exclude={"sweep"})
    for key, value in combo.items():
        target = sweep_target(cfg, key)
        node: dict[str, Any] = raw
        for part in target[:-1]:
            node = node[part]
        node[target[-1]] = value
    try:
        out = StrategyConfig.model_validate(raw)
        check_config(out)
    except ConfigError as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise ConfigError(f"{_describe(combo)}: {where}{exc.message}", path="sweep", got=exc.got) from None
    except ValidationError as exc:
        err = first_error(exc)
        detail = f"{format_loc(tuple(err['loc']))}: {pydantic_message(err, [])}"
        raise ConfigError(f"{_describe(combo)}: {detail}", path="sweep", got=err.get("input")) from None
    return out


def _decimal_range(spec: Any) -> str:
    """Why a range's values are decimals, for an error about one of them: '' for a list or a range of integers."""
    if isinstance(spec, dict):
        for k in ("step", "start", "stop"):
            if isinstance(spec[k], float):
                return f" (the range's values are decimal numbers because its {k} is {spec[k]!r})"
    return ""


def _describe(combo: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in combo.items())


@dataclass(frozen=True)
class Grid:
    """The values of each sweep key, and their product."""

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.values)

    def __iter__(self) -> Iterator[Combination]:
        for point in itertools.product(*self.values):
            yield dict(zip(self.keys, point, strict=True))


def grid(cfg: StrategyConfig, *, max_combos: int = 100_000) -> Grid:
    """Expand ``cfg.sweep`` and check its values; refuse a product over ``max_combos``.

    Every value of a list is checked on its own.  A range is checked at its two ends only: every
    sweepable number's valid values form an interval (bounds, and ``lag >= 1`` unless
    ``allow_same_bar``), and a range's values share one type, so the ends decide.  Two keys may
    not name the same value (``corr_cut`` and ``params.corr_cut``; ``signals.s.window`` and the
    parameter its ``$name`` refers to): the rows would be labelled with one and run with the other.
    """
    keys = tuple(cfg.sweep)
    targets: dict[tuple[str, ...], str] = {}
    values = []
    for key in keys:
        target = sweep_target(cfg, key)
        if target in targets:
            raise ConfigError(
                f"sweep keys {targets[target]!r} and {key!r} name the same value; keep one",
                path=f"sweep.{key}",
                expected="each swept value named once",
                got=key,
            )
        targets[target] = key
        spec = cfg.sweep[key]
        expanded = expand_values(key, spec)
        checked = range(len(expanded)) if isinstance(spec, list) else sorted({0, len(expanded) - 1})
        for i in checked:
            try:
                apply_combination(cfg, {key: expanded[i]})
            except ConfigError as exc:
                where = f"sweep.{key}[{i}]" if isinstance(spec, list) else f"sweep.{key}"
                raise ConfigError(exc.message + _decimal_range(spec), path=where, got=expanded[i]) from None
        values.append(tuple(expanded))
    for target, key in targets.items():
        ref = cfg.signals[target[1]].get(target[2]) if target[0] == "signals" else None
        if isinstance(ref, str) and ref.startswith("$") and ("params", ref[1:]) in targets:
            raise ConfigError(
                f"sweep key {key!r} replaces {ref}, which sweep key {targets[('params', ref[1:])]!r} varies; keep one",
                path=f"sweep.{key}",
                expected="each swept value named once",
                got=key,
            )
    out = Grid(keys, tuple(values))
    if out.size > max_combos:
        sizes = " x ".join(f"{len(v)} {k}" for k, v in zip(keys, values, strict=True))
        raise ConfigError(
            f"the grid has {out.size:,} combinations ({sizes}), more than --max-combos {max_combos:,}",
            path="sweep",
            expected=f"at most {max_combos:,} combinations (raise --max-combos, or thin the lists)",
            got=out.size,
        )
    return out


def check_sweep(cfg: StrategyConfig) -> None:
    """Every ``sweep:`` key names something sweepable and every value gives a valid config on its own;
    ``execution.rebalance`` (a mode replaces a band) and ``execution.rebalance.band`` are not swept together."""
    if "execution.rebalance" in cfg.sweep and "execution.rebalance.band" in cfg.sweep:
        raise ConfigError(
            "execution.rebalance and execution.rebalance.band cannot be swept together: a rebalance mode replaces "
            "the band",
            path="sweep.execution.rebalance.band",
            expected="one of the two keys",
            got="execution.rebalance.band",
        )
    taken = taken_names(cfg.assets)
    seen: dict[str, str] = {}  # lower case: as written
    for key in cfg.sweep:
        other = seen.setdefault(key.lower(), key)
        if other != key:  # two columns of the table the results store's SQL reads as one
            raise ConfigError(
                f"sweep keys {other!r} and {key!r} differ only in case, which the results store's SQL does not "
                "tell apart",
                path=f"sweep.{key}",
                expected="names that differ in more than case",
                got=key,
            )
        if key.lower() in taken:
            raise ConfigError(
                f"sweep key {key!r} is the name of a column of the sweep's table (a metric, combo, synthetic, "
                "weight_<asset>, beta_<asset>, sweep_id or filename); rename the parameter",
                path=f"sweep.{key}",
                expected="a name that is not a metric's (sharpe, cagr, ...), combo, synthetic, weight_<asset>, "
                "beta_<asset>, sweep_id or filename",
                got=key,
            )
    _check_read(cfg)
    if cfg.sweep:
        _check_constant_weights(cfg, grid(cfg, max_combos=2**62))  # --max-combos is the command's, checked then


def _check_read(cfg: StrategyConfig) -> None:
    """Every swept parameter or signal argument is read by a rule, directly or through a signal a rule reads: one
    that nothing reads would make every combination the same run."""
    rule_names = _rule_names(cfg)
    signals = _signals_read(cfg, rule_names)
    params = _params_read(cfg, signals, rule_names)
    for key in cfg.sweep:
        target = sweep_target(cfg, key)
        if target[0] == "params" and target[-1] not in params:
            raise ConfigError(
                f"sweep key {key!r} varies params.{target[-1]}, which no rule reads, nor any argument (${target[-1]}) "
                "of a signal a rule reads: every combination would be the same run",
                path=f"sweep.{key}",
                expected=f"a parameter a rule's when, until or weights names, or an argument (${target[-1]}) of a "
                "signal a rule reads",
                got=key,
            )
        if target[0] == "signals" and target[1] not in signals:
            raise ConfigError(
                f"sweep key {key!r} varies signal {target[1]!r}, which no rule reads (nor a signal a rule reads): "
                "every combination would be the same run",
                path=f"sweep.{key}",
                expected="an argument of a signal that a rule's when, until or weights reads",
                got=key,
            )


def _rule_names(cfg: StrategyConfig) -> set[str]:
    """The names (signals and params) the rules' ``when``, ``until`` and weight expressions read."""
    from engine import expr
    from engine.config.values import REST

    known = [*cfg.signals, *cfg.params]
    read: set[str] = set()
    for rule in cfg.rules:
        for condition in (rule.when, rule.until):
            if condition is not None:
                read |= expr.names(expr.parse_condition(condition, known=known))
        for value in rule.target.values():
            if isinstance(value, str) and value != REST:
                read |= expr.names(expr.parse_number(value, known=known))
    return read


def _signals_read(cfg: StrategyConfig, rule_names: set[str]) -> set[str]:
    """The signals a rule reads, and the signals those read in turn (a signal's signal arguments)."""
    from strategies import get_signal

    read = rule_names & set(cfg.signals)
    todo = list(read)
    while todo:
        spec = cfg.signals[todo.pop()]
        for param in get_signal(str(spec.get("fn"))).signal_params:
            values = spec.get(param)
            for name in values if isinstance(values, list) else [values]:
                if isinstance(name, str) and name in cfg.signals and name not in read:
                    read.add(name)
                    todo.append(name)
    return read


def _params_read(cfg: StrategyConfig, signals: set[str], rule_names: set[str]) -> set[str]:
    """The names under ``params:`` that a rule's expression, or an argument (``$name``) of one of ``signals``,
    reads."""
    refs = {v[1:] for sig in signals for v in cfg.signals[sig].values() if isinstance(v, str) and v.startswith("$")}
    return (refs | rule_names) & set(cfg.params)


#: Combinations of the swept params that constant weights read, checked one by one up to this many (each
#: about 0.2 ms); beyond it, every param's smallest and largest values together.
_WEIGHT_COMBOS = 2_000


def _check_constant_weights(cfg: StrategyConfig, g: Grid) -> None:
    """Each combination of the swept params that the rules' constant weight expressions (``"w1"``, numbers and
    params only) read is a config a single run accepts: weights a run refuses (summing over 1, a short in a
    cash account) are refused for the sweep too, naming the combination, not scaled on the data."""
    from engine import expr
    from engine.config.values import REST

    read: set[str] = set()
    for rule in cfg.rules:
        for value in rule.target.values():
            if isinstance(value, str) and value != REST:
                names = expr.names(expr.parse_number(value, known=[*cfg.signals, *cfg.params]))
                read |= names if names <= set(cfg.params) else set()
    wanted = {("params", n) for n in read}
    chosen: list[tuple[str, Sequence[Any]]] = [
        (k, v) for k, v in zip(g.keys, g.values, strict=True) if sweep_target(cfg, k) in wanted
    ]
    if not chosen:
        return
    if math.prod(len(v) for _, v in chosen) > _WEIGHT_COMBOS:
        chosen = [(k, sorted(set(v))[:: max(len(set(v)) - 1, 1)]) for k, v in chosen]  # each one's ends
    for point in itertools.product(*(v for _, v in chosen)):
        apply_combination(cfg, dict(zip((k for k, _ in chosen), point, strict=True)))
