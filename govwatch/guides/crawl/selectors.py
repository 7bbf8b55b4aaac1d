"""Selectors: how one value is found on a page, validated from YAML, then applied with lxml.

A selector in a portal's CONFIG.yaml::

    {css: "table.guide td.limit", type: integer}          # the first match's text, as a number
    {xpath: "//a[@class='next']", attr: href, type: url}  # an attribute, resolved to a full URL
    {css: "tr.material", many: true, fields: {name: "td.name", originals: {...}}}  # objects
    {css: "td.fee", pattern: "(\\d+(?:\\.\\d+)?)元", type: number}
    {css: "td.unit", values: {工作日: W, 自然日: N}}      # page text mapped to a code
    {xpath: "//td[@id='type']", vocabulary: ITEM_TYPE_NAMES}  # a label back to its code

A bare string is a CSS selector for a text value. ``vocabulary`` names a table of
:mod:`govwatch.vocabulary`: the page prints the Chinese label (行政许可) and the value is its
code (``01``), so a portal's YAML never copies the labels.

Text is the match's text content with runs of white space made one space; empty text is a
missing value. A ``many`` selector that finds nothing gives a missing element, unless it has a
``container``: then an absent container is a missing element and a present one with nothing in
it is ``[]``. A value that is not in the expected form (``pattern``
finds nothing, or an ``integer`` is not a whole number: a limit published as “20日内”) is kept
as the page's text, so the completeness check sees it malformed rather than missing; to tell
two forms apart (an amount from a price per unit), select with an XPath predicate instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urljoin

from lxml import etree, html
from lxml.cssselect import CSSSelector

from govwatch import vocabulary
from govwatch.errors import InputError

VALUE_TYPES = ("text", "integer", "number", "boolean", "url")
_KEYS = frozenset(
    ("css", "xpath", "attr", "many", "type", "pattern", "values", "vocabulary", "fields",
     "container")
)  # fmt: skip
_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_TRUE = frozenset(("是", "有", "提供", "可下载", "支持", "true", "yes", "1"))
_FALSE = frozenset(("否", "无", "不提供", "不支持", "false", "no", "0"))


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass(frozen=True)
class Selector:
    """How one value is found on a page (see the module docstring)."""

    css: str | None = None
    xpath: str | None = None
    attr: str | None = None
    many: bool = False
    type: str = "text"
    pattern: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    fields: Mapping[str, Selector] = field(default_factory=dict)
    container: Selector | None = None

    @property
    def describe(self) -> str:
        return f"css “{self.css}”" if self.css is not None else f"xpath “{self.xpath}”"


def _fail(where: str, what: str) -> InputError:
    return InputError(f"门户配置 {where}：{what}")


@lru_cache(maxsize=512)
def compile_css(css: str) -> CSSSelector:
    return CSSSelector(css, translator="html")


@lru_cache(maxsize=512)
def compile_xpath(xpath: str) -> etree.XPath:
    return etree.XPath(xpath)


def parse_selector(raw: Any, where: str) -> Selector:
    """A selector from YAML data: a mapping, or a bare string taken as a CSS selector."""
    if isinstance(raw, str):
        raw = {"css": raw}
    if not isinstance(raw, Mapping):
        raise _fail(where, "应为选择器（含 css 或 xpath 的映射）")
    unknown = set(map(str, raw)) - _KEYS
    if unknown:
        raise _fail(where, f"不认识的键 {'、'.join(sorted(unknown))}")
    css, xpath = raw.get("css"), raw.get("xpath")
    if (css is None) == (xpath is None):
        raise _fail(where, "应有 css 或 xpath 之一（且只有一个）")
    kind = str(raw.get("type", "text"))
    if kind not in VALUE_TYPES:
        raise _fail(f"{where}.type", f"应为 {'、'.join(VALUE_TYPES)} 之一，实际为“{kind}”")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise _fail(f"{where}.pattern", f"正则表达式无效：{exc}") from None
    values = raw.get("values") or {}
    if not isinstance(values, Mapping):
        raise _fail(f"{where}.values", "应为“页面文字: 取值”的映射")
    fields_raw = raw.get("fields") or {}
    if not isinstance(fields_raw, Mapping):
        raise _fail(f"{where}.fields", "应为“字段: 选择器”的映射")
    table = raw.get("vocabulary")
    if table is not None:
        if str(table) not in vocabulary.TABLES:
            raise _fail(f"{where}.vocabulary", f"govwatch.vocabulary 中没有代码表“{table}”")
        labels = vocabulary.TABLES[str(table)]
        values = {**{text: code for code, text in labels.items()}, **values}
    container = raw.get("container")
    selector = Selector(
        css=None if css is None else str(css),
        xpath=None if xpath is None else str(xpath),
        attr=None if raw.get("attr") is None else str(raw["attr"]),
        many=bool(raw.get("many", False)),
        type=kind,
        pattern=None if pattern is None else str(pattern),
        values={str(k): v for k, v in values.items()},
        fields={str(k): parse_selector(v, f"{where}.fields.{k}") for k, v in fields_raw.items()},
        container=None if container is None else parse_selector(container, f"{where}.container"),
    )
    # a selector that cannot compile fails when the file is read, not on the hundredth page
    try:
        if selector.css is not None:
            compile_css(selector.css)
        else:
            compile_xpath(str(selector.xpath))
    except Exception as exc:  # cssselect and lxml raise their own error types
        raise _fail(where, f"选择器 {selector.describe} 无效：{exc}") from None
    return selector


def parse_html(text: str) -> html.HtmlElement:
    """A page's decoded text as an lxml tree (fed as UTF-8: a ``<meta charset>`` naming the
    page's original encoding must not make lxml decode it a second time)."""
    parser = html.HTMLParser(encoding="utf-8")
    return html.document_fromstring(text.encode("utf-8"), parser=parser)


