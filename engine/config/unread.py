"""Settings a config states that nothing would read, refused in one line: they would change nothing, and a user
who set them would believe they did.  Set (the config as written: the loader calls :func:`check_costs` and
:func:`check_unread`, since a combination's config states every default) or swept (:mod:`engine.config.params`
asks the predicates here)."""

from __future__ import annotations

from pydantic import BaseModel

from engine.config.models import StrategyConfig
from engine.errors import ConfigError

__all__ = [
    "cash_account",
    "changed",
    "check_costs",
    "check_swept_unread",
    "check_unread",
    "measures_volatility",
    "reads_default_cost",
    "reads_exchange_rate",
    "reads_hk_stamp_duty",
]


def changed(model: BaseModel, key: str) -> bool:
    """Whether the config sets ``key`` of ``model`` to another value than its default: what the user changed.  A
    default written out is no change (a stored run's ``config.yaml`` writes every default)."""
    return key in model.model_fields_set and getattr(model, key) != type(model).model_fields[key].default


def reads_hk_stamp_duty(cfg: StrategyConfig) -> bool:
    """Whether ``costs.hk_stamp_duty_bps`` applies to a traded asset: an index or stock of the ``hk`` market
    without its own ``stamp_duty_bps`` (engine/costs.py; an ETF pays none)."""
    specs = [cfg.assets[a] for a in cfg.traded_assets]
    return any(s.market == "hk" and s.kind != "etf" and s.stamp_duty_bps is None for s in specs)


def reads_exchange_rate(cfg: StrategyConfig) -> bool:
    """Whether anything loads the USD/HKD series ``data.fx_symbol`` (cleaned with ``data.fx_band``): a run, a
    signal in the base currency and ``seesaw episodes`` convert only assets quoted in another currency than
    ``base_currency`` (engine/data/panel.py, engine/jobs/episodes.py)."""
    return any(spec.quote_currency != cfg.base_currency for spec in cfg.assets.values())


def cash_account(cfg: StrategyConfig) -> bool:
    """Whether the strategy's account is a cash account in every combination: no ``execution.max_gross``, nor a
    sweep of it (docs/shorts.md)."""
    return cfg.execution.max_gross is None and "execution.max_gross" not in cfg.sweep


def measures_volatility(cfg: StrategyConfig) -> bool:
    """Whether ``sizing.window`` is read: the sizing block has ``target_vol`` (set or swept), ``inverse_vol`` or
    ``equal_risk``, whose volatility it measures."""
    sizing = cfg.sizing
    swept = "sizing.target_vol" in cfg.sweep
    return sizing is not None and (sizing.target_vol is not None or swept or bool(sizing.risk_assets))


def reads_default_cost(cfg: StrategyConfig, key: str) -> bool:
    """Whether ``costs.<key>`` (``fee_bps`` or ``slippage_bps``) is read: some traded asset has no ``key`` of its
    own, which would override it (engine/costs.py)."""
    return any(getattr(cfg.assets[a], key) is None for a in cfg.traded_assets)


def check_costs(cfg: StrategyConfig) -> None:
    """``borrow_bps`` and ``margin_spread_bps`` are what a margin account pays: in a cash account, which never
    shorts nor borrows, they would change nothing (unless the sweep varies ``execution.max_gross``); nor would
    ``hk_stamp_duty_bps`` in a config trading no hk index or stock (:func:`reads_hk_stamp_duty`), nor ``fee_bps``
    or ``slippage_bps`` when every traded asset sets its own (:func:`reads_default_cost`).  Not one of
    :data:`CHECKS`: it reads the ``sweep:`` block, which a combination's config has not (the loader calls it)."""
    if cfg.costs.hk_stamp_duty_bps is not None and not reads_hk_stamp_duty(cfg):
        raise ConfigError(
            "it applies to the traded indexes and stocks of the hk market without a stamp_duty_bps of their own, "
            "and this config trades none: it would change nothing",
            path="costs.hk_stamp_duty_bps",
            expected="no such key, or an hk index or stock among the assets a rule or benchmark weights",
            got=cfg.costs.hk_stamp_duty_bps,
        )
    for key in ("fee_bps", "slippage_bps"):
        if changed(cfg.costs, key) and not reads_default_cost(cfg, key):
            raise ConfigError(
                f"every traded asset sets its own {key}, which overrides this one: it would change nothing",
                path=f"costs.{key}",
                expected=f"no costs.{key}, or a traded asset without its own {key}",
                got=getattr(cfg.costs, key),
            )
    if not cash_account(cfg):
        return
    for key in ("borrow_bps", "margin_spread_bps"):
        if getattr(cfg.costs, key) != 0:
            raise ConfigError(
                "a margin account pays it, and this config's account is a cash account "
                "(no execution.max_gross), which never shorts nor borrows: it would change nothing",
                path=f"costs.{key}",
                expected="0 or no such key in a cash account, or execution.max_gross to make it a margin account "
                "(docs/shorts.md)",
                got=getattr(cfg.costs, key),
            )


