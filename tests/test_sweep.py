"""Issue 5: parameter sweeps, vectorised; chunks, resume, Dask; walk-forward without look-ahead.

The contract: a sweep's row for a combination equals a single run of the config with those
values (engine.config.params.apply_combination), however the grid is chunked and wherever it runs.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import re
import shutil
import subprocess
import sys
from html import escape, unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from engine.config import load_config
from engine.config.params import apply_combination, expand_values, grid
from engine.data.panel import LoadedPanel, load_for_config
from engine.data.synthetic import SyntheticProvider
from engine.errors import ConfigError, UserError
from engine.pipeline import required_warmup, run_config
from engine.sweep import chunks, evaluate_chunk, prepare, sweep_warmup
from tests.conftest import REPO
from tests.helpers import MemProvider, real_frames
from tests.report_html import tables

SWEEP_CONFIG = REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml"
_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")

SMALL = """\
name: small_sweep
data: {source: synthetic, start: 2012-01-01, end: 2016-12-30}
params: {cut: 0.0, window: 40}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  rel: {fn: relative_momentum, a: us, b: hk, window: $window}
  corr: {fn: rolling_corr, a: us, b: hk, window: 60}
rules:
  - when: rel > cut and corr < 0.5
    weights: {us: 1.0}
  - when: rel < -cut
    weights: {hk: 1.0}
  - otherwise: {us: 0.5, hk: 0.5}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
benchmarks:
  - {name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}
sweep:
  window: {start: 20, stop: 80, step: 20}
  cut: [0.0, 0.05]
  execution.lag: [1, 2]
  execution.rebalance: [on_change, weekly]
  costs.fee_bps: [1, 10]
