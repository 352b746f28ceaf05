"""``seesaw audit``: read configs and their data as ``run`` does, and audit each for look-ahead (engine/audit.py).

A signal from an installed package that the signal contract already catches looking ahead
(:class:`~strategies.errors.SignalContractError`) is reported as that signal's failed check, not as a
mistake in the config: the audit exists to find it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.audit import CUTS, Audit, Check, Cut, audit
from engine.jobs.common import RunOptions, configs_with_data
from strategies.errors import SignalContractError

__all__ = ["AuditReport", "audit_configs", "audit_json"]


@dataclass(frozen=True)
class AuditReport:
    """One config's audit, with the file it came from and whether its data is synthetic."""

    file: str
    audit: Audit
    synthetic: bool
    contract: str | None = None  # the signal contract's message, when it refused a signal outright
    asked: int = CUTS  # the dates asked to cut at (fewer are cut when the run has fewer dates)


def audit_configs(
    paths: Sequence[str | Path], opts: RunOptions, *, env: Mapping[str, str], cuts: int = CUTS
) -> list[AuditReport]:
    """Validate every config first, then load its data and audit it."""
    out = []
    for file, cfg, _, loaded, _notes in configs_with_data(paths, opts, env):
        try:
            found = audit(cfg, loaded, cuts=cuts)
            out.append(AuditReport(str(file), found, loaded.panel.synthetic, asked=cuts))
        except SignalContractError as err:
            name = err.signal or "a signal from another package"
            failed = Check("signal", name, Cut(-1, "", "signal contract"), None)
            found = Audit(cfg.name, list(loaded.panel.dates), [], [failed])
            out.append(AuditReport(str(file), found, loaded.panel.synthetic, contract=err.one_line(), asked=cuts))
    return out


def audit_json(reports: Sequence[AuditReport]) -> list[dict[str, Any]]:
    """One object per config: ``config``, ``file``, ``passed``, ``cuts`` (and ``cuts_asked``, the dates asked
    for), ``checks`` and the ``control``."""
    return [
        {
            "config": r.audit.config,
            "file": r.file,
            "synthetic": r.synthetic,
            "passed": r.audit.passed,
            "cuts": [_cut(c, r.audit.dates) for c in r.audit.cuts],
            "cuts_asked": r.asked,
            "checks": [_check(c, r.audit.dates) for c in r.audit.checks],
            "control": {
                "signal": r.audit.control_signal,
                "caught": r.audit.control_caught,
                "checks": [_check(c, r.audit.dates) for c in r.audit.control],
            },
            "contract": r.contract,
        }
        for r in reports
    ]


def _cut(cut: Cut, dates: list) -> dict[str, Any]:
    date = str(dates[cut.row].date()) if 0 <= cut.row < len(dates) else None
    return {"date": date, "market": cut.market or None, "kind": cut.kind}


def _check(c: Check, dates: list) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "name": c.name,
        "passed": c.passed,
        "cut": None if c.failed_at is None else _cut(c.failed_at, dates),
        "first_changed": None if c.row is None else str(dates[c.row].date()),
    }
