"""Every line of the README's command list runs as written, on the synthetic data, and exits 0.

The lines are read from README.md's ``## Commands`` block: each is split as a shell would split it (a
``# comment`` dropped, ``;`` separating two commands, ``configs/...`` globs expanded, ``> FILE`` taking the
output), ``seesaw`` is the command line in process, and ``RUN_ID`` is the newest stored run's id.  They run
in the order written, in a scratch directory holding a copy of ``configs/``, so that each finds what the
ones before it stored; the data options are the lines' own (a line without ``--source`` would download:
none may need the network).
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")


def readme_commands() -> list[list[str]]:
    """The argument lists of the command block under ``## Commands``, one per command, in order."""
    section = README[README.index("## Commands") :]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None, "README.md: no ```bash block under ## Commands"
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        while words:
            cut = next((i for i, w in enumerate(words) if w.endswith(";")), len(words))
            head, words = words[: cut + 1], words[cut + 1 :]
            head[-1] = head[-1].removesuffix(";")
            commands.append([w for w in head if w])
    return commands


def test_the_block_is_read_whole() -> None:
    commands = readme_commands()
    assert all(c[0] == "seesaw" for c in commands), commands
    assert len(commands) >= 14 and ["seesaw", "runs", "show", "RUN_ID"] in commands


def test_every_readme_command_runs_on_synthetic_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    env = dict.fromkeys(_RICH_ENV) | {"SEESAW_RESULTS_DIR": str(tmp_path / "results"), "COLUMNS": "100"}
    for words in readme_commands():
        output = None
        if ">" in words:
            at = words.index(">")
            words, output = words[:at], words[at + 1]
        args: list[str] = []
        for w in words[1:]:
            if w == "RUN_ID":
                w = sorted((tmp_path / "results").glob("*/2*"), key=os.path.getmtime)[-1].name
            args += sorted(glob.glob(w)) if any(c in w for c in "*?[") else [w]
        assert "yahoo" not in args, words
        result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, (words, result.stdout[-2000:], result.stderr)
        if output is not None:
            Path(output).write_text(result.stdout, encoding="utf-8")
    assert (tmp_path / "report.html").stat().st_size > 100_000
    assert (tmp_path / "seesaw.schema.json").read_text(encoding="utf-8").lstrip().startswith("{")
