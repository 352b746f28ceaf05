"""The two stock markets Seesaw knows: their exchange calendars' codes, the order of their closes within one date,
and the currency their listings are quoted in.

Plain data, without pandas or the calendars themselves (:mod:`engine.calendar` has the sessions and the union
timeline), so that checking a config (an asset's default currency) imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MARKETS", "Market"]


@dataclass(frozen=True)
class Market:
    """A stock market Seesaw knows about."""

    key: str
    #: exchange-calendars code of the exchange's sessions.
    calendar: str
    #: Position of the market's close within one calendar date (0 closes first).
    close_order: int
    #: Local closing time and zone, for documentation and outputs.
    close_local: str
    #: Currency its listings are quoted in (an asset's default ``currency``).
    currency: str


MARKETS: dict[str, Market] = {
    "hk": Market("hk", "XHKG", 0, "16:00 Asia/Hong_Kong", "HKD"),
    "us": Market("us", "XNYS", 1, "16:00 America/New_York", "USD"),
}
