"""The import's checks of a record: for each malformed record, the first field that is wrong
and a message saying what was expected, plus the SQL helpers the importer shares.

Two stages, so that no record can stop an import (spec/data.md §3: it is quarantined):

1. :func:`record_problem`, in Python, on each record's raw text: what makes it no record at
   all. orjson is the one parser that decides (the HTTP API's scope check judges what orjson
   reads, :mod:`govwatch.events.json_records`), so a text orjson refuses (``NaN``,
   ``Infinity``, ``1e400``, a trailing comma, invalid UTF-8) is malformed even where DuckDB's
   more lenient reader would take it; so are texts over :data:`MAX_RECORD_BYTES`, records
   with more than :data:`MAX_RECORD_KEYS` keys (each distinct key becomes work for the whole
   chunk) or nested deeper than :data:`MAX_DEPTH`, and control characters (NUL, which no
   PostgreSQL text column stores, and the others but tab and line ends) in any key or text.
2. :data:`CHECKS`, in SQL over the staged chunk (``_gw_x``'s ``f_*`` columns,
   ``occurred_ts``, ``promised_ts``): the fields, each against what its column holds on both
   engines: required fields, codes, timestamps between 1980 and 2100, every text no longer
   than its column (:data:`COLUMN_LENGTHS`, else :data:`TEXT_LIMIT`), numbers finite and
   within their column's range (``amount`` DECIMAL(14, 2), ``limit`` a number of days an
   INTEGER and the calendar arithmetic hold), ``materials`` a list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from govwatch.events.fields import ALIASES, CODE_CHECKS, FIELDS, KIND_ORDER, KINDS

# One record's raw text may not exceed 1 MiB (UTF-8), nor hold more keys than this (the spec
# has about forty fields; a 5,000-key record once exhausted an import's memory), nor nest
# deeper than orjson writes (the canonical event id serialises the record with orjson).
MAX_RECORD_BYTES = 1 << 20
MAX_RECORD_KEYS = 256
MAX_DEPTH = 254
# Distinct keys naming fields in one chunk (each spelling, ``case_id``, ``Case_ID``, ``SBLSH``,
# is a path read from every record): the importer quarantines records beyond them.
MAX_SPELLINGS = 128

# Declared lengths of the ``events`` columns (001_core.sql), enforced by PostgreSQL; a test
# compares them with the migrated schema. Every other text field: TEXT_LIMIT characters.
COLUMN_LENGTHS = {
    "event_id": 64,
    "case_id": 50,
    "applicant_type": 1,
    "case_kind": 1,
    "procedure_kind": 1,
    "limit_unit": 1,
    "level": 1,
}
TEXT_LIMIT = 4000
# Numbers: finite and within what the column and the rules' arithmetic hold.
AMOUNT_MAX = 999_999_999_999.99  # DECIMAL(14, 2)
NUMBER_MAX = 1e15  # quantity and decided_value (FLOAT8): sums and products stay finite
LIMIT_MAX = 36_500  # days (a hundred years): INTEGER, and deadline ordinals stay in range
YEARS = (1980, 2100)


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def json_path(key: str) -> str:
    return '$."' + key + '"'


def timestamp_expr(col: str) -> str:
    """Parse ISO 8601 (offset → Shanghai wall time; none → Shanghai) or YYYYMMDDhhmmss."""
    return (
        f"CASE WHEN {col} IS NULL THEN NULL "
        rf"WHEN regexp_matches({col}, '^\d{{14}}(\.0+)?$') "
        f"THEN try_strptime(substr({col}, 1, 14), '%Y%m%d%H%M%S') "
        rf"WHEN regexp_matches({col}, '^\d{{8}}$') THEN try_strptime({col}, '%Y%m%d') "
        rf"WHEN regexp_matches({col}, '(Z|z|[+-]\d{{2}}(:?\d{{2}})?)$') "
        f"THEN timezone('Asia/Shanghai', try_cast({col} AS TIMESTAMPTZ)) "
        f"ELSE try_cast({col} AS TIMESTAMP) END"
    )


KIND_LIST = ", ".join(sql_text(k) for k in KINDS)
KIND_ORDER_EXPR = (
    "CASE f_kind "
    + " ".join(f"WHEN {sql_text(k)} THEN {i}" for k, i in KIND_ORDER.items())
    + " END"
)


# -- stage 1: the raw text ------------------------------------------------------------------

# C0 controls but tab, line feed and carriage return; DEL
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# how a control character can appear in a JSON text: escaped, or DEL as it is
_CONTROL_HINTS = ("\\u00", "\\b", "\\f", "\x7f")
_TYPE_NAMES = {str: "字符串", int: "数字", float: "数字", bool: "布尔值", list: "数组"}


def record_problem(text: str) -> tuple[str, str] | int:
    """(field, message) when the raw text is not a record the importer can take, else the
    number of its (distinct) keys."""
    size = len(text)
    if size * 4 > MAX_RECORD_BYTES:  # may be over: count its UTF-8 bytes
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_RECORD_BYTES:
            return "record", (
                f"记录大小 {size} 字节，超过单条上限 {MAX_RECORD_BYTES} 字节（1 MB）："
                "应为一条事件的 JSON 对象，过长的文字请精简"
            )
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return "record", _syntax_message(text, exc)
    if not isinstance(record, dict):
        if isinstance(record, str):
            return (
                "record",
                "是一个 JSON 字符串而不是对象：应直接写事件对象，不要把对象再序列化成字符串",
            )
        kind = _TYPE_NAMES.get(type(record), "null")
        return "record", f"应为 JSON 对象（一条事件），实际为{kind}"
    if len(record) > MAX_RECORD_KEYS:
        return "record", (
            f"记录有 {len(record)} 个键，超过单条上限 {MAX_RECORD_KEYS} 个：事件只应含规范字段及少量附加字段"
        )
    if size > 2 * MAX_DEPTH and text.count("{") + text.count("[") > MAX_DEPTH and _too_deep(record):
        return "record", f"嵌套超过 {MAX_DEPTH} 层：事件记录应为扁平的 JSON 对象"
    if any(hint in text for hint in _CONTROL_HINTS):
        return _control_problem(record) or len(record)
    return len(record)


@dataclass(frozen=True)
class Verdicts:
    """A chunk judged: the texts to stage (made storable where malformed) and, per record,
    the field and message of its problem (None: none found here)."""

    texts: list[str]
    fields: list[str | None]
    messages: list[str | None]
    keys: list[int | None]  # distinct top-level keys (as orjson reads them) of good records


def judge_texts(texts: Sequence[str], problems: Sequence[str | None] | None = None) -> Verdicts:
    """:func:`record_problem` of each text, after what its reader found (``problems``)."""
    staged = list(texts)
    fields: list[str | None] = [None] * len(staged)
    messages: list[str | None] = [None] * len(staged)
    keys: list[int | None] = [None] * len(staged)
    for i, text in enumerate(staged):
        known = problems[i] if problems is not None else None
        verdict = ("record", known) if known is not None else record_problem(text)
        if isinstance(verdict, int):
            keys[i] = verdict
        else:
            fields[i], messages[i] = verdict
            staged[i] = storable(text)
    return Verdicts(staged, fields, messages, keys)


def storable(text: str) -> str:
    """A text every engine's text column can hold: bytes that were not UTF-8 (lone
    surrogates) written as ``\\xNN``, NUL as ``\\x00``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:  # bytes a reader set aside come back as they were
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate of another origin
            data = text.encode("utf-8", "surrogatepass")
        text = data.decode("utf-8", "backslashreplace")
    return text.replace("\x00", "\\x00")


