"""Signals from other installed packages (entry point group ``seesaw.signals``) and their contract check.

Each plugin here is a real installed-looking package built in a temporary directory: a module
and a ``<name>.dist-info`` directory with ``METADATA`` and ``entry_points.txt``, put on
``sys.path``, so :mod:`importlib.metadata` finds it exactly as it finds a ``pip install``-ed one.
The loader's once-flag is reset before and after each test, and every signal a plugin
registered leaves the registry afterwards, so the contract battery's registry is unaffected.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import strategies
from engine.cli import app
from engine.errors import UserError
from strategies import REGISTRY, AssetRef, SignalInputs, signal
from strategies.contract import check_signal
from strategies.errors import PluginError, SignalContractError
from strategies.plugins import GROUP, reset_plugins
from tests.contracts.test_signal_contracts import synthetic_inputs

_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")

#: A trailing signal: log distance of a's price from its price ``window`` rows earlier.
GOOD = '''
import numpy as np
from pydantic import PositiveInt
from strategies import AssetRef, SignalInputs, signal


@signal("trend_gap", lookback=lambda p: p["window"])
def trend_gap(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
    """Log distance of a's price from its price ``window`` rows earlier: ln(P[t] / P[t-window])."""
    p = x.series(a)
    return np.log(p / p.shift(window)).to_numpy(dtype="float64")
'''

#: A biased signal: tomorrow's return (``shift(-1)``), the mistake the contract exists for.
PEEK = '''
import numpy as np
from pydantic import PositiveInt
from strategies import AssetRef, SignalInputs, signal


