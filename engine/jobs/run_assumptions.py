"""What a run states besides its numbers: its data block, its modelling assumptions and its warnings.

Each is stored in the run's ``metrics.json`` (``data``, ``assumptions``, ``warnings``) and shown by every
output: the table's caption, the JSON rows, the HTML report, ``compare``'s caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.config import StrategyConfig
from engine.config.models import AssetSpec
from engine.data.panel import LoadedPanel
from engine.render.text import assumption_lines

if TYPE_CHECKING:
    from engine.store.sweeps import SweepOutcome

__all__ = [
    "assumptions",
    "caveat_lines",
    "data_block",
    "data_warnings",
    "risk_free_text",
    "run_warnings",
    "stamp_duty_text",
]


def data_block(cfg: StrategyConfig, loaded: LoadedPanel) -> dict[str, Any]:
    p = loaded.panel
    traded = cfg.traded_assets
    assets = {}
    for j, a in enumerate(p.assets):
        spec = cfg.assets[a]
        assets[a] = {
            "symbol": spec.symbol,
            "market": spec.market,
            "currency": p.currencies[j],
            "price": p.price_fields[j],
            "instrument": spec.kind,
            "traded": a in traded,
            "dividend_yield": spec.dividend_yield,
            "stamp_duty_bps": stamp_duty_text(spec, cfg),
        }
    return {
        "source": p.source,
        "synthetic": p.synthetic,
        "fingerprint": loaded.fingerprint,
        "symbols": dict(zip(p.assets, p.symbols, strict=True)),
        "price": p.price_field,
        "base_currency": p.base_currency,
        "assets": assets,
        "fx_symbol": p.fx_symbol,
        "cash_rate": cfg.cash_rate,
        "risk_free": risk_free_text(cfg),
        "fill": cfg.execution.fill,
        "warmup_dates": loaded.warmup_used,
        "warmup_needed": loaded.warmup_needed,
        "first_date": str(p.dates[loaded.start].date()),
        "last_date": str(p.dates[-1].date()),
    }


def stamp_duty_text(spec: AssetSpec, cfg: StrategyConfig) -> float | str:
    """The asset's stamp duty per side: bps, or ``hk schedule`` (engine/costs.py)."""
    if spec.stamp_duty_bps is not None:
        return spec.stamp_duty_bps
    if spec.market != "hk" or spec.kind == "etf":
        return 0.0
    return cfg.costs.hk_stamp_duty_bps if cfg.costs.hk_stamp_duty_bps is not None else "hk schedule"


def risk_free_text(cfg: StrategyConfig) -> str:
    """What Sharpe and Sortino are measured in excess of."""
    if cfg.cash_rate is None:
        return "zero"
    if isinstance(cfg.cash_rate, str):
        return f"{cfg.cash_rate} (a series in percent a year)"
    return f"{cfg.cash_rate * 100:g}% a year (constant cash rate)"


def assumptions(cfg: StrategyConfig, loaded: LoadedPanel) -> list[str]:
    """The modelling choices behind a run's numbers, one line each, for every output."""
    p = loaded.panel
    lines = [f"values in {p.base_currency}"]
    foreign = [a for j, a in enumerate(p.assets) if p.currencies[j] != p.base_currency and a in cfg.traded_assets]
    if foreign:
        lines[0] += f"; {', '.join(foreign)} converted at {p.fx_symbol} closes (carried forward over FX holidays)"
    if cfg.cash_rate is None:
        lines.append("cash earns no interest")
    else:
        lines.append(f"cash earns {risk_free_text(cfg)}, compounded daily (ACT/365)")
    for a, spec in cfg.assets.items():
        if spec.dividend_yield > 0:
            lines.append(
                f"APPROXIMATION: {a} ({spec.symbol}) dividends modelled as a constant {spec.dividend_yield * 100:.2f}% "
                "a year accrued daily and reinvested, not actual payments"
            )
    field = dict(zip(p.assets, p.price_fields, strict=True))
    # a close, or an index's adjusted close (an index has no corporate actions: the same series), and no yield
    without = [f"{a} ({s.symbol})" for a, s in cfg.assets.items() if _price_return(cfg, s, field[a], a)]
    if without:
        lines.append(f"dividends not included: {', '.join(without)} earn their price return only")
    prices = ", ".join(f"{a} {f}" for a, f in field.items())
    fill = "the open of the next session" if cfg.execution.fill == "next_open" else "the close"
    lines.append(f"prices: {prices}; orders fill at {fill}")
    signal_only = [a for a in cfg.assets if a not in cfg.traded_assets]
    if signal_only:
        lines.append(f"signal-only (never traded): {', '.join(signal_only)}")
    return lines


def _price_return(cfg: StrategyConfig, spec: AssetSpec, field: str, asset: str) -> bool:
    held = asset in cfg.traded_assets and spec.kind != "series" and spec.dividend_yield == 0
    return held and (field == "close" or spec.kind == "index")


def _look_ahead_warning(name: str, which: str = "") -> str:
    """The warning of a run (or ``which`` of its combinations or folds) deciding with lag 0 (allow_same_bar)."""
    return (
        f"{name}{which}: allow_same_bar with lag 0: US orders fill at the New York close the decision was "
        "made on (look-ahead: results are optimistic); Hong Kong orders fill at Hong Kong's next close"
    )


