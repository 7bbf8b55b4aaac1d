"""The portal crawler: a government portal's published service guides into a catalog fragment.

``crawl(load_portal("portal.yaml"), "out/")`` reads the portal's item list and guide pages over
HTTP (robots.txt respected, rate-limited, retried, conditional), extracts the catalog fields and
guide elements with the portal's selectors, checks every form and sample download link, keeps
each page as evidence (bytes, SHA-256, fetch time) and writes ``catalog.jsonl``,
``links.jsonl``, ``evidence/`` and ``summary.json`` into ``out/``; a killed crawl resumes. The
command is ``govwatch guides crawl`` (:mod:`govwatch.cli.guides_crawl`); the findings come
from ``govwatch guides check`` on the fragment. See docs/guides.md, section "Crawler".
"""

from __future__ import annotations

from govwatch.guides.crawl.config import PORTALS_DIR, PortalConfig, load_portal, parse_portal
from govwatch.guides.crawl.crawler import CrawlSummary, Progress, crawl
from govwatch.guides.crawl.output import CatalogMerge, load_merge

__all__ = [
    "PORTALS_DIR",
    "CatalogMerge",
    "CrawlSummary",
    "PortalConfig",
    "Progress",
    "crawl",
    "load_merge",
    "load_portal",
    "parse_portal",
]