@signal("peek", lookback=lambda p: p["window"])
def peek(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
    """Tomorrow's price over the price ``window`` rows ago (biased on purpose)."""
    p = x.series(a)
    return (p.shift(-1) / p.shift(window) - 1.0).to_numpy(dtype="float64")
'''

CONFIG = """\
name: plugin_{fn}
data: {{source: yahoo, start: 2015-01-01, end: 2016-12-31, price: close}}
assets:
  us: {{symbol: ^GSPC, market: us}}
  hk: {{symbol: ^HSI, market: hk}}
signals:
  sig: {{fn: {fn}, a: us, window: 20}}
rules:
  - when: sig > 0
    weights: {{us: 1.0}}
  - otherwise: {{hk: 1.0}}
execution: {{lag: 1, rebalance: monthly}}
costs: {{fee_bps: 5, slippage_bps: 5}}
initial_cash: 100000
"""

Install = Callable[..., Path]


def invoke(*args: str):
    """The CLI in-process; stdout and stderr kept apart; an unexpected exception is re-raised (a bug)."""
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_RICH_ENV), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """``install(dist, module, source, entry=...)``: an installed package whose entry point of group
    ``seesaw.signals`` names ``entry`` (default: the module); the loader starts afresh."""
    modules: list[str] = []
    site = tmp_path / "site"
    site.mkdir()

    def _install(dist: str, module: str, source: str, *, entry: str | None = None) -> Path:
        (site / module).mkdir()
        (site / module / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[{GROUP}]\n{module} = {entry or module}\n", encoding="utf-8")
        modules.append(module)
        return site

    from engine.store.rundir import code_fingerprint  # covers the installed plugins: computed afresh, after too

    before = set(REGISTRY)
    reset_plugins()
    code_fingerprint.cache_clear()
    monkeypatch.syspath_prepend(str(site))
    yield _install
    reset_plugins()
    code_fingerprint.cache_clear()
    for name in set(REGISTRY) - before:  # what a failed plugin may have left
        REGISTRY.pop(name, None)
    for module in modules:
        for name in [n for n in list(sys.modules) if n == module or n.startswith(module + ".")]:
            sys.modules.pop(name, None)


def _config(tmp_path: Path, fn: str) -> str:
    path = tmp_path / f"plugin_{fn}.yaml"
    path.write_text(CONFIG.format(fn=fn), encoding="utf-8")
    return str(path)


def _run(tmp_path: Path, fn: str):
    return invoke("run", _config(tmp_path, fn), "--source", "synthetic", "--results-dir", str(tmp_path / "results"))


# ----------------------------------------------------------------------------- loading


def test_a_plugin_loaded_again_after_a_reset_registers_its_signals_again(install: Install, tmp_path: Path) -> None:
    """reset_plugins takes a package's signals out of the registry but Python keeps its module imported: the next
    load imports it again rather than find no signal (an installed plugin then failed every later test)."""
    install("seesaw-trend", "seesaw_trend", GOOD)
    assert _run(tmp_path, "trend_gap").exit_code == 0
    assert "seesaw_trend" in sys.modules
    reset_plugins()
    assert "trend_gap" not in REGISTRY
    again = invoke("validate", _config(tmp_path, "trend_gap"))
    assert again.exit_code == 0, again.stderr
    assert REGISTRY["trend_gap"].origin == "seesaw-trend"


def test_a_package_whose_signals_live_in_a_submodule_registers_them_again_after_a_reset(
    install: Install, tmp_path: Path
) -> None:
    """Its __init__ imports the submodule holding the decorators: reloading __init__ alone would find the
    submodule imported and register nothing; the submodule is imported again first."""
    site = install("seesaw-trend", "seesaw_trend", "from . import sigs\n")
    (site / "seesaw_trend" / "sigs.py").write_text(textwrap.dedent(GOOD), encoding="utf-8")
    assert invoke("validate", _config(tmp_path, "trend_gap")).exit_code == 0
    reset_plugins()
    assert "trend_gap" not in REGISTRY
    again = invoke("validate", _config(tmp_path, "trend_gap"))
    assert again.exit_code == 0, again.stderr
    assert REGISTRY["trend_gap"].origin == "seesaw-trend"


def test_a_plugin_signal_runs_a_config_end_to_end(install: Install, tmp_path: Path) -> None:
    install("seesaw-trend", "seesaw_trend", GOOD)
    result = _run(tmp_path, "trend_gap")
    assert result.exit_code == 0, result.stderr
    assert strategies.get_signal("trend_gap").origin == "seesaw-trend"
    (run_dir,) = (tmp_path / "results" / "plugin_trend_gap").iterdir()
    stored = pd.read_parquet(run_dir / "signals.parquet")
    assert stored["sig"].notna().all()  # the plugin's values, after its warm-up of 20 rows
    assert stored["sig"].std() > 0


def test_editing_a_plugin_signal_runs_its_config_again(install: Install, tmp_path: Path) -> None:
    """The reuse key's code hash covers the installed signal packages' sources: after an edit of the plugin
    (a user working on it with ``pip install -e``), the config runs again instead of reusing the old run."""
    from engine.store.rundir import code_fingerprint

    site = install("seesaw-trend", "seesaw_trend", GOOD)
    code_fingerprint.cache_clear()
    assert _run(tmp_path, "trend_gap").exit_code == 0
    before = code_fingerprint()
    assert _run(tmp_path, "trend_gap").exit_code == 0
    assert len(list((tmp_path / "results" / "plugin_trend_gap").iterdir())) == 1  # unchanged: reused
    source = site / "seesaw_trend" / "__init__.py"
    source.write_text(source.read_text(encoding="utf-8").replace("p.shift(window))", "p.shift(window) * 1.5)"))
    reset_plugins()
    REGISTRY.pop("trend_gap", None)
    sys.modules.pop("seesaw_trend", None)
    code_fingerprint.cache_clear()
    try:
        assert code_fingerprint() != before
        assert _run(tmp_path, "trend_gap").exit_code == 0
        assert len(list((tmp_path / "results" / "plugin_trend_gap").iterdir())) == 2  # run again
    finally:
        code_fingerprint.cache_clear()


def test_loading_is_lazy_and_marks_the_origin(install: Install) -> None:
    install("seesaw-trend", "seesaw_trend", GOOD)
    assert "trend_gap" not in REGISTRY  # installing (and importing strategies) loads nothing
    assert "trend_gap" in strategies.all_signals()
    assert REGISTRY["trend_gap"].origin == "seesaw-trend"
    assert REGISTRY["momentum"].origin == "seesaw"


def test_the_registry_is_clean_after_a_reset(install: Install) -> None:
    install("seesaw-trend", "seesaw_trend", GOOD)
    strategies.get_signal("trend_gap")
    reset_plugins()
    assert "trend_gap" not in REGISTRY


def test_an_entry_point_naming_a_function_loads_its_module(install: Install) -> None:
    install("seesaw-trend", "seesaw_trend", GOOD, entry="seesaw_trend:trend_gap")
    assert strategies.get_signal("trend_gap").origin == "seesaw-trend"


def test_the_plugin_is_listed_by_seesaw_signals_with_its_origin(install: Install) -> None:
    install("seesaw-trend", "seesaw_trend", GOOD)
    listed = {d["name"]: d for d in json.loads(invoke("signals", "--format", "json").stdout)}
    assert listed["trend_gap"]["origin"] == "seesaw-trend"
    assert listed["trend_gap"]["lookback"] == [{"when": {}, "rows": "window"}]
    assert [p["kind"] for p in listed["trend_gap"]["parameters"]] == ["asset", "value"]
    table = invoke("signals")
    assert table.exit_code == 0
    row = next(line for line in table.stdout.splitlines() if line.startswith("trend_gap"))
    assert "seesaw-trend" in row


# ----------------------------------------------------------------------------- user errors


def _one_error_line(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_look_ahead_plugin_signal_is_refused_with_one_line(install: Install, tmp_path: Path) -> None:
    install("seesaw-peek", "seesaw_peek", PEEK)
    line = _one_error_line(_run(tmp_path, "peek"))
    assert "signal peek (package seesaw-peek) looks ahead: its value on " in line
    assert line.endswith("changes when later prices change")


RAISES = '''
import numpy as np
from pydantic import PositiveInt
from strategies import AssetRef, SignalInputs, signal


@signal("raiser", lookback=lambda p: p["window"])
def raiser(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
    """Fails on every call."""
    raise ValueError("boom")
'''


def test_a_plugin_signal_that_raises_is_refused_with_one_line(install: Install, tmp_path: Path) -> None:
    """The package's own exception, on the config's data: one line naming the signal and the package, exit 2,
    never a traceback (validate cannot see it: it computes no signal)."""
    install("seesaw-raiser", "seesaw_raiser", RAISES)
    result = _run(tmp_path, "raiser")
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "signals.sig: signal raiser (package seesaw-raiser) fails on the config's data: ValueError: boom" in line


@pytest.mark.parametrize("command", ["run", "today", "sweep", "walkforward", "compare"])
def test_every_command_computing_the_signal_names_the_config_file(
    install: Install, tmp_path: Path, command: str
) -> None:
    """The one line names the file and the YAML path, whichever command computes the signal."""
    install("seesaw-raiser", "seesaw_raiser", RAISES)
    path = Path(_config(tmp_path, "raiser"))
    path.write_text(path.read_text(encoding="utf-8") + "sweep: {signals.sig.window: [10, 20]}\n", encoding="utf-8")
    extra = {"today": ["--now", "2016-12-31"], "walkforward": ["--train", "1y", "--test", "6m"]}.get(command, [])
    results = ["--results-dir", str(tmp_path / "results")] if command != "today" else []
    if command == "compare":  # the regime config's signals
        static = str(Path(__file__).parents[1] / "configs" / "static_60_40.yaml")
        extra = ["--regime", "sig > 0", "--regime-config", str(path), "--start", "2015-01-01", "--end", "2016-12-31"]
        line = _one_error_line(invoke(command, static, "--source", "synthetic", *extra, *results))
    else:
        line = _one_error_line(invoke(command, str(path), "--source", "synthetic", *extra, *results))
    assert f"{path}: signals.sig: signal raiser (package seesaw-raiser) fails on the config's data" in line


def test_a_plugin_that_fails_to_import_names_its_entry_point(install: Install, tmp_path: Path) -> None:
    install("seesaw-broken", "seesaw_broken", "import seesaw_no_such_module\n")
    line = _one_error_line(invoke("signals"))
    assert "'seesaw_broken' (seesaw_broken) of package 'seesaw-broken' failed to import" in line
    assert "ModuleNotFoundError" in line
    run_line = _one_error_line(_run(tmp_path, "momentum"))  # any lookup loads the plugins
    assert "of package 'seesaw-broken' failed to import" in run_line
    with pytest.raises(PluginError) as err:  # and keeps failing: never half-loaded silently
        strategies.get_signal("momentum")
    assert (err.value.distribution, err.value.got) == ("seesaw-broken", "seesaw_broken = seesaw_broken")
    assert isinstance(err.value, UserError)


def test_a_plugin_taking_a_built_in_name_is_refused(install: Install) -> None:
    source = GOOD.replace('@signal("trend_gap"', '@signal("momentum"')
    install("seesaw-clash", "seesaw_clash", source)
    with pytest.raises(PluginError, match="registers signal 'momentum', a name already taken by package 'seesaw'"):
        strategies.all_signals()
    assert REGISTRY["momentum"].origin == "seesaw"
    assert REGISTRY["momentum"].func.__module__ == "strategies.momentum"


def test_a_plugin_registering_nothing_is_refused(install: Install) -> None:
    install("seesaw-empty", "seesaw_empty", "X = 1\n")
    with pytest.raises(PluginError, match="of package 'seesaw-empty' registers no signal") as err:
        strategies.get_signal("momentum")
    assert err.value.distribution == "seesaw-empty"


# ----------------------------------------------------------------------------- the contract at load


def _external(name: str, lookback, func) -> strategies.SignalDef:
    """``func`` registered as ``name`` with origin ``my-signals``, then taken out of the registry again."""
    signal(name, lookback=lookback)(func)
    return dataclasses.replace(REGISTRY.pop(name), origin="my-signals")


def _trailing(x: SignalInputs, a: str, window: int) -> np.ndarray:
    p = x.series(a)
    return (p / p.shift(window) - 1.0).to_numpy(dtype="float64")


def _problem(sdef: strategies.SignalDef, x: SignalInputs | None = None) -> SignalContractError:
    x = synthetic_inputs() if x is None else x
    params = {"a": "us", "window": 5}
    with pytest.raises(SignalContractError) as err:
        check_signal(sdef, x, params, sdef.func(x, **params))
    assert (err.value.signal, err.value.distribution) == (sdef.name, "my-signals")
    return err.value


def test_a_trailing_external_signal_passes() -> None:
    def good(x: SignalInputs, *, a: AssetRef, window: int) -> np.ndarray:
        return _trailing(x, a, window)

    sdef = _external("_good", lambda p: p["window"], good)
    x = synthetic_inputs()
    assert check_signal(sdef, x, {"a": "us", "window": 5}, good(x, a="us", window=5)) is None


def test_the_check_catches_look_ahead_and_names_the_first_changed_date() -> None:
    def peek(x: SignalInputs, *, a: AssetRef, window: int) -> np.ndarray:
        p = x.series(a)
        return (p.shift(-1) / p.shift(window) - 1.0).to_numpy(dtype="float64")

    x = synthetic_inputs()
    err = _problem(_external("_peek", lambda p: p["window"], peek), x)
    # the first cut is row 5 + (599 - 5) // 4 = 153: its own value reads row 154
    assert err.message == f"signal _peek (package my-signals) looks ahead: its value on {x.dates[153].date()} " + (
        "changes when later prices change"
    )


def test_the_check_catches_a_wrong_warm_up() -> None:
    def early(x: SignalInputs, *, a: AssetRef, window: int) -> np.ndarray:
        return _trailing(x, a, window - 1)  # one row too early for its declared lookback

    x = synthetic_inputs()
    err = _problem(_external("_early", lambda p: p["window"], early), x)
    assert "is not NaN during its warm-up of 5 rows" in err.message
    assert err.got == 4


def test_the_check_catches_nan_after_the_warm_up() -> None:
    def gappy(x: SignalInputs, *, a: AssetRef, window: int) -> np.ndarray:
        return np.where(x.traded[a], _trailing(x, a, window), np.nan)  # NaN on the market's holidays

    assert "after its warm-up of 5 rows" in _problem(_external("_gappy", lambda p: p["window"], gappy)).message


def test_the_check_catches_a_signal_writing_into_its_inputs() -> None:
    def scribbles(x: SignalInputs, *, a: AssetRef, window: int) -> np.ndarray:
        x.prices[a][-1] = x.prices[a][-1] * 2.0
        return _trailing(x, a, window)

    err = _problem(_external("_scribble", lambda p: p["window"], scribbles))
    assert (
        err.message
        == "signal _scribble (package my-signals) modifies its input arrays (prices, traded flags or signals)"
    )


def test_a_signal_writing_into_read_only_inputs_is_told_they_are_read_only() -> None:
    """A run passes read-only arrays: the write raises numpy's ValueError, which names the contract it breaks."""
    from strategies.contract import call_signal

    def scribbles(x: SignalInputs, *, a: AssetRef, window: int) -> np.ndarray:
        x.prices[a][-1] = 1.0
        return _trailing(x, a, window)

    x = synthetic_inputs()
    for values in x.prices.values():
        values.flags.writeable = False
    with pytest.raises(SignalContractError) as err:
        call_signal(_external("_scribble_ro", lambda p: p["window"], scribbles), x, {"a": "us", "window": 5}, "here")
    assert err.value.message == (
        "signal _scribble_ro (package my-signals) writes into a read-only array (its input arrays, prices, traded "
        "flags and signals, are read-only: a signal may not modify them) (ValueError: assignment destination is "
        "read-only)"
    )
    assert err.value.got == "input modified"


@pytest.mark.parametrize(
    ("convert", "expected"),
    [
        (lambda v: v.astype("float32"), "returned float32 values of shape (600,), expected float64 of shape (600,)"),
        (lambda v: list(v), "returned list, expected a numpy float64 array of 600 values"),
        (lambda v: v[1:], "returned float64 values of shape (599,), expected float64 of shape (600,)"),
    ],
    ids=["float32", "list", "short"],
)
def test_the_check_catches_a_wrong_output(convert, expected: str) -> None:
    def wrong(x: SignalInputs, *, a: AssetRef, window: int):
        return convert(_trailing(x, a, window))

    assert _problem(_external("_wrong", lambda p: p["window"], wrong)).message.endswith(expected)


# ----------------------------------------------------------------------------- seesaw audit


def test_seesaw_audit_passes_a_trailing_plugin_and_fails_a_peeking_one(install: Install, tmp_path: Path) -> None:
    """The look-ahead audit covers signals from the user's own packages (engine/audit.py): a trailing one
    passes with its control caught; one that reads the future fails, exit 1, naming it."""
    install("seesaw-trend", "seesaw_trend", GOOD)
    install("seesaw-peek", "seesaw_peek", PEEK)
    good = invoke("audit", _config(tmp_path, "trend_gap"), "--source", "synthetic", "--format", "json")
    assert good.exit_code == 0, good.stderr
    (row,) = json.loads(good.stdout)
    assert row["passed"] and row["control"]["caught"] is True
    bad = invoke("audit", _config(tmp_path, "peek"), "--source", "synthetic")
    assert bad.exit_code == 1, bad.stderr
    assert "FAIL" in bad.stdout and "signal peek (package seesaw-peek) looks ahead" in bad.stdout
    # the rule reads the signal; the control was not run because the contract refused it first
    assert "control: not run (the signal contract refused a signal before any cut)" in bad.stdout
    assert "no rule reads a signal" not in bad.stdout


def test_the_same_plugin_installed_elsewhere_has_the_same_code_hash(tmp_path: Path, monkeypatch) -> None:
    """The code hash names a plugin's files relative to its package: the same sources installed in another
    environment (another directory) reuse the same stored runs; other sources do not."""
    from engine.store.rundir import code_fingerprint

    def installed(site: Path, source: str) -> str:
        (site / "seesaw_trend").mkdir(parents=True)
        (site / "seesaw_trend" / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / "seesaw_trend-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: seesaw-trend\nVersion: 0.1\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[{GROUP}]\nseesaw_trend = seesaw_trend\n", encoding="utf-8")
        with monkeypatch.context() as m:
            m.syspath_prepend(str(site))
            code_fingerprint.cache_clear()
            try:
                return code_fingerprint()
            finally:
                code_fingerprint.cache_clear()

    a, b = installed(tmp_path / "a", GOOD), installed(tmp_path / "b", GOOD)
    assert a == b
    assert installed(tmp_path / "c", GOOD.replace("p.shift(window))", "p.shift(window) * 1.5)")) != a
