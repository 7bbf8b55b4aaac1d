"""Evidence of what a portal published: each page's bytes as received, named by their SHA-256.

``OUT/evidence/pages/<sha256>.html`` holds the body exactly as the server sent it (in its own
encoding), so that anyone can recompute the hash and compare it with the index
(``OUT/evidence/pages.jsonl``: URL, final URL after redirects, status, fetch time, hash, path,
validators). Files are written to a temporary name and renamed, so a killed crawl never
leaves a half page under a hash. Screenshots (optional, ``screenshot: true`` or
``--screenshot``) are taken by :mod:`govwatch.guides.crawl.screenshot` in a separate process
from the saved files, as ``OUT/evidence/screenshots/<sha256>.png``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson

from govwatch.errors import InputError
from govwatch.timeutil import wall_clock

PAGES_DIR = "evidence/pages"
SHOTS_DIR = "evidence/screenshots"
SCREENSHOT_TIMEOUT_S = 600


def stamp() -> str:
    """The moment of a fetch, Beijing time, as evidence shows it: ``2026-06-30 22:00:05``."""
    return wall_clock().strftime("%Y-%m-%d %H:%M:%S")


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_page(out: Path, body: bytes) -> tuple[str, str]:
    """Save a page's bytes; ``(sha256, path relative to out)``."""
    digest = hashlib.sha256(body).hexdigest()
    rel = f"{PAGES_DIR}/{digest}.html"
    target = out / rel
    if not target.exists():
        write_atomic(target, body)
    return digest, rel


def read_page(out: Path, rel: str, sha256: str) -> bytes:
    """A saved page's bytes, checked against its hash (an edited evidence file is refused)."""
    data = (out / rel).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError(f"证据文件 {out / rel} 与记录的 SHA-256 不符：它在保存后被改动过")
    return data


def take_screenshots(out: Path, pages: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Screenshots of saved pages ``(sha256, html path)``; ``{sha256: png path}`` relative to
    out. Chromium runs in a child process (``python -m govwatch.guides.crawl.screenshot``),
    so the crawler itself never loads playwright."""
    wanted = [
        (str(out / html), str(out / SHOTS_DIR / f"{sha}.png"), sha)
        for sha, html in pages
        if not (out / SHOTS_DIR / f"{sha}.png").exists()
    ]
    done = {sha: f"{SHOTS_DIR}/{sha}.png" for sha, _h in pages}
    if not wanted:
        return done
    (out / SHOTS_DIR).mkdir(parents=True, exist_ok=True)
    jobs = out / SHOTS_DIR / "jobs.json"
    jobs.write_bytes(orjson.dumps([[html, png] for html, png, _s in wanted]))
    result = subprocess.run(
        [sys.executable, "-m", "govwatch.guides.crawl.screenshot", str(jobs)],
        capture_output=True,
        text=True,
        timeout=SCREENSHOT_TIMEOUT_S,
        check=False,
    )
    jobs.unlink(missing_ok=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["（无输出）"]
        raise InputError(f"截图失败（Chromium）：{tail[0]}")
    return {sha: rel for sha, rel in done.items() if (out / rel).exists()}