def matches(selector: Selector, node: Any) -> list[Any]:
    """What the selector finds under ``node`` (elements, or strings from XPath), unconverted."""
    if selector.css is not None:
        css: Any = compile_css(selector.css)(node)
        return list(css)
    found: Any = compile_xpath(str(selector.xpath))(node)
    return list(found) if isinstance(found, list) else [found]


def _text(node: Any, attr: str | None) -> str | None:
    if isinstance(node, str | bytes):  # an XPath string or attribute result
        value = node.decode() if isinstance(node, bytes) else str(node)
    elif isinstance(node, bool | int | float):
        value = str(node)
    elif attr is not None:
        got = node.get(attr)
        if got is None:
            return None
        value = str(got)
    else:
        value = str(node.text_content())
    return " ".join(value.split())


def _convert(selector: Selector, raw: str, page_url: str) -> Any:
    text = raw
    if selector.pattern is not None:
        match = re.search(selector.pattern, text)
        if match is None:
            return raw  # not in the expected form: kept as published (malformed, not missing)
        text = match.group(1) if match.groups() else match.group(0)
    if text in selector.values:
        return selector.values[text]
    if selector.type == "integer":
        return int(text) if _INTEGER.fullmatch(text.strip()) else raw
    if selector.type == "number":
        return float(text) if _NUMBER.fullmatch(text.strip()) else raw
    if selector.type == "boolean":
        word = text.strip().lower()
        return True if word in _TRUE else False if word in _FALSE else raw
    if selector.type == "url":
        return urljoin(page_url, text.strip())
    return text


def _one(selector: Selector, node: Any, page_url: str) -> Any:
    if selector.fields:
        return extract_fields(selector.fields, node, page_url)
    raw = _text(node, selector.attr)
    if not raw:
        return MISSING
    return _convert(selector, raw, page_url)


def extract(selector: Selector, node: Any, page_url: str) -> Any:
    """The selector's value under ``node``, or :data:`MISSING`."""
    if selector.container is not None:
        holders = matches(selector.container, node)
        if not holders:
            return MISSING
        node = holders[0]
    found = matches(selector, node)
    if selector.many:
        values = [v for v in (_one(selector, m, page_url) for m in found) if v is not MISSING]
        # without a container, nothing found is a missing element; inside one, an empty list
        return MISSING if not values and selector.container is None else values
    for match in found:
        value = _one(selector, match, page_url)
        if value is not MISSING:
            return value
    return MISSING


def extract_fields(selectors: Mapping[str, Selector], node: Any, page_url: str) -> dict[str, Any]:
    """An object of the selectors' values; keys whose value is missing are left out. A key with
    dots (``basic.promised_limit``) makes nested objects."""
    out: dict[str, Any] = {}
    for key, selector in selectors.items():
        value = extract(selector, node, page_url)
        if value is MISSING:
            continue
        target = out
        *parents, last = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return out
