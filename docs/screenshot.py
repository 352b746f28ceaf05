"""Screenshot a Seesaw HTML report in headless Chromium, for the README.

    python docs/screenshot.py REPORT.html docs/compare_report.png [--height 1900]

Opens the report from disk with Playwright driving Debian's chromium (``$CHROMIUM``, else
``/usr/bin/chromium``), the same way as ``tests/test_browser.py``, waits until plotly has drawn
every chart, and saves the top ``--height`` pixels of the page at 1280 pixels wide.  Fails if the
browser console shows an error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDTH = 1280  # the narrowest window the reports are laid out for (tests/test_html_layout.py)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--height", type=int, default=1900, help="pixels from the top of the page")
    args = parser.parse_args()

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("error: docs/screenshot.py needs Playwright: pip install -e '.[dev]'", file=sys.stderr)
        return 2

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM") or "/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": args.height})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(args.report.resolve().as_uri())
        page.wait_for_function(
            "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d._fullLayout && d.data)"
        )
        page.screenshot(path=str(args.png), clip={"x": 0, "y": 0, "width": WIDTH, "height": args.height})
        browser.close()
    if errors:
        print("browser console errors:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
