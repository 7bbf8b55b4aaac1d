"""The canonical event fields of spec/data.md §2, their aliases, kinds and code sets.

One table drives parsing, validation and storage: each :class:`Field` names its canonical
spec name, the ``events`` column it lands in, its type and the aliases the importer accepts
(case-insensitively).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "int", "float", "decimal", "timestamp", "json"]


@dataclass(frozen=True)
class Field:
    name: str
    column: str
    type: FieldType = "text"
    aliases: tuple[str, ...] = ()
    max_length: int | None = None


# Order is the column order of the ``events`` table (after event_id .. kind_order).
FIELDS: tuple[Field, ...] = (
    Field("event_id", "event_id", max_length=64),
    Field(
        "case_id",
        "case_id",
        aliases=("SBLSH", "SBLSH_SHORT", "办件编号", "申办流水号"),
        max_length=50,
    ),
    Field("item_code", "item_code", aliases=("SXBM",)),
    Field("kind", "kind"),
    Field("occurred_at", "occurred_at", "timestamp", aliases=("时间",)),
    Field("actor", "actor"),
    Field("org_code", "org_code"),
    Field("applicant_type", "applicant_type"),
    Field("applicant_name", "applicant_name"),
    Field("applicant_id_type", "applicant_id_type"),
    Field("applicant_id", "applicant_id"),
    Field("phone", "phone"),
    Field("channel", "channel"),
    Field("materials", "materials", "json"),
    Field("case_kind", "case_kind"),
    Field("promised_finish_at", "promised_finish_at", "timestamp"),
    Field("reason", "reason"),
    Field("legal_basis", "legal_basis"),
    Field("step", "step"),
    Field("action", "action"),
    Field("opinion", "opinion"),
    Field("procedure_kind", "procedure_kind"),
    Field("procedure_type", "procedure_type"),
    Field("limit", "limit_days", "int"),
    Field("limit_unit", "limit_unit"),
    Field("approved_by", "approved_by"),
    Field("result", "result"),
    Field("license_no", "license_no"),
    Field("tier", "tier"),
    Field("decided_value", "decided_value", "float"),
    Field("amount", "amount", "decimal"),
    Field("fee_item", "fee_item"),
    Field("quantity", "quantity", "float"),
    Field("level", "level"),
    Field("text", "text"),
    Field("field", "field"),
    Field("old", "old_value"),
    Field("new", "new_value"),
    Field("handler", "handler"),
    Field("relation", "relation"),
)

# Kinds in their natural order within one instant: the tie-break after occurred_at.
KINDS: tuple[str, ...] = (
    "apply",
    "accept",
    "reject",
    "supplement_request",
    "supplement_received",
    "step_start",
    "step_end",
    "special_start",
    "special_end",
    "suspend",
    "resume",
    "payment",
    "finish",
    "terminate",
    "rating",
    "correction",
    "relation",
)
KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}

# Code sets (spec/data.md). A value outside its set makes the record malformed.
APPLICANT_TYPES = ("1", "2", "3", "4", "5", "6")
CHANNELS = ("1", "2", "3", "4", "9")
RATING_LEVELS = ("1", "2", "3", "4", "5")
RATING_CHANNELS = ("PC端", "移动端", "二维码", "大厅平板", "大厅其他终端", "电话", "短信")
RESULTS = ("0", "1", "2", "3", "4", "5", "6", "7")
CASE_KINDS = ("1", "2")
ACTIONS = ("pass", "return", "other")
PROCEDURE_KINDS = ("1", "2")
UNITS = ("W", "N")


@dataclass(frozen=True)
class CodeCheck:
    """``field`` must be one of ``codes`` when present on an event of one of ``kinds``."""

    field: str
    codes: tuple[str, ...]
    label: str
    kinds: tuple[str, ...] = ()


CODE_CHECKS: tuple[CodeCheck, ...] = (
    CodeCheck("applicant_type", APPLICANT_TYPES, "申请者类型（A.4）", ("apply",)),
    CodeCheck("channel", CHANNELS, "办理形式（A.5）", ("apply",)),
    CodeCheck("case_kind", CASE_KINDS, "办件类型（1 即办件 / 2 承诺件）"),
    CodeCheck("action", ACTIONS, "业务动作（pass / return / other）"),
    CodeCheck("procedure_kind", PROCEDURE_KINDS, "特别程序种类（1 延长审批 / 2 其他）"),
    CodeCheck("limit_unit", UNITS, "时限单位（W 工作日 / N 自然日）"),
    CodeCheck("result", RESULTS, "办结结果（0–7）", ("finish",)),
    CodeCheck("level", RATING_LEVELS, "满意度（A.8，1–5）", ("rating",)),
    CodeCheck("channel", RATING_CHANNELS, "评价渠道", ("rating",)),
)

# Canonical names and aliases, lower-cased, to the canonical name.
ALIASES: dict[str, str] = {}
for _f in FIELDS:
    ALIASES[_f.name.lower()] = _f.name
    for _a in _f.aliases:
        ALIASES[_a.lower()] = _f.name


def naming_keys(keys: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Which of a record's keys name each field, in the order the importer chooses among them.

    Returns (canonical field -> its keys, canonical name first, then the aliases in order of
    their text; keys naming no field). A blank or unprintable key names nothing and is in
    neither; a key holding a double quote cannot be a JSON path and counts as unknown. The
    importer's extraction (:mod:`govwatch.events.ingest`) takes, for each field, the first of
    these keys whose value is not blank; the HTTP API's scope check reads records by the same
    rule, so that it judges the values that will be stored.
    """
    by_field: dict[str, list[str]] = {}
    unknown: list[str] = []
    for key in keys:
        if not key.strip() or not key.isprintable():
            continue  # a blank or unprintable key names nothing; the raw text keeps it
        canonical = ALIASES.get(key.strip().lower())
        if canonical is None or '"' in key:
            unknown.append(key)
            continue
        by_field.setdefault(canonical, []).append(key)
    ordered = {
        name: [k for k in named if k == name] + sorted(k for k in named if k != name)
        for name, named in by_field.items()
    }
    return ordered, unknown
