"""Fuzzing the config reader and validator: any bytes give a config or one ConfigError line.

Two batteries:

* in-process: at least 2,000 generated files (mutations of the shipped configs, hostile values,
  hostile YAML, random bytes, truncations, Hypothesis-generated structures) through
  :func:`engine.config.load_config`, in a child process whose address space may grow by at most
  1 GB and where each file has 10 s (``SIGALRM``).  Anything that is not a :class:`UserError`, or an
  error that is not one printable line naming the file, fails the test.
* through the CLI: about 40 hostile cases and values at the caps through ``seesaw validate`` and
  ``seesaw run --source synthetic`` (in this process through typer, and four in real processes);
  exit code 0 or 2, never a traceback, an error is one line naming the file.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(ROOT.glob("configs/**/*.yaml"))
N_MUTANTS = 1_700  # + the hostile texts + the Hypothesis structures: over 2,000 files in all
N_HYPOTHESIS = 300
SEED = 20260102
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

# Raw YAML spliced in place of a value (text, so it can hold what yaml.dump cannot write).
HOSTILE_VALUES = [
    "1" * 5000,
    "-" + "9" * 4301,
    "1e999",
    "-1e999",
    "1.0e+999",
    "-1.0e+999",
    "1.0e+308",
    ".nan",
    ".inf",
    "-.inf",
    "1e308",
    "-1",
    "0",
    "9223372036854775808",
    "1000000",
    "100000",
    "1000000000000000000",
    "0.0000001",
    "9999-12-31",
    "0001-01-01",
    "1899-12-31",
    "2101-01-01",
    "1970-01-01",
    "2020-13-45",
    "[1, 2]",
    "[7.8, 7.8]",
    "[0.001, 1e300]",
    "[]",
    "{}",
    "~",
    "true",
    "''",
    '"\\e[31mred\\e[0m"',
    '"line1\\nline2\\rline3"',
    '"\\0\\a\\b\\x7f\\x85\\u2028\\ud800"',
    '"ünïcødé ⚠ 漢字 🐍"',
    '"seesaw.duckdb.wal"',
    '"../../etc/passwd"',
    '"a/b\\\\c"',
    '".hidden"',
    "!!float abc",
    "!!int abc",
    "!!int 1.5",
    "!!timestamp 2020-99-99",
    "!!timestamp 2020-01-01",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!python/object:os.system ls",
    "!!python/name:os.system ''",
    "!foo bar",
    "!<tag:example.com,2000:x> 1",
    "!!str 5",
    "!!null ''",
    "!!bool yes",
    "&a [1, *a]",
    "[" * 600 + "]" * 600,
    "{a: " * 600 + "1" + "}" * 600,
    "0x7fffffffffffffffff",
    "0b" + "1" * 200,
    "1:30:00",
    "=",
    '"' + "x" * 20_000 + '"',
]

HOSTILE_DOCS = [
    "",
    "---\n...\n",
    "---\n---\n",
    "name: a\n---\nname: b\n",
    "~\n",
    "42\n",
    "[1, 2]\n",
    "'just a string'\n",
    "[a]: 1\n",
    "{a: 1}: 2\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 2\n",
    "name: x\n[a]: 1\n",
    "name: x\nassets: {[us]: 1}\n",
    "name: x\nassets: {us: {symbol: ^GSPC, market: us}}\nsignals: {? [a]: 1}\n",
    "a: &a [1, *a]\n",
    "a: &a {b: *a}\n",
    "a: *undefined\n",
    "<<: 1\n",
    "<<: [1, 2]\n",
    "x: !!python/object/apply:os.system [ls]\n",
    "x: !!python/object/new:dict {}\n",
    "\x00\x01\x02",
    "\ufeffname: bom\n",
    "name: \x1b[31mred\n",
    "name: a\tb\n",
    "\t- tab\n",
    "key: 'unterminated\n",
    'key: "unterminated\n',
    "{\n",
    "- [\n",
    "%YAML 9.9\n---\na: 1\n",
    "%TAG ! tag:evil.com,2000:\n---\n!x a\n",
    "a: " + "[" * 2000 + "]" * 2000 + "\n",
    "a: " + "- " * 1000 + "x\n",
    "a:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(700)) + " " * 701 + "v\n",
    "a: " + "9" * 5000 + "\n",
    "\n".join(f"k{i}: {i}" for i in range(20_000)) + "\n",
]


def _billion_laughs(levels: int, width: int) -> str:
    lines = ["a0: &a0 [lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"name: [*a{levels - 1}]")
    return "\n".join(lines) + "\n"


BOMBS = [_billion_laughs(9, 9), _billion_laughs(10, 10), _billion_laughs(30, 2), _billion_laughs(6, 40)]


def _shipped_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in SHIPPED]


def _shipped_doc(path: Path) -> dict:
    """A shipped config as the engine reads it (YAML 1.2: ``on:`` stays a string, dates stay text)."""
    from engine.config import read_yaml

    return read_yaml(path)[0]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in a plain YAML structure."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get_parent(doc: Any, path: tuple) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


_PLACEHOLDER = "zzhostile{}zz"  # a plain scalar: yaml.dump writes it unquoted


def _mutate(rng: random.Random, base: dict) -> str:
    """One mutant of a shipped config, as YAML text."""
    doc = json.loads(json.dumps(base, default=str))
    raw: list[str] = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        paths = _paths(doc)
        if not paths:
            break
        path = rng.choice(paths)
        parent = _get_parent(doc, path)
        key = path[-1]
        action = rng.choice(["delete", "duplicate", "retype", "hostile", "hostile", "hostile", "key"])
        if action == "delete":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, dict):
            parent[f"{key}"] = parent[key]
            parent[f"{key}_copy"] = parent[key]
        elif action == "retype":
            value = parent[key]
            parent[key] = rng.choice(
                [[value], {"v": value}, str(value), None, True, 1, 1.5, -1, rng.randint(-(10**9), 10**9)]
            )
        elif action == "key" and isinstance(parent, dict):
            parent[rng.choice(["\x1b[2J", "new\nline", "ü", "", " ", "a.b", "$x", "__init__", "on"])] = parent.pop(key)
        else:
            raw.append(rng.choice(HOSTILE_VALUES))
            parent[key] = _PLACEHOLDER.format(len(raw) - 1)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=rng.random() < 0.5)
    for i, value in enumerate(raw):
        text = text.replace(_PLACEHOLDER.format(i), value)
    return text


def _text_mutate(rng: random.Random, text: str) -> str | bytes:
    kind = rng.choice(["truncate", "bytes", "insert", "line"])
    if kind == "truncate":
        return text[: rng.randrange(len(text) + 1)]
    data = bytearray(text.encode("utf-8"))
    if kind == "bytes":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines) + 1)
    if kind == "insert":
        snippet = rng.choice([*HOSTILE_DOCS[8:22], "&x ", "*x ", "? ", "- ", ": ", "!!", "%", "|\n", ">\n"])
        lines.insert(at, snippet)
    else:
        if lines:
            lines[rng.randrange(len(lines))] = rng.choice(lines)
    return "".join(lines)


def generate(n_mutants: int = N_MUTANTS, seed: int = SEED) -> list[str | bytes]:
    """The deterministic part of the in-process battery."""
    rng = random.Random(seed)
    texts = _shipped_texts()
    bases = [_shipped_doc(p) for p in SHIPPED]
    cases: list[str | bytes] = [*texts, *HOSTILE_DOCS, *BOMBS]
    for value in HOSTILE_VALUES:  # each hostile value at a few fixed places of a real config
        for path in (("name",), ("initial_cash",), ("execution", "lag"), ("data", "end"), ("data", "fx_band")):
            doc = json.loads(json.dumps(bases[0], default=str))
            node = doc
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = "zzvaluezz"
            cases.append(yaml.safe_dump(doc, sort_keys=False).replace("zzvaluezz", value))
    for _ in range(n_mutants):
        if rng.random() < 0.2:
            cases.append(_text_mutate(rng, rng.choice(texts)))
        elif rng.random() < 0.03:
            cases.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))))
        else:
            cases.append(_mutate(rng, rng.choice(bases)))
    return cases


def hypothesis_cases(n: int = N_HYPOTHESIS) -> list[str]:
    """YAML dumps of Hypothesis-generated structures, half of them grafted onto a real config."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**30), max_value=10**30)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=20)
        | st.dates().map(str)
        | st.sampled_from(["us", "hk", "^GSPC", "rolling_corr", "window", "otherwise", "corr < 0.2", "$w"])
    )
    keys = st.text(max_size=12) | st.sampled_from(
        ["name", "assets", "signals", "rules", "data", "execution", "costs", "sweep", "params", "when", "weights"]
    )
    trees = st.recursive(
        scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(keys, c, max_size=4), max_leaves=30
    )
    base = _shipped_doc(SHIPPED[0])
    out: list[str] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(tree=trees, graft=st.booleans(), where=st.sampled_from(sorted(base)))
    def collect(tree: Any, graft: bool, where: str) -> None:
        doc = {**base, where: tree} if graft else tree
        out.append(yaml.safe_dump(doc, allow_unicode=True))

    collect()
    return out


