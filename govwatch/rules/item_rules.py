"""事项公开信息异常: supervision of the information an item publishes (issue 16 item 6).

Four rules of a sixth class, ``item_info``, raised on an **item** (not a case) after a guide
check run (:mod:`govwatch.guides.runs`), to the item's department, with the usual handling
(explanation, appeal, 督办, rectification):

=========================  ==========================  =======  ====================================
rule                       名称                          level    finds (a run's findings of kind)
=========================  ==========================  =======  ====================================
``guide_element_missing``  办事指南缺少必备要素          yellow   ``missing``: no public guide, or a
                                                                 required element absent
``guide_element_malformed``办事指南要素不规范            warning  ``malformed``: present, not well-formed
``guide_list_mismatch``    办事指南与实施清单不一致      yellow   ``mismatch``: consistency findings
``guide_dead_link``        表格样表下载链接失效          yellow   ``dead_link``: at least ``min_links``
                                                                 dead form or sample links
=========================  ==========================  =======  ====================================

They are rules of the catalog like the 21 case rules: the same settings (enable, level,
parameters; for everything, a region, a department or an item, the most specific winning)
resolve per item by :func:`govwatch.rules.settings.resolve` over the run's items as ``s``. They
are **not** among the rules ``govwatch audit`` and the live engine run (``Catalog.rules()``):
they read a check run, not cases; :func:`evaluate_items` runs them over a stored run.

An alert needs a case: an item's alerts carry the pseudo case id ``事项:<item_code>``
(:func:`item_case_id`), which no case has (a case id never starts with 事项), and
``alert_id = sha256(case_id|rule|key)`` with the element code as key, as every alert. One
alert per (item, rule, element); a later run that no longer finds it clears it, one that finds
it again reopens it. The engine's re-evaluation of cases leaves these alerts alone
(:mod:`govwatch.rules.live` skips class ``item_info``).

An evaluator's review of a finding (``guide_overrides``) is an evaluation judgement and does not
clear an alert: the department answers an alert through its own handling.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from govwatch.rules.model import LEVEL_RANK, Evidence, Level, Param, Rule
from govwatch.rules.settings import Setting, resolve
from govwatch.storage import Database
from govwatch.vocabulary import GUIDE_CHECK_NAMES, GUIDE_ELEMENT_NAMES, label

ITEM_CLASS = "item_info"
ITEM_TYPE = "事项公开信息异常"
CASE_PREFIX = "事项:"
_BASIS = (
    "《国务院关于加快推进“互联网+政务服务”工作的指导意见》（国发〔2016〕55号）；"
    "《“互联网+政务服务”技术体系建设指南》（国办函〔2016〕108号）"
)
_SQL = (
    "SELECT s.item_code, f.element, {level} AS level, f.check_kind, f.expected, f.found, "
    "f.message, f.evidence, f.dead_links, s.name, s.region_code, s.department_code, s.url "
    "FROM guide_findings f JOIN guide_run_items s ON s.run_id = f.run_id "
    "AND s.item_code = f.item_code WHERE f.run_id = ? AND f.kind = '{kind}'"
)
EVIDENCE = (
    "item_code",
    "item_name",
    "guide_element",
    "guide_check",
    "expected",
    "found",
    "guide_run",
)


def _message(evidence: Evidence) -> str:
    """(The message is the finding's own, from the check run.)"""
    return f"{evidence.get('guide_element', '')}：{evidence.get('found', '')}"


def _rule(
    rule_id: str, kind: str, level: Level, description: str, params: tuple[Param, ...] = ()
) -> Rule:
    sql = _SQL.replace("{kind}", kind)
    if params:
        sql += " AND f.dead_links >= {min_links}"
    return Rule(
        id=rule_id,
        rule_class=ITEM_CLASS,
        rule_type=ITEM_TYPE,
        level=level,
        description=description,
        legal_basis=_BASIS,
        sql=sql,
        evidence=EVIDENCE,
        message=_message,
        key="element",
        params=params,
    )


RULES: tuple[Rule, ...] = (
    _rule(
        "guide_element_missing",
        "missing",
        "yellow",
        "事项未公开办事指南，或办事指南缺少该类事项必须公开的要素（如申请材料、办理地点、收费信息）",
    ),
    _rule(
        "guide_element_malformed",
        "malformed",
        "warning",
        "办事指南的要素不规范（如咨询电话不是电话号码、办理时间未写时刻、设定依据未写法规名称）",
    ),
    _rule(
        "guide_list_mismatch",
        "mismatch",
        "yellow",
        "办事指南与实施清单不一致（法定或承诺时限、收费、办理环节、申请材料）",
    ),
    _rule(
        "guide_dead_link",
        "dead_link",
        "yellow",
        "办事指南中表格类材料的空白表格或样表下载链接失效",
        (Param("min_links", 1, "int", "失效链接达到此数即告警"),),
    ),
)
BY_ID: Mapping[str, Rule] = {r.id: r for r in RULES}
# The allowed range of each numeric parameter (as rules.catalog.PARAM_RANGES for case rules).
PARAM_RANGES: Mapping[str, Mapping[str, tuple[float, float]]] = {
    "guide_dead_link": {"min_links": (1, 100)},
}


def item_case_id(item_code: str) -> str:
    """The pseudo case id an item's alerts carry (no case id starts with 事项)."""
    return f"{CASE_PREFIX}{item_code}"


def is_item_case(case_id: object) -> bool:
    return isinstance(case_id, str) and case_id.startswith(CASE_PREFIX)


def item_alert_id(item_code: str, rule: str, key: str) -> str:
    """``sha256(case_id|rule|key)``, the identity of every alert (rules.live.alert_id)."""
    return hashlib.sha256(f"{item_case_id(item_code)}|{rule}|{key}".encode()).hexdigest()


@dataclass(frozen=True)
class ItemFinding:
    """One item rule holding on one element of one item's guide."""

    item_code: str
    rule: str
    key: str
    level: str
    message: str
    evidence: Evidence
    region_code: str
    department_code: str

    @property
    def alert_id(self) -> str:
        return item_alert_id(self.item_code, self.rule, self.key)


def rendered(rule: Rule, settings: Sequence[Setting]) -> str | None:
    """The rule's query with its level, parameters and enablement resolved per item (``s``),
    or None when it is disabled everywhere."""
    mine = [s for s in settings if s.rule == rule.id]
    values = {
        "level": resolve([(s.scope, s.level) for s in mine if s.level is not None], rule.level)
    }
    for param in rule.params:
        found = [(s.scope, v) for s in mine for n, v in s.params if n == param.name]
        values[param.name] = resolve(found, param.default)
    gate = resolve([(s.scope, s.enabled) for s in mine if s.enabled is not None], True)
    if gate == "FALSE":
        return None
    sql = rule.sql.format(**values)
    return sql if gate == "TRUE" else f"{sql} AND {gate} = TRUE"


def _evidence(row: Mapping[str, Any], run_seq: int, checked_at: datetime) -> Evidence:
    found = orjson.loads(row["evidence"]) if row["evidence"] else {}
    out: Evidence = {
        "item_code": row["item_code"],
        "item_name": row["name"],
        "guide_element": label(GUIDE_ELEMENT_NAMES, row["element"]),
        "guide_check": label(GUIDE_CHECK_NAMES, row["check_kind"]),
        "expected": row["expected"],
        "found": row["found"],
        "guide_run": f"第 {run_seq} 次办事指南核查（{checked_at:%Y-%m-%d %H:%M}）",
    }
    url = found.get("url") or row["url"]
    if url:
        out["guide_url"] = url
    details = found.get("differences") or found.get("problems")
    if details:
        out["details"] = list(details)
    return out


def evaluate_items(db: Database, run_id: str, settings: Sequence[Setting]) -> list[ItemFinding]:
    """Every item rule over the findings of one stored run, under these catalog settings."""
    seq_row = db.query("SELECT seq, checked_at FROM guide_runs WHERE run_id = ?", [run_id])
    if not seq_row:
        return []
    run_seq, checked_at = int(seq_row[0][0]), seq_row[0][1]
    out = []
    for rule in RULES:
        sql = rendered(rule, settings)
        if sql is None:
            continue
        for row in db.query_dicts(sql, [run_id]):
            evidence = _evidence(row, run_seq, checked_at)
            out.append(
                ItemFinding(
                    str(row["item_code"]),
                    rule.id,
                    str(row["element"]),
                    str(row["level"]),
                    str(row["message"]),
                    evidence,
                    str(row["region_code"]),
                    str(row["department_code"]),
                )
            )
    return out


def _existing(db: Database) -> dict[str, tuple[str, str, int, datetime, bool]]:
    """The item alerts: alert id -> (level, status, last history seq, level_changed_at,
    escalated by the workflow)."""
    rows = db.query(
        "SELECT a.alert_id, a.level, a.status, COALESCE(h.seq, 0), a.level_changed_at, "
        "CASE WHEN w.escalated_due_on IS NULL THEN 0 ELSE 1 END "
        "FROM alerts a LEFT JOIN (SELECT alert_id, MAX(seq) AS seq FROM alert_history "
        "WHERE alert_id IN (SELECT alert_id FROM alerts WHERE rule_class = ?) GROUP BY alert_id) h "
        "ON h.alert_id = a.alert_id LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id "
        "WHERE a.rule_class = ?",
        [ITEM_CLASS, ITEM_CLASS],
    )
    return {str(r[0]): (str(r[1]), str(r[2]), int(r[3]), r[4], bool(r[5])) for r in rows}


def reconcile_items(
    db: Database, findings: Sequence[ItemFinding], at: datetime, version: int
) -> dict[str, int]:
    """Bring the item alerts in line with the findings of the latest run: raise the new ones,
    update or reopen those found again, clear those no longer found (the row stays). Each
    change is a row of ``alert_history``. A level the workflow raised (overdue rectification)
    is kept while the finding holds."""
    existing = _existing(db)
    counts = {"raised": 0, "level": 0, "cleared": 0, "reopened": 0}
    inserts: list[list[Any]] = []
    history: list[list[Any]] = []
    seen: set[str] = set()
    with db.transaction():
        for f in findings:
            aid = f.alert_id
            seen.add(aid)
            evidence = json.dumps(f.evidence, ensure_ascii=False, sort_keys=True)
            held = existing.get(aid)
            if held is None:
                inserts.append(
                    [aid, item_case_id(f.item_code), f.rule, ITEM_CLASS, ITEM_TYPE, f.key,
                     f.level, "active", f.message, evidence, version, f.item_code,
                     f.region_code, f.department_code, f.department_code, at, at, at, at]
                )  # fmt: skip
                history.append([aid, 1, at, "raised", f.level, f.message, version])
                counts["raised"] += 1
                continue
            level, status, seq, level_changed_at, escalated = held
            new_level = f.level
            if escalated and status == "active" and LEVEL_RANK[level] > LEVEL_RANK[f.level]:
                new_level = level
            change = "reopened" if status != "active" else ("level" if level != new_level else None)
            db.execute(
                "UPDATE alerts SET level = ?, status = 'active', message = ?, evidence = ?, "
                "catalog_version = ?, last_seen_at = ?, cleared_at = NULL, level_changed_at = ?, "
                "region_code = ?, department_code = ?, org_code = ?"
                + (", occurred_at = ?" if change else "")
                + " WHERE alert_id = ?",
                [new_level, f.message, evidence, version, at,
                 at if level != new_level else level_changed_at, f.region_code,
                 f.department_code, f.department_code, *([at] if change else []), aid],
            )  # fmt: skip
            if change:
                history.append([aid, seq + 1, at, change, new_level, f.message, version])
                counts[change] += 1
        cleared = [aid for aid, held in existing.items() if held[1] == "active" and aid not in seen]
        if cleared:
            db.execute(
                "UPDATE alerts SET status = 'cleared', cleared_at = ? WHERE alert_id = ANY(?)",
                [at, cleared],
            )
        for aid in cleared:
            level, _, seq, _, _ = existing[aid]
            history.append(
                [aid, seq + 1, at, "cleared", level, "最新一次办事指南核查未再发现该问题，自动关闭",
                 version]
            )  # fmt: skip
            counts["cleared"] += 1
        db.executemany(
            "INSERT INTO alerts (alert_id, case_id, rule, rule_class, rule_type, key, level, "
            "status, message, evidence, catalog_version, item_code, region_code, "
            "department_code, org_code, occurred_at, first_seen_at, last_seen_at, "
            "level_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        db.executemany(
            "INSERT INTO alert_history (alert_id, seq, changed_at, change, level, message, "
            "catalog_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            history,
        )
    return counts


def item_alert_cases(db: Database) -> list[str]:
    """The pseudo case ids of every item alert (for the workflow's sync)."""
    return [
        str(r[0])
        for r in db.query(
            "SELECT DISTINCT case_id FROM alerts WHERE rule_class = ? ORDER BY case_id",
            [ITEM_CLASS],
        )
    ]
