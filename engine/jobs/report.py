"""The report jobs (``seesaw report``, ``compare --format html``, ``sweep --report`` and ``--heatmap``,
``walkforward --report``).

Each reads what its page shows from the results store, builds the page (pure: :mod:`engine.render.html`)
and writes it with :func:`engine.render.html.files.write_report`.
The checks that come before any work (output directory, Chromium for ``--png``) are
:func:`engine.render.html.files.report_target`, called by the command before the sweep runs.

A sweep report shows a walk-forward when one of the same config and data is stored
(:func:`find_walkforward`): the newest complete run named ``<config>_walkforward`` whose resolved
config is the sweep's (but for its name) and whose data fingerprint is the sweep panel's over the
walk-forward's dates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from engine.compare import Comparison
from engine.errors import StoreError
from engine.jobs.common import RunOptions, catalog_for
from engine.jobs.run import resolved_config
from engine.jobs.run_assumptions import caveat_lines
from engine.output_paths import check_output
from engine.render.html import compare_report, run_report, sweep_report, walkforward_report
from engine.render.html.files import report_target, write_report
from engine.render.tearsheet_text import tearsheet_text
from engine.store.last_run import last_run_id
from engine.store.rundir import load_run, write_atomic
from engine.store.sweeps import SweepOutcome

__all__ = [
    "compare_report_job",
    "find_walkforward",
    "heatmap_html",
    "report_job",
    "report_text_job",
    "sweep_report_job",
    "walkforward_report_job",
]


def _same_data(outcome: SweepOutcome, manifest: Mapping[str, Any]) -> bool:
    """Whether the sweep's panel, from the walk-forward run's first date, has that run's data fingerprint."""
    if outcome.loaded is None:
        return False
    panel = outcome.loaded.panel
    first = pd.Timestamp(manifest["start"])
    i = int(panel.dates.searchsorted(first))
    if i == len(panel.dates) or panel.dates[i] != first:
        return False
    return panel.slice(i).fingerprint == manifest["data_fingerprint"]