def _check_error(err: BaseException, file: str) -> str | None:
    """What is wrong with a user error's message, or None."""
    text = err.one_line()  # type: ignore[attr-defined]
    if _CONTROL.search(text):
        return f"raw control character in {text!r}"
    if file not in text or getattr(err, "file", None) != file:
        return f"no file in {text!r}"
    if len(text) > 2_000:
        return f"message of {len(text)} characters"
    return None


def run_battery(cases: list[str | bytes], workdir: Path) -> dict[str, Any]:
    """Load every case in this process; a summary of the failures (used by the child process)."""
    import resource
    import signal
    import time

    from engine.config import load_config
    from engine.errors import ConfigError, UserError

    def timeout(signum: int, frame: Any) -> None:
        raise TimeoutError("config took more than 10 s")

    signal.signal(signal.SIGALRM, timeout)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    failures: list[str] = []
    counts = {"ok": 0, "user_error": 0}
    slowest = 0.0
    for i, case in enumerate(cases):
        path = workdir / f"case{i}.yaml"
        path.write_bytes(case if isinstance(case, bytes) else case.encode("utf-8", "surrogatepass"))
        t0 = time.perf_counter()
        crash: tuple[str, str] | None = None
        signal.alarm(10)
        try:
            try:
                load_config(path)
                counts["ok"] += 1
            except UserError as err:
                counts["user_error"] += 1
                problem = _check_error(err, str(path))
                file_level = err.message.startswith(("file is", "cannot read"))
                if problem is None and isinstance(err, ConfigError) and not (err.path or err.line or file_level):
                    problem = f"no YAML path or line in {err.one_line()!r}"
                if problem:
                    failures.append(f"case {i}: {problem}")
            except BaseException as exc:  # the point is to catch everything
                crash = (type(exc).__name__, str(exc)[:200])  # reported below, once the failed work is freed
            finally:
                signal.alarm(0)
        except TimeoutError as exc:  # fired while an error was being handled
            crash = ("TimeoutError", str(exc))
        if crash is not None:
            failures.append(f"case {i}: {crash[0]}: {crash[1]!r} <- {str(case)[:120]!r}")
        slowest = max(slowest, time.perf_counter() - t0)
        path.unlink()
    rss_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    return {"n": len(cases), **counts, "failures": failures, "slowest_s": slowest, "rss_growth_mb": rss_mb}


