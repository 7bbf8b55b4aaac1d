"""Demand-side data (需求侧): service ratings (好差评) and the follow-up of negative ones,
questionnaires with their responses, and call-back records.

Ratings come from ``rating`` events (one per case online) and from bulk files (e.g. the GB/T
39046 政务服务绩效评价 table exported by a rating platform). Every negative rating (level 4 or
5) gets a follow-up row with its rectification deadline: ``deadline_days`` working days (15 by
default; some provinces use 5) after the day it was given, counted on the calendar table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from govwatch.errors import InputError
from govwatch.evaluation.systems.values import read_records
from govwatch.storage import Database
from govwatch.timeutil import now, parse_timestamp

DEFAULT_DEADLINE_DAYS = 15
DEFAULT_DEADLINE_UNIT = "W"
LEVELS = ("1", "2", "3", "4", "5")

# Field aliases of bulk rating files (GB/T 39046 政务服务绩效评价 and common exports).
RATING_ALIASES = {
    "rating_id": ("rating_id", "评价编号", "id"),
    "case_id": ("case_id", "办件编号", "申办流水号", "sblsh"),
    "level": ("level", "满意度", "评价等级"),
    "channel": ("channel", "评价渠道"),
    "rated_at": ("rated_at", "评价时间", "occurred_at"),
    "text": ("text", "文字评价"),
    "region_code": ("region_code", "行政区划", "xzqhdm"),
    "department_code": ("department_code", "实施主体编码"),
    "item_code": ("item_code", "实施编码", "sxbm"),
}


def _pick(row: Mapping[str, Any], key: str, aliases: Mapping[str, Sequence[str]]) -> Any:
    for name in aliases[key]:
        value = row.get(name.lower())
        if value not in (None, ""):
            return value
    return None


def sync_ratings_from_events(db: Database) -> int:
    """Copy ``rating`` events not yet in ``ratings``; the unit comes from the case's item."""
    before = int(db.scalar("SELECT COUNT(*) FROM ratings") or 0)
    db.execute(
        """INSERT INTO ratings (rating_id, case_id, region_code, department_code, item_code, level,
    channel, rated_at, text, source)
SELECT e.event_id, e.case_id, c.region_code, c.department_code, c.item_code, e.level, e.channel,
    e.occurred_at, e.text, 'event'
FROM events e LEFT JOIN cases c ON c.case_id = e.case_id
WHERE e.kind = 'rating' AND e.level IN ('1', '2', '3', '4', '5')
  AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.rating_id = e.event_id)"""
    )
    return int(db.scalar("SELECT COUNT(*) FROM ratings") or 0) - before


