"""An independent reference for ``seesaw episodes`` (docs/episodes.md), written from the documents only.

Nothing here imports ``engine`` or ``strategies``: the CSV files are read with pandas, the signal,
the statistics and the event study are recomputed with numpy, scipy and arch.

Semantics
=========

Data (docs/data.md, docs/config.md, docs/guarantees.md)

* A symbol's file is ``DIR/<symbol>.csv`` with the leading ``^`` removed and ``.``/``=`` replaced by
  ``_``.  The price column is ``Close`` (``Adj Close`` for ``price: adj_close``).  Empty, non-positive
  and weekend rows are dropped (days the symbol did not trade); rows are sorted, duplicate dates keep
  the first row.  The other repairs of guarantees.md (one-day spikes, non-session rows without
  trading) are not replicated: the real data and the fixtures trigger none of them.
* An asset's *trading dates* are the dates of its remaining rows.  ``start`` (``start: auto``) is the
  first date every loaded series has data, ``end`` the last date every one has data (the run ends
  there).  The *union timeline* is the union of the assets' trading dates up to ``end``, beginning
  W + 1 union dates before ``start`` (W = the longest warm-up of the config's signals, below), but not
  before the first date every asset has data: the warm-up history before ``start``.  (Observed from
  the command's stored ``data.first_date``; the engine sometimes keeps one more date, a market's last
  price before a first warm-up date that is its holiday; not replicated, it only matters for a config
  mixing ``currency: local`` and ``base`` signals whose FX starts after the assets.)
* USD/HKD (``data.fx_symbol``, default ``HKD=X``, HKD per USD) is read whenever an asset is quoted in
  another currency than ``base_currency`` (forward returns are in base currency).  It bounds the
  timeline (first/last date every series has data) only when the config needs it for its values: a
  traded asset (named in a rule's or benchmark's weights) in another currency, or a ``rolling_corr``
  signal with ``currency: base`` reading such an asset.  Closes outside ``data.fx_band`` (default
  ``[7.74, 7.86]``, bounds inclusive) are dropped as bad ticks, so the previous close carries forward.
  The rate *known on date d* is the last remaining FX close dated on or before d (an as-of lookup
  over every FX row, also rows on dates off the timeline); before the first FX close it is unknown.
* A price in base currency: a HKD price in a USD config is divided by the rate, a USD price in a HKD
  config multiplied by it; NaN where no rate is known yet (before the first FX close).

``rolling_corr`` (docs/signals.md, docs/episodes.md)

* ``dates: union``: rows are the union timeline; each asset's price is its last close on or before
  the row (carried over its holidays).  ``dates: common``: rows are the dates both assets traded.
* ``currency: base``: each row's price is converted at the rate known on the *row's* date (a price
  carried over a Hong Kong holiday is re-converted at that day's rate, so its base-currency return
  that day is the FX move, not zero).  ``local``: no conversion.
* Returns are log returns between consecutive rows.  ``align: sync`` pairs the two returns of the
  same row.  ``align: async`` pairs the Hong Kong asset's return of row t with the US asset's return
  of row t-1, whatever the argument order; two assets of the same market pair both returns of row
  t-1.  The pair array's columns are always (a, b) in the config's argument order.
* The value on row t is the Pearson correlation of the ``window`` pairs ending at row t (two-pass
  formula); NaN if any pair in the window is missing or a variance is zero.  A ``common`` value is
  placed on its common date and carried (as it is, NaN included) to the union dates up to the next
  common date.
* Warm-up: the value is NaN on the first ``window`` (+ 1 for ``async``, + ``window // 4 + 10`` for
  ``dates: common``) rows of the union timeline, counted from the timeline's first date (above), even
  where the window is already full.

Observations and extremeness (docs/episodes.md)

* An observation is a union-timeline date whose value is finite and differs from the previous
  union date's value (a NaN before counts as different).
* ``s`` = value with ``--low``, −value with ``--high``; smaller ``s`` is more extreme.
  ``rank`` = 1 + #{earlier observations with s' < s}.  ``percentile`` = 100·c/n computed as
  ``100 * c / n`` (c = #{observations up to and including t with value ≤ t's}, n = t's 1-based index),
  for both directions.  ``most_extreme_since`` = the last earlier observation with s' ≤ s, else null;
  ``record`` is true exactly when ``most_extreme_since`` is null (a tie with an earlier value has
  rank 1 but is not a record).
* Qualifying: ``--threshold X``: value ≤ X (low) / ≥ X (high), every observation may qualify.
  ``--percentile P`` (default 5 low, 95 high): percentile ≤ P / ≥ P, and the observation's 0-based
  index is ≥ 250 (the first 250 observations never qualify).
* Runs are maximal runs of consecutive qualifying observations; a run is merged into the episode
  before it when fewer than ``--gap G`` (default 21) observations lie between them (all of them
  non-qualifying); ``--gap 0`` never merges.  ``start``/``end`` = the first/last qualifying observation;
  ``date`` = the observation of smallest ``s`` among *all* observations from start to end (the first if
  tied; it is always a qualifying one in threshold mode); ``observations`` = the number of
  observations from start to end inclusive (the non-qualifying ones between merged runs included).
  ``--since D`` keeps the episodes with ``date`` ≥ D.

Uncertainty

* n = ``window``.  Fisher: tanh(atanh(r) ∓ Z95/√(n−3)), ``Z95`` = Φ⁻¹(0.975) = 1.959963984540054 as
  the contract states it (also in ``indistinguishable``); the rounded 1.959964 would move the bounds
  by ~1.5e-9, more than the agreement tolerance.
* Bootstrap: block = the smallest integer b with b³ ≥ n (exact ⌈n^(1/3)⌉; ``math.ceil(27 ** (1/3))``
  would give 4); ``CircularBlockBootstrap(block, pairs, seed=0)``, 2,000 resamples via
  ``.bootstrap``, each resample's Pearson correlation (two-pass), ``np.quantile(..., [0.025, 0.975])``.
  ``pairs`` are the (n, 2) window of (a, b) returns ending at the episode's ``date`` row.
* ``indistinguishable``: among the observations strictly before ``date`` (all history, ``--since``
  ignored), those with |atanh(r) − atanh(r')| < Z95·√(2/(n−3)), on either side of r.
  ``{count, first, last, share}``, ``share`` = count / #earlier observations as a fraction (null when
  there is no earlier observation), ``first``/``last`` null when count is 0.

What came after

* Horizon date = first close date + ``pd.DateOffset(months=h)`` (day clipped to the month's end).
  Forward return = P(last close ≤ horizon date) / P(first close > start) − 1 in base currency, using
  the asset's own trading dates up to ``end``.  Null when there is no close after ``start``, when the
  horizon date is after ``end``, or when a price cannot be converted (no FX known yet).
* Event study, per asset and horizon: episodes (the listed ones) with a known return, in ``start``
  order; independent = greedy: the first, then each whose ``start`` ≥ the last kept ``start`` + h
  months.  ``mean`` = mean over the k independent ones (null when k = 0); ``ci_low``/``ci_high`` =
  mean ∓ t(0.975, k−1)·sd/√k, sd ddof 1, null when k < 2.  ``n_episodes`` = all with a known return.
  Other dates: observation dates ≥ ``--since`` (all without it) outside every episode's
  [start, end] (listed or not), with a known return (first close after the date).  ``others_mean``
  over all of them (null if none).  ``difference`` = mean − others_mean (null if either is null);
  Welch bounds from se₁ = sd/√k (independent episodes) and se₂ = sd/√m of the greedy
  non-overlapping sample of other dates (date ≥ last kept + h months), ν = min(k, m) − 1 (the
  conservative degrees of freedom); null when k < 2 or m < 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from arch.bootstrap import CircularBlockBootstrap
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

HORIZONS = (1, 3, 6, 12)
Z95 = 1.959963984540054  # Φ⁻¹(0.975), as docs/episodes.md states it
MIN_HISTORY = 250
DEFAULT_GAP = 21
BOOT_REPS = 2000
DEFAULT_FX_BAND = (7.74, 7.86)
MARKET_CURRENCY = {"us": "USD", "hk": "HKD"}


# ----------------------------------------------------------------------------- config and data


@dataclass(frozen=True)
class Asset:
    name: str
    symbol: str
    market: str
    currency: str
    price_col: str


@dataclass
class Config:
    name: str
    base: str
    assets: dict[str, Asset]
    signals: dict[str, dict[str, Any]]
    traded: set[str]
    fx_symbol: str
    fx_band: tuple[float, float] | None


@dataclass
class Market:
    config: Config
    closes: dict[str, pd.Series]  # each asset's trading closes, local currency, up to ``end``
    timeline: pd.DatetimeIndex
    fx: pd.Series | None
    end: pd.Timestamp
    cache: dict[str, Any] = field(default_factory=dict)


def symbol_file(symbol: str) -> str:
    """``^GSPC`` → ``GSPC.csv``, ``2800.HK`` → ``2800_HK.csv``, ``HKD=X`` → ``HKD_X.csv``."""
    return symbol.lstrip("^").replace(".", "_").replace("=", "_") + ".csv"


def read_closes(path: Path, column: str = "Close") -> pd.Series:
    """A Yahoo-style CSV's price column: empty, non-positive and weekend rows dropped, sorted, unique."""
    frame = pd.read_csv(path, index_col="Date", parse_dates=["Date"])
    prices = pd.to_numeric(frame[column], errors="coerce").astype(float)
    prices = prices[np.isfinite(prices) & (prices > 0)]
    prices = prices[prices.index.day_of_week < 5].sort_index()
    return prices[~prices.index.duplicated(keep="first")]