def _child(workdir: str) -> None:
    """Child-process entry: cap the address space 1 GB above its current size, run, print JSON."""
    import resource

    import engine.config  # noqa: F401 - imported before the cap: its size is not growth
    import strategies  # noqa: F401

    with open("/proc/self/statm") as f:
        vm_bytes = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (vm_bytes + 2**30, resource.RLIM_INFINITY))
    cases = [*generate(), *hypothesis_cases()]
    print(json.dumps(run_battery(cases, Path(workdir))))


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc to cap the child's memory")
def test_fuzzed_configs_load_or_fail_with_one_line(tmp_path: Path) -> None:
    code = f"from tests.test_config_fuzz import _child; _child({str(tmp_path)!r})"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["n"] >= 2_000
    assert report["failures"] == [], "\n".join(report["failures"][:40])
    assert report["rss_growth_mb"] < 1024
    assert report["ok"] > 0 and report["user_error"] > 0  # the battery exercises both outcomes


# ---- through the CLI -------------------------------------------------------------------------------------------

CLI_VALUES = {  # hostile values, and values at the caps (which must run)
    "name": ["seesaw.duckdb.wal", ".hidden", '"\\e[31mred"', "SEESAW.DUCKDB", "x.lock"],
    "initial_cash": ["1.0e+308", "0.5", "1" * 5000, "1.0e+12"],
    "execution.lag": ["100000", "1000000000000000000", "251", "250"],
    "data.end": ["9999-12-31", "2100-12-31"],
    "data.start": ["1900-01-01", "1959-12-31"],
    "data.fx_band": ["[1, 2]", "[7.8, 7.81]", "[0.001, 100]"],
    "signals.corr.window": ["9223372036854775808", "1000000", "10001", "5000", "10000"],
    "assets.us.symbol": ["../../x", "a/b", '"^GS\\nPC"'],
    "costs.fee_bps": ["1.0e+6", "10001"],
}
CLI_DOCS = [
    "[a]: 1\n",
    "{a: 1}: 2\n",
    "a: " + "[" * 600 + "]" * 600 + "\n",
    "name: !!float abc\n",
    "name: !!python/object:os.system ls\n",
    "name: !foo bar\n",
    _billion_laughs(9, 9),
    "name: " + "1" * 5000 + "\n",
]


