"""One crawl of a portal: the item list, the guide pages, the download checks, then the output.

:func:`crawl` runs in three stages on one event loop, every request through one
:class:`~govwatch.guides.crawl.fetch.Fetcher` (robots.txt, rate, retries):

1. **list**: from the start page(s), follow ``next_page`` links (at most ``max_pages``),
   collecting the guide links in the order the portal lists them;
2. **guides**: fetch each guide page (``concurrency`` at a time), save it as evidence and read
   the catalog fields and guide elements from it with the portal's selectors;
3. **links**: check every form and sample download link the guides name, once per URL.

Every page and link is recorded in OUT/state.sqlite as soon as it is done
(:mod:`govwatch.guides.crawl.state`): a killed crawl, run again, resumes where it stopped, and a
finished one, run again, asks conditionally. The outputs (:mod:`govwatch.guides.crawl.output`)
are written at the end of every run from the state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import httpx

from govwatch.errors import InputError
from govwatch.guides.crawl import charset
from govwatch.guides.crawl.config import PortalConfig
from govwatch.guides.crawl.evidence import read_page, save_page, stamp, take_screenshots
from govwatch.guides.crawl.fetch import Fetched, Fetcher
from govwatch.guides.crawl.output import LINK_KINDS, CatalogMerge, Written, write_outputs
from govwatch.guides.crawl.selectors import MISSING, extract, extract_fields, matches, parse_html
from govwatch.guides.crawl.state import CrawlState, LinkRow, PageRow, Validators

# (stage, done, total): stage is "list", "guides" or "links"; total None while unknown
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class CrawlSummary:
    """What one invocation did. ``requests``: HTTP requests it sent (robots.txt, pages,
    redirect hops, retries, download checks); the other counts describe the whole run, a
    resumed one included."""

    out_dir: Path
    run_id: int
    resumed: bool
    requests: int
    list_pages: int
    guide_pages: int
    not_modified: int
    failed_pages: int
    items: int
    links: int
    broken_links: int
    robots_skipped: int
    seconds: float
    written: Written


def _nothing(_stage: str, _done: int, _total: int | None) -> None:
    return None


def _clean(url: str) -> str:
    return urldefrag(url)[0]


def _base_of(doc: Any, page_url: str) -> str:
    base = doc.find(".//base[@href]")
    return urljoin(page_url, base.get("href")) if base is not None else page_url


class _Run:
    def __init__(
        self,
        config: PortalConfig,
        out: Path,
        state: CrawlState,
        run_id: int,
        fetcher: Fetcher,
        progress: Progress,
    ) -> None:
        self.config, self.out, self.state, self.run_id = config, out, state, run_id
        self.fetcher, self.progress = fetcher, progress

    # -- pages --------------------------------------------------------------------------
    async def page(self, url: str, kind: str) -> PageRow:
        """The page as this run has it: from the state, or fetched now and recorded."""
        known = self.state.page(self.run_id, url)
        if known is not None:
            return known
        earlier = self.state.validators(self.run_id, url)
        got = await self.fetcher.get(
            url,
            etag=earlier.etag if earlier else None,
            last_modified=earlier.last_modified if earlier else None,
        )
        row = self._row(url, kind, got, earlier)
        self.state.save_page(self.run_id, row)
        return row

    def _row(self, url: str, kind: str, got: Fetched, earlier: Validators | None) -> PageRow:
        fetched_at = stamp()
        body: bytes | None = None
        sha = path = None
        content_type = got.content_type
        etag, modified = got.headers.get("etag"), got.headers.get("last-modified")
        if got.not_modified and earlier is not None:
            sha, path = earlier.sha256, earlier.path
            body = read_page(self.out, path, sha)
            content_type = earlier.content_type
            etag, modified = etag or earlier.etag, modified or earlier.last_modified
        elif got.ok:
            body = got.body
            sha, path = save_page(self.out, body)
        encoding = found = None
        if body is not None:
            text, encoding = charset.decode(body, content_type, self.config.encoding)
            doc = parse_html(text)
            base = _base_of(doc, got.final_url)
            found = self._list_found(doc, base) if kind == "list" else self._guide_found(doc, base)
        error = got.error
        if error is None and body is None:
            error = f"HTTP {got.status}" if got.status is not None else "无应答"
        return PageRow(
            url=url, kind=kind, status=got.status, final_url=got.final_url,
            redirects=got.redirects, fetched_at=fetched_at, not_modified=got.not_modified,
            sha256=sha, path=path, content_type=content_type, encoding=encoding, etag=etag,
            last_modified=modified, error=error, robots_blocked=got.robots_blocked,
            requests=got.requests, screenshot=None, found=found,
        )  # fmt: skip

    def _list_found(self, doc: Any, base: str) -> dict[str, Any]:
        listing = self.config.list
        items = extract(listing.item_link, doc, base)
        nexts = [] if listing.next_page is None else extract(listing.next_page, doc, base)
        return {"items": _urls(items, base), "next": _urls(nexts, base)}

    def _guide_found(self, doc: Any, base: str) -> dict[str, Any]:
        record = dict(self.config.defaults)
        record.update(extract_fields(self.config.record, doc, base))
        guide = extract_fields(self.config.guide, doc, base)
        return {"record": record, "guide": guide, "downloads": self._downloads(doc, base, guide)}

    def _downloads(self, doc: Any, base: str, guide: dict[str, Any]) -> list[dict[str, str]]:
        """The links to check: each material's blank form and sample (``form``, ``sample``),
        then any other link the ``downloads`` selectors find; each address once."""
        found: dict[str, dict[str, str]] = {}
        materials = guide.get("materials")
        for entry in materials if isinstance(materials, list) else []:
            for kind in LINK_KINDS:
                url = entry.get(kind) if isinstance(entry, dict) else None
                if isinstance(url, str) and url.startswith(("http://", "https://")):
                    url = _clean(url)
                    found.setdefault(url, {"url": url, "name": str(entry.get("name", "")),
                                           "kind": kind})  # fmt: skip
        for selector in self.config.downloads:
            for anchor in matches(selector, doc):
                is_element = hasattr(anchor, "get")
                href = anchor.get(selector.attr or "href") if is_element else anchor
                if not href or not str(href).strip():
                    continue
                url = _clean(urljoin(base, str(href).strip()))
                if not url.startswith(("http://", "https://")):
                    continue
                name = " ".join(anchor.text_content().split()) if is_element else ""
                found.setdefault(url, {"url": url, "name": name, "kind": "download"})
        return list(found.values())

    # -- stages -------------------------------------------------------------------------
    async def listing(self) -> list[str]:
        """Guide page URLs in the portal's order (duplicates once)."""
        queue = list(self.config.start_urls)
        seen: set[str] = set()
        items: dict[str, None] = {}
        done = 0
        while queue and done < self.config.list.max_pages:
            url = _clean(queue.pop(0))
            if url in seen:
                continue
            seen.add(url)
            row = await self.page(url, "list")
            done += 1
            self.progress("list", done, None)
            if row.found:
                items.update(dict.fromkeys(row.found["items"]))
                queue.extend(row.found["next"])
        return list(items)

    async def guides(self, urls: list[str]) -> None:
        pending = iter(urls)
        done = 0
        self.progress("guides", 0, len(urls))

        async def worker() -> None:
            nonlocal done
            for url in pending:
                await self.page(url, "guide")
                done += 1
                self.progress("guides", done, len(urls))

        await asyncio.gather(*(worker() for _ in range(self.config.concurrency)))

    async def links(self, urls: list[str]) -> None:
        known = self.state.links(self.run_id)
        todo = [u for u in urls if u not in known]
        done = len(urls) - len(todo)
        pending = iter(todo)
        self.progress("links", done, len(urls))

        async def worker() -> None:
            nonlocal done
            for url in pending:
                got = await self.fetcher.probe(url)
                self.state.save_link(
                    self.run_id,
                    LinkRow(
                        url=url, status=got.status, final_url=got.final_url,
                        redirects=got.redirects, method=got.method,
                        content_type=got.content_type, size=got.size, error=got.error,
                        robots_blocked=got.robots_blocked, requests=got.requests,
                        checked_at=stamp(),
                    ),
                )  # fmt: skip
                done += 1
                self.progress("links", done, len(urls))

        await asyncio.gather(*(worker() for _ in range(self.config.concurrency)))


