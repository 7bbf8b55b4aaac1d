"""National table exports: GB/T 39046-2020 tables and the legacy ``SBLSH`` layout as events.

Existing platforms export cases as the GB/T 39046 tables (办事申请, 事项受理, 事项办理, 事项办结,
政务服务绩效评价, 支付, and the 申请材料 sub-table) or in the legacy provincial exchange layout
keyed by ``SBLSH`` (see ``legacy.py``). :func:`iter_national` turns a set of such table files
into canonical event dicts (spec/data.md §2) for the importer; :func:`detect_layout` tells the
importer which files are national tables. ``docs/national-tables.md`` is the field-by-field map.

A file's table is recognised by its header (the standard's Chinese column names), falling back
to its file or sheet name. Each *group* of columns (申请, 受理, 环节, 特别程序, 办结, 支付, 评价)
present in the header yields its events when its time column is filled, so a wide export with
several groups per row works as well as one table per file. The file's first group is its
*primary* one: a row that yields nothing from it still comes out, as a record of the primary
kind without ``occurred_at``, so that the importer quarantines it with file and row number.
Values are passed on as given (times stay ``YYYYMMDDhhmmss`` strings); only code values with a
documented mapping are translated. Validation is the importer's job.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from govwatch.events.national_tables import (
    ACTIONS,
    CASE_KINDS,
    LEVELS,
    PROCEDURE_TYPES,
    RATING_CHANNELS,
    TABLE_SUFFIXES,
    Row,
    Table,
    applicant_type,
    channel,
    clean_text,
    code,
    is_yes,
    limit_unit,
    list_materials,
    material_of,
    money,
    number,
    procedure_kind,
    read_tables,
)

NationalRecord = tuple[str, int, dict[str, object]]
Layout = Literal["gbt39046", "legacy"]
Event = dict[str, object]


@dataclass(frozen=True)
class Group:
    """A set of columns that together describe one or two kinds of event."""

    name: str  # the table it comes from in the standard, also part of the event id
    primary_kind: str
    triggers: tuple[str, ...]  # any of these columns in a header means the group is present
    emit: Callable[[Row, Context], list[Event]]
    # Time columns: outside its primary group, a row with none of them filled yields nothing.
    times: tuple[str, ...] = ()


@dataclass(frozen=True)
class Export:
    """What the tables of one export tell about each other (see :func:`export_of`)."""

    materials: Mapping[str, list[dict[str, object]]]  # 申请材料 rows by case
    paid_cases: frozenset[str]  # cases with a 支付 row
    applied_cases: frozenset[str]  # cases with a 办事申请 row


NO_EXPORT = Export({}, frozenset(), frozenset())


@dataclass(frozen=True)
class Context:
    layout: Layout
    export: Export = NO_EXPORT


def event_id(layout: str, table: str, kind: str, case_id: str, at: str, key: str = "") -> str:
    """A deterministic id, so that importing the same export again changes nothing."""
    text = "\x1f".join((layout, table, kind, case_id, at, key))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_event(
    ctx: Context, table: str, kind: str, row: Row, case_col: str, at: str, key: str = "",
    **fields: object,
) -> Event:
    """A canonical event; empty values are left out so that a missing field stays missing."""
    case_id = row.get(case_col, "")
    event: Event = {"event_id": event_id(ctx.layout, table, kind, case_id, at, key)}
    if case_id:
        event["case_id"] = case_id
    event["kind"] = kind
    if at:
        event["occurred_at"] = at
    for name, value in fields.items():
        if value is not None and value != "" and value != []:
            event[name] = value
    return event


# ---- GB/T 39046 tables ----

CASE = "办件编号"


def _apply(row: Row, ctx: Context) -> list[Event]:
    case_id = row.get(CASE, "")
    materials = ctx.export.materials.get(case_id) or list_materials(row)
    return [make_event(
        ctx, "办事申请", "apply", row, CASE, row.get("申请时间", ""),
        item_code=row.get("实施编码"),
        applicant_type=applicant_type(row.get("申请者类型", "")),
        applicant_name=row.get("申请者名称"),
        applicant_id_type=row.get("申请者证件类型"),
        applicant_id=row.get("申请者证件号码"),
        phone=row.get("手机"),
        channel=channel(row.get("申报来源", "")),
        materials=materials,
    )]


def _accept(row: Row, ctx: Context) -> list[Event]:
    return [make_event(
        ctx, "事项受理", "accept", row, CASE, row.get("受理时间", ""),
        item_code=row.get("实施编码"),
        org_code=row.get("受理单位代码") or row.get("受理单位"),
        actor=row.get("受理人员"),
        case_kind=code(row.get("办件类型", ""), CASE_KINDS),
        promised_finish_at=row.get("承诺办结时间"),
    )]


def _step(row: Row, ctx: Context) -> list[Event]:
    step, actor = row.get("环节名称"), row.get("环节处理人")
    start, end = row.get("环节开始时间", ""), row.get("环节结束时间", "")
    state = row.get("环节办理状态", "")
    events: list[Event] = []
    if start:
        events.append(make_event(ctx, "事项办理", "step_start", row, CASE, start, step or "",
                                 item_code=row.get("实施编码"), step=step, actor=actor))
    # 环节办理状态 1 待办: the step is still open, an end time is not an end.
    if (end and state != "1") or (state == "2" and not end):
        events.append(make_event(
            ctx, "事项办理", "step_end", row, CASE, end, step or "",
            item_code=row.get("实施编码"), step=step, actor=actor,
            action=code(row.get("业务动作", ""), ACTIONS), opinion=row.get("处理意见"),
        ))
    return events


def _special(row: Row, ctx: Context) -> list[Event]:
    start, end = row.get("特别程序开始时间", ""), row.get("特别程序结束时间", "")
    kind = procedure_kind(row.get("特别程序种类", ""))
    events: list[Event] = []
    if start:
        name = row.get("特别程序名称", "") or row.get("特别程序类型", "")
        events.append(make_event(
            ctx, "特别程序", "special_start", row, CASE, start, kind,
            item_code=row.get("实施编码"), procedure_kind=kind,
            procedure_type=name if name in PROCEDURE_TYPES else ("其他" if kind == "2" else None),
            reason=row.get("启动理由或依据"),
            limit=number(row.get("特别程序时限", "")),
            limit_unit=limit_unit(row.get("特别程序时限单位", "")),
            approved_by=row.get("批准人") or row.get("特别程序批准人"),
        ))
    if end:
        events.append(make_event(ctx, "特别程序", "special_end", row, CASE, end, kind,
                                 item_code=row.get("实施编码"), result=row.get("特别程序结果")))
    return events


def finish_result(given: str, license_no: str, description: str) -> str:
    """事项办结 has no result code: 证照编号 → 0 出证办结, 不予… → 7 不予许可, else 6 准予."""
    if given:
        return given
    if license_no:
        return "0"
    return "7" if "不予" in description else "6"


def _finish(row: Row, ctx: Context) -> list[Event]:
    at, license_no = row.get("办结时间", ""), row.get("结果证照编号", "")
    description = row.get("办件结果描述", "")
    events = [make_event(
        ctx, "事项办结", "finish", row, CASE, at,
        item_code=row.get("实施编码"), actor=row.get("办理人"),
        result=finish_result(row.get("办结结果", ""), license_no, description),
        reason=description, legal_basis=row.get("法律依据"), license_no=license_no,
    )]
    case_id = row.get(CASE, "")
    if at and is_yes(row.get("是否收费", "")) and case_id not in ctx.export.paid_cases:
        # A fee was charged but no 支付 row says how much: a payment without an amount.
        events.append(make_event(ctx, "事项办结", "payment", row, CASE, at, "是否收费",
                                 item_code=row.get("实施编码")))
    return events


def _payment(row: Row, ctx: Context) -> list[Event]:
    at = row.get("收费时间", "") or row.get("办结时间", "")
    return [make_event(
        ctx, "支付", "payment", row, CASE, at, row.get("缴款单号", "") or row.get("收费金额", ""),
        item_code=row.get("实施编码"), org_code=row.get("收费单位"),
        amount=money(row.get("收费金额", "")), fee_item=row.get("收费项目名称"),
        quantity=number(row.get("数量", "")),
    )]


def _rating(row: Row, ctx: Context) -> list[Event]:
    return [make_event(
        ctx, "政务服务绩效评价", "rating", row, CASE, row.get("评价时间", ""),
        item_code=row.get("实施编码"),
        level=code(row.get("满意度", ""), LEVELS),
        channel=code(row.get("评价渠道", ""), RATING_CHANNELS),
        text=row.get("文字评价"),
    )]


GBT_GROUPS: tuple[Group, ...] = (
    Group("办事申请", "apply", ("申请时间", "申报来源"), _apply, ("申请时间",)),
    Group("事项受理", "accept", ("受理时间", "受理文书编号"), _accept, ("受理时间",)),
    Group("事项办理", "step_start", ("环节名称", "环节开始时间", "环节结束时间", "业务动作"), _step,
          ("环节开始时间", "环节结束时间")),
    Group("特别程序", "special_start", ("特别程序种类", "特别程序开始时间", "特别程序结束时间"),
          _special, ("特别程序开始时间", "特别程序结束时间")),
    Group("事项办结", "finish", ("办结时间",), _finish, ("办结时间",)),
    Group("支付", "payment", ("缴款单号", "收费金额", "收费时间"), _payment,
          ("收费时间", "收费金额")),
    Group("政务服务绩效评价", "rating", ("满意度", "评价时间", "评价渠道"), _rating,
          ("评价时间", "满意度")),
)
MATERIAL_TRIGGERS = ("材料名称",)

# Table names by file or sheet name, for headers that do not say which table they are.
GBT_NAMES: dict[str, str] = {
    "办事申请": "办事申请", "bssq": "办事申请", "banshi_shenqing": "办事申请",
    "事项受理": "事项受理", "sxsl": "事项受理", "shixiang_shouli": "事项受理",
    "事项办理": "事项办理", "sxbl": "事项办理", "shixiang_banli": "事项办理",
    "特别程序": "特别程序", "tbcx": "特别程序", "tebie_chengxu": "特别程序",
    "事项办结": "事项办结", "sxbj": "事项办结", "shixiang_banjie": "事项办结",
    "支付": "支付", "zf": "支付", "zhifu": "支付",
    "政务服务绩效评价": "政务服务绩效评价", "服务评价": "政务服务绩效评价",
    "好差评": "政务服务绩效评价", "zwfwjxpj": "政务服务绩效评价", "fwpj": "政务服务绩效评价",
    "haochaping": "政务服务绩效评价",
    "申请材料": "申请材料", "办件材料": "申请材料", "sqcl": "申请材料",
    "shenqing_cailiao": "申请材料",
}


def groups_of(table: Table, groups: Sequence[Group], names: Mapping[str, str]) -> list[Group]:
    """The groups a table holds, by header; by its file or sheet name when the header is silent."""
    found = [g for g in groups if any(t in table.columns for t in g.triggers)]
    if found:
        return found
    named = names.get(table.name) or names.get(table.name.lower())
    return [g for g in groups if g.name == named]


def is_materials(table: Table) -> bool:
    if any(t in table.columns for t in MATERIAL_TRIGGERS):
        return not any(t in table.columns for t in GBT_GROUPS[0].triggers)
    return GBT_NAMES.get(table.name, GBT_NAMES.get(table.name.lower())) == "申请材料"


def table_layout(table: Table) -> Layout | None:
    from govwatch.events import legacy

    if "kind" in table.columns:  # a canonical event file that happens to use aliases
        return None
    if legacy.is_legacy(table):
        return "legacy"
    if is_materials(table) or groups_of(table, GBT_GROUPS, GBT_NAMES):
        return "gbt39046"
    return None


def detect_layout(path: Path) -> Layout | None:
    """``gbt39046`` or ``legacy`` when the file (any sheet of it) is a national table, else None."""
    for table in read_tables(Path(path), header_only=True):
        layout = table_layout(table)
        if layout is not None:
            return layout
    return None


def export_of(paths: Sequence[Path]) -> Export:
    """The export the files belong to: every national table in their directories.

    National exports come as a directory of tables, and the importer may hand them over one
    file at a time; reading the siblings lets 办事申请 carry its 申请材料 rows and 事项办结 know
    whether 支付 already has the payment, whichever way the files arrive.
    """
    files = set(paths)
    for directory in {p.parent for p in paths}:
        if directory.is_dir():
            files.update(f for f in directory.iterdir()
                         if f.is_file() and f.suffix.lower() in TABLE_SUFFIXES)
    stamps = []
    for f in sorted(files):
        stat = f.stat()
        stamps.append((str(f), stat.st_mtime_ns, stat.st_size))
    return _read_export(tuple(stamps))


@functools.lru_cache(maxsize=2)
def _read_export(stamps: tuple[tuple[str, int, int], ...]) -> Export:
    materials: dict[str, list[dict[str, object]]] = {}
    paid: set[str] = set()
    applied: set[str] = set()
    for name, _, _ in stamps:
        for table in read_tables(Path(name)):
            if table_layout(table) != "gbt39046":
                continue
            names = {g.name for g in groups_of(table, GBT_GROUPS, GBT_NAMES)}
            listing = is_materials(table) or "材料名称" in table.columns
            if not (listing or names & {"支付", "办事申请"}):
                continue
            for _, row in table.rows:
                case_id = row.get(CASE, "")
                if not case_id:
                    continue
                if "支付" in names:
                    paid.add(case_id)
                if "办事申请" in names:
                    applied.add(case_id)
                if listing and row.get("材料名称"):
                    materials.setdefault(case_id, []).append(material_of(row))
    return Export(materials, frozenset(paid), frozenset(applied))


def iter_national(paths: Sequence[Path]) -> Iterator[NationalRecord]:
    """Canonical event records ``(source, line, record)`` from national table files.

    Files that are not national tables are skipped (the importer reads them as canonical
    events). Each data row yields at least one record; see the module docstring.
    """
    from govwatch.events import legacy

    files = [Path(p) for p in paths]
    gbt = Context("gbt39046", export_of(files))
    leg = Context("legacy")
    for path in files:
        for table in read_tables(path):
            layout = table_layout(table)
            if layout == "legacy":
                yield from _emit(table, legacy.groups_of_legacy(table), leg, legacy.CASE)
            elif layout == "gbt39046" and is_materials(table):
                yield from _orphans(table, gbt)
            elif layout == "gbt39046":
                yield from _emit(table, groups_of(table, GBT_GROUPS, GBT_NAMES), gbt, CASE)


def _orphans(table: Table, ctx: Context) -> Iterator[NationalRecord]:
    """Materials of an application that is not in the export: flagged, not dropped."""
    seen: set[str] = set()
    for line, row in table.rows:
        case_id = row.get(CASE, "")
        if case_id in ctx.export.applied_cases or case_id in seen:
            continue
        seen.add(case_id)
        materials = ctx.export.materials.get(case_id) or [material_of(row)]
        yield table.source, line, make_event(ctx, "办事申请", "apply", row, CASE, "", f"row {line}",
                                             materials=materials)


def _emit(
    table: Table, groups: list[Group], ctx: Context, case_col: str
) -> Iterator[NationalRecord]:
    if not groups:
        return
    primary = groups[0]
    for line, row in table.rows:
        if not any(row.values()):
            continue
        produced = False
        for group in groups:
            if group is not primary and not any(row.get(t) for t in group.times):
                continue
            for event in group.emit(row, ctx):
                produced = True
                yield table.source, line, event
        if not produced:
            yield table.source, line, make_event(ctx, primary.name, primary.primary_kind, row,
                                                 case_col, "", f"row {line}")


__all__ = ["NationalRecord", "clean_text", "detect_layout", "iter_national"]