"""
METRICS = ("total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar", "turnover")
METRICS += ("switches_per_year", "fees_paid", "trades", "final_value")


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_RICH_ENV), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("cfg") / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    cfg = load_config(path)
    g = grid(cfg)
    provider = SyntheticProvider({"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}, first=dt.date(2008, 1, 2))
    loaded = load_for_config(provider, cfg, warmup_rows=sweep_warmup(cfg, g))
    return path, cfg, g, provider, loaded


def evaluate(cfg, g, loaded: LoadedPanel, chunk_size: int) -> pd.DataFrame:
    ctx = prepare(cfg, loaded, engine="rust")
    combos = list(g)
    frames = []
    for part in chunks(cfg, g, chunk_size):
        result = evaluate_chunk(ctx, [combos[i] for i in part], part)
        frames.append(result.table.assign(combo=result.index))
    return pd.concat(frames).sort_values("combo").reset_index(drop=True)


# --------------------------------------------------------------------------------------------- grid


def test_ranges_include_stop_and_lists_keep_their_order() -> None:
    assert expand_values("w", {"start": 20, "stop": 260, "step": 5})[-1] == 260
    assert len(expand_values("w", {"start": 20, "stop": 260, "step": 1})) == 241
    assert expand_values("c", {"start": 0.0, "stop": 0.3, "step": 0.1}) == [0.0, 0.1, 0.2, 0.3]
    assert expand_values("c", [0.3, 0.1]) == [0.3, 0.1]


def test_the_grid_is_the_product_in_key_order_last_key_fastest(small) -> None:
    _, _, g, _, _ = small
    assert g.keys == ("window", "cut", "execution.lag", "execution.rebalance", "costs.fee_bps")
    assert g.size == 4 * 2 * 2 * 2 * 2
    combos = list(g)
    assert combos[0] == {
        "window": 20,
        "cut": 0.0,
        "execution.lag": 1,
        "execution.rebalance": "on_change",
        "costs.fee_bps": 1,
    }
    assert combos[1]["costs.fee_bps"] == 10 and combos[1]["window"] == 20
    assert combos[-1] == {
        "window": 80,
        "cut": 0.05,
        "execution.lag": 2,
        "execution.rebalance": "weekly",
        "costs.fee_bps": 10,
    }


def test_too_many_combinations_is_refused(small) -> None:
    _, cfg, _, _, _ = small
    with pytest.raises(ConfigError) as info:
        grid(cfg, max_combos=10)
    assert info.value.path == "sweep"
    assert "64 combinations" in info.value.message and "--max-combos 10" in info.value.message


@pytest.mark.parametrize(
    ("sweep", "path", "says"),
    [
        ("{windw: [10, 20]}", "sweep.windw", "did you mean 'window'"),
        ("{window: []}", "sweep.window", "empty list"),
        ("{window: {start: a, stop: 30, step: 5}}", "sweep.window.start", "must be a number"),
        ("{window: {start: 10, stop: 30}}", "sweep.window", "missing required key 'step'"),
        ("{window: {start: 10, stop: 30, step: 0}}", "sweep.window.step", "positive"),
        ("{window: [10, x]}", "sweep.window[1]", "window = 'x'"),
        ("{window: [0]}", "sweep.window[0]", "greater than 0"),
        ("{execution.lag: [0, 1]}", "sweep.execution.lag[0]", "allow_same_bar"),
        ("{data.start: [2010-01-01]}", "sweep.data.start", "cannot be swept: it changes the data or the"),
        ("{signals.rel.a: [hk]}", "sweep.signals.rel.a", "unknown argument"),
        ("{signals.nosig.window: [60, 90]}", "sweep.signals.nosig.window", "unknown signal 'nosig' (known: corr, rel)"),
        ("{sizing.target_vol: [0.1]}", "sweep.sizing.target_vol", "the config has none"),
        ("{execution.rebalance.band: [0.1]}", "sweep.execution.rebalance.band", "varies a rebalancing band"),
        (
            "{execution.rebalance: [weekly], execution.rebalance.band: [0.1]}",
            "sweep.execution.rebalance.band",
            "cannot be swept together",
        ),
        ("{execution.min_hold: [-1]}", "sweep.execution.min_hold[0]", "greater than or equal to 0"),
        (
            "{execution.rebalance: [on_change, {band: 0.05}]}",
            "sweep.execution.rebalance[1]",
            "is not a number or a name (a band is swept as execution.rebalance.band)",
        ),
    ],
)
def test_a_bad_sweep_block_is_one_line_with_its_yaml_path_and_exit_2(
    tmp_path: Path, sweep: str, path: str, says: str
) -> None:
    text = SMALL[: SMALL.index("sweep:")] + f"sweep: {sweep}\n"
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(file)
    assert info.value.path == path
    assert says in info.value.message
    for args in (["sweep", str(file), "--results-dir", str(tmp_path / "r")], ["validate", str(file)]):
        result = invoke(*args)
        assert result.exit_code == 2, result.stdout
        [line] = result.stderr.splitlines()
        assert line.startswith(f"error: {file}: {path}: ")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("w2", "refused"), [("[0.3, 0.4]", False), ("[0.4, 0.5]", True)])
def test_swept_params_in_constant_weights_are_checked_in_each_combination(
    tmp_path: Path, w2: str, refused: bool
) -> None:
    """Weights "w1" and "w2" are numbers in each combination: one whose weights a single run refuses (0.6 + 0.5)
    is refused for the sweep too, naming it, not scaled down on the data without a word."""
    text = SMALL.replace("params: {cut: 0.0, window: 40}", "params: {cut: 0.0, window: 40, w1: 0.5, w2: 0.4}")
    text = text.replace("weights: {us: 1.0}", 'weights: {us: "w1", hk: "w2"}', 1)
    file = tmp_path / "weights.yaml"
    file.write_text(text[: text.index("sweep:")] + f"sweep: {{w1: [0.5, 0.6], w2: {w2}}}\n", encoding="utf-8")
    if not refused:
        load_config(file)
        return
    with pytest.raises(ConfigError) as info:
        load_config(file)
    assert info.value.path == "sweep" and info.value.message.startswith(
        "w1 = 0.6, w2 = 0.5: rules[0].weights: weights sum to 1.1; expected at most 1"
    )


def test_a_reference_to_an_unknown_parameter_names_the_signal_argument(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(SMALL.replace("window: $window}", "window: $windw}"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(file)
    assert info.value.path == "signals.rel.window"
    assert "unknown parameter 'windw' (did you mean 'window'?" in info.value.message


@pytest.mark.parametrize(
    ("change", "read"),
    [
        (("params: {cut: 0.0, window: 40}", "params: {cut: 0.0, window: 40, spare: 1}"), False),
        (("window: $window}", "window: 40}"), False),  # the typo the refusal is for: a literal where $window was meant
        (("when: rel > cut and", "when: rel > 0 and"), True),  # cut is still read by the second rule
        (("when: rel > cut and", "when: rel > 0 and", "when: rel < -cut", "when: rel < 0"), False),
        (
            ("when: rel < -cut\n", "when: rel < 0\n    until: rel > cut\n", "when: rel > cut and", "when: rel > 0 and"),
            True,
        ),
        (
            ("{hk: 1.0}", "{hk: cut}", "when: rel > cut and", "when: rel > 0 and", "when: rel < -cut", "when: rel < 0"),
            True,
        ),
    ],
)
def test_a_swept_parameter_that_nothing_reads_is_refused(tmp_path: Path, change: tuple[str, ...], read: bool) -> None:
    """Every combination of a parameter no signal argument ($name) and no rule's when, until or weights reads
    would be the same run, under overfitting statistics that mean nothing: refused at its sweep key."""
    text = (
        SMALL.replace("  cut: [0.0, 0.05]\n", "  cut: [0.0, 0.05]\n  spare: [1, 2]\n")
        if "spare" in change[1]
        else SMALL
    )
    for old, new in zip(change[::2], change[1::2], strict=True):
        assert old in text
        text = text.replace(old, new)
    file = tmp_path / "sweep.yaml"
    file.write_text(text, encoding="utf-8")
    if read:
        load_config(file)
        return
    with pytest.raises(ConfigError) as info:
        load_config(file)
    name = "spare" if "spare" in change[1] else ("window" if "$window" in change[0] else "cut")
    assert info.value.path == f"sweep.{name}"
    assert (
        f"varies params.{name}, which no rule reads, nor any argument (${name}) of a signal a rule"
        in info.value.message
    )


@pytest.mark.parametrize(
    ("sweep", "signals", "refused"),
    [
        # a signal no rule reads: its argument, or the param only it reads, changes nothing
        ("  signals.spare.window: [20, 40]\n", "  spare: {fn: rolling_corr, a: us, b: hk, window: 30}\n", "spare"),
        ("  depth: [20, 40]\n", "  spare: {fn: rolling_corr, a: us, b: hk, window: $depth}\n", "depth"),
        # a signal read only by a signal a rule reads (an ema of it): read
        (
            "  depth: [20, 40]\n",
            "  spare: {fn: rolling_corr, a: us, b: hk, window: $depth}\n  top: {fn: ema, of: spare, span: 5}\n",
            None,
        ),
    ],
)
def test_a_swept_signal_that_no_rule_reads_is_refused(
    tmp_path: Path, sweep: str, signals: str, refused: str | None
) -> None:
    """Sweeping a signal that no rule reads, directly or through a signal a rule reads, changes no combination."""
    text = SMALL.replace("params: {cut: 0.0, window: 40}", "params: {cut: 0.0, window: 40, depth: 30}")
    text = text.replace(
        "  corr: {fn: rolling_corr, a: us, b: hk, window: 60}\n",
        f"  corr: {{fn: rolling_corr, a: us, b: hk, window: 60}}\n{signals}",
    )
    text = text.replace("  cut: [0.0, 0.05]\n", "  cut: [0.0, 0.05]\n" + sweep)
    if refused is None:
        text = text.replace("when: rel > cut and corr < 0.5", "when: rel > cut and top < 0.5")
    file = tmp_path / "sweep.yaml"
    file.write_text(text, encoding="utf-8")
    if refused is None:
        load_config(file)
        return
    with pytest.raises(ConfigError) as info:
        load_config(file)
    assert info.value.path == f"sweep.{sweep.split(':')[0].strip()}"
    assert "every combination would be the same run" in info.value.message


# ------------------------------------------------------------------------------------ vectorised = single


def test_chunks_are_200_filled_by_the_scheduler_100_by_vectorbt_and_fewer_when_memory_is_short() -> None:
    """The default chunk: 200 combinations with the fused scheduler, 100 re-simulated by vectorbt (the
    fastest of each on the benchmark grid), capped so that a chunk's arrays (about ten float64 arrays of
    slots x assets per combination) take at most a quarter of the memory available."""
    from engine.sweep import default_chunk_size

    slots, assets, plenty = 12_000, 2, 2**40
    assert default_chunk_size(slots, assets, plenty) == 200
    assert default_chunk_size(slots, assets, plenty, simulator="rust") == 100
    per_combination = 10 * 8 * slots * assets
    assert default_chunk_size(slots, assets, 4 * 50 * per_combination) == 50
    assert default_chunk_size(slots, assets, 4 * 50 * per_combination, simulator="numba") == 50
    assert default_chunk_size(slots, assets, 1) == 1


def test_sweep_rows_equal_single_runs_of_the_same_values(small) -> None:
    _, cfg, g, provider, loaded = small
    table = evaluate(cfg, g, loaded, chunk_size=100)
    combos = list(g)
    for i in (0, 5, 22, 37, 63):
        single = apply_combination(cfg, combos[i])
        own = load_for_config(provider, single, warmup_rows=required_warmup(single))
        res = run_config(single, own, engine="rust")[0]
        assert res.dates[0] == loaded.panel.dates[loaded.start]
        for key in METRICS:
            assert table.loc[i, key] == pytest.approx(res.metrics[key], rel=1e-12, abs=1e-12), (combos[i], key)


def test_every_rows_relative_figures_are_against_the_configs_own_reference(small) -> None:
    """The documented exception: excess return is against the config's own 50/50 monthly (lag 1, fee 5 bps)
    for every row, also those with lag 2 or another fee, whose single runs give their benchmarks theirs."""
    _, cfg, g, provider, loaded = small
    table = evaluate(cfg, g, loaded, chunk_size=100)
    base = run_config(cfg, load_for_config(provider, cfg, warmup_rows=required_warmup(cfg)), engine="rust")
    ref_cagr = next(r for r in base if r.name == "50/50 monthly").metrics["cagr"]
    combos = list(g)
    for i in (0, 63):  # lag 1 and fee 1 bp; lag 2 and fee 10 bps
        assert table.loc[i, "excess_return"] == pytest.approx(table.loc[i, "cagr"] - ref_cagr, abs=1e-12)
    single = apply_combination(cfg, combos[63])
    own = run_config(single, load_for_config(provider, single, warmup_rows=required_warmup(single)), engine="rust")
    own_ref = next(r for r in own if r.name == "50/50 monthly").metrics["cagr"]
    assert own_ref != pytest.approx(ref_cagr, abs=1e-9)  # lag 2 and 10 bps: the single run's own benchmark


def test_chunked_equals_unchunked_exactly(small) -> None:
    _, cfg, g, _, loaded = small
    one = evaluate(cfg, g, loaded, chunk_size=1000)
    many = evaluate(cfg, g, loaded, chunk_size=7)
    pd.testing.assert_frame_equal(one, many, check_exact=True)


def test_a_chunk_in_any_order_scores_each_combination_the_same(small) -> None:
    """Combinations sharing a signal need not be neighbours within a chunk (their targets go to listed columns)."""
    _, cfg, g, _, loaded = small
    ctx = prepare(cfg, loaded, engine="rust")
    combos = list(g)
    order = np.random.default_rng(7).permutation(len(combos))  # the windows interleaved
    windows = [combos[i]["window"] for i in order]
    assert sum(a != b for a, b in itertools.pairwise(windows)) > len(set(windows))  # some window's rows are apart
    shuffled = evaluate_chunk(ctx, [combos[i] for i in order], order).table.set_axis(order).sort_index()
    in_order = evaluate(cfg, g, loaded, chunk_size=1000).drop(columns="combo")
    pd.testing.assert_frame_equal(shuffled, in_order, check_exact=True)


def test_combinations_sharing_signals_are_neighbours_in_chunks(small) -> None:
    _, cfg, g, _, _ = small
    parts = chunks(cfg, g, 16)
    windows = [{list(g)[i]["window"] for i in part} for part in parts]
    assert all(len(w) == 1 for w in windows)  # 16 combinations per window value: one signal set per chunk


@pytest.mark.realdata
def test_real_data_sweep_rows_equal_single_runs(data_dir: Path) -> None:
    cfg = load_config(SWEEP_CONFIG)
    data = cfg.data.model_copy(update={"start": dt.date(2008, 1, 2), "end": dt.date(2019, 12, 31)})
    cfg = cfg.model_copy(update={"data": data})
    g = grid(cfg)
    frames = real_frames(data_dir, ["^GSPC", "^HSI", "HKD=X"])
    loaded = load_for_config(MemProvider(frames), cfg, warmup_rows=sweep_warmup(cfg, g), check_calendar=False)
    combos = list(g)
    picks = [0, 97, 200, 391]
    ctx = prepare(cfg, loaded, engine="rust")
    result = evaluate_chunk(ctx, [combos[i] for i in picks], picks)
    for j, i in enumerate(picks):
        single = apply_combination(cfg, combos[i])
        own = load_for_config(MemProvider(frames), single, warmup_rows=required_warmup(single), check_calendar=False)
        res = run_config(single, own, engine="rust")[0]
        for key in METRICS:
            assert result.table.loc[j, key] == pytest.approx(res.metrics[key], rel=1e-12, abs=1e-12), (combos[i], key)


# ------------------------------------------------------------------------------------------- the command


def test_a_start_auto_grid_started_by_the_exchange_rate_claims_no_earlier_single_run(
    data_dir: Path, tmp_path: Path
) -> None:
    """On the real data the runs start with USD/HKD's first close (2001-07-16), after even the longest warm-up:
    a single run of the shortest-window combination starts there too, so the caption says nothing of it."""
    text = (REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml").read_text(encoding="utf-8")
    text = re.sub(r"start: [0-9-]+", "start: auto", text, count=1)
    sweep = tmp_path / "auto.yaml"
    sweep.write_text(text[: text.index("sweep:")] + "sweep:\n  mom_window: [20, 200]\n", encoding="utf-8")
    args = ["sweep", str(sweep), "--source", "csv", "--data-dir", str(data_dir), "--results-dir", str(tmp_path / "r")]
    doc = json.loads(invoke(*args, "--reps", "100", "--format", "json").stdout)
    assert doc["sweep"]["start"] == "2001-07-16" and "warmup_rows" not in doc["sweep"]
    text = invoke(*args, "--reps", "100").stdout
    assert "start: auto" not in text
    said = " ".join(text.split())  # the model's assumptions and the data's notes, as seesaw run shows them
    assert "Assumption: values in USD; hk converted at HKD=X closes (carried forward over FX holidays)." in said
    assert "Assumption: dividends not included: us (^GSPC), hk (^HSI) earn their price return only." in said
    assert "note: HKD=X: dropped 11 closes outside the band 7.74-7.86 (data.fx_band) as bad ticks" in said


def test_a_sweep_shows_the_notes_its_data_files_made_as_a_run_does(data_dir: Path, tmp_path: Path) -> None:
    """A CSV whose last line is cut short: the run notes the line dropped, and so does the sweep of the same data
    (in its table's caption and in its report)."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("GSPC.csv", "HSI.csv", "HKD_X.csv"):
        shutil.copy(data_dir / name, data / name)
    text = (data / "GSPC.csv").read_text(encoding="utf-8")
    (data / "GSPC.csv").write_text(text.rstrip("\n").rsplit(",", 3)[0], encoding="utf-8")  # the last line cut
    sweep = tmp_path / "cut.yaml"
    config = (REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml").read_text(encoding="utf-8")
    sweep.write_text(config[: config.index("sweep:")] + "sweep:\n  mom_window: [20, 200]\n", encoding="utf-8")
    common = ["--source", "csv", "--data-dir", str(data), "--results-dir", str(tmp_path / "r")]
    ran = " ".join(invoke("run", str(sweep), *common).stdout.split())
    [note] = [n.split(" wrote ")[0].strip() for n in ran.split("note: corr_breakdown_sweep: ") if "cut short" in n]
    assert note.startswith("^GSPC: ") and note.endswith("dropped as cut short"), note
    swept = invoke("sweep", str(sweep), *common, "--reps", "100", "--report", str(tmp_path / "s.html"))
    assert swept.exit_code == 0, swept.stderr
    assert f"note: {note}" in " ".join(swept.stdout.split())
    assert escape(note) in " ".join((tmp_path / "s.html").read_text(encoding="utf-8").split())


def test_combinations_the_data_cannot_warm_up_before_an_explicit_start_are_named(tmp_path: Path) -> None:
    """About 105 dates of synthetic history before 1998-06-01: the 200-day window cannot warm up, so its row is
    partly the otherwise rule; the caption and sweep.json say how many combinations that is, and which."""
    sweep = tmp_path / "short.yaml"
    text = AUTO.replace("start: auto, end: 2004-12-31", "start: 1998-06-01, end: 2002-12-31")
    sweep.write_text(text + "sweep:\n  window: [20, 50, 200]\n", encoding="utf-8")
    args = ["sweep", str(sweep), "--results-dir", str(tmp_path / "results"), "--reps", "100"]
    doc = json.loads(invoke(*args, "--format", "json").stdout)
    short = doc["sweep"]["warmup_short"]
    assert short["combinations"] == 1 and short["example"] == {"window": 200} and 50 < short["available"] < 200
    said = " ".join(invoke(*args).stdout.split())
    assert f"Warning: 1 of 3 combinations needs more warm-up than the {short['available']} dates of data" in said
    assert "(such as window = 200)" in said
    sweep.write_text(text + "sweep:\n  window: [20, 50]\n", encoding="utf-8")
    assert "warmup_short" not in json.loads(invoke(*args, "--format", "json").stdout)["sweep"]


LATE_SERIES = """\
name: late_series
data: {source: csv, start: 2013-10-01, end: 2016-12-31, price: close}
cash_rate: 0.0
assets:
  spy: {symbol: SPY, market: us, price: adj_close}
  kweb: {symbol: KWEB, market: us, price: adj_close}
signals:
  mom: {fn: relative_momentum, a: spy, b: kweb, window: 63}
rules:
  - when: mom > 0
    weights: {spy: 1.0}
  - otherwise: {kweb: 1.0}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
"""


def test_combinations_whose_signal_reads_a_series_that_starts_later_are_named(data_dir: Path, tmp_path: Path) -> None:
    """SPY has decades of history before 2013-10-01, KWEB's first close is 2013-08-01: the union timeline has every
    warm-up, but a momentum of KWEB over 100 or 200 dates has no value at the first decision.  The 200-date window
    first has one on KWEB's 201st date, 2014-05-19 (read from KWEB.csv), which the single run names too."""
    kweb = pd.read_csv(data_dir / "KWEB.csv")["Date"]
    assert kweb.iloc[0] == "2013-08-01"
    sweep = tmp_path / "late.yaml"
    sweep.write_text(LATE_SERIES + "sweep:\n  signals.mom.window: [20, 100, 200]\n", encoding="utf-8")
    args = ["sweep", str(sweep), "--data-dir", str(data_dir), "--results-dir", str(tmp_path / "r"), "--reps", "100"]
    doc = json.loads(invoke(*args, "--format", "json").stdout)["sweep"]
    assert "warmup_short" not in doc
    assert doc["incomplete_signals"] == {
        "combinations": 2,
        "signals": ["mom"],
        "until": kweb.iloc[200],
        "example": {"signals.mom.window": 100},
    }
    said = " ".join(invoke(*args).stdout.split())
    assert (
        "Warning: 2 of 3 combinations (such as signals.mom.window = 100) have a signal ('mom') without a value at "
        "the first decision" in said
    )
    assert f"(as late as {kweb.iloc[200]})" in said
    single = tmp_path / "single.yaml"
    single.write_text(LATE_SERIES.replace("window: 63", "window: 200"), encoding="utf-8")
    ran = invoke("run", str(single), "--data-dir", str(data_dir), "--results-dir", str(tmp_path / "r"))
    assert f"rules naming it are false until {kweb.iloc[200]}" in " ".join(ran.stdout.split() + ran.stderr.split())
    sweep.write_text(LATE_SERIES + "sweep:\n  signals.mom.window: [20, 40]\n", encoding="utf-8")
    assert "incomplete_signals" not in json.loads(invoke(*args, "--format", "json").stdout)["sweep"]


AUTO = """\
name: auto_sweep
data: {source: synthetic, start: auto, end: 2004-12-31}
params: {window: 40}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  rel: {fn: relative_momentum, a: us, b: hk, window: $window}
rules:
  - when: rel > 0
    weights: {us: 1.0}
  - otherwise: {hk: 1.0}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
"""


def test_a_start_auto_grid_starts_every_row_after_its_longest_warm_up_and_says_so(tmp_path: Path) -> None:
    """Every row covers the same dates: from where the 200-day window has warmed up.  A single run of the 20-day
    combination starts earlier on its own; with the --start the caption names, it equals its row."""
    sweep, single = tmp_path / "auto.yaml", tmp_path / "one.yaml"
    sweep.write_text(AUTO + "sweep:\n  window: [20, 200]\n", encoding="utf-8")
    single.write_text(AUTO.replace("window: 40", "window: 20"), encoding="utf-8")
    results = str(tmp_path / "results")
    doc = json.loads(invoke("sweep", str(sweep), "--results-dir", results, "--reps", "100", "--format", "json").stdout)
    start, row = doc["sweep"]["start"], next(r for r in doc["rows"] if r["window"] == 20)
    assert doc["sweep"]["warmup_rows"] == [21, 201]
    said = " ".join(invoke("sweep", str(sweep), "--results-dir", results, "--reps", "100").stdout.split())
    assert f"start: auto: every row starts on {start}, once the grid's longest warm-up (201 rows; the shortest" in said
    assert f"add --start {start} to compare it with its row" in said

    def run(*extra: str) -> dict:
        out = invoke("run", str(single), "--results-dir", results, "--format", "json", *extra).stdout
        return json.loads(out)[0]

    own, aligned = run(), run("--start", start)
    assert own["start"] < start and own["total_return"] != pytest.approx(row["total_return"], rel=1e-6)
    assert aligned["start"] == start
    for key in ("total_return", "sharpe", "max_drawdown", "final_value"):
        assert aligned[key] == pytest.approx(row[key], rel=1e-12, abs=1e-12), key


def test_sweep_command_stores_every_combination_and_a_heatmap(small, tmp_path: Path) -> None:
    path = small[0]
    results, html = tmp_path / "results", tmp_path / "heat.html"
    args = ["sweep", str(path), "--results-dir", str(results), "--top", "5", "--reps", "200"]
    result = invoke(*args, "--heatmap", "window,cut", "--output", str(html), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["rows"]) == 5
    sharpes = [r["sharpe"] for r in doc["rows"]]
    assert sharpes == sorted(sharpes, reverse=True)
    assert doc["sweep"]["combinations"] == 64
    assert 0.0 <= doc["sweep"]["pbo"] <= 1.0 and 0.0 <= doc["sweep"]["best_dsr"] <= 1.0
    # the best row's DSR is the overfitting note's: both deflate by every combination tried
    assert (doc["rows"][0]["combo"], doc["rows"][0]["dsr"]) == (doc["sweep"]["best_combo"], doc["sweep"]["best_dsr"])
    assert all(0.0 <= r["dsr"] <= 1.0 and r["sharpe_ci_low"] <= r["sharpe"] <= r["sharpe_ci_high"] for r in doc["rows"])
    text = html.read_text(encoding="utf-8")
    assert "plotly" in text.lower() and '"type":"heatmap"' in text.replace(" ", "")
    [sweep_dir] = (results / "small_sweep" / "sweeps").iterdir()
    assert (doc["sweep_dir"], doc["reused"]) == (str(sweep_dir), False) and "reused" not in result.stderr
    for fmt in ("csv", "json"):  # a script learns that the stored sweep was printed, not computed, and where it is
        again = invoke(*args, "--format", fmt)
        assert again.exit_code == 0 and f"reused {sweep_dir} (same config" in again.stderr, again.stderr
    assert json.loads(again.stdout)["reused"] is True
    # the page says what was swept on which data, as the sweep's report does
    [subtitle] = re.findall(r'<p class="muted">([^<]*)</p>', text)
    assert subtitle.startswith(f"synthetic (SYNTHETIC) data, {doc['sweep']['start']} → {doc['sweep']['end']}; 64")
    table = invoke("sweep", str(path), "--results-dir", str(results), "--top", "5", "--reps", "200")
    said = " ".join(table.stdout.split())
    assert "against one curve, 50/50 monthly with the config's own execution.lag and costs.fee_bps" in said
    assert {p.name for p in sweep_dir.iterdir()} == {
        "combos.parquet",
        "blocks.npz",
        "config.yaml",
        "sweep.json",
        "meta.json",
    }
    stored = pd.read_parquet(sweep_dir / "combos.parquet")
    assert len(stored) == 64 and list(stored["combo"]) == list(range(64))
    count = invoke("runs", "query", "SELECT count(*) AS n FROM sweep_combos", "--results-dir", str(results))
    assert count.exit_code == 0, count.stderr
    assert "64" in count.stdout
    again = invoke(*args)
    assert again.exit_code == 0 and "reused" in again.stdout
    assert "under one year" not in again.stdout  # five years of dates: no such note
    hint = re.search(r'query: seesaw runs query "(.+)" --results-dir (\S+)\)', " ".join(again.stdout.split()))
    assert hint is not None and hint.group(2) == str(results)  # the printed query reads this sweep's catalog
    assert hint.group(1).endswith(f"WHERE sweep_id = '{sweep_dir.name}'")  # this sweep's rows, not every sweep's
    hinted = invoke("runs", "query", hint.group(1), "--results-dir", hint.group(2), "--format", "json")
    assert len(json.loads(hinted.stdout)) == 64


def test_a_sweep_too_short_for_cscv_says_there_is_no_pbo_and_still_gives_the_dsr(small, tmp_path: Path) -> None:
    """A month of dates: fewer than two in each of CSCV's 16 blocks, so no PBO; the table's note says so
    (rather than leaving the line out) and still gives the best combination's DSR; another note says the
    annualised columns extrapolate a month."""
    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path), "--start", "2016-11-01", "--end", "2016-11-30"]
    result = invoke(*args, "--top", "3", "--reps", "100")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Overfitting: no PBO (combinatorially symmetric cross-validation needs at least two" in text
    extrapolated = "CAGR, Vol, Sharpe, Sharpe 95% CI, Sortino, Calmar, Turnover/yr, Switch/yr, Excess"  # the headers
    assert f"The window is 0.08 years: under one year {extrapolated}, IR extrapolate it" in text
    assert re.search(r"the best combination's deflated Sharpe DSR = \d\.\d{3}", text)
    assert re.search(r"PSR, P\(SR>ref\) and DSR rest on only 2\d daily returns \(under 252\)", text)
    said = "Sharpe 95% CI and P(SR>ref): stationary bootstrap (arch), 100 resamples, seed 20250120, automatic block"
    assert said in text  # --reps is the resamples of both, said as compare says it
    doc = json.loads(invoke(*args, "--format", "json").stdout)["sweep"]
    assert "pbo" not in doc and 0.0 <= doc["best_dsr"] <= 1.0


def test_csv_of_a_sweep_and_a_walkforward_says_the_data_is_synthetic(small, tmp_path: Path) -> None:
    """Every output on synthetic data is labelled: the csv rows carry ``synthetic``, as compare's do."""
    import io

    args = ["--results-dir", str(tmp_path), "--format", "csv"]
    sweep = invoke("sweep", str(small[0]), *args, "--top", "3", "--reps", "100")
    assert sweep.exit_code == 0, sweep.stderr
    frame = pd.read_csv(io.StringIO(sweep.stdout))
    assert len(frame) == 3 and frame["synthetic"].tolist() == [True] * 3
    (stored,) = tmp_path.glob("small_sweep/sweeps/*/combos.parquet")  # the stored table, read apart from its sweep
    metadata = pq.read_schema(stored).metadata
    assert metadata[b"seesaw.data"] == b"SYNTHETIC DATA: generated prices, not market history."
    walk = invoke("walkforward", str(small[0]), *args, "--train", "3y", "--test", "1y")
    assert walk.exit_code == 0, walk.stderr
    folds = pd.read_csv(io.StringIO(walk.stdout))
    assert len(folds) > 1 and folds["synthetic"].all()


def test_a_swept_parameter_may_not_take_the_name_of_a_column_of_the_table(small, tmp_path: Path) -> None:
    """The names a swept parameter is refused are the table's other columns, as the csv and the stored table
    hold them (a parameter ``sharpe`` made two ``sharpe`` columns: a traceback, or one overwriting the other)."""
    import io

    from engine.metrics.row_stats import ROW_STATS
    from engine.sweep_columns import numeric_columns, taken_names

    args = ["--results-dir", str(tmp_path), "--format", "csv", "--top", "3", "--reps", "100"]
    sweep = invoke("sweep", str(small[0]), *args)
    assert sweep.exit_code == 0, sweep.stderr
    header = pd.read_csv(io.StringIO(sweep.stdout)).columns
    keys = set(small[1].sweep)
    taken = taken_names(["us", "hk"])
    assert {c.lower() for c in header if c not in keys} == taken - {"sweep_id", "filename"}  # the store's view's
    table = pd.read_parquet(next(tmp_path.glob("small_sweep/sweeps/*/combos.parquet")))
    stored = table.columns
    assert {c.lower() for c in stored if c not in keys} <= taken - set(ROW_STATS)
    numeric = [c for c in stored if c != "combo" and pd.api.types.is_numeric_dtype(table[c])]
    assert numeric_columns(small[1].sweep, ["us", "hk"], small[1].traded_assets) == numeric  # what --sort may name
    query = invoke(
        "runs", "query", "SELECT * FROM sweep_combos LIMIT 1", "--results-dir", str(tmp_path), "--format", "json"
    )
    assert query.exit_code == 0, query.stderr
    assert {c.lower() for c in json.loads(query.stdout)[0] if c not in keys} <= taken
    renamed = re.sub(r"\bcut\b", "Sharpe", SMALL).replace("name: small_sweep", "name: renamed")
    path = tmp_path / "renamed.yaml"
    path.write_text(renamed, encoding="utf-8")
    refused = invoke("validate", str(path))
    assert refused.exit_code == 2
    assert "sweep.Sharpe: sweep key 'Sharpe' is the name of a column of the sweep's table" in refused.stderr


def test_a_sweep_of_two_dates_has_no_dsr_and_says_so_when_run_and_when_reused(small, tmp_path: Path) -> None:
    """Two daily returns define no deflated Sharpe ratio: stored as null, said in words (the reused sweep
    read the null back and failed formatting it)."""
    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path), "--start", "2016-11-01", "--end", "2016-11-02"]
    for attempt in ("run", "reused"):
        result = invoke(*args, "--top", "3", "--reps", "100", "--sort", "turnover")
        assert result.exit_code == 0, result.stderr
        text = " ".join(result.stdout.split())
        assert ("reused" in text) == (attempt == "reused")
        assert "the best combination's deflated Sharpe ratio is undefined (it needs 3 daily returns that vary)" in text
        assert "PSR, P(SR>ref) and DSR rest on only 2 daily returns (under 252)" in text
        assert "sorted by turnover (lowest first)." in text


