"""A government portal rendered from a catalog's guides: static HTML, robots.txt, downloads.

``render_portal(records, out)`` writes, for each layout asked for, an item list (paginated)
and one guide page per published guide, and the form and sample files the guides link to,
all as static files a plain web server can serve (``tests/guides/portal_server.py`` does, for
the crawler's tests and benchmark). Each layout is how a family of real portals prints a guide,
and has its crawl configuration in ``govwatch/guides/crawl/portals/<layout>.yaml``:

- ``table``: the common modern layout: label/value rows in a table (``<th>`` / ``<td>``), the
  materials and the process as tables; UTF-8, declared in a ``<meta charset>``.
- ``dl``: a definition list (``<dt>`` / ``<dd>``) per section, materials and steps as lists of
  labelled ``<span>``s; the item's codes in ``data-`` attributes; UTF-8.
- ``legacy``: an old provincial portal: upper-case tags, four-column tables of label/value
  pairs, the process as paragraphs in one cell, the codes in hidden form fields, encoded in
  GB18030 while its ``<meta http-equiv>`` says ``gb2312`` (as such portals do), and served
  without a charset in its ``Content-Type``.

What a page prints comes from the record's ``guide`` (docs/guides.md, "The guide object"): an
element the guide leaves out is not printed, a malformed one is printed as it is, so that a crawl
of the portal reads back the guide that was rendered. The header of each page (name, codes,
implementing body, region) comes from the record itself, as a portal prints it from the
implementation list. Unpublished guides (``"published": false``) are neither listed nor rendered.

Download links: a link whose address lies under a ``gone/`` folder (the generator's dead
links, :func:`govwatch.generator.guides.download_url`) gets no file, nor does an address that
is not a path on the portal (``见附件``); every other ``/…`` address gets a small file.
``disallowed`` item codes are listed but their pages lie under ``<layout>/internal/``, which
robots.txt forbids; ``moved`` item codes are listed under ``<layout>/old/`` while their page is
under ``<layout>/guides/`` (a test server redirects the one to the other).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from govwatch.errors import InputError
from govwatch.vocabulary import ITEM_LEVEL_NAMES, ITEM_TYPE_NAMES, ONLINE_DEPTH_NAMES, UNIT_NAMES

LAYOUTS = ("table", "dl", "legacy")
ENCODINGS = {"table": "utf-8", "dl": "utf-8", "legacy": "gb18030"}
DEAD_FOLDER = "gone"
PER_PAGE = 10


@dataclass(frozen=True)
class LayoutPages:
    """One layout's pages, as paths from the portal root (``/table/index.html``)."""

    layout: str
    start: str
    list_pages: tuple[str, ...]
    guides: Mapping[str, str]  # item code -> the path the item list links to
    encoding: str