def clean_fx(fx: pd.Series, band: tuple[float, float] | None) -> pd.Series:
    """Closes outside the band dropped as bad ticks (the previous close then carries forward)."""
    if band is None:
        return fx
    return fx[(fx >= band[0]) & (fx <= band[1])]


def fx_asof(fx: pd.Series, dates: pd.DatetimeIndex) -> np.ndarray:
    """The last FX close on or before each date (NaN before the first)."""
    pos = np.searchsorted(fx.index.values, dates.values, side="right") - 1
    out = np.full(len(dates), np.nan)
    ok = pos >= 0
    out[ok] = fx.values[pos[ok]]
    return out


def _asset(name: str, spec: dict[str, Any], default_price: str) -> Asset:
    price = spec.get("price") or default_price
    market = spec["market"]
    currency = spec.get("currency") or MARKET_CURRENCY[market]
    return Asset(name, spec["symbol"], market, currency, "Adj Close" if price == "adj_close" else "Close")


def _traded(raw: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for rule in raw.get("rules") or []:
        names |= set((rule.get("weights") or rule.get("otherwise") or {}).keys())
    for bench in raw.get("benchmarks") or []:
        names |= set((bench.get("weights") or {}).keys())
    return names


def load_config(path: Path) -> Config:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    data = raw.get("data") or {}
    assets = {n: _asset(n, s, data.get("price") or "close") for n, s in raw["assets"].items()}
    band = data.get("fx_band", DEFAULT_FX_BAND)
    return Config(
        name=raw["name"],
        base=raw.get("base_currency") or "USD",
        assets=assets,
        signals=raw.get("signals") or {},
        traded=_traded(raw),
        fx_symbol=data.get("fx_symbol") or "HKD=X",
        fx_band=None if band is None else (float(band[0]), float(band[1])),
    )


def fx_needed(config: Config) -> bool:
    foreign = {n for n, a in config.assets.items() if a.currency != config.base}
    if foreign & config.traded:
        return True
    return any(
        s.get("fn") == "rolling_corr" and s.get("currency") == "base" and {s.get("a"), s.get("b")} & foreign
        for s in config.signals.values()
    )


def load_market(config: Config, data_dir: Path) -> Market:
    closes = {n: read_closes(Path(data_dir) / symbol_file(a.symbol), a.price_col) for n, a in config.assets.items()}
    fx = None
    if any(a.currency != config.base for a in config.assets.values()):  # forward returns are in base currency
        fx = clean_fx(read_closes(Path(data_dir) / symbol_file(config.fx_symbol)), config.fx_band)
    series = [*closes.values(), *([fx] if fx is not None and fx_needed(config) else [])]
    start = max(s.index[0] for s in series)
    end = min(s.index[-1] for s in series)
    closes = {n: s[s.index <= end] for n, s in closes.items()}
    union = pd.DatetimeIndex(sorted(set().union(*(s.index for s in closes.values()))))
    union = union[(union >= max(s.index[0] for s in closes.values())) & (union <= end)]
    first = max(0, int(union.searchsorted(start)) - config_warmup(config) - 1)
    return Market(config, closes, union[first:], fx, end)


def config_warmup(config: Config) -> int:
    """The longest warm-up of the config's ``rolling_corr`` signals (other signals are not modelled)."""
    return max((warmup_rows(s) for s in config.signals.values() if s.get("fn") == "rolling_corr"), default=0)


def to_base(market: Market, asset: str, prices: pd.Series) -> pd.Series:
    """Prices of ``asset`` (indexed by the dates they are valued on) in the config's base currency."""
    currency, base = market.config.assets[asset].currency, market.config.base
    if market.fx is None or currency == base:
        return prices
    rate = fx_asof(market.fx, pd.DatetimeIndex(prices.index))
    factor = 1.0 / rate if currency == "HKD" else rate
    return prices * factor


# ----------------------------------------------------------------------------- rolling_corr


def rows_of(market: Market, spec: dict[str, Any]) -> pd.DatetimeIndex:
    if spec.get("dates", "union") == "common":
        a, b = market.closes[spec["a"]].index, market.closes[spec["b"]].index
        common = a.intersection(b)
        return common[(common >= market.timeline[0]) & (common <= market.end)]
    return market.timeline


def row_returns(market: Market, asset: str, rows: pd.DatetimeIndex, currency: str) -> pd.Series:
    prices = market.closes[asset].reindex(market.timeline.union(rows)).ffill().reindex(rows)
    if currency == "base":
        prices = to_base(market, asset, prices)
    return np.log(prices).diff()


def paired_returns(market: Market, spec: dict[str, Any]) -> pd.DataFrame:
    """The (a, b) return pairs of each row, paired as ``align`` says."""
    rows = rows_of(market, spec)
    currency = spec.get("currency", "local")
    ra = row_returns(market, spec["a"], rows, currency)
    rb = row_returns(market, spec["b"], rows, currency)
    if spec.get("align", "async") == "async":
        ma, mb = (market.config.assets[spec[k]].market for k in ("a", "b"))
        ra = ra.shift(1) if ma == "us" or ma == mb else ra
        rb = rb.shift(1) if mb == "us" or ma == mb else rb
    return pd.DataFrame({"a": ra, "b": rb}, index=rows)


def rolling_pearson(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """Two-pass Pearson correlation of each trailing window; NaN with a gap or a flat window."""
    out = np.full(len(x), np.nan)
    if len(x) < window:
        return out
    xw, yw = sliding_window_view(x, window), sliding_window_view(y, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        xd = xw - xw.mean(axis=1, keepdims=True)
        yd = yw - yw.mean(axis=1, keepdims=True)
        den = np.sqrt((xd * xd).sum(axis=1) * (yd * yd).sum(axis=1))
        r = (xd * yd).sum(axis=1) / den
    r[~np.isfinite(r)] = np.nan
    out[window - 1 :] = r
    return out


def warmup_rows(spec: dict[str, Any]) -> int:
    """``window``, + 1 for ``async``, + ``window // 4 + 10`` for ``dates: common`` (docs/signals.md)."""
    window = int(spec["window"])
    extra = window // 4 + 10 if spec.get("dates", "union") == "common" else 0
    return window + (spec.get("align", "async") == "async") + extra


def signal_values(market: Market, name: str) -> tuple[pd.Series, pd.DataFrame]:
    """The signal on the union timeline, and the pairs frame it was computed from."""
    key = f"signal:{name}"
    if key not in market.cache:
        spec = market.config.signals[name]
        if spec.get("fn") != "rolling_corr" or spec.get("on", "returns") != "returns":
            raise NotImplementedError("the reference covers rolling_corr of returns only")
        pairs = paired_returns(market, spec)
        values = pd.Series(rolling_pearson(pairs["a"].values, pairs["b"].values, int(spec["window"])), pairs.index)
        on_timeline = values.reindex(market.timeline, method="ffill")
        on_timeline.iloc[: warmup_rows(spec)] = np.nan
        market.cache[key] = (on_timeline, pairs)
    return market.cache[key]


def window_pairs(pairs: pd.DataFrame, date: pd.Timestamp, window: int) -> np.ndarray:
    pos = pairs.index.get_loc(date)
    return pairs.iloc[pos - window + 1 : pos + 1][["a", "b"]].to_numpy()


# ----------------------------------------------------------------------------- observations, extremeness


def observations(values: pd.Series) -> pd.Series:
    """Finite values that differ from the previous date's value."""
    prev = values.shift(1)
    keep = np.isfinite(values.values) & ~(values.values == prev.values)
    return values[keep]


def extremeness(values: np.ndarray, low: bool) -> dict[str, np.ndarray]:
    """rank, percentile and the index of most_extreme_since (−1: none) of every observation."""
    s = values if low else -values
    n = len(values)
    rank, since = np.empty(n, dtype=int), np.full(n, -1)
    pct = np.empty(n)
    for t in range(n):
        earlier = s[:t]
        rank[t] = 1 + int((earlier < s[t]).sum())
        pct[t] = 100 * int((values[: t + 1] <= values[t]).sum()) / (t + 1)
        hits = np.flatnonzero(earlier <= s[t])
        since[t] = hits[-1] if len(hits) else -1
    return {"rank": rank, "percentile": pct, "since": since}


def qualifying(
    values: np.ndarray, pct: np.ndarray, low: bool, threshold: float | None, percentile: float
) -> np.ndarray:
    if threshold is not None:
        return values <= threshold if low else values >= threshold
    mask = pct <= percentile if low else pct >= percentile
    mask[:MIN_HISTORY] = False
    return mask


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each maximal run of True."""
    out, start = [], None
    for i, q in enumerate(mask):
        if q and start is None:
            start = i
        if not q and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(mask) - 1))
    return out


def merge_runs(spans: list[tuple[int, int]], mask: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Runs separated by fewer than ``gap`` non-qualifying observations become one episode."""
    merged: list[tuple[int, int]] = []
    for first, last in spans:
        if merged and int((~mask[merged[-1][1] + 1 : first]).sum()) < gap:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


# ----------------------------------------------------------------------------- uncertainty


def fisher_interval(r: float, n: int) -> tuple[float, float]:
    z, half = math.atanh(r), Z95 / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def block_length(n: int) -> int:
    """⌈n^(1/3)⌉ computed exactly."""
    b = 1
    while b**3 < n:
        b += 1
    return b


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Two-pass Pearson correlation of each row of x against the same row of y."""
    xd = x - x.mean(axis=1, keepdims=True)
    yd = y - y.mean(axis=1, keepdims=True)
    return (xd * yd).sum(axis=1) / np.sqrt((xd * xd).sum(axis=1) * (yd * yd).sum(axis=1))


def bootstrap_interval(pairs: np.ndarray) -> tuple[float, float]:
    bs = CircularBlockBootstrap(block_length(len(pairs)), pairs, seed=0)
    samples = np.stack([pos[0] for pos, _ in bs.bootstrap(BOOT_REPS)])
    low, high = np.quantile(pearson_rows(samples[:, :, 0], samples[:, :, 1]), [0.025, 0.975])
    return float(low), float(high)


def indistinguishable(earlier: pd.Series, r: float, n: int) -> dict[str, Any]:
    with np.errstate(divide="ignore"):
        dist = np.abs(np.arctanh(earlier.values) - math.atanh(r))
    hits = earlier.index[dist < Z95 * math.sqrt(2 / (n - 3))]
    return {
        "count": len(hits),
        "first": iso(hits[0]) if len(hits) else None,
        "last": iso(hits[-1]) if len(hits) else None,
        "share": len(hits) / len(earlier) if len(earlier) else None,
    }


# ----------------------------------------------------------------------------- forward returns


def iso(date: pd.Timestamp | None) -> str | None:
    return None if date is None else pd.Timestamp(date).strftime("%Y-%m-%d")


def plus_months(date: pd.Timestamp, months: int) -> pd.Timestamp:
    return pd.Timestamp(date) + pd.DateOffset(months=months)


def plus_months_array(dates: pd.DatetimeIndex, months: int) -> np.ndarray:
    """``plus_months`` of every date, vectorised: same day of the month, clipped to the month's end."""
    dates = pd.DatetimeIndex(dates)
    total = dates.year.values * 12 + dates.month.values - 1 + months
    firsts = pd.to_datetime(pd.DataFrame({"year": total // 12, "month": total % 12 + 1, "day": 1}))
    days = np.minimum(dates.day.values, firsts.dt.days_in_month.values)
    return (firsts + pd.to_timedelta(days - 1, unit="D")).values.astype("datetime64[ns]")


def base_closes(market: Market, asset: str) -> pd.Series:
    key = f"closes:{asset}"
    if key not in market.cache:
        market.cache[key] = to_base(market, asset, market.closes[asset])
    return market.cache[key]


def forward_returns(prices: pd.Series, starts: pd.DatetimeIndex, months: int, end: pd.Timestamp) -> np.ndarray:
    """Return from the first close after each start to the last close on or before that date + months."""
    dates, values = prices.index.values.astype("datetime64[ns]"), prices.values
    out = np.full(len(starts), np.nan)
    first = np.searchsorted(dates, pd.DatetimeIndex(starts).values.astype("datetime64[ns]"), side="right")
    ok = first < len(dates)
    horizon = plus_months_array(pd.DatetimeIndex(dates[first[ok]]), months)
    last = np.searchsorted(dates, horizon, side="right") - 1
    known = horizon <= np.datetime64(pd.Timestamp(end).to_datetime64(), "ns")
    rets = np.where(known, values[last] / values[first[ok]] - 1, np.nan)
    out[ok] = rets
    return out


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def forward_of(market: Market, start: pd.Timestamp) -> dict[str, dict[str, float | None]]:
    starts = pd.DatetimeIndex([start])
    return {
        asset: {f"{h}m": _num(forward_returns(base_closes(market, asset), starts, h, market.end)[0]) for h in HORIZONS}
        for asset in market.config.assets
    }


# ----------------------------------------------------------------------------- event study


def non_overlapping(dates: list[pd.Timestamp], months: int) -> list[int]:
    """Greedy in date order: keep a date on or after the last kept date + months."""
    if not len(dates):
        return []
    stamps = pd.DatetimeIndex(dates).values.astype("datetime64[ns]")
    horizons = plus_months_array(pd.DatetimeIndex(dates), months)
    kept = [0]
    for i in range(1, len(stamps)):
        if stamps[i] >= horizons[kept[-1]]:
            kept.append(i)
    return kept


def mean_interval(x: np.ndarray) -> tuple[float | None, float | None, float | None]:
    k = len(x)
    if k == 0:
        return None, None, None
    mean = float(np.mean(x))
    if k < 2:
        return mean, None, None
    half = stats.t.ppf(0.975, k - 1) * np.std(x, ddof=1) / math.sqrt(k)
    return mean, float(mean - half), float(mean + half)


def welch_half(x: np.ndarray, y: np.ndarray) -> float | None:
    k, m = len(x), len(y)
    if k < 2 or m < 2:
        return None
    v1, v2 = np.var(x, ddof=1) / k, np.var(y, ddof=1) / m
    return float(stats.t.ppf(0.975, min(k, m) - 1) * math.sqrt(v1 + v2))


def other_dates(obs_dates: pd.DatetimeIndex, spans: list[tuple[pd.Timestamp, pd.Timestamp]], since) -> pd.DatetimeIndex:
    keep = np.ones(len(obs_dates), dtype=bool)
    if since is not None:
        keep &= obs_dates >= pd.Timestamp(since)
    for start, end in spans:
        keep &= ~((obs_dates >= start) & (obs_dates <= end))
    return obs_dates[keep]


def study_cell(episode_returns: list[tuple[pd.Timestamp, float]], others: pd.Series, months: int) -> dict[str, Any]:
    starts = [s for s, _ in episode_returns]
    indep = np.array([episode_returns[i][1] for i in non_overlapping(starts, months)])
    mean, ci_low, ci_high = mean_interval(indep)
    sample = others.values[non_overlapping(list(others.index), months)]
    others_mean = float(others.mean()) if len(others) else None
    difference = None if mean is None or others_mean is None else mean - others_mean
    half = welch_half(indep, sample)
    bounds = (None, None) if half is None or difference is None else (difference - half, difference + half)
    return {
        "mean": mean,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "n_episodes": len(episode_returns),
        "n_independent": len(indep),
        "others_mean": others_mean,
        "n_others": len(others),
        "difference": difference,
        "difference_low": bounds[0],
        "difference_high": bounds[1],
    }


def event_study(market: Market, episodes: list[dict[str, Any]], others: pd.DatetimeIndex) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for asset in market.config.assets:
        summary[asset] = {}
        for h in HORIZONS:
            known = [
                (pd.Timestamp(e["start"]), e["forward"][asset][f"{h}m"])
                for e in episodes
                if e["forward"][asset][f"{h}m"] is not None
            ]
            rets = pd.Series(forward_returns(base_closes(market, asset), others, h, market.end), others).dropna()
            summary[asset][f"{h}m"] = study_cell(known, rets, h)
    return summary


# ----------------------------------------------------------------------------- the command


@dataclass
class Request:
    config: Path
    data_dir: Path
    signal: str
    low: bool = True
    threshold: float | None = None
    percentile: float | None = None
    since: str | None = None
    gap: int = DEFAULT_GAP


def episode_core(obs: pd.Series, ext: dict, run: tuple[int, int], low: bool) -> dict[str, Any]:
    """The episode's dates and its most extreme observation's value, rank, percentile and record."""
    first, last = run
    s = obs.values if low else -obs.values
    at = first + int(np.argmin(s[first : last + 1]))
    since = ext["since"][at]
    return {
        "date": iso(obs.index[at]),
        "value": float(obs.values[at]),
        "rank": int(ext["rank"][at]),
        "percentile": float(ext["percentile"][at]),
        "most_extreme_since": iso(obs.index[since]) if since >= 0 else None,
        "record": bool(since < 0),
        "start": iso(obs.index[first]),
        "end": iso(obs.index[last]),
        "observations": last - first + 1,
    }


def uncertainty(market: Market, signal: str, obs: pd.Series, date: str) -> dict[str, Any]:
    """Fisher interval, block-bootstrap interval and the indistinguishable earlier observations."""
    n = int(market.config.signals[signal]["window"])
    at = obs.index.get_loc(pd.Timestamp(date))
    r = float(obs.values[at])
    _, pairs = signal_values(market, signal)
    ci, boot = fisher_interval(r, n), bootstrap_interval(window_pairs(pairs, obs.index[at], n))
    return {
        "ci_low": ci[0],
        "ci_high": ci[1],
        "bootstrap_low": boot[0],
        "bootstrap_high": boot[1],
        "indistinguishable": indistinguishable(obs.iloc[:at], r, n),
    }


def episode_record(market: Market, req: Request, obs: pd.Series, ext: dict, run: tuple[int, int]) -> dict[str, Any]:
    core = episode_core(obs, ext, run, req.low)
    return {
        **core,
        **uncertainty(market, req.signal, obs, core["date"]),
        "forward": forward_of(market, pd.Timestamp(core["start"])),
        "config": market.config.name,
        "signal": req.signal,
        "direction": "low" if req.low else "high",
        "synthetic": False,
    }


_MARKETS: dict[tuple[str, str], Market] = {}


def market_for(config: Path, data_dir: Path) -> Market:
    key = (str(Path(config).resolve()), str(Path(data_dir).resolve()))
    if key not in _MARKETS:
        _MARKETS[key] = load_market(load_config(config), data_dir)
    return _MARKETS[key]


def episodes(req: Request) -> dict[str, Any]:
    """The stored document of ``seesaw episodes`` as the reference computes it (the documented fields)."""
    market = market_for(req.config, req.data_dir)
    values, _ = signal_values(market, req.signal)
    obs = observations(values)
    ext_key = f"ext:{req.signal}:{req.low}"
    if ext_key not in market.cache:
        market.cache[ext_key] = extremeness(obs.values, req.low)
    ext = market.cache[ext_key]
    percentile = req.percentile if req.percentile is not None else (5.0 if req.low else 95.0)
    mask = qualifying(obs.values, ext["percentile"], req.low, req.threshold, percentile)
    all_runs = merge_runs(runs(mask), mask, req.gap)
    spans = [(obs.index[a], obs.index[b]) for a, b in all_runs]
    listed = [episode_record(market, req, obs, ext, run) for run in all_runs]
    if req.since is not None:
        listed = [e for e in listed if e["date"] >= req.since]
    others = other_dates(pd.DatetimeIndex(obs.index), spans, req.since)
    kind = "value" if req.threshold is not None else "percentile"
    return {
        "config": market.config.name,
        "signal": req.signal,
        "direction": "low" if req.low else "high",
        "threshold": {"kind": kind, "value": req.threshold if req.threshold is not None else percentile},
        "synthetic": False,
        "observations": {"count": len(obs), "first": iso(obs.index[0]), "last": iso(obs.index[-1])},
        "episodes": listed,
        "summary": event_study(market, listed, others),
    }