MOSTLY_CASH = """\
name: mostly_cash_sweep
data: {source: synthetic, start: 2012-01-01, end: 2016-12-30}
params: {cut: 0.0}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  corr: {fn: rolling_corr, a: us, b: hk, window: 60}
rules:
  - when: corr < cut
    weights: {us: 1.0}
  - otherwise: {}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
sweep:
  cut: [-2.0, -0.3, 0.0]
"""


def test_a_row_without_an_interval_says_why_and_the_dsr_counts_every_combination(tmp_path: Path) -> None:
    """A cut the correlation never reaches leaves the money in cash (no Sharpe ratio); a cut it reaches
    rarely gives a Sharpe ratio whose resamples include some without a position (no interval).  The note
    under the table names that row and says why; the DSR counts all three combinations as trials (the one
    without a Sharpe ratio too), in the rows as in the overfitting note."""
    path = tmp_path / "cash.yaml"
    path.write_text(MOSTLY_CASH, encoding="utf-8")
    args = ["sweep", str(path), "--results-dir", str(tmp_path / "results"), "--reps", "200"]
    doc = json.loads(invoke(*args, "--format", "json").stdout)
    rows = {r["cut"]: r for r in doc["rows"]}
    assert rows[-2.0]["trades"] == 0 and rows[-2.0]["sharpe"] is None  # the setting this test needs
    assert rows[-0.3]["sharpe"] is not None and rows[-0.3]["sharpe_ci_low"] is None
    assert rows[0.0]["sharpe_ci_low"] < rows[0.0]["sharpe"] < rows[0.0]["sharpe_ci_high"]
    assert doc["sweep"]["dsr_trials"] == 3
    assert rows[0.0]["dsr"] == pytest.approx(doc["sweep"]["best_dsr"], rel=1e-12)
    text = " ".join(invoke(*args).stdout.split())
    ranks = [int(m) for m in re.findall(r"No interval \(–\) for #(\d+):", text)]
    assert ranks == [[r["cut"] for r in doc["rows"]].index(-0.3) + 1]
    assert "some resamples of its returns have no variation at all" in text


