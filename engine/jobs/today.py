"""``seesaw today``: read configs and their data as ``run`` does, and report each config's state (engine/today.py).

The clock is an argument (``now``, an aware datetime): the staleness of each series is judged
against it, never against the machine's time.  docs/today.md describes every field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.calendar import CALENDAR_FIRST, last_known_session, session_status
from engine.config import StrategyConfig
from engine.config.values import iso_date
from engine.data.base import Provider
from engine.data.panel import RUN_ENDS, LoadedPanel
from engine.errors import UserError
from engine.jobs.common import RunOptions, configs_with_data
from engine.today import Today, today
from strategies.errors import SignalError

__all__ = ["SeriesState", "TodayReport", "parse_now", "today_configs", "today_json"]

#: Calendar days of raw history read back to find each series' last date.
_LOOKBACK_DAYS = 60


@dataclass(frozen=True)
class SeriesState:
    """One series a config loads: its last date in the source, and whether that is stale at the clock."""

    series: str  # the asset's name, "fx" or "cash_rate"
    symbol: str
    market: str  # us, hk, or fx (weekdays)
    last_date: dt.date | None
    last_session: dt.date | None  # the market's last session closed at or before the clock
    stale: bool
    session_today: dt.date | None  # the market's session on the clock's UTC date, if any (closed or not)
    missing_today: bool
    as_of_date: dt.date | None = None  # its last priced date on or before the decision date (the close it read)
    #: the source has no price for ``last_session`` though it has later rows (a gap; a clock in the past)
    missing_last_session: bool = False


@dataclass(frozen=True)
class TodayReport:
    """One config's state, where it came from, and what to warn about."""

    file: str
    today: Today
    synthetic: bool
    source: str
    now: dt.datetime
    data: tuple[SeriesState, ...]
    warnings: tuple[str, ...]
    execution: dict[str, Any]
    notes: tuple[str, ...] = ()  # what the data's checks repaired or left out, as run notes it


#: ``--now`` as a date and time: ``YYYY-MM-DDTHH:MM`` (or a space for the T), seconds and fractions optional, then
#: an optional ``Z`` or UTC offset (Python's parser also takes week dates and basic formats, which are refused).
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)


def parse_now(text: str | None, clock: dt.datetime) -> dt.datetime:
    """``--now``: an ISO datetime (UTC unless it has an offset) or a date (the end of that day, UTC);
    None is ``clock``.  A user error for anything else."""
    if text is None:
        return clock.astimezone(dt.UTC)
    try:
        if len(text) == 10:
            value = dt.datetime.combine(iso_date(text), dt.time(23, 59, 59), dt.UTC)
        elif _ISO_DATETIME.fullmatch(text):
            value = dt.datetime.fromisoformat(text)
        else:
            raise ValueError(text)
        now = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # an offset moving 0001-01-01 before year 1: no such UTC time
        raise UserError(f"--now: expected an ISO date or datetime (UTC), got {text!r}") from None
    horizon = min(last_known_session(m) for m in ("us", "hk"))
    if now.date() > horizon:  # no session, holiday or close is known then: every status would be a guess
        raise UserError(f"--now: {text} is after {horizon}, the last session the exchange calendars list")
    if now.date() < CALENDAR_FIRST:  # nor before the calendars begin
        raise UserError(f"--now: {text} is before {CALENDAR_FIRST}, the first date the exchange calendars list")
    return now


def today_configs(
    paths: Sequence[str | Path], opts: RunOptions, *, env: Mapping[str, str], now: dt.datetime
) -> list[TodayReport]:
    """Validate every config first, then load its data and report its state at the clock ``now``."""
    out = []
    for file, cfg, provider, loaded, notes in configs_with_data(paths, opts, env):
        try:
            found = today(cfg, loaded)
        except SignalError as err:  # a signal from another package breaking its contract
            raise err.located(file=str(file)) from None
        data = _series_states(cfg, loaded, provider, now, found.as_of)
        out.append(
            TodayReport(
                file=str(file),
                today=found,
                synthetic=loaded.panel.synthetic,
                source=loaded.panel.source,
                now=now,
                data=data,
                warnings=_warnings(found, data, loaded, cfg)
                + _clock_warning(found, data, now, loaded.panel.dates[loaded.start].date()),
                execution=_execution(cfg),
                notes=tuple(n for n in notes if not n.startswith(RUN_ENDS)),  # a warning says it
            )
        )
    return out


