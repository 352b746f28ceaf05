"""Settings a config states that nothing would read, refused in one line: they would change nothing, and a user
who set them would believe they did.  Set (the config as written: the loader calls :func:`check_costs` and
:func:`check_unread`, since a combination's config states every default) or swept (:mod:`engine.config.params`
asks the predicates here)."""

from __future__ import annotations

from engine.config.models import StrategyConfig
from engine.errors import ConfigError

__all__ = [
    "cash_account",
    "check_costs",
    "check_unread",
    "measures_volatility",
    "reads_exchange_rate",
    "reads_hk_stamp_duty",
]


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


def check_costs(cfg: StrategyConfig) -> None:
    """``borrow_bps`` and ``margin_spread_bps`` are what a margin account pays: in a cash account, which never
    shorts nor borrows, they would change nothing (unless the sweep varies ``execution.max_gross``); nor would
    ``hk_stamp_duty_bps`` in a config trading no hk index or stock (:func:`reads_hk_stamp_duty`).  Not one of
    :data:`CHECKS`: it reads the ``sweep:`` block, which a combination's config has not (the loader calls it)."""
    if cfg.costs.hk_stamp_duty_bps is not None and not reads_hk_stamp_duty(cfg):
        raise ConfigError(
            "it applies to the traded indexes and stocks of the hk market without a stamp_duty_bps of their own, "
            "and this config trades none: it would change nothing",
            path="costs.hk_stamp_duty_bps",
            expected="no such key, or an hk index or stock among the assets a rule or benchmark weights",
            got=cfg.costs.hk_stamp_duty_bps,
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
    the base currency (no exchange rate is loaded).  The loader calls it: a combination's config states every
    default, so what the user set is told by the config as written."""
    written = cfg.data.model_fields_set & {"fx_symbol", "fx_band"}
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
    if len(cfg.rules) == 1:
        for key in ("min_hold", "cooldown"):
            if getattr(cfg.execution, key) > 0:
                raise ConfigError(
                    f"{key} holds back a change of rule, and this config has one rule: it would change nothing",
                    path=f"execution.{key}",
                    expected=f"0 or no {key} with a single rule, or more rules (docs/rules.md)",
                    got=getattr(cfg.execution, key),
                )
    sizing = cfg.sizing
    if sizing is not None and "window" in sizing.model_fields_set and not measures_volatility(cfg):
        raise ConfigError(
            "the window of the volatility target_vol, inverse_vol or equal_risk measure, and this sizing block has "
            "none of them: it would change nothing",
            path="sizing.window",
            expected="target_vol, inverse_vol or equal_risk with it, or no window",
            got=sizing.window,
        )
