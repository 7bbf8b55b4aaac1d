"""Screenshots of saved guide pages in headless Chromium: ``python -m`` this module JOBS.json.

JOBS.json is a list of ``[html_path, png_path]``. Each saved page is opened from its file (the
bytes whose hash is recorded, decoded by Chromium by its own ``<meta charset>``), with every
network request refused, so the screenshot shows exactly the evidence and asks the portal for
nothing more. Debian's chromium (``/usr/bin/chromium``, or ``GOVWATCH_CHROMIUM``) is used, as in
the browser tests. Run by :func:`govwatch.guides.crawl.evidence.take_screenshots` in a child
process: the crawler never imports playwright.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import orjson
from playwright.sync_api import Route, sync_playwright

CHROMIUM = os.environ.get("GOVWATCH_CHROMIUM", "/usr/bin/chromium")
WIDTH = 1280


def _refuse(route: Route) -> None:
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        route.abort()


def main(argv: list[str]) -> int:
    jobs = orjson.loads(Path(argv[0]).read_bytes())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.route("**/*", _refuse)
        for html, png in jobs:
            page.goto(Path(html).resolve().as_uri(), wait_until="load")
            tmp = Path(png).with_suffix(".tmp.png")
            page.screenshot(path=str(tmp), full_page=True)
            tmp.replace(png)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