def _ctrl_c_at_chunk(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """The sweep's n-th chunk evaluated is interrupted as by Ctrl-C (``monkeypatch.undo()`` restores it)."""
    import engine.jobs.chunk_workers as sj

    real, calls = sj.evaluate_chunk, {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sj, "evaluate_chunk", interrupted)


def test_ctrl_c_keeps_finished_chunks_and_resume_finishes_the_same_sweep(small, tmp_path: Path, monkeypatch) -> None:
    path = small[0]
    complete = tmp_path / "complete"
    assert invoke("sweep", str(path), "--results-dir", str(complete), "--chunk-size", "10").exit_code == 0
    _ctrl_c_at_chunk(monkeypatch, 4)
    stopped = tmp_path / "stopped"
    result = invoke("sweep", str(path), "--results-dir", str(stopped), "--chunk-size", "10")
    assert result.exit_code == 130
    assert "3 of 7 chunks finished" in result.stderr and "--resume" in result.stderr
    [partial] = (stopped / "small_sweep" / "sweeps").iterdir()
    assert partial.name.startswith(".partial-") and len(list(partial.glob("chunk-*.parquet"))) == 3
    again = invoke("sweep", str(path), "--results-dir", str(stopped))
    assert again.exit_code == 2 and "--resume" in again.stderr  # a stopped sweep is never silently redone
    monkeypatch.undo()
    resumed = invoke("sweep", str(path), "--results-dir", str(stopped), "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert "resumed: 3 of 7 chunks kept from the stopped sweep, 4 computed now" in " ".join(resumed.stderr.split())
    [done] = (stopped / "small_sweep" / "sweeps").iterdir()
    [ref] = (complete / "small_sweep" / "sweeps").iterdir()
    assert done.name == ref.name
    pd.testing.assert_frame_equal(pd.read_parquet(done / "combos.parquet"), pd.read_parquet(ref / "combos.parquet"))


def test_ctrl_c_after_a_chunks_files_are_written_counts_that_chunk_as_kept(small, tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C between a chunk's files and its count: the stopped sweep says (and returns) what --resume finds."""
    import engine.jobs.sweep as js
    from engine.api import sweep

    real, calls = js.ChunkAssembly.add, {"n": 0}

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the third chunk's files are on disk
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(js.ChunkAssembly, "add", interrupted)
    out = sweep(small[0], results_dir=tmp_path, chunk_size=10, workers=1)
    monkeypatch.undo()
    [partial] = (tmp_path / "small_sweep" / "sweeps").iterdir()
    kept = len(list(partial.glob("chunk-*.parquet")))
    assert out.stopped and kept >= 3 and out.manifest["chunks_done"] == kept
    assert len(out.combinations) == min(10 * kept, small[2].size)
    result = invoke("sweep", str(small[0]), "--results-dir", str(tmp_path), "--resume")
    assert f"resumed: {kept} of 7 chunks kept from the stopped sweep" in " ".join(result.stderr.split())


def test_resume_finishes_a_stopped_forced_run_of_a_stored_sweep(small, tmp_path: Path, monkeypatch) -> None:
    """A --force run of a stored sweep stopped by Ctrl-C says 'continue with --resume': --resume then finishes
    that run (not the stored sweep shown again with the stopped one left behind); the same command without
    --resume shows the stored sweep and names the stopped run."""
    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path / "r"), "--chunk-size", "10"]
    assert invoke(*args).exit_code == 0
    [stored] = (tmp_path / "r" / "small_sweep" / "sweeps").iterdir()
    first = pd.read_parquet(stored / "combos.parquet")
    _ctrl_c_at_chunk(monkeypatch, 4)
    forced = invoke(*args, "--force")
    assert forced.exit_code == 130 and "--resume" in forced.stderr
    monkeypatch.undo()
    staging = stored.parent / f".partial-{stored.name}"
    shown = invoke(*args)
    assert shown.exit_code == 0 and "reused" in shown.stdout
    assert f"a stopped run of this same sweep is in {staging}" in " ".join(shown.stderr.split())
    resumed = invoke(*args, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert "resumed: 3 of 7 chunks kept from the stopped sweep, 4 computed now" in " ".join(resumed.stderr.split())
    assert "reused" not in resumed.stdout and not staging.exists()
    pd.testing.assert_frame_equal(pd.read_parquet(stored / "combos.parquet"), first)


def test_ctrl_c_says_whether_the_walkforward_was_stored(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C while the folds run stores nothing ('stopped'); once the stitched run is stored (while it is read
    back to be shown) it says where, and that the same command shows it, as a sweep does."""
    import engine.jobs.walkforward as job

    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")
    args = ["walkforward", str(path), "--train", "3y", "--test", "1y", "--results-dir", str(tmp_path / "r")]

    def stop(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(job, "run_planned", stop)
    early = invoke(*args)
    monkeypatch.undo()
    assert (early.exit_code, early.stderr.strip()) == (130, "stopped (Ctrl-C)") and not (tmp_path / "r").exists()
    for force in ([], ["--force"], []):
        monkeypatch.setattr(job, "load_walkforward", stop)
        late = invoke(*args, *force)
        monkeypatch.undo()
        [stored] = sorted(tmp_path.glob("r/*_walkforward/2*"))[-1:]  # the newest run
        without = " without --force" if force else ""
        said = f"stopped (Ctrl-C); the walk-forward is stored in {stored}: the same command{without} shows it"
        assert (late.exit_code, late.stderr.strip()) == (130, said)
    again = invoke(*args, "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["run_dir"] == str(stored)


@pytest.mark.parametrize("when", ["before it is stored", "once it is stored"])
def test_ctrl_c_after_the_chunks_says_whether_the_sweep_was_stored(small, tmp_path: Path, monkeypatch, when) -> None:
    """Ctrl-C while the overfitting statistics are computed leaves every chunk kept (--resume finishes it); Ctrl-C
    while the stored sweep is indexed leaves it stored, and says so (the same command shows it), not '--resume';
    so does Ctrl-C while a stored sweep is read to be shown."""
    import engine.jobs.sweep as job
    from engine.store.catalog import Catalog

    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path / "r"), "--chunk-size", "10"]
    real = Catalog.record_sweep if when == "once it is stored" else job.overfitting_stats

    def interrupted(*a, **kw):
        real(*a, **kw)
        raise KeyboardInterrupt

    if when == "once it is stored":
        monkeypatch.setattr(Catalog, "record_sweep", interrupted)
    else:
        monkeypatch.setattr(job, "overfitting_stats", interrupted)
    stopped = invoke(*args)
    monkeypatch.undo()
    assert stopped.exit_code == 130 and stopped.stdout == ""
    [kept] = (tmp_path / "r" / "small_sweep" / "sweeps").iterdir()
    if when == "once it is stored":
        assert stopped.stderr.strip() == f"stopped (Ctrl-C); the sweep is stored in {kept}: the same command shows it"
        again = invoke(*args)
        assert again.exit_code == 0 and f"reused {kept}" in again.stdout
        monkeypatch.setattr(Catalog, "record_sweep", interrupted)
        forced = invoke(*args, "--force")  # the same command would compute it again: not that one
        monkeypatch.undo()
        assert forced.exit_code == 130 and forced.stderr.strip() == (
            f"stopped (Ctrl-C); the sweep is stored in {kept}: the same command without --force shows it"
        )

        def reading_stopped(*a, **kw):
            raise KeyboardInterrupt

        monkeypatch.setattr(job, "load_sweep", reading_stopped)
        reading = invoke(*args)
        assert reading.exit_code == 130 and reading.stderr.strip() == stopped.stderr.strip()
    else:
        assert kept.name.startswith(".partial-")
        assert stopped.stderr.strip() == "stopped (Ctrl-C): every chunk finished is kept; continue with --resume"
        again = invoke(*args, "--resume")
        assert again.exit_code == 0 and "resumed: 7 of 7 chunks kept" in " ".join(again.stderr.split())


@pytest.mark.parametrize("extra", [[], ["--resume"]])
def test_a_sweep_stopped_once_written_whole_is_put_in_place_not_computed_again(
    small, tmp_path: Path, monkeypatch, extra
) -> None:
    """Ctrl-C after ``sweep.json`` was written and the chunks dropped, before the directory was put in place: the
    next command (with or without --resume) puts it in place, its files checked, and shows it, computing no chunk;
    the rows are the uninterrupted sweep's."""
    import engine.jobs.sweep as job
    import engine.store.sweeps as stored

    args = ["sweep", str(small[0]), "--chunk-size", "10", "--format", "json"]
    reference = json.loads(invoke(*args, "--results-dir", str(tmp_path / "ref")).stdout)

    def stopped(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(stored, "replace_dir", stopped)
    assert invoke(*args, "--results-dir", str(tmp_path / "r")).exit_code == 130
    monkeypatch.undo()
    [staging] = (tmp_path / "r" / "small_sweep" / "sweeps").iterdir()
    assert staging.name.startswith(".partial-") and not list(staging.glob("chunk-*"))
    monkeypatch.setattr(job, "evaluate_chunks", stopped)  # no chunk is computed again
    shown = invoke(*args, *extra, "--results-dir", str(tmp_path / "r"))
    assert shown.exit_code == 0, shown.stderr
    [final] = (tmp_path / "r" / "small_sweep" / "sweeps").iterdir()
    assert final.name == staging.name.removeprefix(".partial-") and not (final / "writer.pid").exists()
    doc = json.loads(shown.stdout)
    assert (
        doc["reused"] is True and doc["rows"] == reference["rows"] and doc["sweep"]["pbo"] == reference["sweep"]["pbo"]
    )
    listed = invoke("runs", "query", "SELECT sweep_dir FROM sweeps", "--results-dir", str(tmp_path / "r"))
    assert str(final) in listed.stdout


def test_ctrl_c_while_a_resumed_sweep_prepares_keeps_its_chunks_for_resume(small, tmp_path: Path, monkeypatch) -> None:
    """--resume, stopped again before its first new chunk: the chunks the first run kept are still kept."""
    import engine.jobs.sweep as job

    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path / "r"), "--chunk-size", "10"]
    _ctrl_c_at_chunk(monkeypatch, 4)
    assert invoke(*args).exit_code == 130
    monkeypatch.undo()

    def stopped(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(job, "prepare", stopped)
    again = invoke(*args, "--resume")
    assert again.exit_code == 130, again.stderr
    assert again.stderr.strip() == "stopped (Ctrl-C): every chunk finished is kept; continue with --resume"


@pytest.mark.parametrize("step", ["load_sweep_config", "prepare"])
def test_ctrl_c_before_any_chunk_is_computed_says_nothing_was(small, tmp_path: Path, monkeypatch, step) -> None:
    """Stopped while the config and data are read, or while what every chunk shares (the reference benchmark's
    run) is prepared: no 'chunks kept', no '--resume' (there is nothing to resume)."""
    import engine.jobs.sweep as job

    def stopped(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(job, step, stopped)
    result = invoke("sweep", str(small[0]), "--results-dir", str(tmp_path / "r"), "--force")
    assert result.exit_code == 130 and result.stderr.strip() == "stopped (Ctrl-C): nothing was computed"


def test_a_sweep_another_process_is_computing_is_not_offered_for_resume(small, tmp_path: Path, monkeypatch) -> None:
    """Its chunks look like a stopped sweep's: while their writer runs, a second command (with or without
    --resume) says it is running, in one line; once it is gone, --resume continues the chunks."""
    _ctrl_c_at_chunk(monkeypatch, 3)
    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path / "r"), "--chunk-size", "10"]
    assert invoke(*args).exit_code == 130
    monkeypatch.undo()
    [staging] = (tmp_path / "r" / "small_sweep" / "sweeps").iterdir()
    hold = (  # another process computing it: it holds the directory as engine.store.sweeps.held does
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY); "
        "fcntl.flock(fd, fcntl.LOCK_EX); open(os.path.join(sys.argv[1], 'writer.pid'), 'w').write(str(os.getpid())); "
        "print('held', flush=True); time.sleep(60)"
    )
    other = subprocess.Popen([sys.executable, "-c", hold, str(staging)], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        for extra in ([], ["--resume"]):
            busy = invoke(*args, *extra)
            assert busy.exit_code == 2, busy.stderr
            said = " ".join(busy.stderr.split())
            assert f"the same sweep is running now in process {other.pid}: wait for it to finish" in said
        assert len(list(staging.glob("chunk-*.parquet"))) == 2  # its chunks untouched
    finally:
        other.kill()
        other.wait()
        other.stdout.close()
    resumed = invoke(*args, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    [done] = (tmp_path / "r" / "small_sweep" / "sweeps").iterdir()
    assert not (done / "writer.pid").exists()


def test_rows_and_folds_deciding_with_lag_0_are_warned_of_as_look_ahead(tmp_path: Path) -> None:
    """allow_same_bar is "warned in every output": a sweep whose grid holds execution.lag 0 says so under its
    table and in its report; a walk-forward whose folds chose lag 0 says so, in its JSON, its stored run and
    compare; a grid without lag 0 says nothing of it."""
    path, results = tmp_path / "lag.yaml", str(tmp_path / "r")
    peek = SMALL.replace("execution: {lag: 1, rebalance: on_change}", "execution: {lag: 1, allow_same_bar: true}")
    grid = "sweep:\n  window: [20, 40]\n  execution.lag: [{}]\n"
    path.write_text(peek.split("sweep:")[0] + grid.format("0, 1"), encoding="utf-8")
    report = tmp_path / "sweep.html"
    shown = invoke("sweep", str(path), "--results-dir", results, "--reps", "100", "--report", str(report))
    said = "WARNING: small_sweep (the rows with execution.lag 0): allow_same_bar with lag 0:"
    assert shown.exit_code == 0 and said in " ".join(shown.stdout.split()), shown.stdout
    assert said in html.unescape(report.read_text("utf-8"))
    path.write_text(peek.split("sweep:")[0] + grid.format("1, 2"), encoding="utf-8")
    assert "WARNING" not in invoke("sweep", str(path), "--results-dir", results, "--reps", "100").stdout
    path.write_text(peek.split("sweep:")[0] + grid.format("0"), encoding="utf-8")  # every fold chooses lag 0
    args = ["walkforward", str(path), "--train", "2y", "--test", "1y", "--results-dir", results]
    doc = json.loads(invoke(*args, "--format", "json").stdout)
    folded = "small_sweep_walkforward (a fold chose execution.lag 0): allow_same_bar with lag 0:"
    assert [w[: len(folded)] for w in doc["warnings"]] == [folded]
    assert f"WARNING: {folded}" in " ".join(invoke(*args).stdout.split())
    stored = json.loads((Path(doc["run_dir"]) / "metrics.json").read_text(encoding="utf-8"))
    assert stored["warnings"] == doc["warnings"]
    compared = invoke("compare", "--runs", Path(doc["run_dir"]).name, "--results-dir", results, "--reps", "100")
    assert f"WARNING: {folded}" in " ".join(compared.stdout.split())


def test_a_walk_forwards_look_ahead_warning_follows_the_lags_its_folds_chose(tmp_path: Path) -> None:
    """With the lag swept, the folds' lags decide (the config's own lag 0 is then no fold's); without, the config's."""
    from types import SimpleNamespace

    from engine.jobs.run_assumptions import run_warnings

    path = tmp_path / "lag0.yaml"
    path.write_text(SMALL.replace("{lag: 1, rebalance: on_change}", "{lag: 0, allow_same_bar: true}"), "utf-8")
    panel = SimpleNamespace(symbols=(), dates=pd.DatetimeIndex(["2016-12-30"]), traded=np.zeros((1, 0), bool))
    cfg = load_config(path)
    loaded = SimpleNamespace(warmup_used=10, warmup_needed=10, start=0, panel=panel, ends_early=())
    said = "allow_same_bar with lag 0: US orders fill at the New York close"
    assert [w for w in run_warnings(cfg, loaded, lags=[1, 2]) if said in w] == []  # type: ignore[arg-type]
    [folded] = run_warnings(cfg, loaded, lags=[1, 0])  # type: ignore[arg-type]
    assert folded.startswith(f"small_sweep (a fold chose execution.lag 0): {said}")
    [own] = run_warnings(cfg, loaded)  # type: ignore[arg-type]
    assert own.startswith(f"small_sweep: {said}")


def test_a_margin_sweep_on_vectorbt_says_the_scheduler_filled_its_orders(tmp_path: Path) -> None:
    """from_orders cannot debit financing, so a margin account's orders are the scheduler's whatever --engine asks:
    the caption and the report's header say so, not that vectorbt re-simulated them."""
    path = tmp_path / "margin.yaml"
    margin = SMALL.replace(
        "execution: {lag: 1, rebalance: on_change}", "execution: {lag: 1, rebalance: on_change, max_gross: 1.5}"
    )
    path.write_text(margin.split("sweep:")[0] + "sweep:\n  cut: [0.0, 0.05]\n", encoding="utf-8")
    report = tmp_path / "sweep.html"
    args = ["sweep", str(path), "--results-dir", str(tmp_path / "r"), "--reps", "100", "--engine", "rust"]
    shown = invoke(*args, "--report", str(report))
    assert shown.exit_code == 0, shown.stderr
    said = " ".join(shown.stdout.split())
    assert "orders filled by the scheduler with vectorbt's order primitives, not re-simulated (--engine rust): " in said
    assert "margin accounts, whose financing from_orders cannot debit;" in said and "on Rust" not in said
    assert "rust (margin accounts: the scheduler's fills, not re-simulated)" in html.unescape(report.read_text("utf-8"))
    cash = invoke("sweep", str(path), "--results-dir", str(tmp_path / "c"), "--reps", "100", "--engine", "fused")
    assert "order primitives (--engine fused);" in " ".join(cash.stdout.split())  # the scheduler's, as asked


def test_the_catalog_tells_sweeps_on_different_engines_apart(small, tmp_path: Path) -> None:
    """The same grid filled by the scheduler and re-simulated by vectorbt: two sweeps, whose rows in the catalog's
    ``sweeps`` table say which engine filled their orders (as their ``sweep.json`` does)."""
    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path / "r"), "--chunk-size", "20"]
    said = {
        "fused": "orders filled by the scheduler with vectorbt's order primitives (--engine fused);",
        "rust": "orders re-simulated by vectorbt's from_orders on Rust (--engine rust);",
    }
    for engine, words in said.items():
        shown = invoke(*args, "--engine", engine)
        assert shown.exit_code == 0 and words in " ".join(shown.stdout.split()), shown.stdout  # the caption says
        assert "Excess: CAGR less the reference benchmark's. Worst year: the lowest calendar-year return" in " ".join(
            shown.stdout.split()
        )
    listed = invoke(
        "runs", "query", "SELECT simulator, sweep_dir FROM sweeps ORDER BY simulator", "--format", "json",
        "--results-dir", str(tmp_path / "r"),
    )  # fmt: skip
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["simulator"] for r in rows] == ["fused", "rust"]
    for r in rows:
        assert (
            json.loads((Path(r["sweep_dir"]) / "sweep.json").read_text(encoding="utf-8"))["simulator"] == r["simulator"]
        )


