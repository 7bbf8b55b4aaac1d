"""GB/T 39046-2020 tables as canonical events.

The tables: 办事申请 (with its 申请材料 sub-table), 事项受理, 事项办理 (with 特别程序), 事项办结,
政务服务绩效评价 and 支付.

Each table's columns form a :class:`~govwatch.events.national_codes.Group`; ``national.py``
decides which groups a file holds and runs them row by row. ``docs/national-tables.md`` has
the field-by-field map and the decisions where the standard is silent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from govwatch.events.national_codes import (
    ACTIONS,
    CASE_KINDS,
    LEVELS,
    PROCEDURE_TYPES,
    RATING_CHANNELS,
    Context,
    Event,
    Group,
    applicant_type,
    channel,
    code,
    is_yes,
    limit_unit,
    list_materials,
    make_event,
    money,
    number,
    procedure_kind,
)
from govwatch.events.national_tables import Row, Table

CASE = "办件编号"


def _apply(row: Row, ctx: Context) -> list[Event]:
    case_id = row.get(CASE, "")
    materials = ctx.export.materials.get(case_id) or list_materials(row)
    return [
        make_event(
            ctx,
            "办事申请",
            "apply",
            row,
            CASE,
            row.get("申请时间", ""),
            item_code=row.get("实施编码"),
            applicant_type=applicant_type(row.get("申请者类型", "")),
            applicant_name=row.get("申请者名称"),
            applicant_id_type=row.get("申请者证件类型"),
            applicant_id=row.get("申请者证件号码"),
            phone=row.get("手机"),
            channel=channel(row.get("申报来源", "")),
            materials=materials,
        )
    ]


def _accept(row: Row, ctx: Context) -> list[Event]:
    return [
        make_event(
            ctx,
            "事项受理",
            "accept",
            row,
            CASE,
            row.get("受理时间", ""),
            item_code=row.get("实施编码"),
            org_code=row.get("受理单位代码") or row.get("受理单位"),
            actor=row.get("受理人员"),
            case_kind=code(row.get("办件类型", ""), CASE_KINDS),
            promised_finish_at=row.get("承诺办结时间"),
        )
    ]


def _step(row: Row, ctx: Context) -> list[Event]:
    step, actor = row.get("环节名称"), row.get("环节处理人")
    start, end = row.get("环节开始时间", ""), row.get("环节结束时间", "")
    state = row.get("环节办理状态", "")
    events: list[Event] = []
    if start:
        events.append(
            make_event(
                ctx,
                "事项办理",
                "step_start",
                row,
                CASE,
                start,
                step or "",
                item_code=row.get("实施编码"),
                step=step,
                actor=actor,
            )
        )
    # 环节办理状态 1 待办: the step is still open, an end time is not an end.
    if (end and state != "1") or (state == "2" and not end):
        events.append(
            make_event(
                ctx,
                "事项办理",
                "step_end",
                row,
                CASE,
                end,
                step or "",
                item_code=row.get("实施编码"),
                step=step,
                actor=actor,
                action=code(row.get("业务动作", ""), ACTIONS),
                opinion=row.get("处理意见"),
            )
        )
    return events


def _special(row: Row, ctx: Context) -> list[Event]:
    start, end = row.get("特别程序开始时间", ""), row.get("特别程序结束时间", "")
    kind = procedure_kind(row.get("特别程序种类", ""))
    events: list[Event] = []
    if start:
        name = row.get("特别程序名称", "") or row.get("特别程序类型", "")
        events.append(
            make_event(
                ctx,
                "特别程序",
                "special_start",
                row,
                CASE,
                start,
                kind,
                item_code=row.get("实施编码"),
                procedure_kind=kind,
                procedure_type=name
                if name in PROCEDURE_TYPES
                else ("其他" if kind == "2" else None),
                reason=row.get("启动理由或依据"),
                limit=number(row.get("特别程序时限", "")),
                limit_unit=limit_unit(row.get("特别程序时限单位", "")),
                approved_by=row.get("批准人") or row.get("特别程序批准人"),
            )
        )
    if end:
        events.append(
            make_event(
                ctx,
                "特别程序",
                "special_end",
                row,
                CASE,
                end,
                kind,
                item_code=row.get("实施编码"),
                result=row.get("特别程序结果"),
            )
        )
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
    events = [
        make_event(
            ctx,
            "事项办结",
            "finish",
            row,
            CASE,
            at,
            item_code=row.get("实施编码"),
            actor=row.get("办理人"),
            result=finish_result(row.get("办结结果", ""), license_no, description),
            reason=description,
            legal_basis=row.get("法律依据"),
            license_no=license_no,
        )
    ]
    case_id = row.get(CASE, "")
    if at and is_yes(row.get("是否收费", "")) and case_id not in ctx.export.paid_cases:
        # A fee was charged but no 支付 row says how much: a payment without an amount.
        events.append(
            make_event(
                ctx, "事项办结", "payment", row, CASE, at, "是否收费", item_code=row.get("实施编码")
            )
        )
    return events


def _payment(row: Row, ctx: Context) -> list[Event]:
    at = row.get("收费时间", "") or row.get("办结时间", "")
    return [
        make_event(
            ctx,
            "支付",
            "payment",
            row,
            CASE,
            at,
            row.get("缴款单号", "") or row.get("收费金额", ""),
            item_code=row.get("实施编码"),
            org_code=row.get("收费单位"),
            amount=money(row.get("收费金额", "")),
            fee_item=row.get("收费项目名称"),
            quantity=number(row.get("数量", "")),
        )
    ]


def _rating(row: Row, ctx: Context) -> list[Event]:
    return [
        make_event(
            ctx,
            "政务服务绩效评价",
            "rating",
            row,
            CASE,
            row.get("评价时间", ""),
            item_code=row.get("实施编码"),
            level=code(row.get("满意度", ""), LEVELS),
            channel=code(row.get("评价渠道", ""), RATING_CHANNELS),
            text=row.get("文字评价"),
        )
    ]


GBT_GROUPS: tuple[Group, ...] = (
    Group("办事申请", "apply", ("申请时间", "申报来源"), _apply, ("申请时间",)),
    Group("事项受理", "accept", ("受理时间", "受理文书编号"), _accept, ("受理时间",)),
    Group(
        "事项办理",
        "step_start",
        ("环节名称", "环节开始时间", "环节结束时间", "业务动作"),
        _step,
        ("环节开始时间", "环节结束时间"),
    ),
    Group(
        "特别程序",
        "special_start",
        ("特别程序种类", "特别程序开始时间", "特别程序结束时间"),
        _special,
        ("特别程序开始时间", "特别程序结束时间"),
    ),
    Group("事项办结", "finish", ("办结时间",), _finish, ("办结时间",)),
    Group(
        "支付", "payment", ("缴款单号", "收费金额", "收费时间"), _payment, ("收费时间", "收费金额")
    ),
    Group(
        "政务服务绩效评价",
        "rating",
        ("满意度", "评价时间", "评价渠道"),
        _rating,
        ("评价时间", "满意度"),
    ),
)
MATERIAL_TRIGGERS = ("材料名称",)

# Table names by file or sheet name, for headers that do not say which table they are.
GBT_NAMES: dict[str, str] = {
    "办事申请": "办事申请",
    "bssq": "办事申请",
    "banshi_shenqing": "办事申请",
    "事项受理": "事项受理",
    "sxsl": "事项受理",
    "shixiang_shouli": "事项受理",
    "事项办理": "事项办理",
    "sxbl": "事项办理",
    "shixiang_banli": "事项办理",
    "特别程序": "特别程序",
    "tbcx": "特别程序",
    "tebie_chengxu": "特别程序",
    "事项办结": "事项办结",
    "sxbj": "事项办结",
    "shixiang_banjie": "事项办结",
    "支付": "支付",
    "zf": "支付",
    "zhifu": "支付",
    "政务服务绩效评价": "政务服务绩效评价",
    "服务评价": "政务服务绩效评价",
    "好差评": "政务服务绩效评价",
    "zwfwjxpj": "政务服务绩效评价",
    "fwpj": "政务服务绩效评价",
    "haochaping": "政务服务绩效评价",
    "申请材料": "申请材料",
    "办件材料": "申请材料",
    "sqcl": "申请材料",
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