def _cli_cases() -> list[tuple[str, str]]:
    base = _shipped_doc(ROOT / "configs/corr_breakdown.yaml")
    base["data"]["start"] = "2015-01-02"
    out = [(f"doc{i}", text) for i, text in enumerate(CLI_DOCS)]
    for dotted, values in CLI_VALUES.items():
        for value in values:
            doc = json.loads(json.dumps(base, default=str))
            node = doc
            parts = dotted.split(".")
            for part in parts[:-1]:
                node = node[part]
            node[parts[-1]] = "zzvaluezz"
            out.append((f"{dotted}={value[:20]}", yaml.safe_dump(doc, sort_keys=False).replace("zzvaluezz", value)))
    sweep = {**base, "params": {"corr_cut": 0.2}}
    sweep["rules"] = [{"when": "corr < corr_cut", "weights": {"us": 1.0}}, {"otherwise": {"hk": 1.0}}]
    for spec in (
        {"corr_cut": [0.1], "params.corr_cut": [0.3]},
        {"signals.corr.window": {"start": 2, "stop": 2_000_000, "step": 1}},
        {"execution.lag": [1, 100000]},
        {"signals.corr.window": [5, 10**19]},
    ):
        out.append((f"sweep={list(spec)}", yaml.safe_dump({**sweep, "sweep": spec}, sort_keys=False)))
    return out


_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")


def _in_process(*args: str) -> tuple[int, str]:
    """Run the CLI in this process (typer's CliRunner): (exit code, stderr); a traceback text for an exception."""
    from typer.testing import CliRunner

    from engine.cli import app

    result = CliRunner().invoke(app, list(args), env={**dict.fromkeys(_RICH_ENV), "NO_COLOR": "1"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return 1, "Traceback: " + "".join(traceback.format_exception(result.exception))
    return result.exit_code, result.stderr


def _seesaw(*args: str, cwd: Path) -> tuple[int, str]:
    """Run the CLI in a child process: (exit code, stderr)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "engine", *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )
    return proc.returncode, proc.stderr


def _problem(label: str, outcome: tuple[int, str], file: Path) -> str | None:
    code, stderr = outcome
    if code not in (0, 2) or "Traceback" in stderr:
        return f"{label}: exit {code}: {stderr[-1500:]}"
    if code == 2 and (len(stderr.strip().splitlines()) != 1 or str(file) not in stderr):
        return f"{label}: not one line naming the file: {stderr!r}"
    return None


def _write_cli_cases(tmp_path: Path) -> tuple[list[tuple[str, str]], list[Path]]:
    cases = _cli_cases()
    files = []
    for i, (_, text) in enumerate(cases):
        files.append(tmp_path / f"c{i}.yaml")
        files[-1].write_text(text, encoding="utf-8")
    return cases, files


def test_hostile_configs_through_the_cli(tmp_path: Path) -> None:
    """``seesaw validate`` on every case; ``seesaw run --source synthetic`` on those it accepts and a few it
    refuses (in this process, through typer).  Exit 0 or 2, never a traceback; an error is one line naming
    the file."""
    cases, files = _write_cli_cases(tmp_path)
    checked = [_in_process("validate", str(f)) for f in files]
    to_run = [i for i, (code, _) in enumerate(checked) if code == 0] + [0, 8, 13, 20]
    results = str(tmp_path / "results")
    ran = [_in_process("run", str(files[i]), "--source", "synthetic", "--results-dir", results) for i in to_run]
    problems = [_problem(f"validate {label}", out, f) for (label, _), out, f in zip(cases, checked, files, strict=True)]
    problems += [_problem(f"run {cases[i][0]}", out, files[i]) for i, out in zip(to_run, ran, strict=True)]
    assert [p for p in problems if p] == []
    assert len(to_run) > 8  # the values at the caps are accepted, and run


def test_hostile_configs_through_the_command(tmp_path: Path) -> None:
    """A few of the same cases through real ``seesaw`` processes (each costs seconds of imports)."""
    cases, files = _write_cli_cases(tmp_path)
    labels = [label for label, _ in cases]
    picks = [labels.index("doc2"), labels.index("doc6"), labels.index("name=seesaw.duckdb.wal")]
    problems = [_problem(labels[i], _seesaw("validate", str(files[i]), cwd=tmp_path), files[i]) for i in picks]
    i = labels.index("data.end=2100-12-31")
    run = _seesaw("run", str(files[i]), "--source", "synthetic", "--results-dir", str(tmp_path / "r"), cwd=tmp_path)
    problems.append(_problem(labels[i], run, files[i]))
    assert [p for p in problems if p] == []
    assert run[0] == 0