def run_warnings(
    cfg: StrategyConfig, loaded: LoadedPanel, incomplete: Sequence[str] = (), lags: Sequence[int] = ()
) -> list[str]:
    """The run's warnings; ``incomplete``: the signals without a value at the first decision; ``lags``: the lags a
    walk-forward's folds chose, when the lag is swept (then the config's own is not theirs)."""
    out = []
    if any(map(cfg.execution.looks_ahead, lags)) if lags else cfg.execution.looks_ahead():
        out.append(_look_ahead_warning(cfg.name, " (a fold chose execution.lag 0)" if lags else ""))
    if loaded.warmup_used < loaded.warmup_needed:
        from engine.evaluate import warmup_rows  # numba's import (0.15 s), only for a run short of its warm-up

        signals_need = warmup_rows(cfg.resolved_signals, cfg.rules, cfg.execution.lag)  # without sizing's window
        until = (
            "until the sizing window fills, the rules' weights apply unsized"
            if loaded.warmup_used >= signals_need
            else "until signals are complete the otherwise weights apply"
        )
        out.append(
            f"{cfg.name}: only {loaded.warmup_used} of {loaded.warmup_needed} warm-up dates before the start; {until}"
        )
    elif incomplete:  # the union timeline had the warm-up; a series the signals read did not
        out.append(
            f"{cfg.name}: incomplete at the first decision though all {loaded.warmup_used} warm-up dates were used: "
            f"{', '.join(map(repr, incomplete))} (a series has less history; see the notes); rules naming it are false"
        )
    return out + data_warnings(cfg, loaded)


#: A price missing for more calendar days than this inside the run, or a run that another series ends this many days
#: before the end it was asked for, is a warning and not only a note: the longest gap in any of the real histories'
#: prices since 1934 is 7 days (the New York close after 11 September 2001).  Exchange-rate gaps stay notes (Yahoo's
#: USD/HKD has a 214-day gap in 2003, over which the peg held).
_GAP_WARNING_DAYS = 31


def data_warnings(cfg: StrategyConfig, loaded: LoadedPanel) -> list[str]:
    """Warnings about the data a run's figures rest on, whatever a sweep varies: an asset's longest gap between two
    prices from its last price at or before the first simulated date on, over :data:`_GAP_WARNING_DAYS` (its last
    close carried over it), and a run ended that long before the end asked for (``data.end`` or ``--end``; without
    one, before the last data of the other series) by a series whose data stop there while others go on."""
    panel, start = loaded.panel, loaded.start
    out = []
    for j, symbol in enumerate(panel.symbols):
        traded = panel.traded[:, j]
        before = np.flatnonzero(traded[: start + 1])
        first = int(before[-1]) if len(before) else start  # its last price at or before the first simulated date
        rows = first + np.flatnonzero(traded[first:])
        if len(rows) < 2:
            continue
        days = np.diff(panel.dates[rows].to_numpy()).astype("timedelta64[D]").astype(np.int64)
        longest = int(np.argmax(days))
        if days[longest] > _GAP_WARNING_DAYS:
            last, next_price = panel.dates[rows[longest]].date(), panel.dates[rows[longest + 1]].date()
            carried = (
                "the signals that read it see that close"
                if panel.assets[j] in panel.signal_only
                else "what the run holds of it is valued, and traded, at that close"
            )
            out.append(
                f"{cfg.name}: {symbol} has no price from {last} to {next_price} ({days[longest]:,} days) inside the "
                f"run: its {last} close is carried over the gap, and {carried}"
            )
    asked, ended = cfg.data.end, panel.dates[-1].date()
    if not loaded.ends_early:
        return out
    if asked is not None and (asked - ended).days > _GAP_WARNING_DAYS:
        out.append(
            f"{cfg.name}: the run ends on {ended}, {(asked - ended).days:,} days before the end asked for ({asked}): "
            f"a series' data end there, while others go on (later: {loaded.later})"
        )
    elif asked is None and (days := (max(last for _, last in loaded.ends_early) - ended).days) > _GAP_WARNING_DAYS:
        out.append(
            f"{cfg.name}: the run ends on {ended}, {days:,} days before the last data of other series: a series' data "
            f"end there (later: {loaded.later})"
        )
    return out


def caveat_lines(outcome: SweepOutcome) -> list[str]:
    """A sweep's look-ahead warning (rows deciding with lag 0), its data's warnings (:func:`data_warnings`), its
    model assumptions (``Assumption: ...``) and its data's notes (``note: ...``: the panel's, then what the provider
    noted while loading), as ``seesaw run`` shows them with its table, for its table and report (a run's other
    warnings depend on values a sweep varies, such as the warm-up, and are not among them); all but the look-ahead
    warning only when the sweep's data is loaded."""
    cfg, loaded, man = outcome.cfg, outcome.loaded, outcome.manifest
    lags = dict(zip(man.get("keys") or (), man.get("values") or (), strict=False)).get("execution.lag")
    lags = [cfg.execution.lag] if lags is None else lags
    which = "" if len(lags) == 1 else " (the rows with execution.lag 0)"
    warned = [f"WARNING: {_look_ahead_warning(cfg.name, which)}"] if any(map(cfg.execution.looks_ahead, lags)) else []
    if loaded is None:
        return warned
    warned += [f"WARNING: {w}" for w in data_warnings(cfg, loaded)]
    lines = warned + assumption_lines({cfg.name: assumptions(cfg, loaded)})
    return lines + [f"note: {note}" for note in (*loaded.panel.notes, *outcome.data_notes)]
