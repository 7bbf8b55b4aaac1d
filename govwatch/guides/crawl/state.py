"""The crawl's memory in OUT/state.sqlite: runs, robots.txt, pages fetched, links checked.

A run that was killed is resumed by the next crawl into the same OUT directory: what that run
already fetched (robots.txt, list and guide pages, download checks) is read from here and not
requested again. A run that finished is followed by a new run, which asks for every page again
but conditionally, with the validators (ETag, Last-Modified) the latest earlier fetch of the
page received; a 304 answer reuses that fetch's saved HTML. Each row is committed as soon as
its page is saved (SQLite in WAL mode: a killed process loses at most the fetches in flight).

SQLite rather than the project's DuckDB/PostgreSQL: this is a private file of one crawl, written
by one process a row at a time, and the standard library's sqlite3 survives a SIGKILL cleanly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from govwatch.guides.crawl.fetch import Robots

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  run_id INTEGER PRIMARY KEY,
  portal TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS robots (
  run_id INTEGER NOT NULL,
  origin TEXT NOT NULL,
  status INTEGER,
  body TEXT NOT NULL,
  PRIMARY KEY (run_id, origin)
);
CREATE TABLE IF NOT EXISTS pages (
  run_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  kind TEXT NOT NULL,
  status INTEGER,
  final_url TEXT,
  redirects TEXT NOT NULL,
  fetched_at TEXT NOT NULL,
  not_modified INTEGER NOT NULL,
  sha256 TEXT,
  path TEXT,
  content_type TEXT,
  encoding TEXT,
  etag TEXT,
  last_modified TEXT,
  error TEXT,
  robots_blocked INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  screenshot TEXT,
  found TEXT,
  PRIMARY KEY (run_id, url)
);
CREATE TABLE IF NOT EXISTS links (
  run_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  status INTEGER,
  final_url TEXT,
  redirects TEXT NOT NULL,
  method TEXT NOT NULL,
  content_type TEXT,
  size INTEGER,
  error TEXT,
  robots_blocked INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  checked_at TEXT NOT NULL,
  PRIMARY KEY (run_id, url)
);
"""

PAGE_COLUMNS = (
    "url", "kind", "status", "final_url", "redirects", "fetched_at", "not_modified", "sha256",
    "path", "content_type", "encoding", "etag", "last_modified", "error", "robots_blocked",
    "requests", "screenshot", "found",
)  # fmt: skip
LINK_COLUMNS = (
    "url", "status", "final_url", "redirects", "method", "content_type", "size", "error",
    "robots_blocked", "requests", "checked_at",
)  # fmt: skip


@dataclass(frozen=True)
class PageRow:
    """One page fetched in a run. ``found`` is what the page gave: for a list page
    ``{"items": [...], "next": [...]}``, for a guide page ``{"record": {...}, "downloads":
    [...]}``; ``path`` is its saved HTML, relative to OUT."""

    url: str
    kind: str
    status: int | None
    final_url: str | None
    redirects: tuple[str, ...]
    fetched_at: str
    not_modified: bool
    sha256: str | None
    path: str | None
    content_type: str | None
    encoding: str | None
    etag: str | None
    last_modified: str | None
    error: str | None
    robots_blocked: bool
    requests: int
    screenshot: str | None
    found: Mapping[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url, "kind": self.kind, "status": self.status,
            "final_url": self.final_url, "redirects": list(self.redirects),
            "fetched_at": self.fetched_at, "not_modified": self.not_modified,
            "sha256": self.sha256, "path": self.path, "content_type": self.content_type,
            "encoding": self.encoding, "etag": self.etag, "last_modified": self.last_modified,
            "error": self.error, "robots_blocked": self.robots_blocked,
            "requests": self.requests, "screenshot": self.screenshot,
        }  # fmt: skip


@dataclass(frozen=True)
class LinkRow:
    """One download link checked in a run."""

    url: str
    status: int | None
    final_url: str | None
    redirects: tuple[str, ...]
    method: str
    content_type: str | None
    size: int | None
    error: str | None
    robots_blocked: bool
    requests: int
    checked_at: str

    @property
    def broken(self) -> bool:
        """No usable answer, or an error status (robots-blocked links are not checked)."""
        if self.robots_blocked:
            return False
        return self.error is not None or self.status is None or self.status >= 400


@dataclass(frozen=True)
class Validators:
    """What an earlier run received for a page: sent back as conditions, reused on a 304."""

    etag: str | None
    last_modified: str | None
    sha256: str
    path: str
    encoding: str | None
    content_type: str | None


def _page(row: sqlite3.Row) -> PageRow:
    return PageRow(
        url=row["url"], kind=row["kind"], status=row["status"], final_url=row["final_url"],
        redirects=tuple(orjson.loads(row["redirects"])), fetched_at=row["fetched_at"],
        not_modified=bool(row["not_modified"]), sha256=row["sha256"], path=row["path"],
        content_type=row["content_type"], encoding=row["encoding"], etag=row["etag"],
        last_modified=row["last_modified"], error=row["error"],
        robots_blocked=bool(row["robots_blocked"]), requests=row["requests"],
        screenshot=row["screenshot"],
        found=None if row["found"] is None else orjson.loads(row["found"]),
    )  # fmt: skip


