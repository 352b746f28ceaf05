"""The risk-free rates of a comparison: each row's per-date cash rate, and which rows compare over another.

Each row's Sharpe-type ratios are in excess of its own run's cash rate (zero without one); P(SR>ref)
measures the reference over each strategy's rate, and SPA tests differences of returns
(:mod:`engine.compare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.store.rundir import StoredRun

__all__ = ["other_rate", "other_rate_notes", "risk_free_returns", "risk_free_text", "run_risk_free"]


def other_rate(rf: dict[str, np.ndarray], label: str, reference: str) -> bool:
    """Whether row ``label``'s risk-free returns differ from the reference's on some date (beyond rounding: two
    runs on the same rate series compound it over their own dates, so a day's rate may differ in its last bit)."""
    return reference in rf and not np.allclose(rf[label], rf[reference], rtol=1e-9, atol=1e-15)


def other_rate_notes(rows: Sequence[dict[str, Any]], rf: dict[str, np.ndarray], reference: str) -> list[str]:
    """The strategies whose cash rate is not the reference's: P(SR>ref) measures the reference in excess of each
    one's own rate (a Sharpe ratio in excess of zero is not compared with one in excess of the T-bill rate)."""
    other = [
        r["name"]
        for r in rows
        if r["kind"] == "strategy" and other_rate(rf, r["name"], reference) and r.get("p_beats_ref") is not None
        and r["p_beats_ref"] == r["p_beats_ref"]  # a row without a Sharpe ratio has no P(SR>ref) to explain
    ]  # fmt: skip
    if not other:
        return []
    rate = {r["name"]: r["risk_free"] for r in rows}
    who = "; ".join(f"{name} ({rate[name]})" for name in other)
    return [
        f"P(SR>ref) compares each strategy's Sharpe ratio with the reference's, both in excess of the strategy's own "
        f"cash rate, which for {who} is not the reference's ({rate[reference]}); SPA compares their returns, in "
        "which a common rate cancels."
    ]


def risk_free_returns(
    run: StoredRun, dates: pd.DatetimeIndex, *, starts_at_run: bool, base: pd.Timestamp | None = None
) -> np.ndarray:
    """Per-date risk-free returns on ``dates`` from ``run``'s cash index (zero for a run without one).

    r_f,t = B_t / B_(t-1) - 1, the interest one unit of cash earned on date t; on the first date 0
    when the window starts from the run's initial cash, else from the previous date's index, or from
    ``base``'s, the date whose close every row is measured from (``engine.compare._on_common_dates``).
    """
    if "cash_index" not in run.equity:
        return np.zeros(len(dates))
    index = run.equity["cash_index"]
    b = index.loc[dates].to_numpy(dtype=float)
    pos = int(index.index.get_loc(dates[0]))
    if base is not None:
        before = float(index.loc[base])
    else:
        before = b[0] if starts_at_run or pos == 0 else float(index.iloc[pos - 1])
    return np.concatenate([[b[0] / before - 1.0], b[1:] / b[:-1] - 1.0])


def run_risk_free(run: StoredRun) -> str:
    """What ``run``'s Sharpe ratios are in excess of, in words (``zero``, ``^IRX (a series in percent a year)``)."""
    return str(run.metrics.get("data", {}).get("risk_free") or "zero")


def risk_free_text(runs: Sequence[StoredRun]) -> str:
    """The caption's words for the risk-free rates: one for all runs, or each with the runs that use it."""
    users: dict[str, list[str]] = {}
    for r in runs:
        users.setdefault(run_risk_free(r), []).append(r.name)
    if len(users) == 1:
        return next(iter(users))
    return "; ".join(f"{text} for {', '.join(names)}" for text, names in users.items())