def test_ctrl_c_after_the_sweep_is_stored_says_so(small, tmp_path: Path, monkeypatch) -> None:
    """Interrupted while the best rows' statistics are computed: not 'continue with --resume' (nothing to
    resume), but where the stored sweep is; the same command then shows it."""
    import engine.jobs.sweep as js

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(js, "sweep_top", interrupted)
    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path / "r"), "--reps", "100"]
    result = invoke(*args)
    assert result.exit_code == 130
    [stored] = (tmp_path / "r" / "small_sweep" / "sweeps").iterdir()
    assert result.stderr.strip().splitlines()[-1] == (
        f"stopped (Ctrl-C); the sweep is stored in {stored}: the same command shows it"
    )
    forced = invoke(*args, "--force")
    assert forced.exit_code == 130 and forced.stderr.strip().splitlines()[-1] == (
        f"stopped (Ctrl-C); the sweep is stored in {stored}: the same command without --force shows it"
    )
    monkeypatch.undo()
    assert invoke(*args).exit_code == 0


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        (("cut: [0.0, 0.05]", "cut: [0.0, 0.1]"), "the grid"),
        (("slippage_bps: 5", "slippage_bps: 6"), "the config"),
    ],
)
def test_resume_after_the_config_changed_says_so_and_names_the_stopped_sweep_it_keeps(
    small, tmp_path: Path, monkeypatch, edit: tuple[str, str], changed: str
) -> None:
    """The stopped sweep's id no longer matches: ``--resume`` says there is nothing to resume and starts
    afresh, and names the stopped sweep it cannot continue (what changed, its chunks), which stays."""
    path = tmp_path / "small.yaml"
    path.write_text(small[0].read_text(encoding="utf-8"), encoding="utf-8")
    _ctrl_c_at_chunk(monkeypatch, 3)
    results = tmp_path / "results"
    assert invoke("sweep", str(path), "--results-dir", str(results), "--chunk-size", "10").exit_code == 130
    [partial] = (results / "small_sweep" / "sweeps").iterdir()
    monkeypatch.undo()
    text = path.read_text(encoding="utf-8")
    assert text.count(edit[0]) == 1
    path.write_text(text.replace(*edit), encoding="utf-8")
    resumed = invoke("sweep", str(path), "--results-dir", str(results), "--chunk-size", "10", "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    said = " ".join(resumed.stderr.split())
    assert "nothing to resume" in said and "resumed:" not in said
    assert f"cannot continue: {partial} (2 of 7 chunks; {changed} changed); remove the directory" in said
    assert partial.is_dir() and len(list(partial.glob("chunk-*.parquet"))) == 2
    quiet = invoke("sweep", str(path), "--results-dir", str(results), "--chunk-size", "10")  # reused: not again
    assert quiet.exit_code == 0 and str(partial) not in quiet.stderr


@pytest.mark.slow
def test_dask_local_cluster_equals_in_process_bit_for_bit(small, tmp_path: Path) -> None:
    path = small[0]
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert invoke("sweep", str(path), "--results-dir", str(local), "--chunk-size", "16").exit_code == 0
    result = invoke("sweep", str(path), "--results-dir", str(dask), "--chunk-size", "16", "--cluster", "local")
    assert result.exit_code == 0, result.stderr
    [a] = (local / "small_sweep" / "sweeps").iterdir()
    [b] = (dask / "small_sweep" / "sweeps").iterdir()
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "combos.parquet"), pd.read_parquet(b / "combos.parquet"), check_exact=True
    )
    with np.load(a / "blocks.npz") as x, np.load(b / "blocks.npz") as y:
        assert all(np.array_equal(x[k], y[k]) for k in ("sum", "sq", "n"))