def check_unread(cfg: StrategyConfig) -> None:
    """Settings nothing reads in this config, which would change nothing: ``execution.min_hold`` or ``cooldown``
    with one rule (no other rule to replace it), ``sizing.window`` without ``target_vol``, ``inverse_vol`` or
    ``equal_risk`` (whose volatility it measures), ``data.fx_symbol`` or ``fx_band`` with every asset quoted in
    the base currency (no exchange rate is loaded), ``allow_same_bar: true`` with no lag of 0, the costs and
    dividend yield of a signal-only asset (never traded nor held), and ``currency: base`` on a signal of assets
    quoted in the base currency.  The loader calls it on the config as written (a combination's config states every
    default), and a setting counts as set when its value differs from the default (:func:`changed`).
    ``data.data_dir`` with another source is refused when a command runs the config without ``--source csv``
    (:func:`engine.jobs.common.resolve`), since that option reads it."""
    for check in (_rule_memory, _sizing_window, _exchange_rate, _same_bar, _signal_only_assets, _base_currency_signals):
        check(cfg)


def _rule_memory(cfg: StrategyConfig) -> None:
    if len(cfg.rules) == 1:
        for key in ("min_hold", "cooldown"):
            if getattr(cfg.execution, key) > 0:
                raise ConfigError(
                    f"{key} holds back a change of rule, and this config has one rule: it would change nothing",
                    path=f"execution.{key}",
                    expected=f"0 or no {key} with a single rule, or more rules (docs/rules.md)",
                    got=getattr(cfg.execution, key),
                )


def _sizing_window(cfg: StrategyConfig) -> None:
    sizing = cfg.sizing
    if sizing is not None and changed(sizing, "window") and not measures_volatility(cfg):
        raise ConfigError(
            "the window of the volatility target_vol, inverse_vol or equal_risk measure, and this sizing block has "
            "none of them: it would change nothing",
            path="sizing.window",
            expected="target_vol, inverse_vol or equal_risk with it, or no window",
            got=sizing.window,
        )


def _exchange_rate(cfg: StrategyConfig) -> None:
    written = {key for key in ("fx_symbol", "fx_band") if changed(cfg.data, key)}
    if written and not reads_exchange_rate(cfg):
        key = min(written)  # fx_band before fx_symbol: one line names one key
        raise ConfigError(
            f"the USD/HKD series converts assets quoted in another currency than base_currency "
            f"({cfg.base_currency}), and every asset of this config is quoted in it: no exchange rate is loaded, "
            "it would change nothing",
            path=f"data.{key}",
            expected=f"no {key}, or an asset quoted in another currency (docs/data.md)",
            got=getattr(cfg.data, key),
        )


def _same_bar(cfg: StrategyConfig) -> None:
    ex = cfg.execution
    if ex.allow_same_bar and ex.lag > 0 and not _sweeps_lag_0(cfg):
        raise ConfigError(
            f"it permits a lag of 0, and this config's lag is {ex.lag} (nor does a sweep take it to 0): it would "
            "change nothing",
            path="execution.allow_same_bar",
            expected="false or no allow_same_bar with a lag of 1 or more, or lag: 0 (look-ahead, docs/rules.md)",
            got=True,
        )


