"""A portal's crawl configuration (CONFIG.yaml), validated once into frozen dataclasses.

One file describes one portal: where its item list starts, how the list is paginated, which
links on a list page lead to guide pages, and, for each catalog field (``record``) and guide
element (``guide``), the selector (:mod:`govwatch.guides.crawl.selectors`) that finds it on a
guide page; ``downloads`` names the form and sample links to check. The politeness settings
(rate, concurrency, timeouts, retries, redirects) live in the same file, so that a portal that
asks for gentleness gets it whoever runs the crawl. ``govwatch/guides/crawl/portals/*.yaml`` are
the configurations of the portals the generator renders (``govwatch/generator/portal.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

from govwatch.errors import InputError
from govwatch.guides.crawl.selectors import Selector, parse_selector

PORTALS_DIR = Path(__file__).resolve().parent / "portals"
_KEYS = frozenset((
    "name", "base_url", "list", "record", "guide", "downloads", "defaults", "rate", "concurrency",
    "timeout_seconds", "retries", "backoff_seconds", "max_redirects", "encoding", "user_agent",
    "screenshot",
))  # fmt: skip


@dataclass(frozen=True)
class ListConfig:
    """The item list: its first page(s), the links to guide pages, the next page."""

    start: tuple[str, ...]
    item_link: Selector
    next_page: Selector | None = None
    max_pages: int = 1000


@dataclass(frozen=True)
class PortalConfig:
    """One portal.

    ``rate`` is requests per second to the portal's host: every request counts (robots.txt,
    list and guide pages, each redirect hop and retry, each download check). ``defaults`` fills
    catalog fields a portal does not print (a one-region portal's ``region_code``).
    """

    name: str
    base_url: str
    list: ListConfig
    record: Mapping[str, Selector]
    guide: Mapping[str, Selector]
    downloads: tuple[Selector, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    rate: float = 2.0
    concurrency: int = 4
    timeout_seconds: float = 15.0
    retries: int = 3
    backoff_seconds: float = 1.0
    max_redirects: int = 5
    encoding: str | None = None
    user_agent: str = "govwatch-crawler/1.0"
    screenshot: bool = False

    def url(self, ref: str) -> str:
        """``ref`` (relative to the base URL, or absolute) as a full URL."""
        return urljoin(self.base_url, ref)

    @property
    def start_urls(self) -> tuple[str, ...]:
        return tuple(self.url(s) for s in self.list.start)

    def with_overrides(
        self,
        *,
        base_url: str | None = None,
        rate: float | None = None,
        screenshot: bool | None = None,
    ) -> PortalConfig:
        """The same portal with command-line overrides applied (validated like the file)."""
        out = self
        if base_url is not None:
            out = replace(out, base_url=_base(base_url, "--base-url"))
        if rate is not None:
            out = replace(out, rate=_positive(rate, "--rate"))
        if screenshot is not None:
            out = replace(out, screenshot=screenshot)
        return out


def _fail(where: str, what: str) -> InputError:
    return InputError(f"门户配置 {where}：{what}" if where else f"门户配置：{what}")


def _base(value: Any, where: str) -> str:
    text = str(value or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(where, f"应为 http:// 或 https:// 开头的网址，实际为“{text}”")
    return text if text.endswith("/") else text + "/"


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise _fail(where, f"应为正数，实际为“{value}”")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(where, f"应为正数，实际为“{value}”") from None
    if not number > 0 or number == float("inf"):
        raise _fail(where, f"应为正数，实际为“{value}”")
    return number


def _whole(value: Any, where: str, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise _fail(where, f"应为不小于 {least} 的整数，实际为“{value}”")
    return value


def _selectors(raw: Any, where: str) -> dict[str, Selector]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(where, "应为“名称: 选择器”的映射")
    return {str(k): parse_selector(v, f"{where}.{k}") for k, v in raw.items()}


def _listing(raw: Any) -> ListConfig:
    if not isinstance(raw, Mapping):
        raise _fail("list", "缺失：应给出事项列表的 start、item_link（及 next_page）")
    start = raw.get("start")
    starts = [start] if isinstance(start, str) else start
    if not isinstance(starts, list) or not starts or not all(isinstance(s, str) for s in starts):
        raise _fail("list.start", "应为列表首页的地址（或地址的列表）")
    if raw.get("item_link") is None:
        raise _fail("list.item_link", "缺失：应为指向办事指南页的链接选择器")
    next_page = raw.get("next_page")
    return ListConfig(
        start=tuple(starts),
        item_link=parse_selector(raw["item_link"], "list.item_link"),
        next_page=None if next_page is None else parse_selector(next_page, "list.next_page"),
        max_pages=_whole(raw.get("max_pages", 1000), "list.max_pages", least=1),
    )


def parse_portal(raw: Any) -> PortalConfig:
    """A validated :class:`PortalConfig` from the YAML document's data."""
    if not isinstance(raw, Mapping):
        raise _fail("", "应为 YAML 映射（name、base_url、list、record、guide …）")
    unknown = set(map(str, raw)) - _KEYS
    if unknown:
        raise _fail("", f"不认识的键 {'、'.join(sorted(unknown))}")
    record = _selectors(raw.get("record"), "record")
    if "item_code" not in record:
        raise _fail("record.item_code", "缺失：办事指南页上实施编码的选择器是必需的")
    downloads = raw.get("downloads") or []
    if not isinstance(downloads, list):
        raise _fail("downloads", "应为下载链接选择器的列表")
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise _fail("defaults", "应为“目录字段: 取值”的映射")
    encoding = raw.get("encoding")
    if encoding is not None:
        try:
            "".encode(str(encoding))
        except LookupError:
            raise _fail("encoding", f"不认识的字符集“{encoding}”") from None
    return PortalConfig(
        name=str(raw.get("name") or "门户"),
        base_url=_base(raw.get("base_url"), "base_url"),
        list=_listing(raw.get("list")),
        record=record,
        guide=_selectors(raw.get("guide"), "guide"),
        downloads=tuple(parse_selector(d, f"downloads[{i}]") for i, d in enumerate(downloads)),
        defaults={str(k): v for k, v in defaults.items()},
        rate=_positive(raw.get("rate", 2.0), "rate"),
        concurrency=_whole(raw.get("concurrency", 4), "concurrency", least=1),
        timeout_seconds=_positive(raw.get("timeout_seconds", 15.0), "timeout_seconds"),
        retries=_whole(raw.get("retries", 3), "retries", least=0),
        backoff_seconds=_positive(raw.get("backoff_seconds", 1.0), "backoff_seconds"),
        max_redirects=_whole(raw.get("max_redirects", 5), "max_redirects", least=0),
        encoding=None if encoding is None else str(encoding),
        user_agent=str(raw.get("user_agent") or "govwatch-crawler/1.0"),
        screenshot=bool(raw.get("screenshot", False)),
    )


def load_portal(path: Path | str) -> PortalConfig:
    """Read and validate a portal's CONFIG.yaml."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"无法读取门户配置 {file}：{exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"门户配置 {file} 不是有效的 YAML：{exc}") from None
    return parse_portal(raw)