def _syntax_message(text: str, exc: orjson.JSONDecodeError) -> str:
    reason = str(exc)
    near = text[exc.pos : exc.pos + 9].lstrip("-")
    if "surrogate" in reason or "UTF-8" in reason:
        why = "含无法解码的字节或不成对的代理字符（不是合法的 UTF-8）"
    elif "trailing comma" in reason:
        why = "对象或数组末尾有多余的逗号"
    elif near.startswith(("NaN", "Infinity", "nan", "inf")):
        why = "含 NaN 或 Infinity：JSON 数值必须是有限数"
    elif "infinity" in reason or "out of range" in reason:
        why = "数值超出范围（如 1e400）"
    elif "depth" in reason or "recursion" in reason:
        why = "嵌套超过 1024 层"
    elif "control character" in reason:
        why = "字符串中含未转义的控制字符（如原样的回车、制表或 NUL）"
    else:
        why = "语法错误"
    return (
        f"不是合法的 JSON（{why}，第 {exc.colno} 个字符附近）："
        '应为一行一个 JSON 对象，如 {"case_id": …, "kind": …}'
    )


def _too_deep(record: dict[str, Any]) -> bool:
    stack: list[tuple[Any, int]] = [(record, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def _control_problem(record: dict[str, Any]) -> tuple[str, str] | None:
    """The first top-level field whose key or any text inside holds a control character."""
    for key, value in record.items():
        found = _CONTROL.search(key)
        stack = [value]
        while found is None and stack:
            item = stack.pop()
            if isinstance(item, str):
                found = _CONTROL.search(item)
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        if found is not None:
            char = found.group()
            # the field the key names, else the key itself (a blank one: the record)
            name = ALIASES.get(key.strip().lower()) or (visible(key) if key.strip() else "record")
            label = "（NUL）" if char == "\x00" else ""
            return name, (
                f"{name} 含控制字符 U+{ord(char):04X}{label}：文字中不能有 NUL 等控制字符"
                "（制表符、换行、回车除外）"
            )
    return None


def visible(text: str, limit: int = 40) -> str:
    """A value as a message may quote it: control characters escaped, at most ``limit``."""
    shown = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


# -- stage 2: the fields, in SQL -------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """When ``condition`` holds, the record is malformed in ``field`` (SQL expressions)."""

    condition: str
    field: str
    message: str


def _shown(col: str) -> str:
    """A value quoted in a message: at most 40 characters."""
    return f"CASE WHEN length({col}) > 40 THEN left({col}, 40) || '…' ELSE {col} END"


def _number(col: str) -> str:
    return f"try_cast({col} AS DOUBLE)"


def _checks() -> list[Check]:
    """In order: the first that holds names what is wrong."""
    checks = [
        # what stage 1 found (the importer stages it as pre_field, pre_msg)
        Check("pre_field IS NOT NULL", "pre_field", "pre_msg"),
        Check(
            "NOT ok",
            "'record'",
            "'不是合法的 JSON 对象：应为一行一个 JSON 对象（或表格的一行）'",
        ),
        # orjson keeps a repeated key's last value, DuckDB its first: neither is the record
        Check(
            "len(json_keys(text)) <> pre_keys",
            "'record'",
            "'同一个键出现了不止一次：每个键只能出现一次（重复的键无法判断以哪个值为准）'",
        ),
        Check("f_case_id IS NULL", "'case_id'", "'必填字段 case_id（办件编号）缺失'"),
    ]
    for name in ("case_id", "event_id"):
        checks.append(
            Check(
                f"regexp_matches(f_{name}, '[\\x00-\\x1f\\x7f]')",
                sql_text(name),
                f"'{name} 不能含换行、制表等控制字符'",
            )
        )
    checks += [
        Check(
            "length(f_case_id) > 50",
            "'case_id'",
            "'case_id 长度应不超过 50，实际为 ' || CAST(length(f_case_id) AS VARCHAR)",
        ),
        Check(
            "f_event_id IS NOT NULL AND length(f_event_id) > 64",
            "'event_id'",
            "'event_id 长度应不超过 64，实际为 ' || CAST(length(f_event_id) AS VARCHAR)",
        ),
        Check("f_kind IS NULL", "'kind'", "'必填字段 kind（事件类型）缺失'"),
        Check(
            f"f_kind NOT IN ({KIND_LIST})",
            "'kind'",
            f"'kind 应为 {' '.join(KINDS)} 之一，实际为“' || {_shown('f_kind')} || '”'",
        ),
        Check("f_occurred_at IS NULL", "'occurred_at'", "'必填字段 occurred_at（发生时间）缺失'"),
        Check(
            f"occurred_ts IS NULL OR year(occurred_ts) < {YEARS[0]} "
            f"OR year(occurred_ts) > {YEARS[1]}",
            "'occurred_at'",
            f"'occurred_at 应为 {YEARS[0]}–{YEARS[1]} 年间的 ISO 8601 时间"
            "（如 2025-09-26T10:00:00+08:00）或 YYYYMMDDhhmmss，"
            f"实际为“' || {_shown('f_occurred_at')} || '”'",
        ),
        Check(
            "f_kind IN ('apply', 'accept') AND f_item_code IS NULL",
            "'item_code'",
            "'apply 与 accept 事件必须有 item_code（事项实施编码）'",
        ),
    ]
    for code in CODE_CHECKS:
        col = f"f_{code.field}"
        codes = ", ".join(sql_text(c) for c in code.codes)
        cond = f"{col} IS NOT NULL AND {col} NOT IN ({codes})"
        if code.kinds:
            cond += " AND f_kind IN (" + ", ".join(sql_text(k) for k in code.kinds) + ")"
        checks.append(
            Check(
                cond,
                sql_text(code.field),
                f"'{code.field} 应为{code.label}：{' '.join(code.codes)}，"
                f"实际为“' || {_shown(col)} || '”'",
            )
        )
    # every text no longer than its column holds, whatever the kind (PostgreSQL enforces
    # VARCHAR(n) on every row; the code checks above judge only some kinds)
    for f in FIELDS:
        if f.type != "text" or f.name in ("case_id", "event_id"):
            continue
        limit = COLUMN_LENGTHS.get(f.name, TEXT_LIMIT)
        col = f"f_{f.name}"
        checks.append(
            Check(
                f"length({col}) > {limit}",
                sql_text(f.name),
                f"'{f.name} 长度应不超过 {limit} 个字符，实际为 ' || CAST(length({col}) AS VARCHAR)"
                + (f" || '（“' || {_shown(col)} || '”）'" if limit < 40 else ""),
            )
        )
    limit_days = _number("f_limit")
    checks += [
        Check(
            "f_promised_finish_at IS NOT NULL AND (promised_ts IS NULL "
            f"OR year(promised_ts) < {YEARS[0]} OR year(promised_ts) > {YEARS[1]})",
            "'promised_finish_at'",
            f"'promised_finish_at 应为 {YEARS[0]}–{YEARS[1]} 年间的时间，"
            f"实际为“' || {_shown('f_promised_finish_at')} || '”'",
        ),
        Check(
            f"f_limit IS NOT NULL AND ({limit_days} IS NULL OR NOT isfinite({limit_days}) "
            f"OR {limit_days} < 0 OR {limit_days} > {LIMIT_MAX} "
            f"OR {limit_days} <> floor({limit_days}))",
            "'limit'",
            f"'limit 应为 0 至 {LIMIT_MAX} 的整数（天数），实际为“' || {_shown('f_limit')} || '”'",
        ),
    ]
    for name, bound, unit in (
        ("amount", AMOUNT_MAX, "（元，保留两位小数）"),
        ("quantity", NUMBER_MAX, ""),
        ("decided_value", NUMBER_MAX, ""),
    ):
        value = _number(f"f_{name}")
        checks.append(
            Check(
                f"f_{name} IS NOT NULL AND ({value} IS NULL OR NOT isfinite({value}) "
                f"OR abs({value}) > {bound!r})",
                sql_text(name),
                f"'{name} 应为有限数值，绝对值不超过 {bound:,.2f}{unit}，"
                f"实际为“' || {_shown(f'f_{name}')} || '”'",
            )
        )
    materials_type = "CASE WHEN json_valid(f_materials) THEN json_type(f_materials) END"
    checks += [
        # json_type only where the text is JSON (DuckDB evaluates both sides of an AND)
        Check(
            f"f_materials IS NOT NULL AND coalesce({materials_type}, '') <> 'ARRAY'",
            "'materials'",
            '\'materials 应为列表（apply：[{"name", "provided"}]；补正：材料名称列表），'
            f"实际为“' || {_shown('f_materials')} || '”'",
        ),
        Check(
            "f_materials IS NOT NULL AND json_array_length(f_materials) <> "
            "len(list_filter(json_extract(f_materials, '$[*]'), lambda x: json_type(x) = 'VARCHAR' "
            "OR (json_type(x) = 'OBJECT' AND (x->>'name') IS NOT NULL)))",
            "'materials'",
            "'materials 的每一项应为材料名称，或含 name 的对象'",
        ),
    ]
    return checks


CHECKS = tuple(_checks())
# The first failing check's field and message, as SQL over ``_gw_x`` (NULL: well-formed), in
# one select list: the message refers to ``err_field`` (DuckDB reads an alias of the same list)
# so that a good record goes through the conditions once.
ERROR_FIELD_SQL = "CASE " + " ".join(f"WHEN {c.condition} THEN {c.field}" for c in CHECKS) + " END"
ERROR_MESSAGE_SQL = (
    "CASE WHEN err_field IS NOT NULL THEN CASE "
    + " ".join(f"WHEN {c.condition} THEN {c.message}" for c in CHECKS)
    + " END END"
)