def _urls(values: Any, base: str) -> list[str]:
    if values is MISSING or values is None:
        return []
    items: Iterable[Any] = values if isinstance(values, list) else [values]
    return [_clean(urljoin(base, str(v))) for v in items if isinstance(v, str) and v.strip()]


async def _run(
    config: PortalConfig,
    out: Path,
    state: CrawlState,
    run_id: int,
    progress: Progress,
    transport: httpx.AsyncBaseTransport | None,
) -> tuple[list[str], int]:
    async with Fetcher(
        config,
        robots=state.robots(run_id),
        on_robots=lambda origin, robots: state.save_robots(run_id, origin, robots),
        transport=transport,
    ) as fetcher:
        run = _Run(config, out, state, run_id, fetcher, progress)
        urls = await run.listing()
        await run.guides(urls)
        downloads: dict[str, None] = {}
        for url in urls:
            row = state.page(run_id, url)
            if row is not None and row.found:
                downloads.update(dict.fromkeys(d["url"] for d in row.found["downloads"]))
        await run.links(list(downloads))
        return urls, fetcher.requests


def crawl(
    config: PortalConfig,
    out_dir: Path | str,
    *,
    merge: CatalogMerge | None = None,
    progress: Progress = _nothing,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CrawlSummary:
    """Crawl the portal into ``out_dir`` (resuming an unfinished run there); see the module.

    ``transport`` replaces httpx's own (a benchmark counts the requests as they leave)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"无法创建输出目录 {out}：{exc.strerror}；请换一个可写的目录") from exc
    started = time.perf_counter()
    state = CrawlState(out / "state.sqlite")
    try:
        portal_key = "\n".join((config.base_url, *config.start_urls))
        run_id, resumed = state.begin_run(portal_key, stamp())
        urls, requests = asyncio.run(_run(config, out, state, run_id, progress, transport))
        if config.screenshot:
            guides = [state.page(run_id, u) for u in urls]
            saved = [(g.sha256, g.path) for g in guides if g and g.sha256 and g.path]
            shots = take_screenshots(out, saved)
            for row in guides:
                if row is not None and row.sha256 in shots:
                    state.save_page(run_id, replace(row, screenshot=shots[row.sha256]))
        written = write_outputs(out, state, run_id, urls, config, merge)
        state.finish_run(run_id, stamp())
    finally:
        state.close()
    return CrawlSummary(
        out_dir=out, run_id=run_id, resumed=resumed, requests=requests,
        list_pages=written.list_pages, guide_pages=written.guide_pages,
        not_modified=written.not_modified, failed_pages=written.failed_pages,
        items=written.items, links=written.links, broken_links=written.broken_links,
        robots_skipped=written.robots_skipped, seconds=time.perf_counter() - started,
        written=written,
    )  # fmt: skip
