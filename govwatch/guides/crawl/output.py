"""What a crawl leaves in OUT, rewritten from the state at the end of every run.

- ``catalog.jsonl``: the catalog fragment, one item per guide page read, in the portal's order,
  in the item catalog format (spec/data.md §1): the catalog fields the page prints
  (``record`` selectors, ``defaults``), and ``guide`` as the page publishes it. With an
  implementation list (``--catalog``), each item is that list's record with the portal's
  ``guide`` in place of its own, and ``govwatch guides check`` then compares what the portal
  published with the list. An item of the list the portal does not publish gets
  ``"guide": {"published": false}``, but only when the crawl read every list and guide page: a
  page that failed or that robots.txt forbids could be any item's (or list any items), so then
  such items are left out of the fragment (``unread`` in the summary) rather than called
  unpublished.
- ``links.jsonl``: the links report, one line per download link of each guide: status,
  content type, size, redirects, the error when there was no usable answer, ``broken``.
- ``evidence/pages.jsonl``: one line per page of this run (URL, final URL, status, fetch time,
  SHA-256 and path of the saved HTML, validators, screenshot); the files are in
  ``evidence/pages/``.
- ``summary.json``: the counts the command prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import orjson

from govwatch.errors import InputError
from govwatch.formats import read_records
from govwatch.guides.crawl.config import PortalConfig
from govwatch.guides.crawl.evidence import write_atomic
from govwatch.guides.crawl.state import CrawlState, LinkRow, PageRow
from govwatch.items.model import canonical_keys

# the material fields that hold a download link (docs/guides.md, "The guide object")
LINK_KINDS = ("form", "sample")
CATALOG = "catalog.jsonl"
LINKS = "links.jsonl"
EVIDENCE_INDEX = "evidence/pages.jsonl"
SUMMARY = "summary.json"


@dataclass(frozen=True)
class CatalogMerge:
    """An implementation list to merge the portal's guides into (records by item code, in
    the list's order)."""

    records: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Written:
    catalog: Path
    links_report: Path
    evidence_index: Path
    summary: Path
    list_pages: int
    guide_pages: int
    not_modified: int
    failed_pages: int
    items: int
    links: int
    broken_links: int
    robots_skipped: int
    unpublished: int
    unread: int


def link_report(link: LinkRow) -> dict[str, Any]:
    """One link's check as the report (and the guide's download entry) states it."""
    return {
        "status": link.status,
        "content_type": link.content_type,
        "size": link.size,
        "final_url": link.final_url,
        "redirects": list(link.redirects),
        "method": link.method,
        "error": link.error,
        "robots_blocked": link.robots_blocked,
        "broken": link.broken,
        "checked_at": link.checked_at,
    }