@pytest.mark.parametrize("address", ["bogus", "tcp://127.0.0.1", "", "foo://x:1", "tcp://[::1", "tcp://h:99999"])
def test_a_malformed_cluster_address_is_one_line_before_anything_runs(small, tmp_path: Path, address: str) -> None:
    """Dask's own parser raised a ValueError traceback mid-sweep, after the sweep's directory was made."""
    for command in ("sweep", "walkforward"):
        result = invoke(command, str(small[0]), "--results-dir", str(tmp_path / "r"), "--cluster", address)
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"error: --cluster: expected 'local' or a Dask scheduler's address as tcp://HOST:PORT, got {address!r}"
        )
    assert not (tmp_path / "r").exists()


def test_a_sweep_whose_cluster_cannot_be_reached_leaves_nothing_in_the_way(small, tmp_path: Path) -> None:
    """No chunk was done: the next sweep of the same config starts, rather than asking for --resume or --force;
    had the stopped sweep's meta.json been damaged, one line says --force starts it over."""
    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path / "r")]
    unreachable = invoke(*args, "--cluster", "tcp://127.0.0.1:1")
    assert unreachable.exit_code == 2 and "cannot reach the Dask scheduler tcp://127.0.0.1:1" in unreachable.stderr
    [partial] = (tmp_path / "r" / "small_sweep" / "sweeps").glob(".partial-*")
    meta = (partial / "meta.json").read_bytes()
    (partial / "meta.json").write_bytes(meta[:20])
    for extra in ((), ("--resume",)):
        damaged = invoke(*args, *extra)
        assert damaged.exit_code == 2
        assert damaged.stderr.strip().startswith(f"error: {partial}: the stopped sweep's meta.json cannot be read (")
        assert damaged.stderr.strip().endswith("; --force starts the sweep over")
    (partial / "meta.json").write_bytes(meta)
    again = invoke(*args)
    assert again.exit_code == 0, again.stderr
    # chunk files without their meta.json are of no known grid: a later sweep starts afresh, keeping none
    [final] = (tmp_path / "r" / "small_sweep" / "sweeps").glob("[!.]*")
    staging = final.parent / f".partial-{final.name}"
    staging.mkdir()
    (staging / "chunk-00000.parquet").write_bytes(b"PAR1 no meta")
    (staging / "chunk-00000.npz").write_bytes(b"no meta")
    fresh = invoke(*args, "--force", "--resume")
    assert fresh.exit_code == 0, fresh.stderr
    assert "resumed:" not in fresh.stderr and "nothing to resume" in fresh.stderr


# ----------------------------------------------------------------------------------------- walk-forward


WALK = SMALL.replace(
    "data: {source: synthetic, start: 2012-01-01, end: 2016-12-30}",
    "data: {source: synthetic, start: 2008-01-01, end: 2016-12-30}",
)


def _walk(tmp_path: Path, frames: dict[str, pd.DataFrame], chunk_size: int = 100):
    from engine.jobs.walkforward import plan_walkforward, run_planned

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")

    def load(cfg, warmup):
        return load_for_config(MemProvider(frames), cfg, warmup_rows=warmup, check_calendar=False)

    plan = plan_walkforward(path, lambda cfg: cfg, load, train="3y", test="1y", step=None, select_metric="sharpe")
    return run_planned(plan, engine="rust", chunk_size=chunk_size)


