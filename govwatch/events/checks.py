"""The import's checks of a record: for each malformed record, the first field that is wrong
and a message saying what was expected, as SQL over the staged chunk (``_gw_x``'s ``f_*``
columns, ``occurred_ts``, ``promised_ts``), plus the SQL helpers the importer shares.
"""

from __future__ import annotations

from govwatch.events.fields import CODE_CHECKS, KIND_ORDER, KINDS


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


def _checks() -> list[tuple[str, str, str]]:
    """(condition, field, message expression): the first that holds names what is wrong."""
    checks = [
        ("NOT ok", "record", "'不是合法的 JSON 对象：应为一行一个 JSON 对象（或表格的一行）'"),
        ("f_case_id IS NULL", "case_id", "'必填字段 case_id（办件编号）缺失'"),
        (
            "length(f_case_id) > 50",
            "case_id",
            "'case_id 长度应不超过 50，实际为 ' || CAST(length(f_case_id) AS VARCHAR)",
        ),
        (
            "f_event_id IS NOT NULL AND length(f_event_id) > 64",
            "event_id",
            "'event_id 长度应不超过 64，实际为 ' || CAST(length(f_event_id) AS VARCHAR)",
        ),
        ("f_kind IS NULL", "kind", "'必填字段 kind（事件类型）缺失'"),
        (
            f"f_kind NOT IN ({KIND_LIST})",
            "kind",
            f"'kind 应为 {' '.join(KINDS)} 之一，实际为“' || f_kind || '”'",
        ),
        ("f_occurred_at IS NULL", "occurred_at", "'必填字段 occurred_at（发生时间）缺失'"),
        (
            "occurred_ts IS NULL OR year(occurred_ts) < 1980 OR year(occurred_ts) > 2100",
            "occurred_at",
            "'occurred_at 应为 ISO 8601 时间（如 2025-09-26T10:00:00+08:00）或 YYYYMMDDhhmmss，"
            "实际为“' || f_occurred_at || '”'",
        ),
        (
            "f_kind IN ('apply', 'accept') AND f_item_code IS NULL",
            "item_code",
            "'apply 与 accept 事件必须有 item_code（事项实施编码）'",
        ),
    ]
    for check in CODE_CHECKS:
        col = f"f_{check.field}"
        codes = ", ".join(sql_text(c) for c in check.codes)
        cond = f"{col} IS NOT NULL AND {col} NOT IN ({codes})"
        if check.kinds:
            cond += " AND f_kind IN (" + ", ".join(sql_text(k) for k in check.kinds) + ")"
        checks.append(
            (
                cond,
                check.field,
                f"'{check.field} 应为{check.label}：{' '.join(check.codes)}，实际为“' || {col} || '”'",
            )
        )
    checks += [
        (
            "f_promised_finish_at IS NOT NULL AND promised_ts IS NULL",
            "promised_finish_at",
            "'promised_finish_at 应为时间，实际为“' || f_promised_finish_at || '”'",
        ),
        (
            "f_limit IS NOT NULL AND (try_cast(f_limit AS DOUBLE) IS NULL "
            "OR try_cast(f_limit AS DOUBLE) < 0 "
            "OR try_cast(f_limit AS DOUBLE) <> floor(try_cast(f_limit AS DOUBLE)))",
            "limit",
            "'limit 应为不小于 0 的整数（天数），实际为“' || f_limit || '”'",
        ),
    ]
    for name in ("amount", "quantity", "decided_value"):
        checks.append(
            (
                f"f_{name} IS NOT NULL AND try_cast(f_{name} AS DOUBLE) IS NULL",
                name,
                f"'{name} 应为数值，实际为“' || f_{name} || '”'",
            )
        )
    checks += [
        (
            "f_materials IS NOT NULL AND NOT coalesce(json_valid(f_materials) "
            "AND json_type(f_materials) = 'ARRAY', false)",
            "materials",
            '\'materials 应为列表（apply：[{"name", "provided"}]；补正：材料名称列表）\'',
        ),
        (
            "f_materials IS NOT NULL AND json_array_length(f_materials) <> "
            "len(list_filter(json_extract(f_materials, '$[*]'), lambda x: json_type(x) = 'VARCHAR' "
            "OR (json_type(x) = 'OBJECT' AND (x->>'name') IS NOT NULL)))",
            "materials",
            "'materials 的每一项应为材料名称，或含 name 的对象'",
        ),
    ]
    return checks


CHECKS = _checks()
