"""``--png``: a failed attempt at drawing a report's images is made once more, and a second failure is one
clear error (kaleido is replaced by a stand-in: the real one runs in tests/test_browser.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest

from engine.errors import StoreError
from engine.render.html import files


class _Kaleido:
    """Fails the first ``failures`` calls, then writes every job's file."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.sizes: list[tuple[int, int]] = []

    def write_fig_from_object_sync(self, jobs: list[dict], **_: object) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("JavascriptError ReferenceError: kaleido_scopes is not defined\nmore")
        for job in jobs:
            Path(job["path"]).write_bytes(b"\x89PNG")
            self.sizes.append((job["opts"]["width"], job["opts"]["height"]))


def _render(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failures: int) -> tuple[_Kaleido, object]:
    stand_in = _Kaleido(failures)
    monkeypatch.setitem(sys.modules, "kaleido", stand_in)
    long = go.Figure([go.Scatter(x=[0, 1], y=[i, i], name=f"c{i}") for i in range(30)])
    long.update_layout(legend={"orientation": "v"}, margin={"t": 70, "b": 40})  # 70 + 40 + 30 + 30 x 20 px
    figures = {"equity": go.Figure(), "drawdown": long}
    report = SimpleNamespace(html="<main></main>", figures=figures)
    staging = tmp_path / "staging"
    staging.mkdir()
    try:
        return stand_in, files._render_images(report, staging, "/usr/bin/chromium")  # type: ignore[arg-type]
    except StoreError as exc:
        return stand_in, exc


def test_a_failed_attempt_is_made_once_more(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stand_in, out = _render(monkeypatch, tmp_path, failures=1)
    assert stand_in.calls == 2
    assert [name for _, name in out] == ["equity.png", "drawdown.png"]  # type: ignore[union-attr]
    assert stand_in.sizes == [(1200, 650), (1200, 740)]  # as tall as its column of legend entries


def test_two_failures_are_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stand_in, out = _render(monkeypatch, tmp_path, failures=2)
    assert stand_in.calls == files.RENDER_ATTEMPTS == 2
    assert isinstance(out, StoreError)
    assert "could not render the images: RuntimeError JavascriptError ReferenceError" in str(out)
    assert "more" not in str(out)


def test_the_synthetic_label_of_a_figure_of_several_panels_sits_above_their_titles() -> None:
    """A figure of panels has their titles at the top of the plots (annotations at paper y = 1): the label is
    lifted above them, where a figure of one panel has it at the top of its plot."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    def label(fig: go.Figure) -> object:
        return next(a for a in files._labelled(fig).layout.annotations if "SYNTHETIC" in a.text)

    assert label(go.Figure()).yshift in (None, 0)
    assert label(make_subplots(rows=1, cols=3, subplot_titles=["sharpe", "cagr", "max_drawdown"])).yshift >= 20


def test_the_walk_forward_scatter_has_no_legend_to_meet_its_title() -> None:
    """Its legend sat above the panels' titles in paper units and met the title at a PNG's height: the title says
    what the dashed line is instead."""
    from engine.render.html.walkforward import _is_oos_figure

    fig = _is_oos_figure(
        [("sharpe", "num", [0.5, 1.0], [0.2, 0.8]), ("cagr", "pct", [0.1, 0.2], [0.05, 0.1])],
        [0, 1],
        ["fold 0", "fold 1"],
        title="In sample against out of sample",
    )
    assert all(trace.showlegend is False for trace in fig.data)
    assert fig.layout.title.text == "In sample against out of sample (dashed: out of sample = in sample)"