def _sweeps_lag_0(cfg: StrategyConfig) -> bool:
    """Whether the sweep takes ``execution.lag`` to 0: a list holding it, or a range from it (a range ascends from
    its start, and a lag is never below 0)."""
    spec = cfg.sweep.get("execution.lag")
    if isinstance(spec, list):
        return 0 in spec
    return isinstance(spec, dict) and spec.get("start") == 0


#: What only a traded asset's trades and holdings read: its costs and its dividends.
_TRADED_ONLY = ("fee_bps", "slippage_bps", "stamp_duty_bps", "dividend_yield")


def _signal_only_assets(cfg: StrategyConfig) -> None:
    traded = set(cfg.traded_assets)
    for name, spec in cfg.assets.items():
        written = [key for key in _TRADED_ONLY if changed(spec, key)]
        if name not in traded and written:
            raise ConfigError(
                f"{name} is signal-only (named in no rule's or benchmark's weights): it is never traded nor held, "
                f"so its {written[0]} would change nothing",
                path=f"assets.{name}.{written[0]}",
                expected=f"no {written[0]} on a signal-only asset, or {name} in some weights",
                got=getattr(spec, written[0]),
            )


def _base_currency_signals(cfg: StrategyConfig) -> None:
    for name, spec in cfg.signals.items():
        inputs = [spec.get(arg) for arg in ("a", "b") if spec.get(arg) in cfg.assets]
        quoted = {cfg.assets[str(a)].quote_currency for a in inputs}
        if spec.get("currency") == "base" and inputs and quoted == {cfg.base_currency}:
            raise ConfigError(
                f"it converts prices to the base currency ({cfg.base_currency}), and {' and '.join(map(str, inputs))} "
                f"{'is' if len(inputs) == 1 else 'are'} quoted in it: it would change nothing",
                path=f"signals.{name}.currency",
                expected="currency: base with an asset quoted in another currency, or no currency",
                got="base",
            )


def check_swept_unread(cfg: StrategyConfig, key: str) -> None:
    """Refuse sweep path ``key`` when nothing reads it in ``cfg``: every combination would be the same run (the
    swept twins of :func:`check_costs` and :func:`check_unread`; :mod:`engine.config.params` calls it)."""
    if key in ("costs.borrow_bps", "costs.margin_spread_bps") and cash_account(cfg):
        raise ConfigError(
            f"sweep key {key!r} varies a cost a margin account pays, and the config's account is a cash account "
            "(no execution.max_gross): every combination would be the same run",
            path=f"sweep.{key}",
            expected="execution.max_gross (a margin account, docs/shorts.md) to vary it",
            got=key,
        )
    if key == "costs.hk_stamp_duty_bps" and not reads_hk_stamp_duty(cfg):
        raise ConfigError(
            f"sweep key {key!r} varies the stamp duty of hk indexes and stocks, and the config trades none: every "
            "combination would be the same run",
            path=f"sweep.{key}",
            expected="an hk index or stock among the assets a rule or benchmark weights",
            got=key,
        )
    if key in ("execution.min_hold", "execution.cooldown") and len(cfg.rules) == 1:
        raise ConfigError(
            f"sweep key {key!r} holds back a change of rule, and the config has one rule: every combination would be "
            "the same run",
            path=f"sweep.{key}",
            expected="more than one rule (docs/rules.md)",
            got=key,
        )
    if key == "sizing.window" and cfg.sizing is not None and not measures_volatility(cfg):
        raise ConfigError(
            f"sweep key {key!r} varies the window of the volatility target_vol, inverse_vol or equal_risk measure, "
            "and the sizing block has none of them: every combination would be the same run",
            path=f"sweep.{key}",
            expected="sizing.target_vol, inverse_vol or equal_risk",
            got=key,
        )
    if key in ("costs.fee_bps", "costs.slippage_bps") and not reads_default_cost(cfg, key.split(".")[1]):
        raise ConfigError(
            f"sweep key {key!r} varies a cost every traded asset overrides with its own: every combination would be "
            "the same run",
            path=f"sweep.{key}",
            expected=f"a traded asset without its own {key.split('.')[1]}",
            got=key,
        )