def _jsonl(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


def link_entry(url: str, link: LinkRow | None) -> dict[str, Any]:
    """A material's ``form`` or ``sample`` as a crawled guide holds it: the address and what
    its check found (``status`` None and an ``error`` when no answer came: a timeout)."""
    entry: dict[str, Any] = {"url": url}
    if link is None:
        return entry
    entry.update(status=link.status, content_type=link.content_type, size=link.size)
    if link.error is not None:
        entry["error"] = link.error
    if link.robots_blocked:
        entry["robots_blocked"] = True
    return entry


def _record(page: PageRow, links: Mapping[str, LinkRow]) -> dict[str, Any]:
    assert page.found is not None
    record = dict(page.found["record"])
    # the page the guide was read from (after redirects), as the guide object keeps it
    guide = {"published": True, "url": page.final_url or page.url, **page.found["guide"]}
    materials = guide.get("materials")
    if isinstance(materials, list):
        guide["materials"] = [
            {
                **m,
                **{
                    kind: link_entry(m[kind], links.get(urldefrag(m[kind])[0]))
                    for kind in LINK_KINDS
                    if isinstance(m.get(kind), str)
                },
            }
            if isinstance(m, dict)
            else m
            for m in materials
        ]
    record["guide"] = guide
    return record


def write_outputs(
    out: Path,
    state: CrawlState,
    run_id: int,
    urls: Sequence[str],
    config: PortalConfig,
    merge: CatalogMerge | None = None,
) -> Written:
    pages = list(state.pages(run_id))
    links = state.links(run_id)
    by_url = {p.url: p for p in pages}
    records: list[dict[str, Any]] = []
    link_lines: list[dict[str, Any]] = []
    for url in urls:
        page = by_url.get(url)
        if page is None or not page.found:
            continue
        record = _record(page, links)
        code = record.get("item_code")
        if not code:
            continue
        records.append(record)
        for download in page.found["downloads"]:
            link = links.get(download["url"])
            line = {"item_code": code, "page_url": url, "url": download["url"],
                    "name": download["name"], "kind": download["kind"]}  # fmt: skip
            if link is not None:
                line.update(link_report(link))
            link_lines.append(line)
    unpublished = unread = 0
    if merge is not None:
        crawled = {r["item_code"]: r for r in records}
        # every list and guide page of the run read: only then is an item not found unpublished
        whole = bool(pages) and all(p.found for p in pages) and all(u in by_url for u in urls)
        merged: list[dict[str, Any]] = []
        for code, listed in merge.records.items():
            record = dict(listed)
            found = crawled.pop(code, None)
            if found is not None:
                record["guide"] = found["guide"]
            elif whole:
                record["guide"] = {"published": False}
                unpublished += 1
            else:
                unread += 1
                continue
            merged.append(record)
        merged.extend(crawled.values())  # on the portal but not in the list: kept as read
        records = merged
    evidence = [p.as_json() for p in pages]
    list_pages = sum(1 for p in pages if p.kind == "list" and p.sha256 is not None)
    guide_pages = sum(1 for p in pages if p.kind == "guide" and p.sha256 is not None)
    robots_skipped = sum(1 for p in pages if p.robots_blocked) + sum(
        1 for link in links.values() if link.robots_blocked
    )
    written = Written(
        catalog=out / CATALOG,
        links_report=out / LINKS,
        evidence_index=out / EVIDENCE_INDEX,
        summary=out / SUMMARY,
        list_pages=list_pages,
        guide_pages=guide_pages,
        not_modified=sum(1 for p in pages if p.not_modified),
        failed_pages=sum(1 for p in pages if p.sha256 is None and not p.robots_blocked),
        items=len(records),
        links=len(links),
        broken_links=sum(1 for link in links.values() if link.broken),
        robots_skipped=robots_skipped,
        unpublished=unpublished,
        unread=unread,
    )
    write_atomic(written.catalog, _jsonl(records))
    write_atomic(written.links_report, _jsonl(link_lines))
    write_atomic(written.evidence_index, _jsonl(evidence))
    summary = {k: v for k, v in asdict(written).items() if not isinstance(v, Path)}
    summary.update(portal=config.name, base_url=config.base_url, run_id=run_id)
    write_atomic(written.summary, orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    return written


def load_merge(path: Path) -> CatalogMerge:
    """An implementation list file (any catalog format) as a :class:`CatalogMerge`: records
    with canonical field names, by item code, in file order. A record that is not a JSON
    object or has no item code is refused with its line: the list must be whole to be merged."""
    records: dict[str, Mapping[str, Any]] = {}
    for raw in read_records(path):
        where = f"{raw.source} 第 {raw.line} 行"
        try:
            data = orjson.loads(raw.text) if raw.problem is None else None
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise InputError(
                f"实施清单 {where} 不是一个事项记录：{raw.problem or '不是 JSON 对象'}"
            )
        record = canonical_keys(data)
        code = record.get("item_code")
        if not code:
            raise InputError(f"实施清单 {where} 缺少实施编码（item_code）")
        records[str(code)] = record
    return CatalogMerge(records)