def find_walkforward(outcome: SweepOutcome, opts: Any, env: Mapping[str, str]) -> Path | None:
    """The run directory of the newest stored walk-forward of the sweep's config and data (module docstring)."""
    name = f"{outcome.cfg.name}_walkforward"
    _, rows = catalog_for(opts, env).query(
        "SELECT run_dir FROM runs WHERE config_name = ? AND status = 'complete' ORDER BY created_at DESC, run_id DESC",
        [name],
    )
    want = resolved_config(outcome.cfg.model_copy(update={"name": name}))
    for (run_dir,) in rows:
        path = Path(run_dir)
        try:
            config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8"))
            manifest = json.loads((path / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError):  # a run directory removed or damaged since it was indexed
            continue
        if config == want and _same_data(outcome, manifest):
            return path
    return None


def sweep_report_job(
    outcome: SweepOutcome,
    rows: pd.DataFrame,
    opts: Any,
    *,
    env: Mapping[str, str],
    sort: str,
    reps: int,
    max_rows: int | None,
    output: Path,
    png_dir: Path | None = None,
    browser: str | None = None,
) -> list[Path]:
    """``seesaw sweep --report``: the sweep's report (+ PNGs with ``png_dir``); the files written.

    ``rows``: the top rows as printed (:func:`engine.jobs.sweep.sweep_top`); ``max_rows``: rows of the table of
    all combinations (None: :data:`engine.render.html.sweep.DEFAULT_TABLE_ROWS`); ``browser``: from ``report_target``.
    """

    try:
        config_text = (outcome.sweep_dir / "config.yaml").read_text(encoding="utf-8")
    except OSError as exc:
        why = exc.strerror or exc
        raise StoreError(f"cannot read the sweep's config: {why}", file=str(outcome.sweep_dir)) from None
    found = find_walkforward(outcome, opts, env)
    report = sweep_report(
        outcome,
        rows,
        sort=sort,
        reps=reps,
        config_text=config_text,
        walkforward=load_run(found) if found is not None else None,
        max_rows=max_rows,
        caveats=caveat_lines(outcome),
    )
    return write_report(report, output, png_dir=png_dir, browser=browser)


def walkforward_report_job(
    run_dir: Path, *, output: Path, png_dir: Path | None = None, browser: str | None = None
) -> list[Path]:
    """``seesaw walkforward --report``: the report of the stored walk-forward run (+ PNGs); the files written."""

    return write_report(walkforward_report(load_run(run_dir)), output, png_dir=png_dir, browser=browser)


def report_job(
    run: str, opts: RunOptions, *, env: Mapping[str, str], output: Path, png_dir: Path | None = None
) -> list[Path]:
    """``seesaw report``: the HTML report of one stored run, written to ``output`` (+ PNGs); the files written.

    ``run``: a run id (or a unique prefix of one), or ``latest`` (:func:`_run_dir`).
    """

    browser = report_target(output, png_dir, env)
    return write_report(run_report(load_run(_run_dir(run, opts, env))), output, png_dir=png_dir, browser=browser)


def _run_dir(run: str, opts: RunOptions, env: Mapping[str, str]) -> Path:
    """The stored run ``run`` names: a run id, a unique prefix of one, or ``latest``: the last config's run of the
    last ``run`` or ``compare`` of configs, or of the last ``walkforward``, computed or reused, while it is stored
    (engine/store/last_run.py), else the most recently created one."""
    catalog = catalog_for(opts, env)
    if run != "latest":
        try:
            return catalog.select_one(run)
        except StoreError as err:
            given = run.strip()
            _, runs = catalog.query("SELECT run_id FROM runs WHERE starts_with(run_id, ?)", [given])
            _, sweeps = catalog.query(
                "SELECT config_name, data_source, simulator, sweep_dir FROM sweeps WHERE starts_with(sweep_id, ?)",
                [given],
            )
            if given and sweeps and not runs:  # a sweep's id where a run's is asked for (not a prefix of several runs)
                made = ""
                if len(sweeps) == 1:
                    name, source, engine, sweep_dir = sweeps[0]
                    made = f" (config {name}, --source {source}, --engine {engine}{_sweep_dates(Path(sweep_dir))})"
                raise StoreError(
                    f"{run!r} is a stored sweep's id, not a run's: a sweep's report is written by seesaw sweep "
                    "CONFIG --report FILE, which shows the stored sweep again given the options it was made "
                    f"with{made}",
                    file=err.file,
                ) from None
            raise
    noted = last_run_id(opts.results_dir)
    if noted is not None:  # that run exactly (an id is also the prefix of its "-2" twin's), while it is stored
        catalog.check_stored()
        _, rows = catalog.query("SELECT run_dir FROM runs WHERE run_id = ? AND status = 'complete'", [noted])
        if rows:
            return Path(rows[0][0])
    return catalog.latest()


def _sweep_dates(sweep_dir: Path) -> str:
    """``, --start S --end E``: the dates a stored sweep was made with (its resolved ``config.yaml``'s), each
    given only when set; nothing when that file cannot be read."""
    try:
        data = yaml.safe_load((sweep_dir / "config.yaml").read_text(encoding="utf-8"))["data"]
        dates = {key: data[key] for key in ("start", "end") if data.get(key) is not None}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        return ""
    return "".join(f", --{key} {value}" for key, value in dates.items())


def report_text_job(
    run: str, opts: RunOptions, *, env: Mapping[str, str], output: Path | None = None, width: int = 100
) -> str:
    """``seesaw report --format text``: the run's headline metrics and tear sheet as text ``width`` columns
    wide (:func:`engine.render.tearsheet_text.tearsheet_text`), also written to ``output`` when given."""
    if output is not None:
        check_output(output)  # not over the catalog or a stored run's files, before the run is read
    text = tearsheet_text(load_run(_run_dir(run, opts, env)), width)
    if output is not None:
        try:
            write_atomic(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        except OSError as exc:
            raise StoreError(f"cannot write the report: {exc.strerror or exc}", file=str(output)) from None
    return text


def compare_report_job(
    comparison: Comparison,
    rows: Sequence[dict[str, Any]],
    reps: int,
    *,
    env: Mapping[str, str],
    output: Path,
    png_dir: Path | None = None,
) -> list[Path]:
    """``seesaw compare --format html``: the comparison's report written to ``output`` (+ PNGs)."""
    browser = report_target(output, png_dir, env)
    return write_report(compare_report(comparison, rows, reps), output, png_dir=png_dir, browser=browser)


def heatmap_html(outcome: SweepOutcome, x: str, y: str, metric: str, output: Path) -> None:
    """Write the heatmap of ``metric`` over sweep keys ``x`` and ``y`` to ``output`` (:func:`heatmap_page`)."""
    from engine.render.heatmap import heatmap_page

    html = heatmap_page(outcome, x, y, metric)
    try:
        write_atomic(output, lambda p: p.write_text(html, encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot write the heatmap: {exc.strerror or exc}", file=str(output)) from None