def import_ratings(db: Database, paths: Iterable[str | Path]) -> int:
    """Load ratings from CSV / JSON Lines files; returns the number of new ratings."""
    rows: list[list[Any]] = []
    for path in paths:
        for number, raw in enumerate(read_records(path, ()), start=1):
            where = f"{path} 第 {number} 条评价"
            level = str(_pick(raw, "level", RATING_ALIASES) or "").strip()
            if level not in LEVELS:
                raise InputError(
                    f"{where}的满意度“{level}”无效：应为 1（非常满意）至 5（非常不满意）"
                )
            rated = _pick(raw, "rated_at", RATING_ALIASES)
            if rated is None:
                raise InputError(f"{where}缺少评价时间（rated_at 或 评价时间）")
            record = {k: _pick(raw, k, RATING_ALIASES) for k in RATING_ALIASES}
            rating_id = (
                record["rating_id"]
                or hashlib.sha256(
                    orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str)
                ).hexdigest()
            )
            rows.append(
                [
                    str(rating_id),
                    record["case_id"],
                    record["region_code"],
                    record["department_code"],
                    record["item_code"],
                    level,
                    record["channel"],
                    parse_timestamp(rated),
                    record["text"],
                    str(path),
                ]
            )
    if not rows:
        return 0
    before = int(db.scalar("SELECT COUNT(*) FROM ratings") or 0)
    with db.transaction():
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _gw_ratings AS SELECT * FROM ratings WHERE 1 = 0"
        )
        db.execute("DELETE FROM _gw_ratings")
        db.executemany(
            "INSERT INTO _gw_ratings (rating_id, case_id, region_code, department_code, item_code, "
            "level, channel, rated_at, text, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        # the unit of a rating without one is its case's
        db.execute(
            """INSERT INTO ratings (rating_id, case_id, region_code, department_code, item_code,
    level, channel, rated_at, text, source)
SELECT DISTINCT g.rating_id, g.case_id, COALESCE(g.region_code, c.region_code),
    COALESCE(g.department_code, c.department_code), COALESCE(g.item_code, c.item_code),
    g.level, g.channel, g.rated_at, g.text, g.source
FROM _gw_ratings g LEFT JOIN cases c ON c.case_id = g.case_id
WHERE NOT EXISTS (SELECT 1 FROM ratings r WHERE r.rating_id = g.rating_id)"""
        )
        db.execute("DROP TABLE _gw_ratings")
    return int(db.scalar("SELECT COUNT(*) FROM ratings") or 0) - before


def open_followups(
    db: Database,
    *,
    deadline_days: int = DEFAULT_DEADLINE_DAYS,
    deadline_unit: str = DEFAULT_DEADLINE_UNIT,
    actor: str = "system",
    at: datetime | None = None,
) -> int:
    """Give every negative rating without one a follow-up with its rectification deadline."""
    if deadline_days < 0 or deadline_unit not in ("W", "N"):
        raise InputError("整改期限应为不小于 0 的天数，单位 W（工作日）或 N（自然日）")
    stamp = at or now()
    before = int(db.scalar("SELECT COUNT(*) FROM rating_followups") or 0)
    # the deadline is the earliest date D with days(rated_on, D) = deadline_days (spec/time.md),
    # moved to the next working day for natural days
    params: list[Any] = [deadline_days, deadline_unit]
    if deadline_days == 0:
        due, join = "d.on_date", "d.on_date = c0.on_date"
    elif deadline_unit == "W":
        due, join = "d.on_date", "d.is_workday AND d.workday_ordinal = c0.workday_ordinal + ?"
    else:
        due, join = "d.next_workday", "d.day_ordinal = c0.day_ordinal + ?"
    params += [actor, stamp] + ([deadline_days] if deadline_days else [])
    sql = f"""INSERT INTO rating_followups (rating_id, deadline_days, deadline_unit, deadline_on,
    status, updated_by, updated_at)
SELECT r.rating_id, ?, ?, {due}, 'open', ?, ?
FROM ratings r
JOIN calendar c0 ON c0.on_date = CAST(r.rated_at AS DATE)
JOIN calendar d ON {join}
WHERE r.level IN ('4', '5')
  AND NOT EXISTS (SELECT 1 FROM rating_followups f WHERE f.rating_id = r.rating_id)"""
    db.execute(sql, params)
    return int(db.scalar("SELECT COUNT(*) FROM rating_followups") or 0) - before


def _followup(db: Database, rating_id: str) -> dict[str, Any]:
    rows = db.query_dicts("SELECT * FROM rating_followups WHERE rating_id = ?", [rating_id])
    if not rows:
        raise InputError(f"评价“{rating_id}”不是差评或尚未建立回访整改记录：请先同步评价")
    return rows[0]


def record_callback(db: Database, rating_id: str, at: datetime, actor: str, note: str = "") -> None:
    """A negative rating was called back (回访核实)."""
    row = _followup(db, rating_id)
    status = row["status"] if row["status"] in ("rectified", "invalid") else "called_back"
    db.execute(
        "UPDATE rating_followups SET called_back_at = COALESCE(called_back_at, ?), status = ?, "
        "note = COALESCE(?, note), updated_by = ?, updated_at = ? WHERE rating_id = ?",
        [at, status, note or None, actor, at, rating_id],
    )


def record_rectification(
    db: Database, rating_id: str, at: datetime, actor: str, note: str = ""
) -> None:
    """The cause of a negative rating was rectified (整改完成) at ``at``."""
    _followup(db, rating_id)
    db.execute(
        "UPDATE rating_followups SET rectified_at = ?, status = 'rectified', "
        "note = COALESCE(?, note), updated_by = ?, updated_at = ? WHERE rating_id = ?",
        [at, note or None, actor, at, rating_id],
    )


def mark_invalid(db: Database, rating_id: str, at: datetime, actor: str, reason: str) -> None:
    """A malicious or mistaken negative rating, cleared on appeal review: not counted."""
    if not reason.strip():
        raise InputError("认定差评无效须说明理由（恶意或误评的核实情况）")
    _followup(db, rating_id)
    db.execute(
        "UPDATE rating_followups SET status = 'invalid', note = ?, updated_by = ?, updated_at = ? "
        "WHERE rating_id = ?",
        [reason, actor, at, rating_id],
    )
