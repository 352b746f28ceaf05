"""The limits that make the config reader total: each refused with a ConfigError at its YAML path.

Every numeric cap is tested at its edge: accepted at the cap, refused just beyond it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.config import load_config, read_yaml
from engine.config.checks import MAX_WINDOW
from engine.config.loader import MAX_DEPTH, MAX_INT_DIGITS, MAX_NODES
from engine.config.params import MAX_LIST_VALUES, MAX_RANGE_VALUES, grid
from engine.config.values import MAX_DATE, MAX_INITIAL_CASH, MAX_LAG, MAX_PARAM, MIN_DATE, MIN_INITIAL_CASH
from engine.errors import ConfigError, UserError, printable

ROOT = Path(__file__).resolve().parents[2]
BASE, _ = read_yaml(ROOT / "configs/sweeps/corr_breakdown_sweep.yaml")


def _doc(**changes: Any) -> dict:
    """The shipped sweep config without its sweep, with dotted-path changes (``None`` deletes)."""
    doc = copy.deepcopy(BASE)
    del doc["sweep"]
    for dotted, value in changes.items():
        parts = dotted.split("__")
        node = doc
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return doc


def _write(tmp_path: Path, content: str | dict) -> Path:
    path = tmp_path / "c.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, content: str | dict) -> ConfigError:
    path = _write(tmp_path, content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.file == str(path)
    assert printable(err.one_line()) == err.one_line()
    return err


def _ok(tmp_path: Path, content: str | dict):
    return load_config(_write(tmp_path, content))


# ---- YAML ------------------------------------------------------------------------------------------------------


def _bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join([*lines, f"name: [*a{levels - 1}]", ""])


def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    text = _bomb(10, 10)  # 10^9 values from about 500 bytes
    assert len(text.encode()) < 600
    err = _error(tmp_path, text)  # refused from the event stream: test_config_fuzz bounds its memory and time
    assert f"{MAX_NODES:,}" in err.message
    assert err.line is not None


def test_aliases_within_the_budget_are_read(tmp_path: Path) -> None:
    data, _ = read_yaml(_write(tmp_path, "a: &a {x: 1, y: [1, 2]}\nb: *a\nc: {<<: *a, x: 2}\n"))
    assert data == {"a": {"x": 1, "y": [1, 2]}, "b": {"x": 1, "y": [1, 2]}, "c": {"x": 2, "y": [1, 2]}}


@pytest.mark.parametrize("text", ["a: &a [1, *a]\n", "a: &a {b: *a}\n", "a: *nowhere\n"])
def test_recursive_or_undefined_alias_is_refused(tmp_path: Path, text: str) -> None:
    assert "alias" in _error(tmp_path, text).message


def _nested(levels: int) -> str:
    return "a: " + "[" * (levels - 1) + "1" + "]" * (levels - 1) + "\n"  # the top mapping is one level


def test_nesting_up_to_the_cap_is_read(tmp_path: Path) -> None:
    data, _ = read_yaml(_write(tmp_path, _nested(MAX_DEPTH)))
    assert isinstance(data["a"], list)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 1_000, 10_000])
def test_deeper_nesting_is_refused(tmp_path: Path, levels: int) -> None:
    assert f"deeper than {MAX_DEPTH}" in _error(tmp_path, _nested(levels)).message


def test_alias_that_nests_too_deep_is_refused(tmp_path: Path) -> None:
    text = "a: &a " + "[" * 30 + "]" * 30 + "\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    assert "deeper" in _error(tmp_path, text).message


@pytest.mark.parametrize("digits", [MAX_INT_DIGITS + 1, 4_301, 5_000])
def test_huge_integer_is_refused_at_its_path(tmp_path: Path, digits: int) -> None:
    err = _error(tmp_path, f"name: x\ninitial_cash: {'9' * digits}\n")
    assert err.path == "initial_cash"
    assert f"{MAX_INT_DIGITS} digits" in err.message


def test_integer_of_the_cap_digits_reaches_the_field_check(tmp_path: Path) -> None:
    doc = yaml.safe_dump(_doc(initial_cash=0), sort_keys=False).replace("initial_cash: 0", "initial_cash: " + "9" * 100)
    err = _error(tmp_path, doc)
    assert err.path == "initial_cash"
    assert "less than or equal" in err.message


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!set {a, b}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("!!timestamp 2020-01-01", "!!timestamp"),
        ("!!python/object:os.system ls", "!!python/object:os.system"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!foo bar", "!foo"),
        ("!<tag:example.com,2000:x> 1", "tag:example.com,2000:x"),
    ],
)
def test_explicit_tags_are_refused_at_their_path(tmp_path: Path, value: str, tag: str) -> None:
    err = _error(tmp_path, f"name: x\ndescription: {value}\n")
    assert err.path == "description"
    assert repr(tag) in err.message


@pytest.mark.parametrize(
    "value", ["!!float abc", "!!int abc", "!!int 1.5", "!!bool maybe", "!!bool yes", "!!bool off", "!!bool 'No'"]
)
def test_bad_value_for_a_plain_tag_is_refused(tmp_path: Path, value: str) -> None:
    err = _error(tmp_path, f"name: x\ninitial_cash: {value}\n")
    assert err.path == "initial_cash"
    assert "is not a valid" in err.message


@pytest.mark.parametrize("value", ["010", "0b1011", "0x10", "1:30", "1_000", "1_000.5", "-007", "!!int 010"])
def test_a_yaml_1_1_number_form_is_refused_not_converted(tmp_path: Path, value: str) -> None:
    """PyYAML reads 010 as 8, 1:30 as 90 and 1_000 as 1000 where a YAML 1.2 reader sees 10, text, text:
    refused at its path, never silently one of them."""
    err = _error(tmp_path, f"name: x\ninitial_cash: {value}\n")
    assert err.path == "initial_cash" and "YAML 1.1 number form" in err.message


def test_plain_numbers_and_quoted_digits_still_read(tmp_path: Path) -> None:
    text = "a: 10\nb: -3\nc: 0\nd: 0.5\ne: 1e12\nf: 2.5e-3\ng: .5\nh: '010'\ni: 1.\n"
    data, _ = read_yaml(_write(tmp_path, text))
    assert data == {"a": 10, "b": -3, "c": 0, "d": 0.5, "e": 1e12, "f": 2.5e-3, "g": 0.5, "h": "010", "i": 1.0}


def test_plain_tags_still_work(tmp_path: Path) -> None:
    data, _ = read_yaml(_write(tmp_path, "a: !!str 5\nb: !!float 1\nc: !!int '7'\n"))
    assert data == {"a": "5", "b": 1.0, "c": 7}


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("[a]: 1\n", None),
        ("{a: 1}: 2\n", None),
        ("? [a, b]\n: 1\n", None),
        ("name: x\nassets: {[us]: 1}\n", "assets"),
        ("name: x\nassets: {1: 1}\n", "assets"),
        ("name: x\n~: 1\n", None),
    ],
)
def test_keys_must_be_names(tmp_path: Path, text: str, path: str | None) -> None:
    err = _error(tmp_path, text)
    assert err.message.startswith("a key must be a name")
    assert err.path == path
    assert err.line is not None


def test_duplicate_key_is_still_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, "name: x\nname: y\n")
    assert (err.path, err.line) == ("name", 2)


def test_a_repeated_merge_key_is_a_duplicate_key_and_a_list_of_merges_still_reads(tmp_path: Path) -> None:
    """Two ``<<:`` in one mapping are a repeated key, which PyYAML merged both of; ``<<: [*a, *b]`` is YAML's
    way to merge several, refused when two of them give one key the mapping does not set itself: PyYAML 6.0.3
    took the first one's, 6.0.4 the last one's."""
    base = "a: &a {fee_bps: 5}\nb: &b {fee_bps: 1, slippage_bps: 2}\n"
    err = _error(tmp_path, base + "c:\n  <<: *a\n  <<: *b\n")
    assert (err.path, err.line) == ("c", 5) and "duplicate key '<<'" in err.message
    err = _error(tmp_path, base + "c:\n  <<: [*a, *b]\n")
    assert err.path == "c" and err.message.startswith("'fee_bps' is given by more than one mapping merged with <<:")
    data, _ = read_yaml(_write(tmp_path, base + "c:\n  <<: [*a, *b]\n  fee_bps: 3\n"))  # set here: it wins
    assert data["c"] == {"fee_bps": 3, "slippage_bps": 2}
    data, _ = read_yaml(_write(tmp_path, "a: &a {fee_bps: 5}\nb: &b {slippage_bps: 2}\nc:\n  <<: [*a, *b]\n"))
    assert data["c"] == {"fee_bps": 5, "slippage_bps": 2}


# ---- messages --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["\x1b[31mred", "a\nb", "a\rb", "\x00", "\u2028", "\ud800", "\x85", "\u202e"])
def test_control_characters_are_escaped_in_one_line(raw: str) -> None:
    err = ConfigError(f"bad {raw!s}", file=f"f{raw}.yaml", path=f"assets.{raw}")
    text = err.one_line()
    assert text.isprintable()
    assert repr(raw)[1:-1] in text
    assert str(err) == text


def test_ansi_key_from_a_file_is_escaped(tmp_path: Path) -> None:
    doc = _doc()
    doc["assets"]["\x1b[2Jus\nx"] = doc["assets"].pop("us")
    err = _error(tmp_path, doc)
    assert "\\x1b[2Jus\\nx" in err.one_line()


def test_long_message_is_shortened() -> None:
    text = UserError("x" * 100_000 + "END", file="f.yaml", path="p").one_line()
    assert len(text) < 600
    assert text.startswith("f.yaml: p: xxx")
    assert text.endswith("END")


# ---- names and symbols -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "seesaw.duckdb",
        "seesaw.duckdb.wal",
        "seesaw.duckdb.lock",
        "SEESAW.DUCKDB",
        "x.duckdb",
        "x.WAL",
        "x.lock",
        "x.tmp",
    ],
)
def test_names_that_clash_with_the_store_are_refused(tmp_path: Path, name: str) -> None:
    err = _error(tmp_path, _doc(name=name))
    assert err.path == "name"
    assert "results store" in err.message


@pytest.mark.parametrize("name", [".hidden", "..", "a/b", "a\\b", "x\n", ""])
def test_hidden_or_path_like_names_are_refused(tmp_path: Path, name: str) -> None:
    assert _error(tmp_path, _doc(name=name)).path == "name"


@pytest.mark.parametrize("name", ["v1.2", "corr.breakdown", "seesaw", "x.duckdb2", "A-b_c.d"])
def test_names_with_dots_inside_are_accepted(tmp_path: Path, name: str) -> None:
    assert _ok(tmp_path, _doc(name=name)).name == name


BAD_TICKERS = ["../x", "a/b", "a\\b", ".GSPC", "A..B", "x" * 33, "^GS PC", "^GS\nPC", "é", "HK$"]
GOOD_TICKERS = ["^GSPC", "0700.HK", "HKD=X", "BRK-B", "2800.HK", "A_B", "x" * 32]


@pytest.mark.parametrize("symbol", BAD_TICKERS)
@pytest.mark.parametrize("where", ["assets__us__symbol", "data__fx_symbol", "cash_rate"])
def test_path_like_symbols_are_refused(tmp_path: Path, symbol: str, where: str) -> None:
    assert _error(tmp_path, _doc(**{where: symbol})).path == where.replace("__", ".")


@pytest.mark.parametrize("symbol", GOOD_TICKERS)
def test_yahoo_symbols_are_accepted(tmp_path: Path, symbol: str) -> None:
    assert _ok(tmp_path, _doc(assets__us__symbol=symbol)).assets["us"].symbol == symbol


# ---- numeric caps, at the edge ---------------------------------------------------------------------------------

EDGES = [
    # (dotted path, accepted at the cap, refused beyond it)
    ("execution__lag", MAX_LAG, MAX_LAG + 1),
    ("execution__lag", MAX_LAG, 10**18),
    ("signals__corr__window", MAX_WINDOW, MAX_WINDOW + 1),
    ("signals__corr__window", MAX_WINDOW, 2**63),
    ("initial_cash", MAX_INITIAL_CASH, MAX_INITIAL_CASH * 1.000001),
    ("initial_cash", MAX_INITIAL_CASH, 1e308),
    ("initial_cash", MIN_INITIAL_CASH, 0.99),
    ("costs__fee_bps", 1000, 1000.5),
    ("costs__slippage_bps", 1000, 10_001),
    ("assets__hk__stamp_duty_bps", 1000, 1001),
    ("assets__us__dividend_yield", 0.2, 0.21),
    ("params__corr_cut", MAX_PARAM, MAX_PARAM * 1.5),
    ("params__corr_cut", -MAX_PARAM, -MAX_PARAM * 1.5),
    ("data__end", str(MAX_DATE), "2101-01-01"),
    ("data__end", str(MAX_DATE), "9999-12-31"),
    ("data__start", str(MIN_DATE), "1899-12-31"),
    ("data__start", str(MIN_DATE), "0001-01-01"),
    ("data__fx_band", [7.75, 7.85], [7.76, 7.85]),
    ("data__fx_band", [7.75, 7.85], [7.75, 7.84]),
    ("data__fx_band", [0.001, 100], [1, 2]),
    ("data__fx_band", [0.001, 100], [7.7, 100.5]),
    ("cash_rate", 0.5, 0.51),
]


@pytest.mark.parametrize(("where", "cap", "beyond"), EDGES)
def test_numeric_cap(tmp_path: Path, where: str, cap: Any, beyond: Any) -> None:
    extra = {"data__start": "2000-01-01"} if where == "data__end" else {}
    if where == "data__start":
        extra = {"data__end": "2020-01-01"}
    _ok(tmp_path, _doc(**{where: cap}, **extra))
    err = _error(tmp_path, _doc(**{where: beyond}, **extra))
    assert err.path == where.replace("__", ".")


@pytest.mark.parametrize(
    ("fn", "said"),
    [(None, "missing 'fn'"), (["rolling_corr"], "got a list"), ({"name": "x"}, "got a mapping"), (3, "got a number")],
)
def test_a_signal_fn_that_is_not_a_name_is_refused_saying_what_it_is(tmp_path: Path, fn: Any, said: str) -> None:
    err = _error(tmp_path, _doc(signals__corr__fn=fn))
    assert err.path == "signals.corr.fn"
    assert said in err.message


def test_window_through_a_parameter_is_capped_at_the_signal(tmp_path: Path) -> None:
    err = _error(tmp_path, _doc(params__mom_window=MAX_WINDOW + 1))
    assert err.path == "signals.mom.window"


# ---- sweeps ----------------------------------------------------------------------------------------------------


def test_sweep_naming_one_parameter_twice_is_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, _doc(sweep={"corr_cut": [0.1], "params.corr_cut": [0.3]}))
    assert err.path == "sweep.params.corr_cut"
    assert "same value" in err.message


def test_sweep_of_a_signal_argument_and_its_parameter_is_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, _doc(sweep={"mom_window": [20, 40], "signals.mom.window": [30]}))
    assert err.path == "sweep.signals.mom.window"


@pytest.mark.parametrize(
    ("spec", "culprit"),
    [
        ({"start": 20, "stop": 60, "step": 5.5}, "step is 5.5"),
        ({"start": 20.0, "stop": 60, "step": 5}, "start is 20.0"),
    ],
)
def test_a_decimal_range_for_an_integer_is_refused_naming_what_made_it_decimal(
    tmp_path: Path, spec: dict, culprit: str
) -> None:
    err = _error(tmp_path, _doc(sweep={"mom_window": spec}))
    assert err.path == "sweep.mom_window"
    assert "valid integer" in err.message
    assert err.message.endswith(f"(the range's values are decimal numbers because its {culprit})")


def test_an_integer_list_error_says_nothing_of_decimals(tmp_path: Path) -> None:
    err = _error(tmp_path, _doc(sweep={"mom_window": [20, 25.5]}))
    assert err.path == "sweep.mom_window[1]"
    assert "decimal" not in err.message


def test_million_value_range_is_refused_from_its_bounds(tmp_path: Path) -> None:
    doc = _doc(sweep={"signals.corr.window": {"start": 2, "stop": 1_000_001, "step": 1}})
    err = _error(tmp_path, doc)
    assert err.path == "sweep.signals.corr.window"
    assert err.got == 1_000_000
    assert f"exceeds the limit of {MAX_RANGE_VALUES:,}" in err.message


def test_range_at_the_cap_is_validated_from_its_ends(tmp_path: Path) -> None:
    doc = _doc(sweep={"corr_cut": {"start": 0.0, "stop": 0.99999, "step": 1e-5}})
    cfg = _ok(tmp_path, doc)
    assert grid(cfg).size == MAX_RANGE_VALUES


@pytest.mark.parametrize(
    "spec",
    [
        {"start": -1e308, "stop": 1e308, "step": 1e-300},  # (stop - start) / step overflows to inf
        {"start": 0, "stop": 10**90, "step": 1},
        {"start": 0.0, "stop": 1.0, "step": 5e-324},
    ],
)
def test_huge_ranges_are_refused_without_overflow(tmp_path: Path, spec: dict) -> None:
    err = _error(tmp_path, _doc(sweep={"corr_cut": spec}))
    assert err.path == "sweep.corr_cut"
    assert "exceeds the limit" in err.message


@pytest.mark.parametrize(
    ("key", "spec", "path"),
    [
        ("execution.lag", {"start": 240, "stop": 260, "step": 5}, "sweep.execution.lag"),
        ("execution.lag", [1, 100_000], "sweep.execution.lag[1]"),
        ("signals.corr.window", [5, 10**19], "sweep.signals.corr.window[1]"),
        ("signals.corr.window", {"start": 9_990, "stop": 10_010, "step": 10}, "sweep.signals.corr.window"),
        ("costs.fee_bps", [1, 1e6], "sweep.costs.fee_bps[1]"),
        ("corr_cut", [0.1, MAX_PARAM * 2], "sweep.corr_cut[1]"),
    ],
)
def test_sweep_values_go_through_the_same_caps(tmp_path: Path, key: str, spec: Any, path: str) -> None:
    assert _error(tmp_path, _doc(sweep={key: spec})).path == path


def test_long_sweep_list_is_refused(tmp_path: Path) -> None:
    values = [i / 100_000 for i in range(MAX_LIST_VALUES + 1)]
    err = _error(tmp_path, _doc(sweep={"corr_cut": values}))
    assert err.path == "sweep.corr_cut"
    assert f"{MAX_LIST_VALUES:,}" in err.message


# ---- values valid on their own that the loaded data cannot support ----------------------------------------------


def _run(tmp_path: Path, text: str):
    from typer.testing import CliRunner

    from engine.cli import app

    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    args = ["run", str(path), "--source", "synthetic", "--results-dir", str(tmp_path / "R"), "--end", "2012-12-31"]
    return path, CliRunner().invoke(app, args, env={"COLUMNS": "200"})


def test_a_window_longer_than_the_data_is_refused_at_its_signal(tmp_path: Path) -> None:
    text = (ROOT / "configs/corr_breakdown.yaml").read_text(encoding="utf-8").replace("window: 90", "window: 9000")
    path, result = _run(tmp_path, text)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {path}: signals.corr: signal 'corr' has no value on any decision date")
    assert not (tmp_path / "R").exists() or not list((tmp_path / "R").glob("*/*/run.json"))


def test_a_window_the_data_just_supports_runs(tmp_path: Path) -> None:
    # 2002-2012 on the synthetic timeline is about 2,800 dates plus the warm-up before 2002
    text = (ROOT / "configs/corr_breakdown.yaml").read_text(encoding="utf-8").replace("window: 90", "window: 2500")
    _, result = _run(tmp_path, text)
    assert result.exit_code == 0, result.output


def test_a_config_that_is_not_a_regular_file_is_refused_unread(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it to read would block forever; /dev/zero would never end
    with pytest.raises(ConfigError, match="not a regular file") as info:
        read_yaml(fifo)
    assert info.value.file == str(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_yaml(Path("/dev/zero"))


@pytest.mark.parametrize(("text", "value"), [("1e12", 1e12), ("1.0e12", 1e12), ("2.5E-3", 0.0025), (".5e3", 500.0)])
def test_yaml_1_2_exponent_floats_are_numbers(tmp_path: Path, text: str, value: float) -> None:
    data, _ = read_yaml(_write(tmp_path, f"x: {text}\ny: e5\nz: 5\n"))
    assert data == {"x": value, "y": "e5", "z": 5}


def test_initial_cash_written_with_an_exponent_meets_its_cap(tmp_path: Path) -> None:
    path = _write(tmp_path, _doc(initial_cash=None))
    path.write_text(path.read_text(encoding="utf-8") + "initial_cash: 2e12\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.path == "initial_cash" and "less than or equal" in info.value.message
    path.write_text(path.read_text(encoding="utf-8").replace("2e12", "1e12"), encoding="utf-8")
    assert load_config(path).initial_cash == 1e12


@pytest.mark.parametrize("text", ["201y", "2413m", "73600d", "99999999999999999999d"])
def test_walk_forward_durations_are_capped(text: str) -> None:
    from engine.walkforward import parse_duration

    with pytest.raises(UserError, match="--train"):
        parse_duration(text, "--train")
    assert parse_duration("200y", "--train") == pd_offset(years=200)


def pd_offset(**kw: int):
    import pandas as pd

    return pd.DateOffset(**kw)


def test_walk_forward_folds_are_capped() -> None:
    import pandas as pd

    from engine.walkforward import MAX_FOLDS, folds

    dates = pd.bdate_range("2000-01-03", "2020-12-31")
    with pytest.raises(UserError, match=f"--step 1d makes more than {MAX_FOLDS:,} folds"):
        folds(dates, pd.DateOffset(years=5), pd.DateOffset(days=1), pd.DateOffset(days=1))
    assert len(folds(dates, pd.DateOffset(years=5), pd.DateOffset(years=1), pd.DateOffset(years=1))) == 16
    # the durations as the user wrote them, not pandas' repr of an offset
    with pytest.raises(UserError, match=r"no fold fits in 2000-01-03 → 2020-12-31 with --train 30y and --test 18m$"):
        folds(dates, pd.DateOffset(years=30), pd.DateOffset(months=18), pd.DateOffset(years=1))
    # a training window of one date (a weekend in it) is named, not reported as no fold fitting
    weekend = pd.bdate_range("2015-01-02", "2020-12-31")  # from a Friday
    with pytest.raises(UserError, match=r"--train 3d holds 1 date of data from 2015-01-02 \(fold 0\)$"):
        folds(weekend, pd.DateOffset(days=3), pd.DateOffset(days=1), pd.DateOffset(days=1))


def test_a_swept_window_longer_than_the_data_is_refused_at_its_sweep_key(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from engine.cli import app
    from tests.test_sweep import SMALL

    path = tmp_path / "s.yaml"
    path.write_text(SMALL.replace("window: {start: 20, stop: 80, step: 20}", "window: [20, 9000]"), encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", str(path), "--results-dir", str(tmp_path / "R")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {path}: sweep.window: signal 'rel' with a=us, b=hk, window=9000 needs")
    assert not (tmp_path / "R" / "small_sweep" / "sweeps").exists()
