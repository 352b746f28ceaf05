"""``seesaw audit`` (engine/audit.py): the look-ahead audit passes every shipped config and every built-in
signal, catches its planted control on each, and fails a config that trades at the close it decided on.

The audit's own contract is in its module docstring; these tests run it as a user does, through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import strategies
from engine.cli import app
from tests.conftest import CONFIGS, SHIPPED_CONFIGS

_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")
SYNTHETIC_WINDOW = ("--source", "synthetic", "--start", "2008-01-01", "--end", "2014-12-31")


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_RICH_ENV), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def audited(*args: str) -> tuple[int, list[dict]]:
    result = invoke("audit", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else []


def test_every_shipped_config_passes_and_its_control_is_caught() -> None:
    code, rows = audited(*map(str, SHIPPED_CONFIGS), *SYNTHETIC_WINDOW)
    assert code == 0, [r["config"] for r in rows if not r["passed"]]
    assert len(rows) == len(SHIPPED_CONFIGS)
    for row in rows:
        assert row["passed"], row["config"]
        assert len({c["date"] for c in row["cuts"]}) >= 8  # at least eight dates ...
        assert {c["market"] for c in row["cuts"] if c["kind"] == "noise"} >= {"us"}  # ... in information time
        kinds = {c["kind"] for c in row["checks"]}
        assert {"decision", "orders", "timing"} <= kinds
        if any(c["kind"] == "signal" for c in row["checks"]) and row["control"]["signal"] is not None:
            assert row["control"]["caught"] is True, row["config"]  # the audit can fail


def test_a_run_shorter_than_the_cuts_asked_is_cut_at_every_date_and_says_so() -> None:
    """Three dates: the two before the last are every date there is to cut; the output says fewer than asked."""
    window = ("--source", "synthetic", "--start", "2014-02-10", "--end", "2014-02-13")
    code, (row,) = audited(str(CONFIGS / "corr_breakdown.yaml"), *window)
    assert code == 0 and row["cuts_asked"] == 8
    assert sorted({c["date"] for c in row["cuts"]}) == ["2014-02-10", "2014-02-11", "2014-02-12"]
    text = invoke("audit", str(CONFIGS / "corr_breakdown.yaml"), *window, "--cuts", "9").stdout
    said = " ".join(text.split())
    assert "cut at 3 dates (2014-02-10 … 2014-02-12: every date before the run's last; 9 asked)" in said, text


@pytest.mark.parametrize("name", ["corr_breakdown", "hk_us_spread", "vix_filter"])
def test_shipped_configs_pass_on_the_real_data(name: str, data_dir: Path) -> None:
    code, (row,) = audited(str(CONFIGS / f"{name}.yaml"), "--source", "csv", "--data-dir", str(data_dir))
    assert code == 0 and row["passed"] and row["control"]["caught"] is True
    assert not row["synthetic"]


def test_trading_at_the_close_the_decision_used_fails(tmp_path: Path) -> None:
    text = (CONFIGS / "corr_breakdown.yaml").read_text(encoding="utf-8")
    text = text.replace("execution: {lag: 1, rebalance: on_change}", "execution: {lag: 0, allow_same_bar: true}")
    assert "allow_same_bar: true" in text
    path = tmp_path / "same_bar.yaml"
    path.write_text(text, encoding="utf-8")
    code, (row,) = audited(str(path), *SYNTHETIC_WINDOW)
    assert code == 1 and not row["passed"]
    (timing,) = [c for c in row["checks"] if c["kind"] == "timing"]
    assert not timing["passed"] and timing["cut"]["market"] == "us"
    text_out = " ".join(invoke("audit", str(path), *SYNTHETIC_WINDOW).stdout.split())
    assert "FAIL timing" in text_out and "filled at its own us close" in text_out


def test_every_built_in_signal_passes(tmp_path: Path) -> None:
    """One config holding every built-in signal (a transform of an asset, so each is computed on prices)."""
    values = {"a": "us", "b": "hk", "of": "us", "window": 30, "n": 3, "span": 10}
    lines = []
    for name, sdef in sorted(strategies.REGISTRY.items()):
        if sdef.origin != "seesaw":
            continue
        params = {p: values[p] for p in sdef.params.model_fields if p in values}  # every required one has a value
        lines.append(f"  {name}: {{fn: {name}, " + ", ".join(f"{k}: {v}" for k, v in params.items()) + "}")
    config = (
        "name: every_signal\nassets:\n  us: {symbol: ^GSPC, market: us}\n  hk: {symbol: ^HSI, market: hk}\n"
        "signals:\n" + "\n".join(lines) + "\nrules:\n  - when: momentum > 0\n    weights: {us: 1.0}\n"
        "  - otherwise: {hk: 1.0}\n"
    )
    path = tmp_path / "every_signal.yaml"
    path.write_text(config, encoding="utf-8")
    code, (row,) = audited(str(path), *SYNTHETIC_WINDOW)
    signals = {c["name"]: c["passed"] for c in row["checks"] if c["kind"] == "signal"}
    built_in = {n for n, s in strategies.REGISTRY.items() if s.origin == "seesaw"}
    assert set(signals) == built_in and all(signals.values()), signals
    assert code == 0 and row["control"] == {**row["control"], "signal": "momentum", "caught": True}


def test_a_transform_that_would_read_the_future_is_refused_when_validated(tmp_path: Path) -> None:
    path = tmp_path / "future.yaml"
    text = (CONFIGS / "zscore_tilt.yaml").read_text(encoding="utf-8")
    signals_at = text.index("signals:\n") + len("signals:\n")
    path.write_text(text[:signals_at] + "  ahead: {fn: lag, of: us, n: -1}\n" + text[signals_at:], encoding="utf-8")
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "signals.ahead.n" in result.stderr + result.stdout
