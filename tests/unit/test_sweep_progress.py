"""The progress bar of ``seesaw sweep`` on a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from engine.cli.sweep import _progress_bar


def test_the_bar_says_what_follows_the_last_chunk() -> None:
    # after the last chunk a million-combination sweep reads 10,000 chunks back and scores 12,870 CSCV
    # splits for minutes: the bar says so instead of sitting at 100%
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200, color_system=None)
    with _progress_bar(console) as progress:
        progress(1, 2, 50, 100)
        progress(2, 2, 100, 100)
    assert "all computed; overfitting statistics" in buffer.getvalue()
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200, color_system=None)
    with _progress_bar(console) as progress:
        progress(1, 2, 50, 100)
    assert "all computed" not in buffer.getvalue()
