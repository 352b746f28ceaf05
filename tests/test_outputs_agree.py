"""Regression tests for the issue "Outputs that disagree": every output of one stored run says the same thing.

1. Rules are numbered the same way everywhere a user reads them: ``weights.csv``, ``weights.parquet``,
   the catalog's ``weights`` view, the API's ``Run.weights`` and the HTML report's legends all call the
   first rule of ``rules:`` rule 1.  The oracle is the YAML itself: with ``lag: 1`` the targets in
   force on a date are the weights of the rule numbered on the date before.
2. Every Parquet file of a run stores ``date`` as a typed date, which the catalog sees as ``DATE``.
3. The stored ``config.yaml`` holds the currency, price column and instrument the run used (those of
   ``metrics.json``), and an unchanged config is still reused.
4. ``runs list`` and ``runs show`` print percent and two-decimal ratios, within 100 columns, nothing cut.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.config import load_config
from engine.jobs.run import resolved_config
from engine.render.html import run_report
from engine.store import config_hash
from engine.store.rundir import load_run
from tests.conftest import CONFIGS
from tests.report_html import array, figures
from tests.run_files import as_older

CORR = CONFIGS / "corr_breakdown.yaml"
PARQUET = ("equity", "weights", "trades", "benchmarks", "prices", "quotes", "signals")
#: Environment variables that change rich's output, cleared for every command (COLUMNS set where wanted).
_CLEAN_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> api.Run:
    """corr_breakdown on synthetic data, 2012-2015: three rules (two conditions and otherwise), each matched."""
    results = tmp_path_factory.mktemp("agree") / "results"
    return api.run(CORR, source="synthetic", start="2012-01-01", end="2015-12-31", results_dir=results, env={})[0]


def _cli(*args: str, columns: int | None = None) -> str:
    env: dict[str, str | None] = dict.fromkeys(_CLEAN_ENV)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def _config(run: api.Run) -> dict[str, Any]:
    return yaml.safe_load((run.run_dir / "config.yaml").read_text(encoding="utf-8"))


# -- 1. rule numbers ------------------------------------------------------------------------------------------------


def test_weights_file_numbers_the_first_rule_of_the_yaml_1(stored: api.Run) -> None:
    rules = _config(stored)["rules"]
    weights = pd.read_csv(stored.run_dir / "weights.csv")
    assert set(weights["rule"]) == set(range(1, len(rules) + 1))  # every rule matched some date
    targets = weights[["us_target", "hk_target"]].to_numpy()
    for number, decided in enumerate(weights["rule"].iloc[:-1], start=1):  # lag 1: in force the next date
        rule = rules[decided - 1]
        want = rule["weights"] if rule["when"] is not None else rule["otherwise"]
        assert targets[number].tolist() == [want.get("us", 0.0), want.get("hk", 0.0)], weights["date"][number]


def test_rule_numbers_agree_in_csv_parquet_catalog_api_and_report(stored: api.Run) -> None:
    csv_rule = pd.read_csv(stored.run_dir / "weights.csv")["rule"].to_numpy()
    assert pd.read_parquet(stored.run_dir / "weights.parquet")["rule"].tolist() == csv_rule.tolist()
    assert stored.weights["rule"].tolist() == csv_rule.tolist()
    sql = f"SELECT rule FROM weights WHERE run_id = '{stored.run_dir.name}' ORDER BY date"
    out = _cli("runs", "query", sql, "--results-dir", str(stored.run_dir.parents[1]), "--format", "json")
    assert [r["rule"] for r in json.loads(out)] == csv_rule.tolist()

    rules = _config(stored)["rules"]
    figs = figures(run_report(load_run(stored.run_dir)).html)
    for name in ("corr", "mom"):
        shaded = {t["name"]: array(t["y"]) for t in figs[f"fig-signal-{name}"]["data"] if t["name"].startswith("rule ")}
        assert len(shaded) == len(rules)
        for k, rule in enumerate(rules, start=1):
            label = rule["when"] if rule["when"] is not None else "otherwise"
            assert shaded[f"rule {k} active: {label}"].tolist() == (csv_rule == k).astype(float).tolist()
    # The dashed lines name the rules that compare the signal with them: corr < 0.2 in rules 1 and 2.
    assert [a["text"] for a in figs["fig-signal-corr"]["layout"]["annotations"]] == ["corr < 0.2 (rules 1, 2)"]
    assert [a["text"] for a in figs["fig-signal-mom"]["layout"]["annotations"]] == [
        "mom > 0 (rule 1); mom <= 0 (rule 2)"  # one line at 0, its comparisons in rule order
    ]


def test_a_run_written_when_rules_counted_from_0_is_read_numbered_from_1(stored: api.Run, tmp_path: Path) -> None:
    old = Path(shutil.copytree(stored.run_dir, tmp_path / stored.run_dir.name))
    manifest = json.loads((old / "run.json").read_text(encoding="utf-8"))
    assert manifest.pop("rule_base") == 1
    manifest.pop("files")  # a run of that time recorded no sums of its files (tests/run_files.py)
    (old / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    weights = pd.read_parquet(old / "weights.parquet")
    weights.assign(rule=weights["rule"] - 1).to_parquet(old / "weights.parquet", index=False)
    assert load_run(old).weights["rule"].tolist() == stored.weights["rule"].tolist()


# -- 2. typed dates -------------------------------------------------------------------------------------------------


def test_every_parquet_date_is_a_typed_date_and_the_csv_keeps_text(stored: api.Run) -> None:
    csv_dates = pd.read_csv(stored.run_dir / "equity.csv", dtype={"date": str})["date"]
    assert csv_dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    for name in PARQUET:
        table = pq.read_table(stored.run_dir / f"{name}.parquet")
        assert table.schema.field("date").type == pa.date32(), name
        dates = [d.isoformat() for d in table.column("date").to_pylist()]
        if name == "trades":
            want = pd.read_csv(stored.run_dir / "trades.csv", dtype={"date": str})["date"].tolist()
        else:
            want = csv_dates.tolist()
        assert dates == want, name
    assert isinstance(pd.read_parquet(stored.run_dir / "equity.parquet")["date"].iloc[0], dt.date)


def test_a_run_reads_back_as_pandas_reads_its_files_typed_dates_or_text(stored: api.Run, tmp_path: Path) -> None:
    """load_run turns the typed dates into datetimes in Arrow; the frames are those pandas' own reader
    gives, the dates parsed: the index (a column for trades) at the resolution of parsed ISO dates, the
    values unchanged.  A run written with text dates reads the same."""
    text = Path(shutil.copytree(stored.run_dir, tmp_path / stored.run_dir.name))
    for name in PARQUET:
        frame = pd.read_parquet(text / f"{name}.parquet")
        frame.assign(date=frame["date"].map(dt.date.isoformat)).to_parquet(text / f"{name}.parquet", index=False)
    as_older(text)  # runs with text dates recorded no sums of their files
    typed, untyped = load_run(stored.run_dir), load_run(text)
    unit = pd.to_datetime(pd.Series(["2000-01-03"]), format="ISO8601").dt.unit
    for name in PARQUET:
        raw = pd.read_parquet(stored.run_dir / f"{name}.parquet")
        dates = pd.to_datetime(raw.pop("date").map(dt.date.isoformat), format="ISO8601")
        if name == "trades":
            want = raw.assign(date=dates)[list(getattr(typed, name).columns)]
            assert getattr(typed, name)["date"].dt.unit == unit
        else:
            want = raw.set_index(pd.DatetimeIndex(dates, name="date"))
            assert getattr(typed, name).index.unit == unit, name
        pd.testing.assert_frame_equal(getattr(typed, name), want, check_freq=False, obj=name)
        pd.testing.assert_frame_equal(getattr(untyped, name), want, check_freq=False, obj=f"{name} (text dates)")


def test_dates_become_the_same_typed_dates_however_they_are_given() -> None:
    from engine.store.table_files import parquet_table

    want = [dt.date(2020, 1, 2), dt.date(2024, 2, 29)]
    for dates in (
        pd.Series(["2020-01-02", "2024-02-29"], dtype="str"),  # what runs write: Arrow parses it
        pd.Series(["20200102", "2024-02-29T00:00:00"], dtype="str"),  # other ISO forms: pandas parses them
        pd.Series(pd.to_datetime(["2020-01-02", "2024-02-29"])),
    ):
        table = parquet_table(pd.DataFrame({"date": dates, "x": [1.0, 2.0]}))
        assert table.schema.field("date").type == pa.date32()
        assert table.column("date").to_pylist() == want


def test_every_csv_file_is_the_text_pandas_writes_for_its_table(stored: api.Run) -> None:
    # pandas as the oracle of the CSV files (engine/store/csv_text.py writes them): each table read back
    # from its Parquet file, dates as ISO text, through DataFrame.to_csv
    for name in ("equity", "weights", "trades", "benchmarks"):
        frame = pd.read_parquet(stored.run_dir / f"{name}.parquet")
        frame["date"] = pd.Series([d.isoformat() for d in frame["date"]], dtype="str")
        if stored.synthetic:  # the CSV files of a run on synthetic data end in a column saying so
            frame["synthetic"] = True
        want = frame.to_csv(index=False, lineterminator="\n")
        assert (stored.run_dir / f"{name}.csv").read_text(encoding="utf-8") == want, name


def test_catalog_views_see_dates(stored: api.Run) -> None:
    sql = "SELECT max(date) AS last, typeof(max(date)) AS type FROM equity"
    out = _cli("runs", "query", sql, "--results-dir", str(stored.run_dir.parents[1]), "--format", "json")
    end = json.loads((stored.run_dir / "metrics.json").read_text(encoding="utf-8"))["strategy"]["end"]
    assert json.loads(out) == [{"last": end, "type": "DATE"}]


def test_a_query_in_json_holds_every_type_duckdb_gives_and_refuses_repeated_names(stored: api.Run) -> None:
    """DuckDB gives DECIMAL as Python's Decimal, INTERVAL as timedelta, BLOB as bytes, UUID as UUID, none of which
    JSON encodes (each was a traceback); a DECIMAL is the number it is, or its text when no float is.  An
    INTERVAL and a BLOB are DuckDB's text: Python's timedelta turns 14 months into 420 days."""
    results = str(stored.run_dir.parents[1])
    sql = (
        "SELECT 0.31 AS d, 12345678901234567890.123::DECIMAL(38,3) AS big, INTERVAL 14 MONTH AS i, TIME '10:00' AS t, "
        "'ab'::BLOB AS b, UUID '12345678-1234-5678-1234-567812345678' AS u, [1.5, 2.25]::DECIMAL(4,2)[] AS l, "
        "{'a': 1.10::DECIMAL(3,2)} AS s, DATE '2020-01-02' AS day"
    )
    (row,) = json.loads(_cli("runs", "query", sql, "--results-dir", results, "--format", "json"))
    assert row == {
        "d": 0.31,
        "big": "12345678901234567890.123",
        "i": "1 year 2 months",
        "t": "10:00:00",
        "b": "ab",
        "u": "12345678-1234-5678-1234-567812345678",
        "l": [1.5, 2.25],
        "s": {"a": 1.1},
        "day": "2020-01-02",
    }
    table = _cli("runs", "query", "SELECT INTERVAL 14 MONTH AS i, '\\xAA'::BLOB AS b", "--results-dir", results)
    assert "1 year 2 months" in table and "\\xAA" in table and "420" not in table  # the table shows the same text
    for ending in ("; -- c", "; /* c */", " -- c", ";"):  # the statement read again as a subquery: cut at its ;
        sql = f"SELECT INTERVAL 14 MONTH AS i, ';' AS s{ending}"
        assert json.loads(_cli("runs", "query", sql, "--results-dir", results, "--format", "json")) == [
            {"i": "1 year 2 months", "s": ";"}
        ], ending
    joined = "SELECT * FROM runs JOIN metrics USING (run_id)"  # start, end and synthetic in both tables
    result = CliRunner().invoke(app, ["runs", "query", joined, "--results-dir", results, "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "error: --format json: the columns 'end', 'start', 'synthetic' appear more than once in the result; name "
        "each apart (AS) or use --format csv\n"
    )


def test_intervals_and_blobs_inside_lists_structs_and_maps_keep_their_shape_and_duckdbs_text(stored: api.Run) -> None:
    """An INTERVAL or BLOB inside a list, struct or map is DuckDB's text in place: the list stays a list (it was the
    whole list's text, ``"[1 day, 2 months]"``); the table and CSV show a list or struct as its JSON, with dates as
    ISO text (they were Python's ``datetime.date(2020, 1, 2)``), and text as it is (``[b]x[/b]`` was rich's markup,
    shown as a bold ``x``)."""
    results = str(stored.run_dir.parents[1])
    sql = (
        "SELECT [INTERVAL 1 DAY, INTERVAL 14 MONTH] AS li, {'gap': INTERVAL 3 DAY, 'n': 2} AS s, "
        "{'b': '\\xAA'::BLOB, 'l': [[INTERVAL 2 MONTH]]} AS deep, MAP {'k': INTERVAL 14 MONTH} AS m, "
        "NULL::STRUCT(g INTERVAL) AS none, [DATE '2020-01-02'] AS days, '[b]x[/b] [red]r' AS markup"
    )
    (row,) = json.loads(_cli("runs", "query", sql, "--results-dir", results, "--format", "json"))
    assert row == {
        "li": ["1 day", "1 year 2 months"],
        "s": {"gap": "3 days", "n": 2},
        "deep": {"b": "\\xAA", "l": [["2 months"]]},
        "m": {"k": "1 year 2 months"},
        "none": None,
        "days": ["2020-01-02"],
        "markup": "[b]x[/b] [red]r",
    }
    csv_text = _cli("runs", "query", sql, "--results-dir", results, "--format", "csv")
    (record,) = list(csv.DictReader(io.StringIO(csv_text)))
    assert {k: json.loads(v) for k, v in record.items() if k not in ("none", "markup")} == {
        k: v for k, v in row.items() if k not in ("none", "markup")
    }
    assert record["none"] == "" and record["markup"] == "[b]x[/b] [red]r"
    table = _cli("runs", "query", "SELECT [DATE '2020-01-02'] AS days, '[b]x[/b]' AS markup", "--results-dir", results)
    assert '["2020-01-02"]' in table and "[b]x[/b]" in table and "datetime" not in table
    nan = "SELECT [1.5, 'nan'::DOUBLE] AS l"  # JSON text: null, as --format json writes it (NaN is not JSON)
    assert _cli("runs", "query", nan, "--results-dir", results, "--format", "csv") == 'l\n"[1.5, null]"\n'


def test_a_query_table_shows_control_characters_escaped(stored: api.Run) -> None:
    sql = "SELECT chr(27) || '[31mred' || chr(7) AS x, 'a' || chr(10) || 'b' AS y"
    out = _cli("runs", "query", sql, "--results-dir", str(stored.run_dir.parents[1]), columns=100)
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31mred\\x07" in out and "a\\nb" in out


# -- 3. the resolved config -----------------------------------------------------------------------------------------


def test_stored_config_shows_the_values_the_run_used(stored: api.Run) -> None:
    assets = _config(stored)["assets"]
    used = json.loads((stored.run_dir / "metrics.json").read_text(encoding="utf-8"))["data"]["assets"]
    assert {a: (s["currency"], s["price"], s["instrument"]) for a, s in assets.items()} == {
        "us": ("USD", "close", "index"),
        "hk": ("HKD", "close", "index"),
    }
    for a, spec in assets.items():
        assert (spec["currency"], spec["price"], spec["instrument"]) == (
            used[a]["currency"],
            used[a]["price"],
            used[a]["instrument"],
        )


def test_defaults_written_out_hash_as_left_out_and_the_stored_config_is_stable() -> None:
    cfg = load_config(CORR)
    explicit = cfg.model_copy(
        update={
            "assets": {
                "us": cfg.assets["us"].model_copy(update={"currency": "USD", "price": "close", "instrument": "index"}),
                "hk": cfg.assets["hk"].model_copy(update={"currency": "HKD"}),
            }
        }
    )
    assert config_hash(resolved_config(explicit)) == config_hash(resolved_config(cfg))
    stored = resolved_config(cfg)
    again = type(cfg).model_validate(stored)  # the stored config is a valid config of the same run
    assert resolved_config(again) == stored
    etf = cfg.model_copy(
        update={"assets": {**cfg.assets, "hk": cfg.assets["hk"].model_copy(update={"symbol": "2800.HK"})}}
    )
    assert resolved_config(etf)["assets"]["hk"]["instrument"] == "stock"  # inferred from the ticker, not "index"


def test_unchanged_config_is_reused(stored: api.Run) -> None:
    again = api.run(
        CORR, source="synthetic", start="2012-01-01", end="2015-12-31", results_dir=stored.run_dir.parents[1], env={}
    )[0]
    assert again.reused and again.run_dir == stored.run_dir


# -- 4. runs list and runs show -------------------------------------------------------------------------------------


def _cells(out: str, first: str) -> list[str]:
    """The cells of the table line whose first cell is ``first`` (cells without spaces)."""
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{out}")


def test_runs_list_and_show_format_numbers_like_the_run_table_in_100_columns(stored: api.Run) -> None:
    results = str(stored.run_dir.parents[1])
    strategy = json.loads((stored.run_dir / "metrics.json").read_text(encoding="utf-8"))["strategy"]
    pct = f"{strategy['total_return'] * 100:.1f}%"

    listed = _cli("runs", "list", "--results-dir", results, columns=100)
    shown = _cli("runs", "show", stored.run_dir.name, "--results-dir", results, columns=100)
    for out in (listed, shown):
        # a path is one unbreakable word, as long as the temporary directory makes it
        assert max(len(line) for line in out.splitlines() if str(stored.run_dir) not in line) <= 100
        assert "…" not in out
    assert _cells(listed, stored.run_dir.name)[-2:] == [pct, f"{strategy['sharpe']:.2f}"]
    start, end = (json.loads((stored.run_dir / "run.json").read_text(encoding="utf-8"))[k] for k in ("start", "end"))
    assert f"corr_breakdown synthetic {start} → {end}" in " ".join(listed.split())  # 100 columns: one line
    narrow = _cli("runs", "list", "--results-dir", results, columns=80)  # the name narrows first, the period wraps
    assert _cells(narrow, stored.run_dir.name)[-2:] == [pct, f"{strategy['sharpe']:.2f}"]
    assert max(len(line) for line in narrow.splitlines()) <= 80 and f"{start} →" in narrow and end in narrow

    assert "money (fees, final value) in USD, the run's base currency" in shown
    returns, trading = _cells(shown, "strategy"), _cells(shown.split("Turnover/yr", 1)[1], "strategy")
    assert returns[1:] == [
        "corr_breakdown",
        pct,
        *(f"{strategy[k] * 100:.1f}%" for k in ("cagr", "ann_vol")),
        *(f"{strategy[k]:.2f}" for k in ("sharpe", "sortino")),
        f"{strategy['max_drawdown'] * 100:.1f}%",
        f"{strategy['calmar']:.2f}",
    ]
    assert trading[1:] == [
        "corr_breakdown",
        f"{strategy['turnover']:.2f}",
        f"{strategy['switches_per_year']:.2f}",
        f"{strategy['fx_return'] * 100:z.1f}%",
        f"{strategy['fees_paid']:,.0f}",
        f"{strategy['final_value']:,.0f}",
    ]
    names = [b["name"] for b in json.loads((stored.run_dir / "metrics.json").read_text(encoding="utf-8"))["benchmarks"]]
    assert names != sorted(names)  # the config's order, not the alphabet's: us, hk, then 50/50
    rows = [line for line in shown.split("Turnover/yr", 1)[0].splitlines() if line.startswith("benchmark")]
    assert [next(n for n in names if n in " ".join(row.split())) for row in rows] == names, shown


def test_runs_list_and_show_print_a_name_with_brackets_as_it_is(tmp_path: Path) -> None:
    """A benchmark named ``hold [us] [b]x[/b]``: rich's markup would drop ``[us]`` and ``[b]``, ``[/b]``."""
    text = (CONFIGS / "static_60_40.yaml").read_text(encoding="utf-8").replace("name: 50/50 monthly", "name: x")
    assert "name: x" in text
    config = tmp_path / "static_60_40.yaml"
    config.write_text(text.replace("name: x", 'name: "hold [us] [b]x[/b]"'), encoding="utf-8")
    results = tmp_path / "results"
    (run,) = api.run(config, source="synthetic", start="2014-01-01", end="2014-12-31", results_dir=results, env={})
    shown = _cli("runs", "show", run.run_dir.name, "--results-dir", str(results), columns=200)
    assert "hold [us] [b]x[/b]" in shown
