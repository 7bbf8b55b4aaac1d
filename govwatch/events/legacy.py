"""The legacy provincial exchange layout keyed by ``SBLSH`` (申办流水号), as canonical events.

Legacy exchanges send one table per business stage (申办, 受理, 审批过程, 补正告知, 特别程序,
办结), each row carrying ``SBLSH`` and ``SXBM``, or one wide table (``BUSINESS_INDEX``-style)
with several stages per row. Both are handled the same way: each stage's columns form a group
(see ``national.py``) that yields its events when its time column is filled. Column names are
matched case-insensitively. ``docs/national-tables.md`` has the field-by-field map.
"""

from __future__ import annotations

from govwatch.events.national_codes import (
    PROCEDURE_TYPES,
    Context,
    Event,
    Group,
    applicant_type,
    channel,
    limit_unit,
    make_event,
    money,
    name_list,
    number,
    procedure_kind,
)
from govwatch.events.national_tables import Row, Table

CASE = "SBLSH"


def _time(row: Row, *names: str) -> str:
    return next((row[n] for n in names if row.get(n)), "")


def _apply(row: Row, ctx: Context) -> list[Event]:
    return [
        make_event(
            ctx,
            "申办",
            "apply",
            row,
            CASE,
            row.get("SBSJ", ""),
            item_code=row.get("SXBM"),
            applicant_type=applicant_type(row.get("SQRLX", "")),
            applicant_name=row.get("SQRMC"),
            applicant_id_type=row.get("SQRZJLX"),
            applicant_id=row.get("SQRZJHM"),
            phone=row.get("LXRSJ"),
            channel=channel(row.get("WSSBQD", "")),
        )
    ]


def _accept(row: Row, ctx: Context) -> list[Event]:
    return [
        make_event(
            ctx,
            "受理",
            "accept",
            row,
            CASE,
            _time(row, "YWSLSJ", "SLSJ"),
            item_code=row.get("SXBM"),
            org_code=row.get("SLDWDM") or row.get("SJDWDM"),
            actor=row.get("SLRXM"),
        )
    ]


def _step(row: Row, ctx: Context) -> list[Event]:
    # 审批过程 records when a step was done (SPSJ), not when it began, nor with what action.
    step = row.get("SPHJMC") or row.get("SPHJDM")
    return [
        make_event(
            ctx,
            "审批过程",
            "step_end",
            row,
            CASE,
            row.get("SPSJ", ""),
            step or "",
            item_code=row.get("SXBM"),
            step=step,
            actor=row.get("SPRXM"),
            opinion=row.get("SPYJ"),
        )
    ]


def _supplement(row: Row, ctx: Context) -> list[Event]:
    events = [
        make_event(
            ctx,
            "补正告知",
            "supplement_request",
            row,
            CASE,
            row.get("BZGZSJ", ""),
            item_code=row.get("SXBM"),
            reason=row.get("BZGZYY"),
            materials=name_list(row.get("BZCLQD", "")),
        )
    ]
    if row.get("BZSLSJ"):  # 补正受理时间, where the exchange has it: the clock resumes
        events.append(
            make_event(
                ctx,
                "补正告知",
                "supplement_received",
                row,
                CASE,
                row["BZSLSJ"],
                item_code=row.get("SXBM"),
                materials=name_list(row.get("BZCLQD", "")),
            )
        )
    return events


def _special(row: Row, ctx: Context) -> list[Event]:
    kind = procedure_kind(row.get("TBCXZL", ""))
    start, end = row.get("TBCXKSRQ", ""), row.get("TBCXJSRQ", "")
    events: list[Event] = []
    if start:
        name = row.get("TBCXZLMC", "")
        events.append(
            make_event(
                ctx,
                "特别程序",
                "special_start",
                row,
                CASE,
                start,
                kind,
                item_code=row.get("SXBM"),
                procedure_kind=kind,
                procedure_type=name
                if name in PROCEDURE_TYPES
                else ("其他" if kind == "2" else None),
                reason=row.get("TBCXQDLY"),
                approved_by=row.get("TBCXPZR"),
                limit=number(row.get("TBCXSX", "")),
                limit_unit=limit_unit(row.get("TBCXSXDW", "")),
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
                item_code=row.get("SXBM"),
                result=row.get("TBCXJG"),
            )
        )
    return events


def _finish(row: Row, ctx: Context) -> list[Event]:
    at = row.get("BJSJ", "")
    events = [
        make_event(
            ctx,
            "办结",
            "finish",
            row,
            CASE,
            at,
            item_code=row.get("SXBM"),
            result=row.get("BJJGDM"),
            reason=row.get("BJJGMS"),
            license_no=row.get("ZJBH"),
        )
    ]
    fee = money(row.get("SFJE", ""))
    if fee is not None and not (isinstance(fee, float) and fee <= 0):
        events.append(
            make_event(
                ctx, "办结", "payment", row, CASE, at, "SFJE", item_code=row.get("SXBM"), amount=fee
            )
        )
    return events


LEGACY_GROUPS: tuple[Group, ...] = (
    Group("申办", "apply", ("SBSJ", "SQRMC", "WSSBQD"), _apply, ("SBSJ",)),
    Group("受理", "accept", ("YWSLSJ", "SLSJ"), _accept, ("YWSLSJ", "SLSJ")),
    Group("审批过程", "step_end", ("SPSJ", "SPHJMC", "SPHJDM"), _step, ("SPSJ",)),
    Group("补正告知", "supplement_request", ("BZGZSJ", "BZCLQD"), _supplement, ("BZGZSJ",)),
    Group(
        "特别程序",
        "special_start",
        ("TBCXZL", "TBCXKSRQ", "TBCXJSRQ"),
        _special,
        ("TBCXKSRQ", "TBCXJSRQ"),
    ),
    Group("办结", "finish", ("BJSJ", "BJJGDM"), _finish, ("BJSJ",)),
)


def is_legacy(table: Table) -> bool:
    """A legacy table names its case ``SBLSH`` and has the columns of at least one stage."""
    return CASE in table.columns and bool(groups_of_legacy(table))


def groups_of_legacy(table: Table) -> list[Group]:
    return [g for g in LEGACY_GROUPS if any(t in table.columns for t in g.triggers)]