def _execution(cfg: StrategyConfig) -> dict[str, Any]:
    ex = cfg.execution
    return {
        "lag": ex.lag,
        "fill": ex.fill,
        "allow_same_bar": ex.allow_same_bar,
        "rebalance": ex.mode,
        "band": ex.band,
    }


def _series_states(
    cfg: StrategyConfig, loaded: LoadedPanel, provider: Provider, now: dt.datetime, as_of: dt.date
) -> tuple[SeriesState, ...]:
    """Each asset (signal-only ones too), then the exchange-rate and cash-rate series the panel loaded."""
    panel = loaded.panel
    wanted = [(a, s, m) for a, s, m in zip(panel.assets, panel.symbols, panel.markets, strict=True)]
    if panel.fx_symbol is not None:
        wanted.append(("fx", panel.fx_symbol, "fx"))
    if panel.cash_symbol is not None:
        wanted.append(("cash_rate", panel.cash_symbol, "us"))
    since = panel.dates[-1].date() - dt.timedelta(days=_LOOKBACK_DAYS)
    out = []
    for name, symbol, mkt in wanted:
        raw = provider.fetch(symbol, since, None)  # the source's last row, whatever data.end cuts the run at
        priced = raw[["Close", "Adj Close"]].notna().any(axis=1).to_numpy() if len(raw) else np.zeros(0, dtype=bool)
        last = raw.index[np.flatnonzero(priced)[-1]].date() if priced.any() else None
        read = np.flatnonzero(priced & (raw.index.date <= as_of))
        through = raw.index[read[-1]].date() if len(read) else None
        dates = set(raw.index[priced].date)
        status = session_status(mkt, now)
        closed = status.last_session
        stale = last is None or (closed is not None and last < closed)
        today_ = status.session_today
        # A market's session inside the rows read (from ``since``) without a price is noted: a gap, or a day it did
        # not trade; not the exchange rate's, whose missing days a run carries its last rate over (data.md)
        inside = mkt != "fx"
        read_today = inside and today_ is not None and today_ >= since
        missing = today_ is not None and (today_ not in dates if read_today else last is None or last < today_)
        gap = inside and closed is not None and closed >= since and not stale and closed not in dates
        out.append(SeriesState(name, symbol, mkt, last, closed, stale, today_, missing, through, gap))
    return tuple(out)


def _clock_warning(found: Today, data: tuple[SeriesState, ...], now: dt.datetime, first: dt.date) -> tuple[str, ...]:
    """A clock before the decision date (a ``--now`` in the past: it judges staleness only, it does not cut the
    data), or before a market's close the decision read (the row of a session not closed yet: a bar still forming,
    or data from after a ``--now`` in the past; New York's close of the decision date at noon UTC that day).  The
    exchange rate is left out: a date's rate is read as that date's whatever the hour (data.md).  Before ``first``,
    its first simulated date (after the signals' warm-up), the config said nothing on that day."""
    day = now.astimezone(dt.UTC).date()
    ahead = [s for s in data if s.market != "fx" and s.as_of_date and s.last_session and s.as_of_date > s.last_session]
    closed = [s.last_session for s in data if s.market != "fx" and s.last_session]  # each market's, by the clock
    if found.as_of > day:
        why = f"after the clock ({day}): --now only judges whether the data is stale"
        known = min([day, *closed])  # the last date whose closes were all in by the clock
    elif ahead:
        closes = ", ".join(f"{s.symbol} {s.as_of_date}" for s in ahead)
        why = (
            f"reading rows of sessions not closed by the clock ({now.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC: "
            f"{closes}): a row from before its market's close is not that close"
        )
        known = min(s.last_session for s in ahead if s.last_session)
    else:
        return ()
    then = (
        f"to see what the config said on {known}, pass --end {known}"
        if known > first  # --end must come after the start
        else f"no --end shows {known}: the config's first simulated date is {first}"
    )
    return (f"decided as of {found.as_of}, {why}; {then}",)


