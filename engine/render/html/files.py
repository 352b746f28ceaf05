"""Writing reports: the report package's only I/O (called by :mod:`engine.jobs.run`).

* The HTML page is written to a hidden temporary file next to the output and renamed over
  it, so the output is either the whole new page or untouched.
* ``--png DIR``: each figure becomes ``DIR/<name>.png``, rendered by kaleido driving a
  Chromium found by :func:`find_chromium` (``$CHROMIUM``, else ``/usr/bin/chromium``, else
  ``chromium`` on ``PATH``), offline (no MathJax; plotly.js comes from the plotly package).
  Images are rendered into a hidden staging directory first; only when every image and the
  page exist are they renamed into place.

Every failure is a :class:`~engine.errors.StoreError` naming the file: one line, exit 2.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import StoreError
from engine.output_paths import check_html_file, check_png_dir
from engine.render.html.page import SYNTHETIC_BANNER, Report, legend_height
from engine.store.rundir import write_atomic

__all__ = ["IMAGE_SIZE", "find_chromium", "report_target", "write_report"]

#: Width and height in CSS pixels of every ``--png`` image.
IMAGE_SIZE = (1200, 650)
#: Tries at drawing a report's images.  kaleido reloads its page between images, and on a loaded machine
#: an image was once asked for before the page had defined its drawing script (``ReferenceError:
#: kaleido_scopes is not defined``), and drawing them again succeeded.  A browser that cannot draw fails twice.
RENDER_ATTEMPTS = 2


def find_chromium(env: Mapping[str, str]) -> str | None:
    """The Chromium to drive: ``CHROMIUM`` from ``env`` when set, else ``/usr/bin/chromium``, else ``chromium``
    on PATH; None when there is none (or ``CHROMIUM`` names no executable: a wrong override is not second-guessed).
    """
    candidates = [env["CHROMIUM"]] if env.get("CHROMIUM") else ["/usr/bin/chromium", shutil.which("chromium")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def report_target(output: Path, png_dir: Path | None, env: Mapping[str, str]) -> str | None:
    """Check, before any work, that the report can be written; return the Chromium for ``--png`` (None without).

    Refused: an output that is a directory or whose directory is missing, a file of the results store or of a
    stored run or sweep (written over, the run would be damaged: :func:`engine.output_paths.check_output`);
    ``--png`` naming the output itself, or without Chromium.
    """
    if png_dir is not None and png_dir.resolve() == output.resolve():
        raise StoreError(
            "--png names the report's own file; give the charts a directory of their own", file=str(output)
        )
    check_html_file(output)
    if png_dir is None:
        return None
    check_png_dir(png_dir)
    browser = find_chromium(env)
    if browser is None:
        why = (
            f"CHROMIUM={env['CHROMIUM']} is not an executable"
            if env.get("CHROMIUM")
            else "install Debian's chromium (apt-get install chromium), or set CHROMIUM to its path"
        )
        raise StoreError(f"--png needs Chromium: {why}", file=str(png_dir))
    return browser


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (:func:`engine.store.rundir.write_atomic`)."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))


def _labelled(fig: Any) -> Any:
    """A copy of the plotly figure ``fig`` with the synthetic-data label across its top right corner, in the
    banner's red: above the panels' titles of a figure of several (annotations at the top of the plots)."""
    import plotly.graph_objects as go

    out = go.Figure(fig)
    titled = any(a.yref == "paper" and (a.y or 0) >= 1.0 for a in out.layout.annotations)
    out.add_annotation(
        text=f"<b>{SYNTHETIC_BANNER}</b>", xref="paper", yref="paper", x=1.0, y=1.0, xanchor="right",
        yanchor="bottom", yshift=24 if titled else 0, showarrow=False, font={"color": "#b00020", "size": 12},
    )  # fmt: skip
    return out


def _render_images(report: Report, staging: Path, browser: str) -> list[tuple[Path, str]]:
    """Each figure as ``staging/<name>.png``; returns (staged file, final name) pairs."""
    import kaleido

    width, height = IMAGE_SIZE
    synthetic = 'id="synthetic-banner"' in report.html  # an image leaves the page: it carries the label itself
    jobs = [
        {
            "fig": _labelled(fig) if synthetic else fig,
            "path": staging / f"{name}.png",
            "opts": {"format": "png", "width": width, "height": max(height, legend_height(fig))},
        }
        for name, fig in report.figures.items()
    ]
    for attempt in range(RENDER_ATTEMPTS):
        try:
            kaleido.write_fig_from_object_sync(jobs, kopts={"path": browser, "mathjax": False}, cancel_on_error=True)
            break
        except Exception as exc:  # kaleido/choreographer raise many types: a broken browser is the user's to fix
            if attempt + 1 < RENDER_ATTEMPTS:
                continue  # every image is drawn again, into the same staged files
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise StoreError(
                f"Chromium ({browser}) could not render the images: {type(exc).__name__} {first}".rstrip(),
                file=str(staging.parent),
            ) from None
    out = []
    for job in jobs:
        staged = Path(job["path"])
        if not staged.is_file():
            raise StoreError(f"kaleido wrote no {staged.name}", file=str(staging.parent))
        out.append((staged, staged.name))
    return out


def write_report(
    report: Report, output: Path, *, png_dir: Path | None = None, browser: str | None = None
) -> list[Path]:
    """Write the page to ``output`` and, with ``png_dir``, each figure as a PNG; return the files written.

    ``browser``: the Chromium executable for the images (:func:`report_target`), required with ``png_dir``.
    """
    staging: Path | None = None
    try:
        staged: list[tuple[Path, str]] = []
        if png_dir is not None:
            if browser is None:
                raise ValueError("write_report: png_dir needs a browser (see report_target)")
            try:
                png_dir.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=".png-", dir=png_dir))
            except OSError as exc:
                raise StoreError(f"cannot create the directory: {exc.strerror or exc}", file=str(png_dir)) from None
            staged = _render_images(report, staging, browser)
        try:
            _write_atomic(output, report.html)
        except OSError as exc:
            raise StoreError(f"cannot write the report: {exc.strerror or exc}", file=str(output)) from None
        written = [output]
        for path, name in staged:
            assert png_dir is not None
            os.replace(path, png_dir / name)
            written.append(png_dir / name)
        return written
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
