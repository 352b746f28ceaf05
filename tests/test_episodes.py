"""``seesaw episodes``: hand-computed cases for each definition of docs/episodes.md, scipy for the
intervals, and the command end to end (formats, stored results, ``--configs``, bad input).

The independent reference on whole data sets is tests/test_episodes_reference.py.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engine.episode_bands import Z95, bootstrap_band, fisher_band, indistinguishable
from engine.episode_report import EpisodeReport
from engine.episode_study import asset_forward, base_date, equity_forward, non_overlapping, study
from engine.episodes import MIN_HISTORY, Threshold, find_episodes, observations, percentiles
from tests.conftest import REPO

DAYS = pd.bdate_range("2024-01-01", periods=8)


# ----------------------------------------------------------------------------- observations and ranks


def test_a_value_carried_forward_is_not_a_new_observation():
    v = np.array([np.nan, 0.3, 0.3, 0.1, np.nan, 0.1, 0.2, 0.2])
    obs = observations(DAYS, v)
    assert list(obs.rows) == [1, 3, 5, 6]
    assert list(obs.values) == [0.3, 0.1, 0.1, 0.2]


def test_percentile_rank_and_since_by_hand():
    # values:      0.5  0.2  0.4  0.2  0.1  0.3
    # pct (<=):   100   50  66.7  50   20  66.7 (4 of 6 are <= 0.3: 0.2, 0.2, 0.1, 0.3)
    values = np.array([0.5, 0.2, 0.4, 0.2, 0.1, 0.3])
    assert percentiles(values) == pytest.approx([100, 50, 200 / 3, 50, 20, 200 / 3])
    obs = observations(pd.bdate_range("2024-01-01", periods=6), values)
    eps, _ = find_episodes(obs, "low", Threshold("value", 0.2), gap=0)
    assert [(e.first, e.last, e.peak) for e in eps] == [(1, 1, 1), (3, 4, 4)]
    first, second = eps
    assert (first.rank, first.since) == (1, None)  # nothing earlier is lower: a record
    assert (second.rank, second.since) == (1, None)  # 0.1 at observation 4, the run's most extreme
    eps_high, _ = find_episodes(obs, "high", Threshold("value", 0.4), gap=0)
    assert [(e.peak, e.rank, e.since) for e in eps_high] == [(0, 1, None), (2, 2, 0)]


def test_a_tie_counts_as_as_extreme_for_since_but_not_for_rank():
    values = np.array([0.2, 0.5, 0.2])
    obs = observations(pd.bdate_range("2024-01-01", periods=3), values)
    eps, _ = find_episodes(obs, "low", Threshold("value", 0.2), gap=0)
    assert [(e.peak, e.rank, e.since) for e in eps] == [(0, 1, None), (2, 1, 0)]


def test_gap_joins_runs_fewer_than_gap_observations_apart():
    values = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    values = values + np.arange(10) * 1e-3  # distinct observations
    obs = observations(pd.bdate_range("2024-01-01", periods=10), values)
    spans = lambda gap: [(e.first, e.last) for e in find_episodes(obs, "low", Threshold("value", 0.5), gap)[0]]  # noqa: E731
    assert spans(0) == [(0, 0), (3, 3), (5, 5), (9, 9)]
    assert spans(2) == [(0, 0), (3, 5), (9, 9)]  # one observation between 3 and 5: joined; two elsewhere: not
    assert spans(3) == [(0, 5), (9, 9)]
    assert spans(4) == [(0, 9)]


def test_percentile_threshold_needs_history_and_reads_no_future():
    rng = np.random.default_rng(1)
    values = rng.normal(size=MIN_HISTORY + 200)
    values[10] = -10.0  # extreme, but inside the first MIN_HISTORY observations
    dates = pd.bdate_range("2000-01-03", periods=len(values))
    obs = observations(dates, values)
    eps, pct = find_episodes(obs, "low", Threshold("percentile", 5.0), gap=0)
    assert all(e.first >= MIN_HISTORY for e in eps)
    assert eps
    # the same episodes on the history cut after the last one: nothing depends on later values
    cut = eps[-1].last + 1
    again, _ = find_episodes(observations(dates[:cut], values[:cut]), "low", Threshold("percentile", 5.0), gap=0)
    assert [(e.first, e.last, e.peak, e.rank) for e in again] == [(e.first, e.last, e.peak, e.rank) for e in eps]
    assert pct[:cut] == pytest.approx(percentiles(values[:cut]))


# ----------------------------------------------------------------------------- bands


def test_fisher_band_by_hand():
    band = fisher_band(-0.1, 90)
    half = 1.959963984540054 / math.sqrt(87)
    assert band.low == pytest.approx(math.tanh(math.atanh(-0.1) - half))
    assert band.high == pytest.approx(math.tanh(math.atanh(-0.1) + half))
    assert fisher_band(0.5, 3) is None
    assert stats.norm.ppf(0.975) == pytest.approx(Z95)


def test_indistinguishable_counts_values_within_the_test():
    earlier = np.array([-0.5, -0.15, 0.0, 0.1, 0.6])
    dates = pd.bdate_range("2020-01-01", periods=5)
    got = indistinguishable(-0.1, 90, earlier, dates)
    limit = Z95 * math.sqrt(2 / 87)
    inside = [abs(math.atanh(v) - math.atanh(-0.1)) < limit for v in earlier]
    assert inside == [False, True, True, True, False]
    assert (got.count, got.first, got.last, got.share) == (3, dates[1], dates[3], 0.6)


def test_bootstrap_band_brackets_the_correlation_and_is_reproducible():
    rng = np.random.default_rng(4)
    x = rng.normal(size=90)
    pairs = np.column_stack([x, 0.5 * x + rng.normal(size=90)])
    r = np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]
    band = bootstrap_band(pairs)
    assert band.low < r < band.high
    assert bootstrap_band(pairs) == band
    assert 0.2 < band.high - band.low < 0.6  # about four Fisher standard errors wide


@pytest.mark.parametrize(("n", "some_flat"), [(4, True), (27, True), (90, True), (251, False)])
def test_bootstrap_band_is_the_quantiles_of_each_resamples_correlation(n: int, some_flat: bool) -> None:
    """The band against numpy's own correlation of every circular-block resample (arch's resamples, the
    same indices), one resample at a time; a long flat stretch makes some resamples flat, their
    correlation undefined and left out."""
    from arch.bootstrap import CircularBlockBootstrap

    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    x[: 3 * n // 4] = 0.0
    pairs = np.column_stack([x, 0.4 * x + rng.normal(size=n)])
    block = next(b for b in range(1, n + 1) if b**3 >= n)
    bs = CircularBlockBootstrap(block, pairs, seed=np.random.default_rng(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        rs = np.array([np.corrcoef(sample[:, 0], sample[:, 1])[0, 1] for (sample,), _ in bs.bootstrap(2000)])
    assert np.isnan(rs).any() == some_flat
    rs = rs[np.isfinite(rs)]
    band = bootstrap_band(pairs)
    assert band is not None
    np.testing.assert_allclose([band.low, band.high], np.quantile(rs, [0.025, 0.975]), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- forward returns and the study


def test_asset_forward_starts_at_the_next_close_and_ends_within_the_horizon():
    dates = pd.DatetimeIndex(["2024-01-30", "2024-01-31", "2024-02-02", "2024-02-29", "2024-03-01", "2024-03-04"])
    closes = pd.Series([10.0, 11.0, 12.0, 13.0, 15.0, 16.0], index=dates)
    # from 2024-01-31: first close after it is 2024-02-02 (12); + 1 month = 2024-03-02 -> last close 2024-03-01 (15)
    got = asset_forward(closes, pd.DatetimeIndex(["2024-01-31", "2024-02-29"]), 1)
    assert got[0] == pytest.approx(15 / 12 - 1)
    assert np.isnan(got[1])  # from 2024-03-01 a month ends after the data does


def test_equity_forward_runs_over_the_dates_an_assets_would():
    dates = pd.bdate_range("2024-01-01", "2024-04-30")
    equity = pd.Series(np.linspace(100, 130, len(dates)), index=dates)
    starts = pd.DatetimeIndex(["2024-01-15", "2024-01-13", "2023-12-29"])
    got = equity_forward(equity, starts, 3)
    # from 2024-01-15 (a Monday): its first value after it, 2024-01-16, to the last on or before 2024-04-16
    assert got[0] == pytest.approx(equity[pd.Timestamp("2024-04-16")] / equity[pd.Timestamp("2024-01-16")] - 1)
    assert got[1] == pytest.approx(equity[pd.Timestamp("2024-04-15")] / equity[pd.Timestamp("2024-01-15")] - 1)
    assert np.isnan(got[2])  # the run begins after this start: no value the episode could have started from
    np.testing.assert_array_equal(got[:2], asset_forward(equity, starts, 3)[:2])  # the same dates as an asset's
    first = equity.index[0]  # the run's first date is a start it has a value on: counted from the next
    (on_first,) = equity_forward(equity, pd.DatetimeIndex([first]), 1)
    assert on_first == pytest.approx(equity[: equity.index[1] + pd.DateOffset(months=1)].iloc[-1] / equity.iloc[1] - 1)
    assert base_date(equity, first, strategy=True) == equity.index[1]
    assert base_date(equity, first - pd.Timedelta(days=1), strategy=True) is None  # the run begins after it
    assert base_date(equity, first - pd.Timedelta(days=1), strategy=False) == first  # an asset: its first close


def test_non_overlapping_keeps_a_date_once_the_previous_window_is_over():
    d = pd.DatetimeIndex(["2020-01-10", "2020-02-01", "2020-02-10", "2020-03-09", "2020-03-10"])
    assert list(non_overlapping(d, 1)) == [0, 2, 4]


def test_study_matches_scipy_t_and_welch_intervals_with_conservative_degrees_of_freedom():
    rng = np.random.default_rng(7)
    starts = pd.DatetimeIndex(pd.date_range("2001-01-01", periods=12, freq="4MS"))
    ep = rng.normal(0.02, 0.05, len(starts))
    others = pd.bdate_range("2001-01-01", "2005-12-31")
    other_r = rng.normal(0.01, 0.04, len(others))
    s = study(starts, ep, others, other_r, 3)
    assert s.n_independent == 12 and s.n_episodes == 12
    lo, hi = stats.t.interval(0.95, 11, loc=ep.mean(), scale=stats.sem(ep))
    assert (s.ci_low, s.ci_high) == pytest.approx((lo, hi))
    sample = other_r[non_overlapping(others, 3)]
    welch = stats.ttest_ind(ep, sample, equal_var=False)  # Welch's standard error; df: the smaller sample's, less one
    se = (ep.mean() - sample.mean()) / welch.statistic  # scipy's sqrt(se1^2 + se2^2)
    half = stats.t.ppf(0.975, min(len(ep), len(sample)) - 1) * se
    diff = ep.mean() - other_r.mean()  # the mean uses every other date, the error a sparse sample
    assert s.others_mean == pytest.approx(other_r.mean())
    assert (s.difference_low, s.difference_high) == pytest.approx((diff - half, diff + half))


def test_difference_interval_is_never_narrower_than_the_episode_mean_interval():
    """Two episodes that happen to agree (+23% and +30%) against noisy other dates: Welch-Satterthwaite's degrees
    of freedom (about 7.3 here) made the difference's interval exclude zero (+10%..+39%) while the mean's own, on
    one degree of freedom, ran from -18% to +71%."""
    starts = pd.DatetimeIndex(["2016-01-04", "2018-03-01"])
    others = pd.DatetimeIndex(pd.date_range("2015-01-01", periods=12, freq="12MS"))
    other_r = np.array([0.3, -0.2, 0.1, -0.1, 0.25, -0.15, 0.05, 0.2, -0.25, 0.0, 0.15, -0.1])
    s = study(starts, np.array([0.23, 0.30]), others, other_r, 12)
    assert s.n_independent == 2
    assert s.difference_high - s.difference_low >= s.ci_high - s.ci_low
    assert s.difference_low < 0 < s.difference_high


def test_study_counts_only_independent_episodes():
    starts = pd.DatetimeIndex(["2020-01-01", "2020-01-20", "2020-03-01", "2020-06-01"])
    s = study(starts, np.array([0.1, 0.2, np.nan, 0.3]), pd.DatetimeIndex([]), np.array([]), 3)
    assert (s.n_episodes, s.n_independent) == (3, 2)  # 2020-01-20 overlaps 2020-01-01's window; nan not known
    assert s.mean == pytest.approx(0.2)
    assert math.isnan(s.others_mean) and math.isnan(s.difference_low)


# ----------------------------------------------------------------------------- the command


def _episodes(*args: str, cwd: Path, columns: str | None = "100") -> subprocess.CompletedProcess:
    """``seesaw episodes`` with stdout at ``columns`` (None: piped, the tables at their natural width)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)} | ({} if columns is None else {"COLUMNS": columns})
    return subprocess.run(
        [sys.executable, "-m", "engine", "episodes", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


CONFIG = str(REPO / "configs" / "episodes" / "hsi_spx_divergence.yaml")


def test_synthetic_json_csv_and_table_agree_and_are_stored(tmp_path):
    common = [CONFIG, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(tmp_path)]
    out = _episodes(*common, "--format", "json", "--percentile", "10", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    episodes = json.loads(out.stdout)
    assert episodes
    keys = {"date", "value", "rank", "percentile", "most_extreme_since", "ci_low", "ci_high", "start", "end", "forward"}
    assert all(keys <= set(e) and e["synthetic"] is True for e in episodes)
    assert all(
        set(e["forward"]) == {"spx", "hsi"} and set(e["forward"]["spx"]) == {"1m", "3m", "6m", "12m"} for e in episodes
    )
    (stored,) = tmp_path.glob("episodes/*/episodes.json")
    full = json.loads(stored.read_text())
    assert full["episodes"] == episodes
    assert set(full["summary"]) == {"spx", "hsi"} and full["threshold"] == {"kind": "percentile", "value": 10.0}
    assert f"stored {stored}" in out.stderr.replace("\n", "")
    csv_out = _episodes(*common, "--format", "csv", "--percentile", "10", cwd=tmp_path)
    rows = pd.read_csv(pd.io.common.StringIO(csv_out.stdout))
    assert len(rows) == 2 * len(episodes)
    assert list(rows["date"].unique()) == [e["date"] for e in episodes]
    for e in episodes:  # the JSON's indistinguishable object, flattened (the CSV has the same fields)
        same = e["indistinguishable"] or {}
        row = rows[rows["date"] == e["date"]].iloc[0]
        for k in ("count", "first", "last", "share"):
            assert (pd.isna(row[f"indistinguishable_{k}"]) and same.get(k) is None) or row[
                f"indistinguishable_{k}"
            ] == same[k]
    table = _episodes(*common, "--percentile", "10", cwd=tmp_path)
    assert "SYNTHETIC" in table.stdout
    assert all(e["date"] in table.stdout for e in episodes)
    assert max(len(line) for line in table.stdout.splitlines()) <= 100
    # one episode spanning every date (its observation count the widest): every header still whole
    whole = _episodes(*common, "--threshold", "5", cwd=tmp_path)
    [header] = [line for line in whole.stdout.splitlines() if "value [95% Fisher]" in line]
    assert " ".join(header.split()) == (
        "extreme on value [95% Fisher] 95% bootstrap rank pctile extreme since obs as close"
    )  # the date of the episode's most extreme value, not its start (the caption says so)
    assert "What came after counts from the start" in " ".join(whole.stdout.split())
    assert max(len(line) for line in whole.stdout.splitlines()) <= 100


def test_json_and_csv_without_an_episode_still_say_the_data_is_synthetic(tmp_path):
    """No row carries ``synthetic`` when nothing qualifies: stderr says it, as run's --format json does."""
    common = [CONFIG, "--signal", "corr", "--low", "--threshold", "-0.99", "--source", "synthetic"]
    for fmt, empty in (("json", "[]"), ("csv", "")):
        out = _episodes(*common, "--results-dir", str(tmp_path / fmt), "--format", fmt, cwd=tmp_path)
        assert out.returncode == 0 and (out.stdout.strip() if fmt == "json" else "") == empty, out.stderr
        assert "warning: SYNTHETIC data: generated prices, not market history" in out.stderr
    table = " ".join(_episodes(*common, "--results-dir", str(tmp_path / "t"), cwd=tmp_path).stderr.split())
    assert "warning: SYNTHETIC" not in table  # the table says it in its title instead


def test_configs_are_run_and_stored_like_runs(tmp_path):
    out = _episodes(
        CONFIG, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(tmp_path),
        "--configs", str(REPO / "configs" / "buy_hold_us.yaml"), "--format", "json", "--percentile", "10",
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    episodes = json.loads(out.stdout)
    assert all("buy_hold_us" in e["forward"] for e in episodes)
    (stored,) = tmp_path.glob("episodes/*/episodes.json")
    run_dir = Path(json.loads(stored.read_text())["runs"]["buy_hold_us"])
    assert (run_dir / "metrics.json").is_file() and run_dir.parent.name == "buy_hold_us"
    # buy & hold the S&P 500: over the same dates its forward return is the asset's (holding all its money in it
    # since its first day); it differs only when the first date after the start is a holiday of New York's alone
    # (a Hong Kong session), from which the config's value counts a day before the asset's first close
    pairs = [
        (e["forward"]["buy_hold_us"][h], e["forward"]["spx"][h])
        for e in episodes
        for h in ("1m", "3m", "6m", "12m")
        if e["forward"]["spx"][h] is not None and e["forward"]["buy_hold_us"][h] is not None
    ]
    assert len(pairs) >= 20
    same = [abs(config - asset) < 1e-9 for config, asset in pairs]
    assert sum(same) >= 0.75 * len(pairs), pairs
    assert all(abs(config - asset) < 0.05 for config, asset in pairs)


def test_a_long_config_name_is_shortened_with_a_legend_and_no_number_is_cut_at_100_columns(tmp_path):
    long = "relative_momentum_total_return"
    out = _episodes(
        CONFIG, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(tmp_path),
        "--configs", str(REPO / "configs" / f"{long}.yaml"), "--percentile", "10", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(map(len, lines)) <= 100
    after = lines[next(i for i, line in enumerate(lines) if line.startswith("What came after")) :]
    # a cut cell ends in "…" (rich's ellipsis); an interval's "…" always has a signed number after it
    assert not [line for line in after if re.search(r"…(?![+-]\d)", line)], "\n".join(after)
    study = after[next(i for i, line in enumerate(after) if line.startswith("Event study")) :]
    header = next(line for line in study if "indep./all" in line)
    assert header.split() == ["series", "h", "mean", "95%", "CI", "indep./all", "others", "difference", "95%", "CI"]
    [legend] = [line for line in lines if "names shortened:" in line]
    (marker,) = re.findall(r"\[\d+\]", legend)
    assert legend.strip() == f"names shortened: {marker} {long}"
    shown = [w for line in study for w in line.split()[:1] if w.endswith(marker)]
    assert len(shown) == 1 and long.startswith(shown[0].removesuffix(marker)) and len(shown[0]) >= 12


def test_below_100_columns_the_tables_split_into_blocks_and_no_cell_is_cut(tmp_path):
    """At 80 and 60 columns each table splits its columns into blocks that repeat the date (or the series and
    horizon): every cell printed at the natural width is printed whole, and no line is wider than the terminal."""
    common = [CONFIG, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(tmp_path)]
    common += ["--configs", str(REPO / "configs" / "relative_momentum_total_return.yaml"), "--percentile", "10"]
    natural = _episodes(*common, cwd=tmp_path, columns=None)
    assert natural.returncode == 0, natural.stderr
    tables = natural.stdout[natural.stdout.index("one episode)") :]  # from the first table on
    cells = {w for w in tables.split() if not w.startswith("-" * 3) and "─" not in w}
    assert {"0.2", "ever", "1m", "12m", "relative_momentum_total_return"} <= cells
    for width in (80, 60):
        out = _episodes(*common, cwd=tmp_path, columns=str(width))
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert max(map(len, lines)) <= width
        words = set(out.stdout.split())
        missing = sorted(cells - words - {"relative_momentum_total_return"})  # the legend names it whole
        assert not missing, f"cut or lost at {width} columns: {missing}\n{out.stdout}"
        assert sum(line.split()[:2] == ["extreme", "on"] for line in lines) >= 2  # the date in every block


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--signal", "corr"], "exactly one of --low and --high"),
        (["--signal", "corr", "--low", "--high"], "exactly one of --low and --high"),
        (["--signal", "nope", "--low"], "signals: --signal 'nope' is not a signal of the config"),
        (["--signal", "corr", "--low", "--threshold", "0", "--percentile", "5"], "not both"),
        (["--signal", "corr", "--low", "--since", "2020-13-01"], "--since"),
        (
            ["--signal", "corr", "--low", "--since", "2099-01-01"],
            "--since 2099-01-01: after corr's last observation, 20",
        ),
        (["--signal", "corr", "--low", "--threshold", "nan"], "--threshold: expected a finite number, got nan"),
        (["--signal", "corr", "--high", "--threshold", "inf"], "--threshold: expected a finite number, got inf"),
        (
            ["--signal", "corr", "--low", "--percentile", "nan"],
            "--percentile: expected a number from 0 to 100, got nan",
        ),
        (["--signal", "corr", "--low", "--percentile", "100.5"], "--percentile: expected a number from 0 to 100, got"),
        (["--signal", "corr", "--low", "--percentile", "-1"], "--percentile: expected a number from 0 to 100, got -1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    out = _episodes(CONFIG, *args, "--source", "synthetic", "--results-dir", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not list(tmp_path.glob("episodes/*"))


def test_headline_on_real_data(data_dir, tmp_path):
    """The March 2025 divergence: the same-date 90-day correlation of the S&P 500 and the Hang Seng."""
    out = _episodes(
        CONFIG, "--signal", "corr", "--low", "--since", "2025-01-01", "--source", "csv",
        "--data-dir", str(data_dir), "--results-dir", str(tmp_path), "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout)[0]
    assert first["date"] == "2025-02-24"
    assert first["value"] == pytest.approx(-0.0994, abs=5e-4)
    assert first["most_extreme_since"] == "2005-09-26"
    assert first["ci_low"] < first["value"] < first["ci_high"]
    assert first["bootstrap_low"] < first["value"] < first["bootstrap_high"]


def test_a_signal_only_series_is_said_to_be_a_level_not_a_return(tmp_path):
    """vix_filter reads the VIX as a signal: its rows in What came after are changes of an index no order buys."""
    vix = str(REPO / "configs" / "vix_filter.yaml")
    out = _episodes(vix, "--signal", "vix_z", "--high", "--source", "synthetic", "--results-dir", "res", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (stored,) = (tmp_path / "res").glob("episodes/*/episodes.json")
    assert f"stored {stored.resolve()}\n" in out.stderr  # one resolved path, as a run's and a sweep's
    notes = [line for line in out.stderr.splitlines() if not line.startswith("stored ")]
    assert max(map(len, notes)) <= 100 < len(" ".join(notes)), notes  # wrapped at COLUMNS, as the table is
    said = " ".join(out.stderr.split())
    assert "note: vix (^VIX) is read as a signal only (in no rule's weights): its rows in What came after" in said
    assert "the change of its level in USD, not a return this config could earn" in said
    assert "us (" not in said and "hk (" not in said  # the traded assets' rows are returns
    assert any(n.startswith("vix (^VIX) is read as a signal only") for n in json.loads(stored.read_text())["notes"])


def test_a_configs_base_currency_other_than_the_episodes_is_refused_before_anything_runs(tmp_path):
    out = _episodes(
        CONFIG, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(tmp_path),
        "--configs", str(REPO / "configs" / "hkd" / "corr_breakdown_hkd.yaml"), cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 2
    assert "corr_breakdown_hkd.yaml: base_currency: --configs corr_breakdown_hkd counts in HKD" in out.stderr
    assert list(tmp_path.iterdir()) == []  # no run, no episodes stored


def test_without_an_exchange_rate_only_the_foreign_forward_returns_are_missing(data_dir, tmp_path):
    csvs = tmp_path / "csv"
    csvs.mkdir()
    for name in ("GSPC.csv", "HSI.csv"):  # no HKD_X.csv
        (csvs / name).symlink_to(data_dir / name)
    out = _episodes(
        CONFIG, "--signal", "corr", "--low", "--since", "2025-01-01", "--source", "csv", "--data-dir", str(csvs),
        "--results-dir", str(tmp_path / "r"), "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout)[0]
    assert first["date"] == "2025-02-24"
    assert first["forward"]["hsi"]["1m"] is None and first["forward"]["spx"]["1m"] is not None
    assert "no exchange rate for the forward returns" in out.stderr


def _report(summary: dict) -> EpisodeReport:
    empty = pd.Series(dtype=float)
    return EpisodeReport(
        config="c", file="c.yaml", signal="corr", direction="low", threshold=Threshold("value", 0.0), synthetic=False,
        data={}, observations={}, episodes=[], summary=summary, runs={}, notes=[], history=empty, paths={},
    )  # fmt: skip


def test_an_interval_below_a_total_loss_is_called_no_guide() -> None:
    """A mean return's t interval from two independent episodes can reach below -100%, a loss no return
    makes: the report says so, naming the series, horizon and k; an interval above -100% says nothing."""
    s = {"ci_low": -1.599, "ci_high": 1.837, "n_independent": 2}
    report = _report({"hsi": {"1m": {**s, "ci_low": -0.138}, "3m": s}, "spx": {"3m": {**s, "ci_low": None}}})
    caveat = report.interval_caveat()
    assert caveat is not None and caveat.startswith(
        "The 95% interval of the mean reaches below -100% for hsi 3m (k = 2):"
    )
    assert "1m" not in caveat and "spx" not in caveat
    assert _report({"hsi": {"3m": {**s, "ci_low": -0.99}}}).interval_caveat() is None


def test_a_results_directory_that_is_a_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    taken = tmp_path / "results"
    taken.write_text("not a directory", encoding="utf-8")
    out = _episodes(
        CONFIG, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(taken), cwd=tmp_path
    )
    assert out.returncode == 2, out.stderr
    [line] = out.stderr.strip().splitlines()
    assert (
        line == f"error: the results directory {taken} is a file, not a directory (--results-dir, SEESAW_RESULTS_DIR)"
    )


def test_the_configs_runs_warnings_are_shown_and_stored(tmp_path):
    """A ``--configs`` run's warnings (here a same-bar config's look-ahead) change what its forward returns mean:
    stderr says them with the notes, and episodes.json keeps them (``warnings``)."""
    text = (REPO / "configs" / "corr_breakdown.yaml").read_text(encoding="utf-8")
    assert text.count("lag: 1,") == 1
    same_bar = tmp_path / "same_bar.yaml"
    same_bar.write_text(text.replace("lag: 1,", "lag: 0, allow_same_bar: true,"), encoding="utf-8")
    out = _episodes(
        CONFIG, "--signal", "corr", "--low", "--source", "synthetic", "--results-dir", str(tmp_path / "r"),
        "--configs", str(same_bar), "--percentile", "10", "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    (stored,) = (tmp_path / "r").glob("episodes/*/episodes.json")
    warnings = json.loads(stored.read_text())["warnings"]
    [look_ahead] = [w for w in warnings if w.startswith("corr_breakdown: ") and "look-ahead" in w]
    assert f"warning: {' '.join(look_ahead.split())}" in " ".join(out.stderr.split())