def _warnings(found: Today, data: tuple[SeriesState, ...], loaded: LoadedPanel, cfg: StrategyConfig) -> tuple[str, ...]:
    """Stale series, a decision date earlier than some series' data, synthetic data, same-bar execution."""
    out = []
    if loaded.panel.synthetic:
        out.append("SYNTHETIC DATA: generated prices, not market history")
    for s in data:
        if s.stale:
            out.append(f"{s.symbol} is stale: last date {s.last_date}, its market's last session {s.last_session}")
        elif s.missing_last_session:
            out.append(
                f"{s.symbol} has no price for {s.last_session}, its market's last session closed by the clock, though "
                f"the source has later rows (to {s.last_date}): a gap in the data, or a day it did not trade"
            )
    end = cfg.data.end
    cut = [f"{s.symbol} {s.last_date}" for s in data if s.last_date is not None and end and s.last_date > end]
    if cut:
        out.append(
            f"decided as of {found.as_of}: data.end (or --end) cuts the data at {end}, and the sources go on "
            f"({', '.join(cut)}); without it, today decides as of the sources' last common date"
        )
    later = [
        f"{s.symbol} {s.last_date}"
        for s in data
        if s.last_date is not None and s.last_date > found.as_of and not (end and s.last_date > end)
    ]
    if later:
        out.append(f"decided as of {found.as_of}, the last date every series has data (later: {', '.join(later)})")
    if cfg.execution.looks_ahead():
        out.append("execution.allow_same_bar: a lag of 0 trades at the close the decision used (look-ahead)")
    return tuple(out)


#: The dates of a :class:`SeriesState`, ISO text in JSON.
_DATES = ("last_date", "last_session", "session_today", "as_of_date")


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def today_json(reports: Sequence[TodayReport]) -> list[dict[str, Any]]:
    """One object per config (docs/today.md): ``config``, ``as_of``, ``weights``, ``next_weights``, ``rule``,
    ``signals``, ``last_switch``, ``pending``, ``data`` and more."""
    return [_row(r) for r in reports]


def _row(r: TodayReport) -> dict[str, Any]:
    t = r.today
    d = t.decision
    closed = {s.market: s.last_session for s in r.data}  # each market's last session closed by the clock
    return {
        "config": t.config,
        "file": r.file,
        "synthetic": r.synthetic,
        "source": r.source,
        "now": r.now.isoformat(),
        "as_of": t.as_of.isoformat(),
        "weights": t.weights,
        "next_weights": t.next_weights,
        "changes": any(abs(t.weights[a] - t.next_weights[a]) > 1e-12 for a in t.weights),
        "decided_on_as_of": t.decided_on_as_of,
        "next_decision": _day(t.next_decision),
        "actual_weights": t.actual_weights,
        "rule": {"index": d.rule, "label": d.label, "when": t.rules[d.rule - 1].when,
                 "until": t.rules[d.rule - 1].until, "state": d.state, "held": d.held, "reasons": list(d.reasons)},
        "rules": [asdict(s) for s in t.rules],
        "signals": {
            s.name: {"value": s.value, "comparisons": [asdict(c) for c in s.comparisons]} for s in t.signals
        },
        "last_switch": None if t.last_switch is None else {
            "decided": t.last_switch.decided.isoformat(), "filled": _day(t.last_switch.filled),
            "rule": t.last_switch.rule, "from": t.last_switch.from_weights, "to": t.last_switch.to_weights,
        },
        "pending": [
            {"asset": g.asset, "market": g.market, "from": g.from_weight, "to": g.to_weight,
             "decided": g.decided.isoformat(), "session": _day(g.session),
             "session_closed": g.session is not None and g.session <= (closed.get(g.market) or dt.date.min)}
            for g in t.pending
        ],
        "execution": r.execution,
        "data": [{**asdict(s), **{k: _day(getattr(s, k)) for k in _DATES}} for s in r.data],
        "warnings": list(r.warnings),
        "notes": list(r.notes),
    }  # fmt: skip
