"""``govwatch guides crawl``: read a portal's published service guides into a catalog fragment;
``govwatch guides portal``: render a catalog's guides as a portal to crawl (demonstrations, tests).

Registered in the ``guides`` group (:mod:`govwatch.cli.guides`). The work is
:func:`govwatch.guides.crawl.crawl` and :func:`govwatch.generator.portal.render_portal`; the
crawl command parses options, shows progress per stage (the list pages, the guide pages, the
download links) and prints the summary.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click
import orjson

from govwatch.cli.progress import Advance, activity, progress
from govwatch.errors import InputError
from govwatch.generator.portal import LAYOUTS, PER_PAGE, render_portal
from govwatch.guides.crawl import PORTALS_DIR, CrawlSummary, load_merge, load_portal
from govwatch.guides.crawl import crawl as crawl_portal

_STAGES = {
    "list": ("读取事项列表页", "页"),
    "guides": ("抓取办事指南", "页"),
    "links": ("检查下载链接", "个"),
}


class _StageBars:
    """One progress bar per stage, the previous one closed when the next begins."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._stage: str | None = None
        self._advance: Advance | None = None
        self._done = 0

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self._stage:
            self._stack.close()
            self._stage, self._done = stage, 0
            label, unit = _STAGES[stage]
            if total is None:
                self._stack.enter_context(activity(label))
                self._advance = None
            else:
                self._advance = self._stack.enter_context(progress(label, total=total, unit=unit))
        if self._advance is not None and done > self._done:
            self._advance(done - self._done)
        self._done = done

    def close(self) -> None:
        self._stack.close()


def _summary_lines(summary: CrawlSummary) -> list[str]:
    w = summary.written
    lines = [
        f"{'续抓' if summary.resumed else '抓取'}完成（第 {summary.run_id} 次），用时 "
        f"{summary.seconds:.1f} 秒，本次发出请求 {summary.requests} 个",
        f"页面：列表页 {summary.list_pages} 页，办事指南页 {summary.guide_pages} 页"
        f"（未变化 304：{summary.not_modified} 页，读取失败 {summary.failed_pages} 页）",
        f"事项：{summary.items} 个写入 {w.catalog}"
        + (f"（其中门户未公布 {w.unpublished} 个）" if w.unpublished else "")
        + (f"；实施清单中另有 {w.unread} 个因指南页未能读取而未写入" if w.unread else ""),
        f"下载链接：{summary.links} 个，失效 {summary.broken_links} 个，见 {w.links_report}",
        f"robots.txt 不允许而跳过：{summary.robots_skipped} 个",
        f"证据：{w.evidence_index}",
    ]
    return lines


@click.command("crawl")
@click.option(
    "--portal",
    "portal_path",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="门户配置文件（YAML：网址、列表页与翻页、各要素的选择器、抓取速率）",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="输出目录：事项目录片段 catalog.jsonl、链接报告 links.jsonl、证据 evidence/；中断后再次运行即续抓",
)
@click.option("--base-url", default=None, help="改用此网址作为门户根地址（覆盖配置中的 base_url）")
@click.option("--rate", type=float, default=None, help="每秒请求数上限（覆盖配置中的 rate）")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="实施清单（事项目录文件）：输出其记录并以门户上的办事指南替换 guide，便于一致性核查",
)
@click.option(
    "--screenshot/--no-screenshot",
    default=None,
    help="用 Chromium 为每个办事指南页截图存证（默认按配置，配置默认不截图）",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="摘要格式：table 为中文摘要（标准错误），json 为一行 JSON（标准输出）",
)
def crawl(
    portal_path: str,
    out_dir: str,
    base_url: str | None,
    rate: float | None,
    catalog_path: str | None,
    screenshot: bool | None,
    fmt: str,
) -> None:
    """抓取政务服务网上公布的办事指南：事项列表、办事指南页、表格及样表下载链接。

    遵守 robots.txt，按配置限速、超时重试、条件请求（ETag / Last-Modified）；每个页面的
    原始 HTML 连同 SHA-256 与抓取时间保存为证据。输出的事项目录片段可交给
    govwatch guides check --catalog 核查。中断（包括强行终止）后对同一输出目录再次运行即续抓，已抓取的页面不再请求。
    """
    config = load_portal(portal_path).with_overrides(
        base_url=base_url, rate=rate, screenshot=screenshot
    )
    merge = load_merge(Path(catalog_path)) if catalog_path else None
    bars = _StageBars()
    try:
        summary = crawl_portal(config, out_dir, merge=merge, progress=bars)
    finally:
        bars.close()
    if summary.items == 0 and summary.failed_pages + summary.robots_skipped > 0:
        raise InputError(
            f"门户“{config.name}”未读到任何办事指南：列表页或指南页读取失败 "
            f"{summary.failed_pages} 个、robots.txt 不允许 {summary.robots_skipped} 个；"
            f"详见 {summary.written.evidence_index}"
        )
    if fmt == "json":
        w = summary.written
        sys.stdout.write(
            orjson.dumps({
                "out": str(summary.out_dir), "run": summary.run_id, "resumed": summary.resumed,
                "requests": summary.requests, "list_pages": summary.list_pages,
                "guide_pages": summary.guide_pages, "not_modified": summary.not_modified,
                "failed_pages": summary.failed_pages, "items": summary.items,
                "unpublished": w.unpublished, "unread": w.unread, "links": summary.links,
                "broken_links": summary.broken_links, "robots_skipped": summary.robots_skipped,
                "seconds": round(summary.seconds, 3), "catalog": str(w.catalog),
                "links_report": str(w.links_report), "evidence": str(w.evidence_index),
            }).decode() + "\n"
        )  # fmt: skip
        return
    for line in _summary_lines(summary):
        click.echo(line, err=True)


@click.command("portal")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="事项目录文件（含办事指南 guide 对象，如 govwatch generate 写出的 catalog.jsonl）",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="门户目录：静态 HTML 页面、robots.txt 与表格下载文件",
)
@click.option(
    "--layout",
    "layouts",
    multiple=True,
    type=click.Choice(LAYOUTS),
    help="版式，可重复（默认全部）：table 表格版、dl 列表版、legacy 旧版（GB18030 编码）",
)
@click.option(
    "--per-page", type=int, default=PER_PAGE, show_default=True, help="每个列表页的事项数"
)
def portal(catalog_path: str, out_dir: str, layouts: tuple[str, ...], per_page: int) -> None:
    """按事项目录中的办事指南生成模拟的政务服务网门户（静态文件），供 guides crawl 抓取与演示。

    未公开的指南不列出；失效的下载链接（generate 注入的问题）不生成文件。
    """
    records = list(load_merge(Path(catalog_path)).records.values())
    summary = render_portal(records, out_dir, layouts=layouts or LAYOUTS, per_page=per_page)
    for layout, pages in summary.layouts.items():
        click.echo(
            f"{layout}：{len(pages.guides)} 个办事指南页、{len(pages.list_pages)} 个列表页，"
            f"首页 {pages.start}，抓取配置 {PORTALS_DIR / (layout + '.yaml')}",
            err=True,
        )
    click.echo(
        f"已写入 {summary.root}（下载文件 {len(summary.downloads)} 个）。用任一静态网站服务器发布该目录，"
        f"例如 python3 -m http.server --directory {summary.root} 8000，再运行 govwatch guides crawl "
        "--portal 抓取配置 --base-url http://127.0.0.1:8000/版式/ --out 输出目录",
        err=True,
    )
