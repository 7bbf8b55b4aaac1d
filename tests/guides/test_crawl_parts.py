"""The crawler's parts one by one: charset detection, selectors, the pacer, the configuration,
robots.txt answers, retries and redirect loops, the command line and the screenshots."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.cli.guides_crawl import portal
from govwatch.errors import InputError
from govwatch.generator.portal import render_portal
from govwatch.guides.crawl import PORTALS_DIR, crawl, load_merge, load_portal, parse_portal
from govwatch.guides.crawl.charset import decode, detect
from govwatch.guides.crawl.pacing import Pacer
from govwatch.guides.crawl.selectors import MISSING, extract, parse_html, parse_selector
from tests.conftest import skip_or_fail
from tests.guides.portal_server import Behaviour, PortalServer

PAGE = "<html><body>{}</body></html>"


# -- charset ------------------------------------------------------------------------------


def test_gb2312_labels_are_read_as_gb18030() -> None:
    body = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">喆𠮷'.encode(
        "gb18030"
    )
    assert detect(body, "text/html") == "gb18030"
    assert decode(body, "text/html")[0].endswith("喆𠮷")


def test_the_header_charset_wins_over_the_page() -> None:
    body = '<meta charset="gbk">办事指南'.encode()
    assert detect(body, "text/html; charset=UTF-8") == "utf-8"


def test_an_undeclared_page_is_utf8_if_it_can_be_else_gb18030() -> None:
    assert detect("办事指南".encode(), None) == "utf-8"
    assert detect("办事指南".encode("gb18030"), None) == "gb18030"
    assert detect("办事指南".encode("gb18030"), None, fallback="gbk") == "gb18030"
    assert detect(b"\xef\xbb\xbf<p>x</p>", "text/html; charset=gbk") == "utf-8-sig"


# -- selectors ----------------------------------------------------------------------------


def _value(raw: Any, html: str) -> Any:
    return extract(
        parse_selector(raw, "t"), parse_html(PAGE.format(html)), "http://p.test/a/b.html"
    )


def test_a_label_is_read_back_as_its_code() -> None:
    cell = "<td id='t'>行政许可</td>"
    assert (
        _value({"css": "#t", "vocabulary": "ITEM_TYPE_NAMES"}, f"<table><tr>{cell}</tr></table>")
        == "01"
    )


def test_a_value_not_in_the_expected_form_is_kept_as_published() -> None:
    limit = {"css": "p", "pattern": "^(\\d+)个(?:工作日|自然日)$", "type": "integer"}
    assert _value(limit, "<p>20个工作日</p>") == 20
    assert _value(limit, "<p>20日内</p>") == "20日内"
    assert _value(limit, "<p> </p>") is MISSING
    assert _value(limit, "<div></div>") is MISSING


def test_lists_of_objects_urls_and_containers() -> None:
    rows = "<ul><li><b>申请表</b><a href='../f/1.docx'>下载</a></li><li><b>营业执照</b></li></ul>"
    materials = {
        "css": "li",
        "many": True,
        "fields": {"name": "b", "form": {"css": "a", "attr": "href", "type": "url"}},
    }
    assert _value(materials, rows) == [
        {"name": "申请表", "form": "http://p.test/f/1.docx"},
        {"name": "营业执照"},
    ]
    assert _value(materials, "<p>无</p>") is MISSING
    boxed = {**materials, "container": "ul"}
    assert _value(boxed, "<ul></ul>") == []
    assert _value(boxed, "<p>无</p>") is MISSING
    assert _value({"xpath": "//a/@href", "many": True}, rows) == ["../f/1.docx"]


def test_a_bad_selector_is_refused_when_the_file_is_read() -> None:
    with pytest.raises(InputError, match="选择器"):
        parse_selector({"css": "td[[["}, "guide.name")
    with pytest.raises(InputError, match="代码表"):
        parse_selector({"css": "td", "vocabulary": "NO_SUCH_NAMES"}, "guide.level")
    with pytest.raises(InputError, match="css 或 xpath"):
        parse_selector({"attr": "href"}, "list.item_link")


# -- configuration ------------------------------------------------------------------------


def _portal_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "base_url": "http://127.0.0.1:9/p/",
        "list": {"start": "index.html", "item_link": {"css": "a", "attr": "href", "many": True}},
        "record": {"item_code": "td.code"},
    }
    data.update(changes)
    return data


def test_every_shipped_portal_configuration_loads() -> None:
    names = sorted(p.stem for p in PORTALS_DIR.glob("*.yaml"))
    assert names == ["dl", "legacy", "table"]
    for name in names:
        config = load_portal(PORTALS_DIR / f"{name}.yaml")
        assert config.guide and config.record["item_code"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"base_url": "ftp://x/"}, "base_url"),
        ({"rate": 0}, "rate"),
        ({"retries": -1}, "retries"),
        ({"record": {"name": "td"}}, "record.item_code"),
        ({"speed": 3}, "不认识的键"),
        ({"encoding": "klingon"}, "字符集"),
    ],
)
def test_a_bad_configuration_says_what_is_wrong(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError, match=words):
        parse_portal(_portal_data(**changes))


# -- pacing -------------------------------------------------------------------------------


def test_concurrent_requests_leave_one_interval_apart_and_never_catch_up() -> None:
    now = [0.0]
    left: list[float] = []

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    async def run() -> None:
        pacer = Pacer(4.0, clock=lambda: now[0], sleep=sleep)

        async def one() -> None:
            await pacer.wait()
            left.append(now[0])

        await asyncio.gather(*(one() for _ in range(5)))
        now[0] += 10.0  # a long pause (the loop was busy): the next ones are not bunched
        await asyncio.gather(*(one() for _ in range(3)))

    asyncio.run(run())
    assert left[:5] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [t - left[5] for t in left[5:]] == [0.0, 0.25, 0.5]


# -- robots.txt, retries, redirects -------------------------------------------------------


@pytest.fixture
def small_portal(tmp_path: Path) -> Path:
    guide = {"published": True, "name": "食品经营许可", "item_code": "X1"}
    record = {"item_code": "X1", "name": "食品经营许可", "department_code": "D1",
              "department_name": "市场监管局", "region_code": "390102", "guide": guide}  # fmt: skip
    render_portal([record], tmp_path / "portal", layouts=("table",))
    return tmp_path / "portal"


def _fast(server: PortalServer, **changes: Any) -> Any:
    config = load_portal(PORTALS_DIR / "table.yaml").with_overrides(
        base_url=f"{server.url}/table/", rate=100
    )
    return replace(config, timeout_seconds=1.0, backoff_seconds=0.05, **changes)


def test_robots_txt_that_fails_forbids_everything(small_portal: Path, tmp_path: Path) -> None:
    with PortalServer(small_portal, behaviours={"/robots.txt": Behaviour(status=503)}) as server:
        summary = crawl(_fast(server, retries=1), tmp_path / "out")
        paths = [h.path for h in server.hits()]
    assert paths == ["/robots.txt", "/robots.txt"]  # retried once, then nothing else
    assert summary.items == 0 and summary.robots_skipped == 1


def test_a_missing_robots_txt_allows_everything(small_portal: Path, tmp_path: Path) -> None:
    (small_portal / "robots.txt").unlink()
    with PortalServer(small_portal) as server:
        summary = crawl(_fast(server), tmp_path / "out")
    assert summary.items == 1 and summary.robots_skipped == 0


def test_server_errors_are_retried_with_backoff_then_recorded(
    small_portal: Path, tmp_path: Path
) -> None:
    broken = {"/table/guides/X1.html": Behaviour(status=503)}
    with PortalServer(small_portal, behaviours=broken) as server:
        summary = crawl(_fast(server, retries=2), tmp_path / "out")
        tries = [h for h in server.hits() if h.path == "/table/guides/X1.html"]
    assert len(tries) == 3
    # the waits double: backoff_seconds (0.05), then twice that
    assert tries[1].at - tries[0].at >= 0.05 and tries[2].at - tries[1].at >= 0.1
    assert summary.failed_pages == 1 and summary.items == 0
    entry = next(
        json.loads(line)
        for line in (tmp_path / "out" / "evidence" / "pages.jsonl").read_text().splitlines()
        if "X1" in line
    )
    assert entry["status"] == 503 and entry["sha256"] is None


def test_a_redirect_loop_is_stopped(small_portal: Path, tmp_path: Path) -> None:
    loop = {
        "/table/guides/X1.html": Behaviour(redirect="/table/a.html"),
        "/table/a.html": Behaviour(redirect="/table/guides/X1.html"),
    }
    with PortalServer(small_portal, behaviours=loop) as server:
        summary = crawl(_fast(server), tmp_path / "out")
        asked = [h.path for h in server.hits() if h.path != "/robots.txt"]
    assert summary.failed_pages == 1
    assert asked.count("/table/guides/X1.html") == 1 and asked.count("/table/a.html") == 1


# -- the command --------------------------------------------------------------------------


def test_the_command_prints_its_summary_as_json(small_portal: Path, tmp_path: Path) -> None:
    with PortalServer(small_portal) as server:
        result = CliRunner().invoke(
            cli,
            [
                "guides", "crawl", "--portal", str(PORTALS_DIR / "table.yaml"),
                "--out", str(tmp_path / "out"), "--base-url", f"{server.url}/table/",
                "--rate", "50", "--format", "json",
            ],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["items"], summary["guide_pages"], summary["robots_skipped"]) == (1, 1, 0)
    assert Path(summary["catalog"]).read_text(encoding="utf-8").count("\n") == 1


def test_the_command_fails_in_chinese_when_nothing_could_be_read(
    small_portal: Path, tmp_path: Path
) -> None:
    with PortalServer(small_portal, behaviours={"/robots.txt": Behaviour(status=500)}) as server:
        result = CliRunner().invoke(
            cli,
            [
                "guides", "crawl", "--portal", str(PORTALS_DIR / "table.yaml"),
                "--out", str(tmp_path / "out"), "--base-url", f"{server.url}/table/",
                "--rate", "50",
            ],
        )  # fmt: skip
    assert result.exit_code != 0
    assert "未读到任何办事指南" in result.output


@pytest.mark.browser
def test_screenshots_are_taken_from_the_saved_pages(tmp_path: Path) -> None:
    if not os.path.exists("/usr/bin/chromium"):
        skip_or_fail("chromium is missing at /usr/bin/chromium (apt-get install chromium)")
    guide = {"published": True, "name": "喆𠮷许可", "place": "𠮷祥路"}
    record = {"item_code": "X2", "name": "喆𠮷许可", "department_code": "D1",
              "department_name": "市场监管局", "region_code": "390102", "guide": guide}  # fmt: skip
    render_portal([record], tmp_path / "portal", layouts=("legacy",))
    with PortalServer(tmp_path / "portal", content_types={"/legacy/": "text/html"}) as server:
        config = load_portal(PORTALS_DIR / "legacy.yaml").with_overrides(
            base_url=f"{server.url}/legacy/", rate=100, screenshot=True
        )
        crawl(config, tmp_path / "out")
        asked = [h.path for h in server.hits()]
    pages = [
        json.loads(line)
        for line in (tmp_path / "out" / "evidence" / "pages.jsonl").read_text().splitlines()
    ]
    guide_page = next(p for p in pages if p["kind"] == "guide")
    png = (tmp_path / "out" / guide_page["screenshot"]).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000
    assert asked.count("/legacy/guides/X2.html") == 1  # Chromium read the saved copy


def test_the_portal_command_renders_a_catalog_in_every_layout(tmp_path: Path) -> None:
    guide = {"published": True, "name": "食品经营许可", "item_code": "X3"}
    hidden = {**guide, "published": False, "item_code": "X4"}
    records = [
        {"item_code": code, "name": "食品经营许可", "department_code": "D1",
         "department_name": "市场监管局", "region_code": "390102", "guide": g}
        for code, g in (("X3", guide), ("X4", hidden))
    ]  # fmt: skip
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    result = CliRunner().invoke(portal, ["--catalog", str(catalog), "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    for layout in ("table", "dl", "legacy"):
        assert (tmp_path / "p" / layout / "guides" / "X3.html").exists()
        assert not (tmp_path / "p" / layout / "guides" / "X4.html").exists()
        assert f"{layout}.yaml" in result.stderr
    legacy = (tmp_path / "p" / "legacy" / "index.html").read_bytes()
    assert "食品经营许可".encode("gb18030") in legacy and b"charset=gb2312" in legacy


def test_an_item_is_called_unpublished_only_when_every_page_was_read(
    small_portal: Path, tmp_path: Path
) -> None:
    listed = tmp_path / "list.jsonl"
    rows = [{"item_code": code, "name": "事项", "department_code": "D1", "region_code": "390102"}
            for code in ("X1", "X9")]  # fmt: skip
    listed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    with PortalServer(small_portal) as server:
        read_all = crawl(_fast(server), tmp_path / "a", merge=load_merge(listed))
    guides = {
        r["item_code"]: r["guide"]
        for r in map(json.loads, (tmp_path / "a" / "catalog.jsonl").read_text().splitlines())
    }
    assert guides["X9"] == {"published": False} and guides["X1"]["published"] is True
    assert (read_all.written.unpublished, read_all.written.unread) == (1, 0)
    broken = {"/table/index.html": Behaviour(status=500)}
    with PortalServer(small_portal, behaviours=broken) as server:
        unread = crawl(_fast(server, retries=0), tmp_path / "b", merge=load_merge(listed))
    assert (unread.items, unread.written.unpublished, unread.written.unread) == (0, 0, 2)