def _link(row: sqlite3.Row) -> LinkRow:
    return LinkRow(
        url=row["url"], status=row["status"], final_url=row["final_url"],
        redirects=tuple(orjson.loads(row["redirects"])), method=row["method"],
        content_type=row["content_type"], size=row["size"], error=row["error"],
        robots_blocked=bool(row["robots_blocked"]), requests=row["requests"],
        checked_at=row["checked_at"],
    )  # fmt: skip


class CrawlState:
    """OUT/state.sqlite (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def begin_run(self, portal: str, started_at: str) -> tuple[int, bool]:
        """``(run_id, resumed)``: the unfinished run of this portal, or a new one."""
        last = self._db.execute(
            "SELECT run_id, portal, finished_at FROM runs ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        if last is not None and last["finished_at"] is None and last["portal"] == portal:
            return int(last["run_id"]), True
        cur = self._db.execute(
            "INSERT INTO runs (portal, started_at) VALUES (?, ?)", (portal, started_at)
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid), False

    def finish_run(self, run_id: int, finished_at: str) -> None:
        self._db.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (finished_at, run_id))

    def robots(self, run_id: int) -> dict[str, Robots]:
        rows = self._db.execute(
            "SELECT origin, status, body FROM robots WHERE run_id = ?", (run_id,)
        ).fetchall()
        return {r["origin"]: Robots(r["status"], r["body"]) for r in rows}

    def save_robots(self, run_id: int, origin: str, robots: Robots) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO robots (run_id, origin, status, body) VALUES (?, ?, ?, ?)",
            (run_id, origin, robots.status, robots.text),
        )

    def page(self, run_id: int, url: str) -> PageRow | None:
        row = self._db.execute(
            "SELECT * FROM pages WHERE run_id = ? AND url = ?", (run_id, url)
        ).fetchone()
        return None if row is None else _page(row)

    def pages(self, run_id: int) -> Iterator[PageRow]:
        for row in self._db.execute(
            "SELECT * FROM pages WHERE run_id = ? ORDER BY rowid", (run_id,)
        ).fetchall():
            yield _page(row)

    def save_page(self, run_id: int, page: PageRow) -> None:
        values = (
            run_id, page.url, page.kind, page.status, page.final_url,
            orjson.dumps(list(page.redirects)).decode(), page.fetched_at, int(page.not_modified),
            page.sha256, page.path, page.content_type, page.encoding, page.etag,
            page.last_modified, page.error, int(page.robots_blocked), page.requests,
            page.screenshot, None if page.found is None else orjson.dumps(page.found).decode(),
        )  # fmt: skip
        marks = ", ".join("?" * len(values))
        self._db.execute(
            f"INSERT OR REPLACE INTO pages (run_id, {', '.join(PAGE_COLUMNS)}) VALUES ({marks})",
            values,
        )

    def validators(self, run_id: int, url: str) -> Validators | None:
        """The latest earlier run's saved copy of ``url`` and the validators it came with."""
        row = self._db.execute(
            "SELECT etag, last_modified, sha256, path, encoding, content_type FROM pages "
            "WHERE url = ? AND run_id < ? AND sha256 IS NOT NULL AND status IN (200, 304) "
            "ORDER BY run_id DESC LIMIT 1",
            (url, run_id),
        ).fetchone()
        if row is None or (row["etag"] is None and row["last_modified"] is None):
            return None
        return Validators(
            row["etag"], row["last_modified"], row["sha256"], row["path"], row["encoding"],
            row["content_type"],
        )  # fmt: skip

    def link(self, run_id: int, url: str) -> LinkRow | None:
        row = self._db.execute(
            "SELECT * FROM links WHERE run_id = ? AND url = ?", (run_id, url)
        ).fetchone()
        return None if row is None else _link(row)

    def links(self, run_id: int) -> dict[str, LinkRow]:
        rows = self._db.execute(
            "SELECT * FROM links WHERE run_id = ? ORDER BY rowid", (run_id,)
        ).fetchall()
        return {r["url"]: _link(r) for r in rows}

    def save_link(self, run_id: int, link: LinkRow) -> None:
        values = (
            run_id, link.url, link.status, link.final_url,
            orjson.dumps(list(link.redirects)).decode(), link.method, link.content_type,
            link.size, link.error, int(link.robots_blocked), link.requests, link.checked_at,
        )  # fmt: skip
        marks = ", ".join("?" * len(values))
        self._db.execute(
            f"INSERT OR REPLACE INTO links (run_id, {', '.join(LINK_COLUMNS)}) VALUES ({marks})",
            values,
        )