@pytest.fixture(scope="module")
def walk_frames() -> dict[str, pd.DataFrame]:
    provider = SyntheticProvider({"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}, first=dt.date(2006, 1, 2))
    return {s: provider.fetch(s, None, None) for s in ("^GSPC", "^HSI", "HKD=X")}


def test_walk_forward_folds_choose_on_training_windows_and_stitch_one_run(tmp_path: Path, walk_frames) -> None:
    wf = _walk(tmp_path, walk_frames)
    dates = wf.loaded.panel.dates[wf.loaded.start :]
    assert len(wf.folds) == 6  # 2008-2010 train / 2011 test, ..., 2013-2015 / 2016
    for f, combo in zip(wf.folds, wf.chosen, strict=True):
        scores = wf.table[f"w{f.number}:sharpe"].to_numpy()
        best = wf.table.iloc[int(np.nanargmax(scores))]
        assert all(best[k] == combo[k] for k in wf.keys)
        assert f.train[1] + 1 == f.test[0]
        assert dates[f.test[0]].year == dates[f.train[0]].year + 3
    stitched = wf.results[0]
    assert stitched.dates[0] == dates[wf.folds[0].test[0]]
    assert stitched.dates[-1] == dates[-1]
    # a fold's first fill follows the decision at the close of its last training date
    assert pd.Timestamp(stitched.trades["date"].iloc[0]) >= dates[wf.folds[0].test[0]]
    assert len(wf.folds_table) == len(wf.folds)


def test_walk_forward_in_chunks_equals_one_chunk(tmp_path: Path, walk_frames) -> None:
    """Regression: with more than one chunk in process, the second chunk was cut from the first chunk's
    result table instead of the grid (IndexError; ``seesaw walkforward`` failed on any grid over 100)."""
    one = _walk(tmp_path / "one", walk_frames)
    many = _walk(tmp_path / "many", walk_frames, chunk_size=7)  # 64 combinations: 10 chunks
    pd.testing.assert_frame_equal(one.table, many.table, check_exact=True)
    assert one.chosen == many.chosen
    pd.testing.assert_frame_equal(one.folds_table, many.folds_table, check_exact=True)


def test_walk_forward_selection_never_sees_its_test_window(tmp_path: Path, walk_frames) -> None:
    """Change every price inside fold k's test window: fold k's choice and training scores stay put."""
    base = _walk(tmp_path / "a", walk_frames)
    dates = base.loaded.panel.dates[base.loaded.start :]
    k = 2
    lo, hi = dates[base.folds[k].test[0]], dates[base.folds[k].test[1]]
    rng = np.random.default_rng(7)
    changed = {}
    for symbol, frame in walk_frames.items():
        frame = frame.copy()
        inside = (frame.index >= lo) & (frame.index <= hi)
        if symbol != "HKD=X":
            # within +-10%: wider independent factors make one-day spikes and split-like jumps, which
            # loading repairs or refuses (engine.data.validate)
            factors = rng.uniform(0.9, 1.1, int(inside.sum()))
            for col in ("Open", "High", "Low", "Close", "Adj Close"):
                frame.loc[inside, col] = frame.loc[inside, col].to_numpy() * factors
        changed[symbol] = frame
    other = _walk(tmp_path / "b", changed)
    for f in range(k + 1):  # this fold and every earlier one: nothing they read moved
        assert other.chosen[f] == base.chosen[f]
        col = f"w{f}:sharpe"
        np.testing.assert_array_equal(other.table[col].to_numpy(), base.table[col].to_numpy())
    # ... and the change is real: the next fold, which trains on those dates, scores differently
    col = f"w{k + 1}:sharpe"
    assert not np.array_equal(other.table[col].to_numpy(), base.table[col].to_numpy())


def test_walkforward_command_stores_a_run_that_compare_shows(tmp_path: Path) -> None:
    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")
    results = str(tmp_path / "results")
    result = invoke(
        "walkforward", str(path), "--train", "3y", "--test", "1y", "--results-dir", results, "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["folds"]) == 6 and doc["out_of_sample"]["name"] == "small_sweep_walkforward"
    assert (doc["train"], doc["test"], doc["step"], doc["select"], doc["combinations"]) == (
        "3y",
        "1y",
        "1y",
        "sharpe",
        64,
    )
    assert Path(doc["run_dir"]).is_dir()
    plain = REPO / "configs" / "static_60_40.yaml"
    assert invoke("run", str(plain), "--source", "synthetic", "--results-dir", results).exit_code == 0
    shown = invoke("compare", "--runs", "latest", "--results-dir", results, "--reps", "200", "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    names = [r["name"] for r in json.loads(shown.stdout)["rows"] if r["kind"] == "strategy"]
    assert names == ["small_sweep_walkforward", "static_60_40"]
    bad = invoke("walkforward", str(path), "--train", "3 years", "--results-dir", results)
    assert bad.exit_code == 2 and "--train: expected a duration" in bad.stderr
    # the table's last line is a command that compares the walk-forward run by its id, whatever else is stored
    text = invoke("walkforward", str(path), "--train", "3y", "--test", "1y", "--results-dir", results).stdout
    hint = text.strip().splitlines()[-1]
    run_id = r"\d{8}T\d{6}Z-[\w-]+"  # a second run in the same second has a -N suffix
    assert re.fullmatch(rf"seesaw compare --runs {run_id},RUN_ID --results-dir {re.escape(results)}", hint)
    [static] = json.loads(shown.stdout)["rows"][1:2]
    again = invoke(*hint.replace("RUN_ID", static["run_id"]).split()[1:], "--reps", "200")
    assert again.exit_code == 0, again.stderr


def test_the_sweep_caption_names_the_benchmark_p_beats_ref_is_against(small, tmp_path: Path) -> None:
    """Stored in the manifest, so a reused sweep names it too."""
    args = ["sweep", str(small[0]), "--results-dir", str(tmp_path / "r"), "--reps", "100"]
    for _ in range(2):  # computed, then reused
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
        assert "Sharpe beats that of 50/50 monthly." in " ".join(result.stdout.split())
    [stored] = (tmp_path / "r" / "small_sweep" / "sweeps").iterdir()
    assert json.loads((stored / "sweep.json").read_text(encoding="utf-8"))["reference"] == "50/50 monthly"


def test_a_walkforward_counts_the_switches_its_weights_show_when_a_fold_overtakes_decisions(
    tmp_path: Path, data_dir: Path
) -> None:
    """Folds alternate between lag 1 and lag 2 (real data): the first decision of a lag-1 fold executes with
    the last of the lag-2 fold before it, which it overtakes (that one's targets are never in force, nor
    traded).  ``switches`` counts the changes of the targets in force, as ``weights.csv`` shows them: the
    first test date holds nothing (its fold decides on it), so every change after the first position is one.
    Counting the overtaken decisions too gave 210 switches for the 208 changes shown."""
    results = tmp_path / "results"
    result = invoke(
        "walkforward", str(REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml"), "--source", "csv",
        "--data-dir", str(data_dir), "--end", "2026-08-26", "--train", "5y", "--test", "1y",
        "--results-dir", str(results), "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    lags = [fold["execution.lag"] for fold in doc["folds"]]
    assert any(a == 2 and b == 1 for a, b in itertools.pairwise(lags)), lags
    run_dir = Path(doc["run_dir"])
    targets = pd.read_csv(run_dir / "weights.csv").filter(like="_target").to_numpy()
    assert not targets[0].any()
    changes = int((np.abs(np.diff(targets, axis=0)) > 1e-12).any(axis=1).sum())
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["strategy"]
    assert metrics["switches"] == changes - 1 == 208


def test_a_walkforward_whose_last_test_window_the_data_cut_short_says_its_figures_extrapolate(tmp_path: Path) -> None:
    """Data ending mid-year: the last fold tests half a year, whose CAGR and Sharpe extrapolate it to a year (as
    compare, which would not show them, says); a last window a few days short of a year (the data's last date
    a holiday or a weekend before its nominal end) is no such window."""
    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")
    args = ["walkforward", str(path), "--train", "3y", "--test", "1y", "--results-dir", str(tmp_path / "results")]
    cut = invoke(*args, "--end", "2016-06-30")
    assert cut.exit_code == 0, cut.stderr
    pattern = r"The last fold's test window is cut short by the end of the data \(fold (\d+): (\S+) → 2016-06-30, "
    said = re.search(pattern + r"(0\.\d\d) of the 1\.00 years asked\)", " ".join(cut.stdout.split()))
    assert said is not None, cut.stdout
    assert dt.date.fromisoformat(said.group(2)).year == 2016 and 0.4 < float(said.group(3)) < 0.55
    assert "under a year" not in cut.stdout  # the other folds' windows are years
    page = tmp_path / "walk.html"  # the page says it in the same words
    assert invoke(*args, "--end", "2016-06-30", "--report", str(page)).exit_code == 0
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))).split())
    assert said.group(0) in text, said.group(0)
    whole = invoke(*args)  # the data end 2016-12-30, the last window's nominal end 2017-01-0x
    assert whole.exit_code == 0 and "cut short" not in whole.stdout
    # a step of a quarter: the folds' windows overlap; each fold's figures end when the next one's choice takes over,
    # so only the last window ends with the data
    stepped = " ".join(invoke(*args, "--end", "2016-06-30", "--step", "3m").stdout.split())
    assert "The last fold's test window is cut short by the end of the data (fold " in stepped
    assert len(re.findall(r"fold \d+: \S+ → 2016-06-30, 0\.\d\d of the 1\.00 years asked", stepped)) == 1, stepped
    assert "The test windows overlap (--step shorter than --test): a fold's OOS figures end the date before" in stepped
    assert "Every fold's out-of-sample window is under a year" not in stepped  # the overlap note says it
    half = " ".join(invoke(*args, "--test", "6m").stdout.split())  # the last --test wins
    assert (
        "Every fold's out-of-sample window is under a year (--test 6m): its CAGR and Sharpe in the table "
        "extrapolate it to a year (compare shows no such figure)." in half
    )


def test_an_unchanged_walkforward_is_reused_and_shown_as_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same config, data, settings and code: the stored walk-forward run is shown again (the same document
    but for ``reused``, its run_dir one resolved path under a relative --results-dir), not a second run stored;
    --force, another --step or changed data run it again."""
    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["walkforward", str(path), "--train", "3y", "--test", "1y", "--results-dir", "r"]
    first = invoke(*args, "--format", "json")
    again = invoke(*args, "--format", "json")
    assert first.exit_code == again.exit_code == 0, again.stderr
    doc, shown = json.loads(first.stdout), json.loads(again.stdout)
    assert (doc.pop("reused"), shown.pop("reused")) == (False, True) and shown == doc
    assert f"reused {doc['run_dir']} (same config, data, settings and code; --force runs again)" in again.stderr
    stored = tmp_path / "r" / "small_sweep_walkforward"
    assert [p.name for p in stored.iterdir()] == [Path(doc["run_dir"]).name]
    text = " ".join(invoke(*args).stdout.split())
    assert f"reused {doc['run_dir']} (same config, data, settings and code" in text and "wrote" not in text
    for other in (["--force"], ["--step", "6m"], ["--end", "2016-06-30"]):
        rerun = json.loads(invoke(*args, *other, "--format", "json").stdout)
        assert rerun["reused"] is False and rerun["run_dir"] != doc["run_dir"], other
    assert len(list(stored.iterdir())) == 4
    listed = " ".join(invoke("runs", "list", "--results-dir", str(tmp_path / "r")).stdout.split())
    for made in ("3y/1y/1y, sharpe", "3y/1y/6m, sharpe"):  # walk-forwards made otherwise are told apart
        assert f"small_sweep_walkforward ({made})" in listed, listed
    assert "A walk-forward's (train/test/step, metric chosen by) follows its config's name." in listed
    newest = json.loads(invoke(*args, "--format", "json").stdout)  # the --force run: the newest of the same
    assert newest["reused"] is True and newest["run_dir"] != doc["run_dir"]
    months = [a.replace("3y", "36m").replace("1y", "12m") for a in args]  # whole years of months: the same folds
    written = json.loads(invoke(*months, "--format", "json").stdout)
    assert written["reused"] is True and written["run_dir"] == newest["run_dir"]
    latest = invoke("report", "latest", "--format", "text", "--results-dir", str(tmp_path / "r"))  # the one shown
    assert latest.stdout.split()[:3] == ["small_sweep_walkforward", "run", Path(newest["run_dir"]).name]
    stepped = json.loads(invoke(*args, "--step", "6m", "--format", "json").stdout)  # reused, and noted
    (Path(newest["run_dir"]) / "equity.parquet").write_bytes(b"PAR1 damaged")  # never shown from a damaged run
    refused = invoke(*args)
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "equity.parquet" in refused.stderr and "--force" in refused.stderr
    noted = (tmp_path / "r" / ".last-run").read_text(encoding="utf-8").strip()
    assert stepped["reused"] is True and noted == Path(stepped["run_dir"]).name  # not the damaged run refused


def test_overlapping_walkforward_folds_score_each_choice_only_while_it_trades(tmp_path: Path) -> None:
    """--step 6m --test 1y: fold i+1's choice takes over half-way through fold i's test window, so fold i's
    out-of-sample figures end the date before (scored_to), never scoring the next choice's trading as its own."""
    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")
    args = ["walkforward", str(path), "--train", "3y", "--test", "1y", "--step", "6m", "--format", "json"]
    result = invoke(*args, "--results-dir", str(tmp_path / "results"), "--report", str(tmp_path / "walk.html"))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    folds = doc["folds"]
    page = (tmp_path / "walk.html").read_text(encoding="utf-8")  # the report shows the windows scored, not the tests
    shown = tables(page)["folds"]
    at = shown.headers.index("OOS scored to")
    assert {"IS Sharpe", "OOS Sharpe", "IS CAGR", "OOS Max DD"} <= set(shown.headers), shown.headers  # as the terminal
    assert [row[at][0] for row in shown.rows] == [f["scored_to"] for f in folds]
    said = unescape(page)
    assert "The test windows overlap (--step shorter than --test): a fold's OOS figures end the date before" in said
    table = invoke(*args[:-2], "--results-dir", str(tmp_path / "results")).stdout  # the text table: its OOS to
    assert "OOS to" in table
    rows = {line.split()[0]: line.split() for line in table.splitlines() if re.match(r"\d+\s+\d{4}-", line)}
    assert [rows[str(f["fold"])][4] for f in folds] == [f["scored_to"] for f in folds]
    equity = pd.read_csv(Path(doc["run_dir"]) / "equity.csv", index_col="date", parse_dates=True)["value"]
    for fold, after in itertools.pairwise(folds):
        assert fold["scored_to"] == str((equity.index[equity.index < after["test_start"]][-1]).date())
        assert fold["scored_to"] < fold["test_end"]
    assert folds[-1]["scored_to"] == folds[-1]["test_end"]
    fold = folds[1]
    window = equity[fold["test_start"] : fold["scored_to"]]
    before = equity[equity.index < fold["test_start"]].iloc[-1]
    years = (window.index[-1] - window.index[0]).days / 365.25
    assert fold["oos_cagr"] == pytest.approx((window.iloc[-1] / before) ** (1 / years) - 1, rel=1e-9)
    drawdown = (np.minimum.accumulate(window / np.maximum.accumulate(np.r_[before, window.to_numpy()])[1:]) - 1).min()
    assert fold["oos_max_drawdown"] == pytest.approx(min(drawdown, 0.0), rel=1e-9)


def test_the_folds_table_shows_each_chosen_value_as_the_grid_has_it(tmp_path: Path) -> None:
    """A grid value of 0.0125 is 0.0125 in the text folds table, as in the sweep table and the report, not 0.01."""
    path = tmp_path / "walk.yaml"
    path.write_text(WALK.replace("cut: [0.0, 0.05]", "cut: [0.0125, 0.0375]"), encoding="utf-8")
    args = ["walkforward", str(path), "--train", "3y", "--test", "1y", "--results-dir", str(tmp_path / "r")]
    doc = json.loads(invoke(*args, "--format", "json").stdout)
    chosen = [f["cut"] for f in doc["folds"]]
    assert set(chosen) <= {0.0125, 0.0375} and chosen
    text = invoke(*args, "--format", "table")
    assert text.exit_code == 0, text.stderr
    rows = [line.split() for line in text.stdout.splitlines() if line.split()[:1] in ([str(i)] for i in range(9))]
    shown = [next(c for c in row if c in ("0.0125", "0.0375", "0.01", "0.04", "0.03")) for row in rows]
    assert shown == [str(c) for c in chosen], text.stdout


def test_the_walkforward_summary_shows_each_figure_in_its_metrics_unit(tmp_path: Path) -> None:
    """The folds' in- and out-of-sample means of a fraction (max drawdown) are percentages, as every other output
    shows them."""
    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")
    args = ["--train", "3y", "--test", "1y", "--results-dir", str(tmp_path / "results"), "--select", "max_drawdown"]
    doc = json.loads(invoke("walkforward", str(path), *args, "--format", "json").stdout)
    means = [float(np.mean([f[f"{k}_max_drawdown"] for f in doc["folds"]])) * 100 for k in ("is", "oos")]
    result = invoke("walkforward", str(path), *args)
    assert result.exit_code == 0, result.stderr
    assert (
        f"over the folds, the chosen combinations' max_drawdown averaged {means[0]:.1f}% in sample and "
        f"{means[1]:.1f}% out of sample (each on its fold's own window)." in " ".join(result.stdout.split())
    )
    assert f"{means[0]:.1f}" != f"{means[1]:.1f}"


def test_a_walkforward_scores_in_the_sweeps_chunks_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its training scores are a sweep's chunks filled by the scheduler: chunks of the sweep's default size
    (they were 16, a size once meant for vectorbt's calls; 200 scored the shipped sweep's 392 combinations
    in 2.44 s against 2.87-2.94 s, the same folds and run)."""
    import engine.jobs.walkforward as jw
    from engine.sweep import DEFAULT_CHUNK

    sizes: list[int] = []
    real = jw.chunks
    monkeypatch.setattr(jw, "chunks", lambda cfg, g, size: sizes.append(size) or real(cfg, g, size))
    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")
    result = invoke("walkforward", str(path), "--train", "3y", "--results-dir", str(tmp_path / "r"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert sizes == [DEFAULT_CHUNK]


def test_walk_forward_selection_counts_scores_apart_only_by_rounding_as_tied() -> None:
    """Combinations holding the same positions over a training window score alike up to rounding (7e-13 of the
    Sharpe ratio apart on the shipped sweep's sixth fold): the first of them in grid order wins, not the one
    whose last bits happen to be largest; a real difference, however small in money, still wins."""
    from engine.walkforward import TIE_RTOL, Fold, select

    fold = Fold(1, (0, 9), (10, 19))
    best = 0.009416488525874848

    def chosen(values: list[float], *, lower: bool = False) -> int:
        return select(pd.DataFrame({"w1:sharpe": values}), fold, "sharpe", lower_is_better=lower)

    assert chosen([0.001, best - 6.9e-15, np.nan, best, best - 3e-15]) == 1
    assert chosen([0.001, best * (1 - 10 * TIE_RTOL), best]) == 2
    assert chosen([np.nan, -0.2 + 1e-16, -0.2, -0.2 - 1e-16]) == 1  # a negative best: within its size
    assert chosen([0.3, 0.1 + 1e-16, 0.1], lower=True) == 1
    assert chosen([0.0, 0.0, -1e-300]) == 0 and chosen([-1e-300, 0.0, 0.0]) == 1  # a best of 0 ties only with 0
    assert chosen([-np.inf, np.nan, -np.inf]) == 0
    assert chosen([np.nan, -np.inf, -np.inf]) == 1  # a NaN never wins, nor ties with a best of -inf
    with pytest.raises(UserError, match="undefined for every combination on fold 1"):
        chosen([np.nan, np.nan])


def test_the_shipped_walk_forward_chooses_the_first_of_its_tied_combinations(data_dir: Path, tmp_path: Path) -> None:
    """On real data the shipped sweep's folds 2-5 train on windows where 196 combinations hold the same positions
    (the correlation never crosses their cuts) and fold 6 on one where 49 do, their Sharpe ratios 7e-13 apart:
    each fold's ``tied`` counts them, the first in grid order (mom_window 20) is chosen, and a note says so."""
    config = str(REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml")
    args = [config, "--source", "csv", "--data-dir", str(data_dir), "--results-dir", str(tmp_path / "r")]
    result = invoke("walkforward", *args, "--train", "5y", "--test", "1y", "--format", "json")
    assert result.exit_code == 0, result.stderr
    folds = json.loads(result.stdout)["folds"]
    tied = {f["fold"]: f["tied"] for f in folds if f["tied"] > 1}
    assert tied == {2: 196, 3: 196, 4: 196, 5: 196, 6: 49}
    assert [(f["corr_cut"], f["mom_window"], f["execution.lag"]) for f in folds[2:7]] == [(0.0, 20, 1)] * 4 + [
        (0.2, 20, 2)
    ]
    text = " ".join(invoke("walkforward", *args, "--train", "5y", "--test", "1y").stdout.split())
    assert (
        "Tied in training (scores within a relative 1e-9 of the best): folds 2, 3, 4 and 5, 196 combinations "
        "each; fold 6, 49 combinations. The first of them in grid order is chosen and shown"
    ) in text


def test_walk_forward_folds_leave_no_date_untested() -> None:
    """Every date from the first test date on is in some fold's test window: boundaries are one offset from
    the first date (chained, 31 January + 1 month + 1 month would be 28 March, leaving a gap), and a step
    longer than the test window, in any fold or after the last, is refused."""
    from engine.walkforward import folds, parse_duration

    def d(text: str) -> pd.DateOffset:
        return parse_duration(text, "--x")

    for zero in ("0y", "0m", "0d"):  # the form of a duration, but none: said so, not that the form is wrong
        with pytest.raises(UserError, match=f"--x: a duration must be longer than 0, got '{zero}'"):
            d(zero)
    dates = pd.bdate_range("2002-01-31", "2006-12-29")
    made = folds(dates, d("1m"), d("1m"), d("1m"))
    covered = np.concatenate([np.arange(f.test[0], f.test[1] + 1) for f in made])
    assert covered.tolist() == list(range(made[0].test[0], len(dates)))
    assert [str(dates[f.train[0]].date()) for f in made[:4]] == ["2002-01-31", "2002-02-28", "2002-04-01", "2002-04-30"]
    feb = pd.bdate_range("2002-02-01", "2008-12-31")
    with pytest.raises(UserError, match=r"--step 1m is longer than --test 28d: fold \d+'s test window ends"):
        folds(feb, d("2y"), d("28d"), d("1m"))  # the first fold's 28 days are February's: a later one's are not
    with pytest.raises(UserError, match="the data ends 2008-12-31"):
        folds(feb, d("5y"), d("1y"), d("3y"))  # one fold, tested on the first of the data's last two years


def test_a_walkforward_stores_its_folds_settings_and_refuses_a_step_past_its_test(tmp_path: Path) -> None:
    """Walk-forwards of one config with other folds are other runs: config.yaml says how the folds were made,
    so their config hashes differ.  A step longer than the test window would leave dates in the stitched
    run that no fold tests: refused."""
    path = tmp_path / "walk.yaml"
    path.write_text(WALK, encoding="utf-8")
    results = tmp_path / "results"
    hashes = set()
    for step in ("1y", "6m"):
        args = ["--train", "3y", "--test", "1y", "--step", step, "--select", "calmar"]
        result = invoke("walkforward", str(path), *args, "--results-dir", str(results), "--format", "json")
        assert result.exit_code == 0, result.stderr
        run_dir = Path(json.loads(result.stdout)["run_dir"])
        settings = {"train": "3y", "test": "1y", "step": step, "select": "calmar"}
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        assert {k: metrics["walkforward"][k] for k in settings} == settings
        text = (run_dir / "config.yaml").read_text(encoding="utf-8")
        assert f"# walk-forward: train 3y, test 1y, step {step}, select calmar\n" in text
        assert "walkforward" not in yaml.safe_load(text)  # the body: a config Seesaw validates and runs
        assert invoke("validate", str(run_dir / "config.yaml")).exit_code == 0
        hashes.add(json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["config_hash"])
    assert len(hashes) == 2
    bad = invoke("walkforward", str(path), "--train", "3y", "--test", "1y", "--step", "18m", "--results-dir", "x")
    assert bad.exit_code == 2
    assert "--step 18m is longer than --test 1y" in " ".join(bad.stderr.split())
    short = invoke("walkforward", str(path), "--train", "102m", "--test", "1y", "--results-dir", str(results))
    assert short.exit_code == 0, short.stderr
    assert re.search(r"The out-of-sample run is 0\.\d\d years: under one year its CAGR", " ".join(short.stdout.split()))
    long = invoke("walkforward", str(path), "--train", "3y", "--results-dir", str(results))
    assert long.exit_code == 0 and "under one year" not in long.stdout


def test_threads_hold_a_bounded_number_of_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # a sweep of a million combinations is 10,000 chunks: the threads may run ahead by two chunks each,
    # never hold every finished chunk until the end
    import engine.jobs.chunk_workers as chunk_workers

    started: list[int] = []
    monkeypatch.setattr(
        chunk_workers, "evaluate_chunk", lambda ctx, frame, part: started.append(int(part[0])) or int(part[0])
    )
    parts = [np.array([i]) for i in range(200)]
    frame = pd.DataFrame({"x": range(200)})
    seen = []
    for number, result in chunk_workers.evaluate_chunks(None, frame, parts, list(range(200)), None, workers=3):  # type: ignore[arg-type]
        assert number == result == len(seen)  # in order
        assert len(started) <= len(seen) + 1 + 2 * 3
        seen.append(number)
    assert seen == list(range(200)) and sorted(started) == seen


@pytest.mark.parametrize(("workers", "chunks"), [(1, 5), (4, 1)])
def test_chunks_never_run_on_the_main_thread(monkeypatch: pytest.MonkeyPatch, workers: int, chunks: int) -> None:
    """One worker or one chunk included: Ctrl-C must land in the main thread's wait for a chunk, never inside
    a compiled call (numba reports a KeyboardInterrupt raised in its dispatcher as a SystemError: a traceback
    instead of a clean stop)."""
    import threading

    import engine.jobs.chunk_workers as chunk_workers

    threads: list[threading.Thread] = []
    monkeypatch.setattr(
        chunk_workers, "evaluate_chunk", lambda ctx, frame, part: threads.append(threading.current_thread()) or 0
    )
    parts = [np.array([i]) for i in range(chunks)]
    frame = pd.DataFrame({"x": range(chunks)})
    done = list(chunk_workers.evaluate_chunks(None, frame, parts, list(range(chunks)), None, workers=workers))  # type: ignore[arg-type]
    assert [number for number, _ in done] == list(range(chunks))
    assert len(threads) == chunks and threading.main_thread() not in threads


_STARTED: list[int] = []


def _fake_chunk(ctx: object, frame: pd.DataFrame, part: np.ndarray) -> int:
    _STARTED.append(int(part[0]))
    return int(part[0])


def test_a_cluster_holds_a_bounded_number_of_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # the same bound on a Dask cluster (in-process workers here, so the stand-in chunk function is seen):
    # chunks are submitted a few at a time, not all 10,000 of a million combinations at once
    from distributed import LocalCluster

    import engine.jobs.chunk_workers as chunk_workers

    monkeypatch.setattr(chunk_workers, "evaluate_chunk", _fake_chunk)
    _STARTED.clear()
    parts = [np.array([i]) for i in range(120)]
    frame = pd.DataFrame({"x": range(120)})
    seen: list[int] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        chunks_run = chunk_workers.evaluate_chunks(None, frame, parts, list(range(120)), cluster.scheduler_address)  # type: ignore[arg-type]
        for number, result in chunks_run:
            assert number == result
            assert len(_STARTED) <= len(seen) + 1 + 8  # at most eight ahead (two per thread, at least eight)
            seen.append(number)
    assert sorted(seen) == list(range(120)) and sorted(_STARTED) == sorted(seen)


@pytest.mark.parametrize("width", [80, 100])
def test_sweep_table_fits_the_terminal_and_keeps_every_value_whole(small, tmp_path: Path, width: int) -> None:
    # 24 columns cut to '…' in every cell at 100 columns: the table is printed in blocks of columns
    path = small[0]
    args = ["sweep", str(path), "--results-dir", str(tmp_path / "r"), "--top", "3", "--reps", "100"]
    env = {**dict.fromkeys(_RICH_ENV), "COLUMNS": str(width)}
    table = CliRunner().invoke(app, args, env=env)
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    [stored] = [line for line in lines if line.startswith("Stored in ")]  # whole, to copy: never cut at the width
    assert stored.endswith(f"--results-dir {tmp_path / 'r'}).") and "seesaw runs query" in stored
    assert max(len(line) for line in lines if line != stored) <= width
    headers = " ".join(line for line in lines if line.startswith("#"))  # each block's last header line
    assert "P(SR>ref)" in headers and "Sharpe" in headers and "sharpe" not in headers  # the labels, as compare's
    rows = json.loads(invoke(*args, "--format", "json").stdout)["rows"]
    for r in rows:
        # each number is shown whole on its row's line(s): the first cell of every block is the rank
        shown = " ".join(line for line in lines if line.split()[:1] == [str(rows.index(r) + 1)])
        assert f"{r['sharpe']:.2f}" in shown and f"{r['trades']:.0f}" in shown and f"{r['dsr']:.2f}" in shown


@pytest.mark.parametrize("top", [0, 1, 7, 40, 500])
def test_the_top_rows_are_the_head_of_the_whole_ranking(top: int) -> None:
    # taken by position from an argsort: the same rows, in the same order, as the whole table sorted
    # (NaN last, ties in grid order, -0.0 equal to 0.0, infinities), for higher- and lower-is-better
    # columns, an integer column, and a text column (sorted as before)
    from engine.metrics import specs
    from engine.sweep import rank_combinations

    rng = np.random.default_rng(top)
    n = 300
    pick = np.array([0.0, -0.0, 1.5, -1.5, 2.0, np.nan, np.inf, -np.inf, 0.25])
    table = pd.DataFrame(
        {
            "combo": np.arange(n),
            "sharpe": rng.choice(pick, n),
            "ann_vol": rng.choice(pick, n),
            "switches": rng.integers(0, 5, n),
            "rebalance": rng.choice(["daily", "monthly", "weekly"], n),
        },
        index=np.arange(n) * 3,
    )
    assert "ann_vol" in specs.LOWER_IS_BETTER and "sharpe" not in specs.LOWER_IS_BETTER
    for sort in ("sharpe", "ann_vol", "switches", "rebalance"):
        whole = rank_combinations(table, sort)
        pd.testing.assert_frame_equal(rank_combinations(table, sort, top), whole.head(top))
        assert whole["combo"].is_unique and len(whole) == n


#: MOSTLY_CASH whose cash earns the T-bill, with a benchmark to be the reference, and a cut reached half the time.
CASH_SWEEP = (
    MOSTLY_CASH.replace("name: mostly_cash_sweep", "name: cash_sweep\ncash_rate: ^IRX")
    .replace("costs: {fee_bps: 5, slippage_bps: 5}", "benchmarks:\n  - {name: buy & hold US, weights: {us: 1.0}}")
    .replace("cut: [-2.0, -0.3, 0.0]", "cut: [-2.0, 0.0, 0.5]")
)


def test_a_combination_always_in_cash_earning_the_risk_free_rate_has_no_statistics(tmp_path: Path) -> None:
    """cut -2: the correlation is never below it, so the combination is in cash earning the T-bill on every
    date: no Sharpe ratio, so no interval, PSR, DSR or P(SR>ref) (rounding once left a PSR next to a –)."""
    path = tmp_path / "cash_sweep.yaml"
    path.write_text(CASH_SWEEP, encoding="utf-8")
    result = invoke("sweep", str(path), "--results-dir", str(tmp_path / "r"), "--reps", "200", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["cut"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows[-2.0]["total_return"] > 0.0
    for key in ("sharpe", "sharpe_ci_low", "sharpe_ci_high", "psr", "dsr", "p_beats_ref"):
        assert rows[-2.0][key] is None, key
        assert rows[0.0][key] is not None, key
