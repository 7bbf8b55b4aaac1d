"""The vocabulary both national layouts map with: code values, events, column groups.

``docs/national-tables.md`` documents every mapping here. Values are passed on as given
unless a mapping below translates them; the importer validates the result.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from govwatch.events.national_tables import Row

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
    ctx: Context,
    table: str,
    kind: str,
    row: Row,
    case_col: str,
    at: str,
    key: str = "",
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


_CHANNELS = {
    "窗口": "1",
    "大厅": "1",
    "现场": "1",
    "窗口办理": "1",
    "线下": "1",
    "网上": "2",
    "网办": "2",
    "网上申报": "2",
    "网上办理": "2",
    "电脑端": "2",
    "PC端": "2",
    "PC": "2",
    "网站": "2",
    "电脑端网办": "2",
    "移动端": "3",
    "手机": "3",
    "APP": "3",
    "移动端APP": "3",
    "小程序": "3",
    "微信": "3",
    "快递": "4",
    "邮寄": "4",
    "其他": "9",
}
_APPLICANT_TYPES = {
    "自然人": "1",
    "个人": "1",
    "企业法人": "2",
    "企业": "2",
    "法人": "2",
    "事业法人": "3",
    "事业单位": "3",
    "社会组织法人": "4",
    "社会组织": "4",
    "行政机关": "5",
    "其他组织": "6",
}
RATING_CHANNELS = {
    "1": "PC端",
    "2": "移动端",
    "3": "二维码",
    "4": "大厅平板",
    "5": "大厅其他终端",
    "6": "电话",
    "7": "短信",
    "pc端": "PC端",
    "pc": "PC端",
    "政务大厅平板电脑": "大厅平板",
    "政务大厅其他终端": "大厅其他终端",
}
LEVELS = {"非常满意": "1", "满意": "2", "基本满意": "3", "不满意": "4", "非常不满意": "5"}
ACTIONS = {"通过": "pass", "同意": "pass", "退回": "return", "回退": "return", "其他": "other"}
_PROCEDURE_KINDS = {"A": "1", "B": "2", "延长审批": "1", "其他": "2"}
_UNITS = {"工作日": "W", "G": "W", "自然日": "N", "Z": "N", "日": "N", "天": "N"}
CASE_KINDS = {"即办件": "1", "承诺件": "2"}
_YES = {"1", "是", "Y", "YES", "TRUE", "T"}
PROCEDURE_TYPES = (
    "听证",
    "招标",
    "拍卖",
    "检验",
    "检测",
    "检疫",
    "鉴定",
    "专家评审",
    "实地核查",
    "其他",
)
_LIST_SPLIT = re.compile(r"[;；,，、\n]+")


def code(value: str, mapping: Mapping[str, str]) -> str:
    """Translate a code value given as text; codes and unknown values pass unchanged."""
    if value in mapping:
        return mapping[value]
    return mapping.get(value.upper(), mapping.get(value.lower(), value))


def channel(value: str) -> str:
    return code(value, _CHANNELS)


def applicant_type(value: str) -> str:
    return code(value, _APPLICANT_TYPES)


def procedure_kind(value: str) -> str:
    return code(value, _PROCEDURE_KINDS)


def limit_unit(value: str) -> str:
    return code(value, _UNITS)


def is_yes(value: str) -> bool:
    return value.strip().upper() in _YES


def number(value: str) -> object:
    """An int or float when the text is one, else the text itself for the importer to reject."""
    text = value.replace(",", "").strip()
    try:
        as_float = float(text)
    except ValueError:
        return value or None
    return int(as_float) if re.fullmatch(r"-?\d+", text) else as_float


def money(value: str) -> object:
    """Yuan as a float (the standard writes two decimals); other text passes for the importer."""
    text = value.replace(",", "").strip()
    try:
        return float(text)
    except ValueError:
        return value or None


def name_list(value: str) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(value) if part.strip()]


def material_of(row: Row) -> dict[str, object]:
    """One 申请材料 row; a listed material counts as provided unless 是否收取 says not."""
    return {"name": row.get("材料名称", ""), "provided": is_yes(row.get("是否收取", "") or "1")}


def list_materials(row: Row) -> list[dict[str, object]]:
    """Materials listed in one cell (申请材料: names separated by ；or 、), all provided."""
    return [{"name": n, "provided": True} for n in name_list(row.get("申请材料", ""))]
