"""Check runs: the guide checks of a whole catalog, kept with who ran them and what they found.

``govwatch guides check`` keeps nothing; a **run** (``govwatch guides run``, the /guides page,
``govwatch demo``) checks every item's guide as of a moment and stores (migration 067):

- ``guide_runs``: the run (``seq`` 1, 2, …; the moment checked, who, the source, the counts);
- ``guide_run_items``: every item of the implementation list with its region and department,
  whether it is published and whether its guide has content — what coverage counts;
- ``guide_findings``: every finding of :func:`govwatch.guides.checks.run_checks`, with a
  ``kind`` for supervision (:func:`finding_kind`) and the number of dead download links;
- ``guide_overrides``: the evaluator's review of a finding (``override`` with a reason, or
  ``restore``), append-only and ledgered; the last action of a finding decides.

Two sources: ``catalog`` checks the guides of the catalog in the database; ``crawl`` checks
the guides a portal publishes (the ``catalog.jsonl`` fragment ``govwatch guides crawl`` wrote
in its output folder) against the same implementation list: each item's record keeps its list
fields and takes the portal's guide, and an item the portal does not publish has none.

Evaluation (:mod:`govwatch.evaluation.metrics.guides`), supervision
(:mod:`govwatch.rules.item_rules`) and the pages read runs through this module and
:mod:`govwatch.guides.coverage`.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from govwatch import timeutil
from govwatch.errors import InputError, ValidationError
from govwatch.formats import read_records
from govwatch.guides.checks import (
    _practice_finding,
    check_records,
    load_records,
    practice_guide,
    run_checks,
)
from govwatch.guides.elements import ELEMENTS, element, published, read
from govwatch.guides.model import CHECKS, GuideFinding, Link
from govwatch.guides.practice import contradicted, practice_counts
from govwatch.items.model import canonical_keys
from govwatch.ledger import append_one
from govwatch.storage import Database
from govwatch.vocabulary import GUIDE_CHECK_NAMES, GUIDE_ELEMENT_NAMES, label

SOURCES = ("catalog", "crawl")
# What a finding means for supervision (rules/item_rules.py raises alerts by kind).
KINDS = ("missing", "malformed", "dead_link", "mismatch", "practice")
ACTIONS = ("override", "restore")
REASON_MAX = 400
# Stages of a round in which its values, and so the findings behind them, are frozen.
FROZEN_STAGES = ("published", "closed")
CRAWL_CATALOG = "catalog.jsonl"
CRAWL_SUMMARY = "summary.json"


@dataclass(frozen=True)
class GuideRun:
    run_id: str
    seq: int
    checked_at: datetime
    started_at: datetime
    finished_at: datetime
    run_by: str
    source: str
    source_ref: str | None
    items: int
    findings: int
    counts: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "seq": self.seq,
            "checked_at": self.checked_at.isoformat(sep=" "),
            "started_at": self.started_at.isoformat(sep=" "),
            "finished_at": self.finished_at.isoformat(sep=" "),
            "run_by": self.run_by,
            "source": self.source,
            "source_ref": self.source_ref,
            "items": self.items,
            "findings": self.findings,
            "counts": dict(self.counts),
        }


@dataclass(frozen=True)
class Checked:
    """What one check of a whole catalog read and found, before it is stored."""

    source: str
    source_ref: str | None
    records: Sequence[Mapping[str, Any]]
    findings: Sequence[GuideFinding]
    unread: int = 0  # crawl: guide pages the crawl could not read (its items left out)


# -- checking ---------------------------------------------------------------------------------


def check_catalog(db: Database, at: datetime) -> Checked:
    """The guides of the catalog in ``db``, checked as of ``at``."""
    return Checked("catalog", None, load_records(db), run_checks(db, at))


def _crawled_guides(folder: Path) -> tuple[dict[str, Any], int]:
    path = folder / CRAWL_CATALOG
    if not path.is_file():
        raise InputError(
            f"{folder} 中没有抓取结果 {CRAWL_CATALOG}：请先运行 govwatch guides crawl --out {folder}"
        )
    guides: dict[str, Any] = {}
    for raw in read_records(path):
        try:
            data = orjson.loads(raw.text) if raw.problem is None else None
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise InputError(f"抓取结果 {raw.source} 第 {raw.line} 行不是一个事项记录")
        record = canonical_keys(data)
        if record.get("item_code"):
            guides[str(record["item_code"])] = record.get("guide")
    unread = 0
    summary = folder / CRAWL_SUMMARY
    if summary.is_file():
        unread = int(orjson.loads(summary.read_bytes()).get("unread") or 0)
    return guides, unread


def findings_of(
    db: Database, records: Sequence[Mapping[str, Any]], at: datetime
) -> list[GuideFinding]:
    """The three checks of these records (catalog records, whatever their guides' source),
    practice against the cases in ``db``, ordered like :func:`run_checks`."""
    findings = check_records(records)
    guides = {g.item_code: g for g in map(practice_guide, records) if g is not None}
    by_code = {str(r["item_code"]): r for r in records}
    for (code, element_code), counts in contradicted(
        practice_counts(db, at, guides.values())
    ).items():
        findings.append(_practice_finding(by_code[code], guides[code], element_code, counts))
    order = {e.code: i for i, e in enumerate(ELEMENTS)}
    return sorted(findings, key=lambda f: (f.item_code, order[f.element], CHECKS.index(f.check)))


def check_crawl(db: Database, at: datetime, folder: Path) -> Checked:
    """The guides a portal publishes (a crawl's output folder) against the implementation list
    in ``db``: each item keeps its list fields and takes the portal's guide; an item the portal
    does not publish has ``{"published": false}``."""
    crawled, unread = _crawled_guides(folder)
    records = []
    for rec in load_records(db):
        code = str(rec["item_code"])
        guide = crawled.get(code) if code in crawled else {"published": False}
        records.append({**rec, "guide": guide if guide is not None else {"published": False}})
    return Checked("crawl", str(folder), records, findings_of(db, records, at), unread)


# -- what a finding means ---------------------------------------------------------------------


def dead_links(guide: Any) -> list[Link]:
    """The form and sample links of a guide found dead when they were last checked."""
    if not isinstance(guide, Mapping):
        return []
    reading = read(guide, "downloads")
    if not reading.present or not reading.value:
        return []
    return [link for _name, _key, link in reading.value if link.dead]


def finding_kind(finding: GuideFinding, dead: int = 0) -> str:
    """``missing`` (absent, or no public guide at all), ``malformed``, ``dead_link`` (a
    downloads finding with a dead link), ``mismatch`` (consistency) or ``practice``."""
    if finding.check == "consistency":
        return "mismatch"
    if finding.check == "practice":
        return "practice"
    if finding.element == "downloads" and dead:
        return "dead_link"
    if finding.element == "guide" or finding.found == "缺失":
        return "missing"
    return "malformed"


def has_content(guide: Any) -> bool:
    """A published guide that publishes any element besides the flag itself."""
    return published(guide) and any(read(guide, e.code).present for e in ELEMENTS[1:])


# -- storing a run ----------------------------------------------------------------------------


def _counts(checked: Checked, items: list[list[Any]], kinds: Counter[str]) -> dict[str, Any]:
    by_check = Counter(f.check for f in checked.findings)
    by_group = Counter(element(f.element).group for f in checked.findings)
    return {
        "items": len(items),
        "published": sum(1 for row in items if row[6]),
        "with_guide": sum(1 for row in items if row[7]),
        "by_check": {c: by_check.get(c, 0) for c in CHECKS},
        "by_group": dict(sorted(by_group.items())),
        "by_kind": {k: kinds.get(k, 0) for k in KINDS},
        "unread": checked.unread,
    }


def store_run(
    db: Database, checked: Checked, at: datetime, who: str, started_at: datetime
) -> GuideRun:
    """Keep a check as a new run (one transaction); returns it."""
    guides = {str(r["item_code"]): r.get("guide") for r in checked.records}
    items = [
        [
            None,  # run id, below
            str(r["item_code"]),
            str(r.get("name") or ""),
            r.get("item_type"),
            str(r.get("region_code") or ""),
            str(r.get("department_code") or ""),
            published(r.get("guide")),
            has_content(r.get("guide")),
            (r.get("guide") or {}).get("url") if isinstance(r.get("guide"), Mapping) else None,
        ]
        for r in checked.records
    ]
    kinds: Counter[str] = Counter()
    findings = []
    for f in checked.findings:
        dead = len(dead_links(guides.get(f.item_code))) if f.element == "downloads" else 0
        kind = finding_kind(f, dead)
        kinds[kind] += 1
        evidence = orjson.dumps(dict(f.evidence), default=str).decode()
        findings.append(
            [None, f.item_code, f.element, f.check, kind, f.expected, f.found, f.message,
             evidence, dead]
        )  # fmt: skip
    run_id = secrets.token_hex(8)
    finished_at = timeutil.wall_clock()
    counts = _counts(checked, items, kinds)
    with db.transaction():
        seq = int(db.scalar("SELECT COALESCE(MAX(seq), 0) FROM guide_runs") or 0) + 1
        db.execute(
            "INSERT INTO guide_runs (run_id, seq, checked_at, started_at, finished_at, run_by, "
            "source, source_ref, items, findings, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, seq, at, started_at, finished_at, who[:64], checked.source,
             checked.source_ref, len(items), len(findings), orjson.dumps(counts).decode()],
        )  # fmt: skip
        for row in items:
            row[0] = run_id
        for row in findings:
            row[0] = run_id
        db.executemany(
            "INSERT INTO guide_run_items (run_id, item_code, name, item_type, region_code, "
            "department_code, published, has_guide, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
        db.executemany(
            "INSERT INTO guide_findings (run_id, item_code, element, check_kind, kind, expected, "
            "found, message, evidence, dead_links) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            findings,
        )
    return GuideRun(run_id, seq, at, started_at, finished_at, who[:64], checked.source,
                    checked.source_ref, len(items), len(findings), counts)  # fmt: skip


def run_guide_checks(
    db: Database, at: datetime, who: str, *, source: str = "catalog", folder: Path | None = None
) -> GuideRun:
    """Check every guide as of ``at`` (the catalog's, or a crawl's in ``folder``) and keep the
    run as ``who``'s."""
    if source not in SOURCES:
        raise ValidationError(
            f"核查来源“{source}”无效：应为 catalog（事项目录）或 crawl（门户抓取）"
        )
    if not who.strip():
        raise ValidationError("请说明由谁运行核查")
    started_at = timeutil.wall_clock()
    if source == "crawl":
        if folder is None:
            raise ValidationError("核查门户抓取结果须给出 guides crawl 的输出目录")
        checked = check_crawl(db, at, folder)
    else:
        checked = check_catalog(db, at)
    return store_run(db, checked, at, who, started_at)


# -- reading runs -----------------------------------------------------------------------------


def _run(row: Mapping[str, Any]) -> GuideRun:
    return GuideRun(
        str(row["run_id"]),
        int(row["seq"]),
        row["checked_at"],
        row["started_at"],
        row["finished_at"],
        str(row["run_by"]),
        str(row["source"]),
        row["source_ref"],
        int(row["items"]),
        int(row["findings"]),
        orjson.loads(row["counts"]),
    )


def list_runs(db: Database, limit: int = 50) -> list[GuideRun]:
    """The most recent runs, newest first."""
    return [
        _run(r)
        for r in db.query_dicts("SELECT * FROM guide_runs ORDER BY seq DESC LIMIT ?", [limit])
    ]


def latest_run(db: Database) -> GuideRun | None:
    runs = list_runs(db, 1)
    return runs[0] if runs else None


def get_run(db: Database, run_id: str) -> GuideRun:
    rows = db.query_dicts("SELECT * FROM guide_runs WHERE run_id = ?", [run_id])
    if not rows:
        raise InputError(f"办事指南核查“{run_id}”不存在：请用 govwatch guides runs 查看已有核查")
    return _run(rows[0])


def _finding_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["check"] = out.pop("check_kind")
    out["evidence"] = orjson.loads(row["evidence"]) if row.get("evidence") else {}
    out["element_name"] = label(GUIDE_ELEMENT_NAMES, row["element"])
    out["check_name"] = label(GUIDE_CHECK_NAMES, row["check_kind"])
    return out


def item_findings(db: Database, run_id: str, item_code: str) -> list[dict[str, Any]]:
    """The findings of one item in a run, each with its review (``override``: None, or the
    last action with who, when, why)."""
    rows = db.query_dicts(
        "SELECT * FROM guide_findings WHERE run_id = ? AND item_code = ?", [run_id, item_code]
    )
    reviews = reviews_of(db, run_id, item_code)
    order = {e.code: i for i, e in enumerate(ELEMENTS)}
    out = []
    for row in sorted(
        rows, key=lambda r: (order.get(str(r["element"]), 99), CHECKS.index(str(r["check_kind"])))
    ):
        f = _finding_row(row)
        f["review"] = reviews.get((item_code, f["element"], f["check"]))
        out.append(f)
    return out


# -- the evaluator's review -------------------------------------------------------------------

# The last review action of each finding of a run (SQL; one ``?``: the run id, twice).
LAST_REVIEW = (
    "SELECT o.item_code, o.element, o.check_kind, o.action, o.actor, o.acted_at, o.reason "
    "FROM guide_overrides o JOIN (SELECT item_code, element, check_kind, MAX(seq) AS seq "
    "FROM guide_overrides WHERE run_id = ? GROUP BY item_code, element, check_kind) m "
    "ON m.item_code = o.item_code AND m.element = o.element AND m.check_kind = o.check_kind "
    "AND m.seq = o.seq WHERE o.run_id = ?"
)


def reviews_of(
    db: Database, run_id: str, item_code: str | None = None
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The last review of each reviewed finding of a run (or of one item's findings), by
    (item, element, check)."""
    sql, params = LAST_REVIEW, [run_id, run_id]
    if item_code is not None:
        sql += " AND o.item_code = ?"
        params.append(item_code)
    return {
        (str(r["item_code"]), str(r["element"]), str(r["check_kind"])): {
            "action": r["action"],
            "actor": r["actor"],
            "acted_at": r["acted_at"],
            "reason": r["reason"],
        }
        for r in db.query_dicts(sql, params)
    }


def overridden_keys(db: Database, run_id: str) -> set[tuple[str, str, str]]:
    """(item, element, check) of the findings of a run that an evaluator set aside."""
    return {
        (str(r["item_code"]), str(r["element"]), str(r["check_kind"]))
        for r in db.query_dicts(LAST_REVIEW + " AND o.action = 'override'", [run_id, run_id])
    }


def _check_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ValidationError(
            "请填写理由：为什么这样认定（会记入核查记录和审计账本）", field="reason"
        )
    if len(text) > REASON_MAX:
        raise ValidationError(f"理由最多 {REASON_MAX} 字，现有 {len(text)} 字", field="reason")
    return text


def frozen_by(db: Database, run_id: str) -> str | None:
    """The published round that used this run (its findings are then frozen), if any."""
    marks = ", ".join("?" for _ in FROZEN_STAGES)
    row = db.query(
        f"SELECT round_id FROM eval_rounds WHERE guide_run_id = ? AND status IN ({marks}) "
        "ORDER BY round_id LIMIT 1",
        [run_id, *FROZEN_STAGES],
    )
    return str(row[0][0]) if row else None


def review_finding(
    db: Database,
    run_id: str,
    item_code: str,
    element_code: str,
    check: str,
    action: str,
    who: str,
    reason: str,
    at: datetime,
) -> dict[str, Any]:
    """An evaluator sets a finding aside (``override``: it does not hold) or restores it, with
    a reason; appended to ``guide_overrides`` and to the ledger in one transaction. Refused
    when the finding does not exist, the action changes nothing, or a published round used
    the run."""
    if action not in ACTIONS:
        raise ValidationError(f"操作“{action}”无效：应为 override（认定不成立）或 restore（恢复）")
    why = _check_reason(reason)
    with db.transaction():
        get_run(db, run_id)
        exists = db.scalar(
            "SELECT COUNT(*) FROM guide_findings WHERE run_id = ? AND item_code = ? "
            "AND element = ? AND check_kind = ?",
            [run_id, item_code, element_code, check],
        )
        if not exists:
            raise InputError(
                f"本次核查没有事项“{item_code}”的“{label(GUIDE_ELEMENT_NAMES, element_code)}”"
                f"（{label(GUIDE_CHECK_NAMES, check)}）问题"
            )
        round_id = frozen_by(db, run_id)
        if round_id is not None:
            raise ValidationError(
                f"评估批次“{round_id}”已发布，其所用核查结果已冻结，不能再认定或恢复"
            )
        last = db.query(
            "SELECT seq, action FROM guide_overrides WHERE run_id = ? AND item_code = ? "
            "AND element = ? AND check_kind = ? ORDER BY seq DESC LIMIT 1",
            [run_id, item_code, element_code, check],
        )
        current = str(last[0][1]) if last else "restore"
        if current == action:
            raise ValidationError(
                "该问题已认定不成立" if action == "override" else "该问题未被认定不成立，无需恢复"
            )
        seq = int(last[0][0]) + 1 if last else 1
        db.execute(
            "INSERT INTO guide_overrides (run_id, item_code, element, check_kind, seq, action, "
            "actor, acted_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, item_code, element_code, check, seq, action, who[:64], at, why],
        )
        payload = {"run_id": run_id, "item_code": item_code, "element": element_code,
                   "check": check, "seq": seq, "reason": why}  # fmt: skip
        append_one(db, f"guide.{action}", who[:64], f"guides:{run_id}:{item_code}", at, payload)
    return {"seq": seq, "action": action, "actor": who[:64], "acted_at": at, "reason": why}


def review_history(
    db: Database, run_id: str, item_code: str, element_code: str, check: str
) -> list[dict[str, Any]]:
    return db.query_dicts(
        "SELECT seq, action, actor, acted_at, reason FROM guide_overrides WHERE run_id = ? "
        "AND item_code = ? AND element = ? AND check_kind = ? ORDER BY seq",
        [run_id, item_code, element_code, check],
    )
