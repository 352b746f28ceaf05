"""``seesaw compare``: run (or reuse) configs, or select stored runs, and compare them on a common window."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from engine import expr
from engine.compare import Comparison, compare_runs, is_benchmark_label
from engine.config import StrategyConfig, load_config
from engine.config.values import iso_date
from engine.currency import base_currency, in_currency, majority_currency
from engine.data.panel import load_for_config
from engine.errors import ExpressionError, UserError
from engine.jobs.common import RunOptions, catalog_for, data_provider, resolve, resolved_configs
from engine.jobs.run import ConfigRun, run_configs
from engine.rules import condition_mask
from engine.signals import compute_signals, signal_lookback
from engine.store.rundir import StoredRun, load_run
from strategies.errors import SignalError

__all__ = ["compare_job", "one_currency", "parse_period", "refuse_run_options", "regime_series"]


def parse_period(text: str | None) -> tuple[dt.date | None, dt.date | None] | None:
    """``2025-01-20:2025-03-17`` (either side may be empty) -> (start, end)."""
    if text is None:
        return None
    left, sep, right = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return (iso_date(left) if left else None, iso_date(right) if right else None)
    except ValueError:
        raise UserError(f"--period: expected START:END as YYYY-MM-DD:YYYY-MM-DD, got {text!r}") from None


#: The options that say where data comes from: with a regime config they load its data, stored runs or not.
_DATA_OPTIONS = ("source", "data_dir", "cache_dir", "offline")


def refuse_run_options(runs: str | None, style: str, *, regime: bool = False, **options: object) -> None:
    """Refuse with stored runs (``runs``) the ``options`` given (not None or False) that only running configs reads
    (UserError): the stored runs keep the data, dates and settings they were run with.  ``style``: how the caller
    spells an option, ``"--"`` (``--data-dir``, the command line) or ``"="`` (``data_dir=``, the Python API).
    ``regime``: a regime config is given, whose data the data options (:data:`_DATA_OPTIONS`) load."""
    named = [
        name
        for name, value in options.items()
        if value is not None and value is not False and not (regime and name in _DATA_OPTIONS)
    ]
    if runs is None or not named:
        return
    given = [f"--{name.replace('_', '-')}" if style == "--" else f"{name}=" for name in named]
    cut = "--period START:END" if style == "--" else "period="
    hint = f" ({cut} compares a part of the stored runs)" if {"start", "end"} & set(named) else ""
    verb = "has" if len(given) == 1 else "have"
    raise UserError(
        f"{' and '.join([', '.join(given[:-1]), given[-1]] if len(given) > 1 else given)} {verb} no effect with "
        f"{'--runs' if style == '--' else 'runs='}: stored runs are compared as they were run{hint}"
    )


def compare_job(
    paths: Sequence[str | Path],
    opts: RunOptions,
    *,
    runs: str | None,
    env: Mapping[str, str],
    now: dt.datetime,
    period: tuple[dt.date | None, dt.date | None] | None = None,
    benchmark: str | None = None,
    allow_mixed: bool = False,
    by_year: bool = False,
    reps: int = 2000,
    regime: str | None = None,
    regime_config: Path | None = None,
    currency: str | None = None,
) -> tuple[Comparison, list[ConfigRun]]:
    """Run (or reuse) the configs, or select stored runs, and compare them; in ``currency`` when given,
    else in the runs' currency, or the majority's when they differ (:func:`one_currency`)."""

    regime_mask = None
    if regime is not None or regime_config is not None:
        if regime is None or regime_config is None:
            raise UserError("--regime EXPR and --regime-config FILE go together (the file defines the signals)")
        regime_mask = regime_series(regime, regime_config, opts, env)

    if paths and runs:
        raise UserError("give config files or --runs, not both")
    if paths:
        if benchmark is not None:  # a mistake refused before any run is made (or noted as the latest)
            _check_benchmark(benchmark, [cfg for _, cfg in resolved_configs(paths, opts, env)])
        report = run_configs(paths, opts, env=env, now=now)
        run_dirs = [r.run_dir for r in report.runs if r.run_dir is not None]
        config_runs = report.runs
    elif runs:
        run_dirs = catalog_for(opts, env).select(runs)
        config_runs = []
    else:
        raise UserError("nothing to compare: give config files or --runs latest|RUN_ID,...")
    stored, currency_notes = one_currency([load_run(d) for d in run_dirs], currency)
    if regime_mask is not None and not allow_mixed:
        sources = {r.manifest["data_source"] for r in stored}
        if sources != {regime_mask.attrs["source"]}:
            raise UserError(
                f"the regime is computed on {regime_mask.attrs['source']} data but the runs use "
                f"{', '.join(sorted(sources))}; use the same --source, or --allow-mixed"
            )
    comparison = compare_runs(
        stored,
        period=period,
        benchmark=benchmark,
        allow_mixed=allow_mixed,
        by_year=by_year,
        reps=reps,
        regime=regime_mask,
    )
    if currency_notes:
        comparison = dataclasses.replace(comparison, notes=[*comparison.notes, *currency_notes])
    return comparison, config_runs


def _check_benchmark(benchmark: str, configs: Sequence[StrategyConfig]) -> None:
    """Refuse a ``--benchmark`` that names none of the configs' benchmarks (plainly, or as a row label that
    qualifies the name: ``buy & hold US (corr_breakdown)``), as the comparison would after running them."""
    names = list(dict.fromkeys(b.name for cfg in configs for b in cfg.benchmarks))
    if not any(is_benchmark_label(benchmark, n) for n in names):
        raise UserError(f"unknown benchmark {benchmark!r} (known: {', '.join(names) or 'none'})")


def one_currency(stored: Sequence[StoredRun], currency: str | None) -> tuple[list[StoredRun], list[str]]:
    """``stored`` in one currency, ``currency`` or else the majority's when they differ (engine/currency.py),
    and the note saying which runs were converted."""
    target = currency or majority_currency(stored)
    converted = [r for r in stored if base_currency(r) != target]
    if not converted:
        return list(stored), []
    tie = len(converted) * 2 == len(stored)  # as many runs in each of the two currencies
    why = (
        "as --currency asks"
        if currency
        else f"{'USD on a tie' if tie else 'the majority currency'}; --currency USD|HKD chooses"
    )
    names = ", ".join(f"{r.name} ({base_currency(r)})" for r in converted)
    return [in_currency(r, target) for r in stored], [
        f"Shown in {target} ({why}): {names} converted at the HKD=X closes of its own data, so its returns "
        f"include the exchange rate's move; its Sharpe stays in excess of its own cash rate."
    ]


def regime_series(text: str, config_file: Path, opts: RunOptions, env: Mapping[str, str]) -> pd.Series:
    """True on date t where ``text`` held at the close of t-1, from the signals of ``config_file``.

    The expression uses the ``when:`` grammar over that config's signals, with the same NaN rule
    (false while a signal it names is NaN).  Shifting by one date attributes each day's return
    to the regime known before it.
    """

    cfg = resolve(load_config(config_file), opts, env)
    try:
        cond = expr.parse_condition(text, known=[*cfg.signals, *cfg.params])
    except ExpressionError as exc:
        raise exc.located(file="--regime") from None
    if not expr.names(cond) & set(cfg.signals):  # a constant: every date in the regime, or none
        raise UserError(
            f"{text!r} names no signal of {config_file}, so it is the same on every date; name one of its signals"
            f" ({', '.join(cfg.signals) or 'it has none'})",
            file="--regime",
            expected="a condition on a signal of that config",
            got=text,
        )
    loaded = load_for_config(
        data_provider(cfg, opts, env, {}), cfg, warmup_rows=signal_lookback(cfg.resolved_signals) + 1, file=config_file
    )
    panel = loaded.panel
    try:
        signals = compute_signals(cfg.resolved_signals, panel.signal_inputs())
    except SignalError as err:  # a signal from another package breaking its contract
        raise err.located(file=str(config_file)) from None
    mask = condition_mask(cond, {**signals, **cfg.params})
    shifted = pd.Series(np.concatenate([[False], mask[:-1]]), index=panel.dates)
    shifted.attrs["source"] = panel.source
    shifted.attrs["text"] = expr.to_text(cond)
    return shifted