@dataclass(frozen=True)
class PortalSummary:
    root: Path
    layouts: Mapping[str, LayoutPages]
    downloads: tuple[str, ...]  # paths of the download files written
    dead_links: tuple[str, ...]  # addresses the guides name that have no file
    disallowed: tuple[str, ...]  # path prefixes robots.txt forbids


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _amount(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _limit(value: Any, unit: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)  # a malformed limit ("20日内") is printed as the guide has it
    return f"{value}个{UNIT_NAMES.get(str(unit or 'W'), str(unit))}"


def _depth(value: Any) -> str:
    name = ONLINE_DEPTH_NAMES.get(str(value))
    return f"{value}级（{name}）" if name else str(value)


def _link_url(link: Any) -> str | None:
    if isinstance(link, Mapping):
        link = link.get("url")
    return str(link) if link else None


def _fee_rows(fee: Any) -> list[tuple[str, str]]:
    if fee is None:
        return []
    if not isinstance(fee, Mapping):
        return [("是否收费", str(fee))]
    charged = fee.get("charged")
    rows = [
        ("是否收费", "收费" if charged is True else "不收费" if charged is False else str(charged))
    ]
    if fee.get("basis") is not None:
        rows.append(("收费依据", str(fee["basis"])))
    if fee.get("amount") is not None:
        rows.append(("收费标准", f"{_amount(fee['amount'])}元"))
    elif fee.get("unit_price") is not None:
        rows.append(("收费标准", f"{_amount(fee['unit_price'])}元/{fee.get('unit') or ''}"))
    return rows


def basic_rows(guide: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """The guide's basic information as (label, text, link) rows, in the portal's order;
    elements the guide leaves out are left out."""
    g = guide
    rows: list[tuple[str, str, str | None]] = []

    def add(label: str, key: str, show: Callable[[Any], str] = str) -> None:
        if g.get(key) is not None and str(g.get(key)) != "":
            rows.append((label, show(g[key]), None))

    add("事项名称", "name")
    add("实施编码", "item_code")
    add("基本编码", "base_code")
    add("事项类型", "item_type", lambda v: ITEM_TYPE_NAMES.get(str(v), str(v)))
    add("设定依据", "basis")
    add("实施主体", "department")
    add("行使层级", "level", lambda v: ITEM_LEVEL_NAMES.get(str(v), str(v)))
    add("受理条件", "conditions")
    add("法定办结时限", "legal_limit", lambda v: _limit(v, g.get("legal_limit_unit")))
    add("承诺办结时限", "promised_limit", lambda v: _limit(v, g.get("promised_limit_unit")))
    add("办理地点", "place")
    add("办理时间", "hours")
    add("咨询电话", "phone")
    add("监督投诉电话", "complaint_phone")
    add("网上办理深度", "online_depth", _depth)
    if g.get("online_url"):
        rows.append(("网上办理入口", str(g["online_url"]), str(g["online_url"])))
    return rows


def _materials(guide: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = guide.get("materials")
    if not isinstance(raw, list):
        return []
    return [m if isinstance(m, Mapping) else {"name": m} for m in raw]


def _steps(guide: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = guide.get("process")
    if not isinstance(raw, list):
        return []
    return [s if isinstance(s, Mapping) else {"name": s} for s in raw]


def _yes_no(value: Any) -> str:
    return "是" if value is True else "否" if value is False else _e(value)


def _count(value: Any) -> str:
    return "" if value is None else _e(value)


def _step_limit(step: Mapping[str, Any]) -> str:
    if step.get("limit") is None:
        return ""
    return _e(_limit(step["limit"], step.get("unit")))


def _anchor(link: Any, text: str, cls: str = "") -> str:
    url = _link_url(link)
    if url is None:
        return ""
    klass = f' class="{cls}"' if cls else ""
    return f'<a{klass} href="{_e(url)}">{text}</a>'


# -- the table layout -------------------------------------------------------------------


def _table_guide(record: Mapping[str, Any], guide: Mapping[str, Any]) -> str:
    head = (
        '<table class="item-meta"><tr>'
        f'<td class="meta-name">{_e(record.get("name"))}</td>'
        f'<td class="meta-code">{_e(record.get("item_code"))}</td>'
        f'<td class="meta-dept">{_e(record.get("department_name"))}</td>'
        f'<td class="meta-dept-code">{_e(record.get("department_code"))}</td>'
        f'<td class="meta-region">{_e(record.get("region_code"))}</td>'
        "</tr></table>"
    )
    parts = [head, "<h3>基本信息</h3>", '<table class="basic-info">']
    for label, text, link in basic_rows(guide):
        value = f'<a href="{_e(link)}">{_e(text)}</a>' if link else _e(text)
        parts.append(f"<tr><th>{label}</th><td>{value}</td></tr>")
    parts.append("</table>")
    materials = _materials(guide)
    if materials:
        parts.append("<h3>申请材料</h3>")
        parts.append(
            '<table class="materials"><tr><th>序号</th><th>材料名称</th><th>是否必需</th>'
            "<th>原件（份）</th><th>复印件（份）</th><th>空白表格</th><th>样表</th></tr>"
        )
        for i, m in enumerate(materials, 1):
            parts.append(
                f"<tr><td>{i}</td><td>{_e(m.get('name'))}</td>"
                f"<td>{_yes_no(m.get('required'))}</td>"
                f"<td>{_count(m.get('originals'))}</td><td>{_count(m.get('copies'))}</td>"
                f"<td>{_anchor(m.get('form'), '下载')}</td>"
                f"<td>{_anchor(m.get('sample'), '下载')}</td></tr>"
            )
        parts.append("</table>")
    steps = _steps(guide)
    if steps:
        parts.append('<h3>办理流程</h3><table class="process"><tr><th>序号</th>')
        parts.append("<th>环节名称</th><th>环节时限</th></tr>")
        for i, s in enumerate(steps, 1):
            parts.append(
                f"<tr><td>{i}</td><td>{_e(s.get('name'))}</td><td>{_step_limit(s)}</td></tr>"
            )
        parts.append("</table>")
    fee = _fee_rows(guide.get("fee"))
    if fee:
        parts.append('<h3>收费信息</h3><table class="fee">')
        parts += [f"<tr><th>{label}</th><td>{_e(text)}</td></tr>" for label, text in fee]
        parts.append("</table>")
    return "\n".join(parts)


def _table_list(entries: Sequence[tuple[str, Mapping[str, Any]]], next_href: str | None) -> str:
    rows = [
        f'<tr><td>{i}</td><td><a class="item" href="{_e(href)}">{_e(r.get("name"))}</a></td>'
        f"<td>{_e(r.get('department_name'))}</td></tr>"
        for i, (href, r) in enumerate(entries, 1)
    ]
    pager = f'<a class="next" href="{_e(next_href)}">下一页</a>' if next_href else ""
    return (
        '<table class="item-list"><tr><th>序号</th><th>事项名称</th><th>实施主体</th></tr>\n'
        + "\n".join(rows)
        + f'</table>\n<div class="pager">{pager}<a href="/admin/">管理入口</a></div>'
    )


def _table_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title></head>\n<body><h1>江川省政务服务网</h1>\n{body}\n"
        "</body></html>\n"
    )


# -- the definition-list layout ---------------------------------------------------------


def _dl_guide(record: Mapping[str, Any], guide: Mapping[str, Any]) -> str:
    head = (
        f'<header class="matter" data-code="{_e(record.get("item_code"))}" '
        f'data-dept-code="{_e(record.get("department_code"))}" '
        f'data-region="{_e(record.get("region_code"))}">'
        f'<h2 class="matter-name">{_e(record.get("name"))}</h2>'
        f'<p class="matter-dept">{_e(record.get("department_name"))}</p></header>'
    )
    parts = [head, '<section id="jbxx"><h3>基本信息</h3><dl class="basic">']
    for label, text, link in basic_rows(guide):
        value = f'<a href="{_e(link)}">{_e(text)}</a>' if link else _e(text)
        parts.append(f"<dt>{label}</dt><dd>{value}</dd>")
    parts.append("</dl></section>")
    materials = _materials(guide)
    if materials:
        parts.append('<section id="sqcl"><h3>申请材料</h3><ul class="materials">')
        for m in materials:
            required = m.get("required")
            need = "必需" if required is True else "非必需" if required is False else _e(required)
            orig = "" if m.get("originals") is None else f"原件{_e(m['originals'])}份"
            copy = "" if m.get("copies") is None else f"复印件{_e(m['copies'])}份"
            parts.append(
                f'<li><span class="m-name">{_e(m.get("name"))}</span>'
                f'<span class="m-need">{need}</span>'
                f'<span class="m-orig">{orig}</span><span class="m-copy">{copy}</span>'
                f"{_anchor(m.get('form'), '空白表格', 'm-form')}"
                f"{_anchor(m.get('sample'), '样表', 'm-sample')}</li>"
            )
        parts.append("</ul></section>")
    steps = _steps(guide)
    if steps:
        parts.append('<section id="blcx"><h3>办理流程</h3><ol class="steps">')
        for s in steps:
            parts.append(
                f'<li><span class="s-name">{_e(s.get("name"))}</span>'
                f'<span class="s-limit">{_step_limit(s)}</span></li>'
            )
        parts.append("</ol></section>")
    fee = _fee_rows(guide.get("fee"))
    if fee:
        parts.append('<section id="sfxx"><h3>收费信息</h3><dl class="fee">')
        parts += [f"<dt>{label}</dt><dd>{_e(text)}</dd>" for label, text in fee]
        parts.append("</dl></section>")
    return "\n".join(parts)


def _dl_list(entries: Sequence[tuple[str, Mapping[str, Any]]], next_href: str | None) -> str:
    items = [
        f'<li><a href="{_e(href)}">{_e(r.get("name"))}</a>'
        f'<span class="dept">{_e(r.get("department_name"))}</span></li>'
        for href, r in entries
    ]
    pager = f'<a rel="next" href="{_e(next_href)}">下一页 &gt;</a>' if next_href else ""
    return (
        '<ul class="matters">\n' + "\n".join(items) + "\n</ul>\n"
        f'<nav class="pager"><a href="/search?q=">搜索</a>{pager}</nav>'
    )


def _dl_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="UTF-8">'
        f'<title>{_e(title)}</title></head>\n<body><main class="guide">\n{body}\n</main>'
        "</body></html>\n"
    )


# -- the legacy layout (GB18030) --------------------------------------------------------


def _legacy_guide(record: Mapping[str, Any], guide: Mapping[str, Any]) -> str:
    hidden = "".join(
        f'<INPUT TYPE="hidden" NAME="{name}" VALUE="{_e(record.get(key))}">'
        for name, key in (
            ("sxbm", "item_code"),
            ("sxmc", "name"),
            ("ssztbm", "department_code"),
            ("sszt", "department_name"),
            ("xzqhdm", "region_code"),
        )
    )
    parts = [f'<FORM NAME="sx">{hidden}</FORM>', '<TABLE ID="jbxx" WIDTH="760" BORDER="1">']
    rows = basic_rows(guide)
    for i in range(0, len(rows), 2):
        cells = []
        for label, text, link in rows[i : i + 2]:
            value = f'<A HREF="{_e(link)}">{_e(text)}</A>' if link else _e(text)
            cells.append(f'<TD CLASS="lbl" BGCOLOR="#E8F0F8">{label}</TD><TD>{value}</TD>')
        parts.append("<TR>" + "".join(cells) + "</TR>")
    parts.append("</TABLE>")
    materials = _materials(guide)
    if materials:
        parts.append('<P><B>申请材料</B></P><TABLE ID="sqcl" WIDTH="760" BORDER="1">')
        for i, m in enumerate(materials, 1):
            orig = "" if m.get("originals") is None else f"原件{_e(m['originals'])}份"
            copy = "" if m.get("copies") is None else f"复印件{_e(m['copies'])}份"
            links = " ".join(
                a
                for a in (_anchor(m.get("form"), "表格下载"), _anchor(m.get("sample"), "样表下载"))
                if a
            )
            parts.append(
                f"<TR><TD>{i}</TD><TD>{_e(m.get('name'))}</TD>"
                f"<TD>{_yes_no(m.get('required'))}</TD><TD>{orig}</TD><TD>{copy}</TD>"
                f"<TD>{links}</TD></TR>"
            )
        parts.append("</TABLE>")
    steps = _steps(guide)
    if steps:
        parts.append('<P><B>办理流程</B></P><TABLE WIDTH="760" BORDER="1"><TR><TD ID="blcx">')
        for i, s in enumerate(steps, 1):
            limit = _step_limit(s)
            parts.append(
                f"<P>{i}．{_e(s.get('name'))}" + (f"（{limit}）" if limit else "") + "</P>"
            )
        parts.append("</TD></TR></TABLE>")
    fee = _fee_rows(guide.get("fee"))
    if fee:
        parts.append('<P><B>收费信息</B></P><TABLE ID="sfxx" WIDTH="760" BORDER="1">')
        parts += [
            f'<TR><TD CLASS="lbl">{label}</TD><TD>{_e(text)}</TD></TR>' for label, text in fee
        ]
        parts.append("</TABLE>")
    return "\n".join(parts)


def _legacy_list(entries: Sequence[tuple[str, Mapping[str, Any]]], next_href: str | None) -> str:
    rows = [
        f'<TR><TD>{i}</TD><TD><A HREF="{_e(href)}" TARGET="_blank">{_e(r.get("name"))}</A></TD></TR>'
        for i, (href, r) in enumerate(entries, 1)
    ]
    pager = f'<A HREF="{_e(next_href)}">下一页</A>' if next_href else "下一页"
    return (
        '<TABLE ID="sxlb" WIDTH="760" BORDER="0">\n' + "\n".join(rows) + "\n</TABLE>\n"
        f"<CENTER>{pager}</CENTER>"
    )


def _legacy_page(title: str, body: str) -> str:
    return (
        "<HTML><HEAD>\n"
        '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=gb2312">\n'
        f"<TITLE>{_e(title)}</TITLE></HEAD>\n"
        f'<BODY BGCOLOR="#FFFFFF">\n<FONT SIZE="2">\n{body}\n</FONT>\n'
        "<HR><CENTER>主办：江川省人民政府办公厅　承办：江川省大数据中心</CENTER></BODY></HTML>\n"
    )


_GUIDE: Mapping[str, Callable[[Mapping[str, Any], Mapping[str, Any]], str]] = {
    "table": _table_guide,
    "dl": _dl_guide,
    "legacy": _legacy_guide,
}
_LIST: Mapping[str, Callable[[Sequence[tuple[str, Mapping[str, Any]]], str | None], str]] = {
    "table": _table_list,
    "dl": _dl_list,
    "legacy": _legacy_list,
}
_PAGE: Mapping[str, Callable[[str, str], str]] = {
    "table": _table_page,
    "dl": _dl_page,
    "legacy": _legacy_page,
}


def _write(path: Path, text: str, encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def served_download(url: str) -> str | None:
    """The portal path a download address is served at, or None when the portal has no file
    for it: not a path on the portal, or under a ``gone/`` folder (a dead link)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if f"/{DEAD_FOLDER}/" in parts.path or ".." in parts.path.split("/"):
        return None
    return parts.path


def _download_body(path: str) -> bytes:
    # a few hundred bytes that say what they stand for; sizes differ from file to file
    return (f"江川省政务服务网 表格下载 {path}\n" * (3 + len(path) % 5)).encode("utf-8")


def _published(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    out = []
    for record in records:
        guide = record.get("guide")
        if isinstance(guide, Mapping) and guide.get("published", True) is not False:
            out.append(record)
    return out


def _render_layout(
    layout: str,
    records: Sequence[Mapping[str, Any]],
    root: Path,
    per_page: int,
    disallowed: set[str],
    moved: set[str],
) -> LayoutPages:
    encoding = ENCODINGS[layout]
    base = root / layout
    pages = max(1, -(-len(records) // per_page))
    names = ["index.html", *(f"list-{n}.html" for n in range(2, pages + 1))]
    linked: dict[str, str] = {}
    for n in range(pages):
        chunk = records[n * per_page : (n + 1) * per_page]
        entries = []
        for record in chunk:
            code = str(record["item_code"])
            folder = "internal" if code in disallowed else "old" if code in moved else "guides"
            href = f"{folder}/{code}.html"
            linked[code] = f"/{layout}/{href}"
            entries.append((href, record))
        next_href = names[n + 1] if n + 1 < pages else None
        body = _LIST[layout](entries, next_href)
        _write(base / names[n], _PAGE[layout](f"事项列表（第{n + 1}页）", body), encoding)
    for record in records:
        code = str(record["item_code"])
        folder = "internal" if code in disallowed else "guides"
        body = _GUIDE[layout](record, record["guide"])
        title = f"{record.get('name', '')}办事指南"
        _write(base / folder / f"{code}.html", _PAGE[layout](title, body), encoding)
    return LayoutPages(
        layout=layout,
        start=f"/{layout}/index.html",
        list_pages=tuple(f"/{layout}/{n}" for n in names),
        guides=linked,
        encoding=encoding,
    )


def render_portal(
    records: Iterable[Mapping[str, Any]],
    out_dir: Path | str,
    *,
    layouts: Sequence[str] = LAYOUTS,
    per_page: int = PER_PAGE,
    disallowed: Iterable[str] = (),
    moved: Iterable[str] = (),
) -> PortalSummary:
    """Write the portal into ``out_dir`` (see the module docstring)."""
    unknown = [layout for layout in layouts if layout not in LAYOUTS]
    if unknown or not layouts:
        raise InputError(f"门户版式“{'、'.join(unknown)}”无法识别：应为 {'、'.join(LAYOUTS)}")
    if per_page < 1:
        raise InputError(f"每页事项数应为正整数，实际为 {per_page}")
    root = Path(out_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"无法创建门户目录 {root}：{exc.strerror}") from exc
    listed = _published(records)
    hidden, relocated = set(disallowed), set(moved)
    pages = {
        layout: _render_layout(layout, listed, root, per_page, hidden, relocated)
        for layout in layouts
    }
    downloads: dict[str, None] = {}
    dead: dict[str, None] = {}
    for record in listed:
        for m in _materials(record["guide"]):
            for key in ("form", "sample"):
                url = _link_url(m.get(key))
                if url is None:
                    continue
                path = served_download(url)
                if path is None:
                    dead[url] = None
                else:
                    downloads[path] = None
    for path in downloads:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_download_body(path))
    forbidden = ("/admin/", "/search", *(f"/{layout}/internal/" for layout in layouts))
    robots = ["User-agent: *", *(f"Disallow: {p}" for p in forbidden), ""]
    (root / "robots.txt").write_text("\n".join(robots), encoding="utf-8")
    return PortalSummary(root, pages, tuple(downloads), tuple(dead), forbidden)
