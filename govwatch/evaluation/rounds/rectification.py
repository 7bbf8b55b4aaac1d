"""Rectification demands (整改要求) of a published round, worked to the end.

Publication (:func:`govwatch.evaluation.rounds.publication.publish_round`) raises, for each
unit, a demand for each of the indicators where it lost most points *on a value it has*; an
indicator that lost points only because its value is missing gets no demand but a data-gap
flag (``eval_data_gaps``, 缺数据). Each demand has:

- an owner: the unit's organisation (``owner_org``, the scope that may answer it) and, where one
  exists, the unit's department account (``owner_user``, the earliest active one);
- a due date: ``due_days`` working days (the round's ``rectify_days``, default
  :data:`DEFAULT_DAYS`) after the publication day, counted on the calendar
  (:func:`govwatch.calendar.queries.add_workdays`: provisional where no holiday notice exists);
  the administrator may move it;
- a status: 待整改 (open) → 已回复 (replied: the department's reply with files) → 已确认
  (confirmed) or 已退回 (returned, with a reason, then replied again). 已超期 is read, not
  stored: a demand past its due date and not confirmed is overdue (the due date itself is on
  time, as for orders).

Every move appends to ``eval_rectification_log`` and to the ledger (``rectification.<action>``)
with the named user. Departments read and answer their own units' demands only (another unit's
demand is reported as one that does not exist); administrators confirm, return and move due
dates; supervisors read.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from govwatch.auth.errors import ForbiddenError, NotFoundError
from govwatch.auth.principal import Principal
from govwatch.calendar.queries import add_workdays
from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.rounds.digest import plain
from govwatch.ledger import append_one, run_claimed
from govwatch.storage import Database

DEFAULT_DAYS = 15  # working days from publication to the due date
DUE_SOON_WORKDAYS = 2  # a demand (or a fill deadline) "nears" this many working days before
OWNER_KIND = "rectification"  # attachments.owner_kind of a reply's files
# Stores a reply's files inside the reply's unit of work and returns their references
# (attachment_id, name, size_bytes, sha256): the face passes
# govwatch.alerts.attachments.store_attachments (its limits and content checks) bound to the
# demand and the files; evaluation reads and writes alerts' tables, never its code.
FileStore = Callable[[Database], list[dict[str, Any]]]
_FILE_COLUMNS = "attachment_id, name, content_type, size_bytes, sha256, uploaded_by, uploaded_at"

STATUS_NAMES = {
    "open": "待整改",
    "replied": "已回复",
    "confirmed": "已确认",
    "returned": "已退回",
}
OVERDUE_NAME = "已超期"
FOLLOW_NAMES = {"improved": "已改进", "not_improved": "未改进"}
ACTION_NAMES = {
    "raise": "下达整改要求",
    "reply": "回复整改情况",
    "confirm": "确认整改",
    "return": "退回整改",
    "due": "调整整改期限",
}
# What each party owes: a department answers open and returned demands, the administrator
# decides replied ones.
DEPARTMENT_OWES = ("open", "returned")
ADMIN_OWES = ("replied",)
READ_ROLES = frozenset({"admin", "supervisor", "department"})
FILTER_STATUSES = (*STATUS_NAMES, "overdue")


def demand_id_of(round_id: str, unit: str, indicator: str) -> str:
    """A demand's id: stable from its key (migration 072 gives old demands the same)."""
    return hashlib.md5(f"{round_id}|{unit}|{indicator}".encode()).hexdigest()[:16]


def workdays_until(db: Database, today: date, due_on: date) -> int:
    """Working days after ``today`` up to and including ``due_on`` (negative once past), on the
    calendar; outside the calendar weekends are the only rest days."""
    rows = db.query(
        "SELECT on_date, workday_ordinal FROM calendar WHERE on_date = ? OR on_date = ?",
        [today, due_on],
    )
    found = {r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0])): r[1] for r in rows}
    if today in found and due_on in found:
        return int(str(found[due_on])) - int(str(found[today]))
    step = 1 if due_on >= today else -1
    day, count = today, 0
    while day != due_on:
        day += timedelta(days=step)
        if day.weekday() < 5:
            count += step
    return count


# -- raising ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """A demand to raise: the unit, the indicator (id and name) and the points it lost."""

    unit: str
    indicator: str
    indicator_name: str
    points_lost: float


def owners_of(db: Database, units: Sequence[str]) -> dict[str, str]:
    """Each unit's department account (user id): the earliest active one of that organisation."""
    if not units or not db.table_exists("users"):
        return {}
    owners: dict[str, str] = {}
    for user_id, org in db.query(
        "SELECT user_id, org_code FROM users WHERE role = 'department' AND active "
        "AND org_code = ANY(?) ORDER BY created_at, username",
        [list(units)],
    ):
        owners.setdefault(str(org), str(user_id))
    return owners


def raise_demands(
    db: Database,
    round_id: str,
    demands: Sequence[Demand],
    gaps: Sequence[Demand],
    at: datetime,
    days: int | None,
    actor: str,
) -> int:
    """Write the demands (owner, due date) and the data-gap flags, inside the caller's unit of
    work (publication); ledgered as one ``rectification.raise`` entry. Returns the demands."""
    due_days = DEFAULT_DAYS if days is None else days
    due = add_workdays(db, at.date(), due_days)
    owners = owners_of(db, sorted({d.unit for d in demands}))
    rows = []
    logs = []
    for d in demands:
        demand_id = demand_id_of(round_id, d.unit, d.indicator)
        rows.append(
            [
                round_id,
                d.unit,
                d.indicator,
                d.points_lost,
                f"“{d.indicator_name}”失分 {d.points_lost:.2f}，请分析原因并限期整改",
                "open",
                demand_id,
                d.indicator_name,
                d.unit,
                owners.get(d.unit),
                at,
                due_days,
                due.on,
                due.provisional,
                0,
            ]
        )
        logs.append([demand_id, 1, "raise", None, "open", actor, at, None, None])
    db.executemany(
        "INSERT INTO eval_rectifications (round_id, unit, indicator, points_lost, demand, status, "
        "demand_id, indicator_name, owner_org, owner_user, raised_at, due_days, due_on, "
        "due_provisional, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.executemany(
        "INSERT INTO eval_rectification_log (demand_id, seq, action, from_status, to_status, "
        "actor, acted_at, text, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        logs,
    )
    db.executemany(
        "INSERT INTO eval_data_gaps (round_id, unit, indicator, indicator_name, points_lost, "
        "flagged_at) VALUES (?, ?, ?, ?, ?, ?)",
        [[round_id, g.unit, g.indicator, g.indicator_name, g.points_lost, at] for g in gaps],
    )
    append_one(
        db,
        "rectification.raise",
        actor,
        f"round:{round_id}",
        at,
        {
            "round_id": round_id,
            "demands": [r[6] for r in rows],
            "due_on": due.on.isoformat(),
            "due_days": due_days,
            "data_gaps": [f"{g.unit}:{g.indicator}" for g in gaps],
        },
    )
    return len(rows)


# -- who sees what -----------------------------------------------------------------------------


def _require_reader(principal: Principal) -> None:
    if principal.role == "public":
        principal.require("evaluations.read")  # 需要先登录
    if principal.role not in READ_ROLES:
        raise ForbiddenError("整改要求供管理员、监察人员和被评估单位查看")


def own_units(principal: Principal) -> frozenset[str] | None:
    """The units whose demands the principal may read (None: every unit)."""
    if principal.role != "department":
        return None
    units = set(principal.scope or ()) | set(principal.regions)
    if principal.org_code:
        units.add(principal.org_code)
    return frozenset(units)


def scope_condition(principal: Principal, alias: str = "d") -> tuple[str, list[Any]]:
    """SQL condition on a demand row (``alias``) for what the principal may read."""
    units = own_units(principal)
    if units is None:
        return "TRUE", []
    return f"{alias}.unit = ANY(?)", [sorted(units) or ["-"]]


def owed_sql(principal: Principal) -> tuple[str, list[Any]]:
    """``SELECT COUNT(*)`` of what the principal owes on demands (the menu's 整改 badge):
    a department its units' open and returned demands, an administrator the replies to decide,
    a supervisor nothing."""
    if principal.role == "department":
        cond, params = scope_condition(principal)
        return (
            "SELECT COUNT(*) FROM eval_rectifications d WHERE d.status IN ('open', 'returned') "
            f"AND {cond}",
            params,
        )
    if principal.role == "admin":
        return "SELECT COUNT(*) FROM eval_rectifications d WHERE d.status = 'replied'", []
    return "SELECT 0", []


def owed_count(db: Database, principal: Principal) -> int:
    if principal.role not in READ_ROLES or not db.table_exists("eval_data_gaps"):
        return 0
    sql, params = owed_sql(principal)
    return int(db.scalar(sql, params) or 0)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandFilter:
    round_id: str | None = None
    unit: str | None = None
    status: str | None = None  # a STATUS_NAMES code or "overdue"
    owed: bool = False  # only what the reader owes

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in FILTER_STATUSES:
            names = "、".join(f"{k}（{v}）" for k, v in STATUS_NAMES.items())
            raise InputError(
                f"整改状态“{self.status}”无效：应为 {names} 或 overdue（{OVERDUE_NAME}）"
            )


_COLUMNS = (
    "d.demand_id, d.round_id, r.name AS round_name, d.unit, u.unit_name, d.indicator, "
    "d.indicator_name, d.points_lost, d.demand, d.status, d.owner_org, d.owner_user, "
    "d.raised_at, d.due_days, d.due_on, d.due_provisional, d.reply, d.replied_by, d.replied_at, "
    "d.decided_by, d.decided_at, d.decision_reason, d.follow_result, d.followed_in_round, "
    "d.followed_points, d.version, r.status AS round_status"
)
_FROM = (
    "eval_rectifications d JOIN eval_rounds r ON r.round_id = d.round_id "
    "LEFT JOIN eval_units u ON u.round_id = d.round_id AND u.unit = d.unit"
)


def _where(principal: Principal, f: DemandFilter, today: date) -> tuple[str, list[Any]]:
    cond, params = scope_condition(principal)
    parts = [cond]
    if f.round_id:
        parts.append("d.round_id = ?")
        params.append(f.round_id)
    if f.unit:
        parts.append("d.unit = ?")
        params.append(f.unit)
    if f.status == "overdue":
        parts.append("d.status <> 'confirmed' AND d.due_on < ?")
        params.append(today)
    elif f.status:
        parts.append("d.status = ?")
        params.append(f.status)
    if f.owed:
        owes: tuple[str, ...] = {"department": DEPARTMENT_OWES, "admin": ADMIN_OWES}.get(
            principal.role, ()
        )
        parts.append(f"d.status IN ({', '.join(repr(s) for s in owes)})" if owes else "FALSE")
    return " AND ".join(parts), params


def _shape(row: dict[str, Any], today: date, db: Database) -> dict[str, Any]:
    item = {k: plain(v) for k, v in row.items()}
    status = str(row["status"])
    due_on = row["due_on"]
    overdue = due_on is not None and status != "confirmed" and due_on < today
    left = workdays_until(db, today, due_on) if due_on is not None else None
    item |= {
        "status_name": STATUS_NAMES.get(status, status),
        "overdue": overdue,
        "shown_status": OVERDUE_NAME if overdue else STATUS_NAMES.get(status, status),
        "workdays_left": left,
        "countdown": (
            "无期限"
            if left is None
            else f"已超期 {-left} 个工作日"
            if overdue and left < 0
            else "已超期"
            if overdue
            else "今日到期"
            if due_on == today
            else f"剩余 {left} 个工作日"
        ),
        "follow_name": FOLLOW_NAMES.get(str(row["follow_result"] or ""), ""),
        "indicator_name": row["indicator_name"] or row["indicator"],
        "unit_name": row["unit_name"] or row["unit"],
    }
    if status == "confirmed":
        item["countdown"] = "已确认"
    return item


def list_demands(
    db: Database,
    principal: Principal,
    today: date,
    f: DemandFilter = DemandFilter(),
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The demands the principal may read, overdue first, then by due date."""
    _require_reader(principal)
    where, params = _where(principal, f, today)
    rows = db.query_dicts(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY "
        "CASE WHEN d.status <> 'confirmed' AND d.due_on < ? THEN 0 ELSE 1 END, "
        "CASE WHEN d.status = 'confirmed' THEN 1 ELSE 0 END, d.due_on, d.round_id, d.unit, "
        f"d.points_lost DESC, d.indicator LIMIT {int(limit)} OFFSET {int(offset)}",
        [*params, today],
    )
    return [_shape(r, today, db) for r in rows]


def count_demands(
    db: Database,
    principal: Principal,
    today: date,
    f: DemandFilter = DemandFilter(),
) -> int:
    _require_reader(principal)
    where, params = _where(principal, f, today)
    return int(db.scalar(f"SELECT COUNT(*) FROM {_FROM} WHERE {where}", params) or 0)


def status_counts(
    db: Database,
    principal: Principal,
    today: date,
    f: DemandFilter = DemandFilter(),
) -> dict[str, int]:
    """How many demands of each status (and overdue) under the filter's round and unit."""
    _require_reader(principal)
    base = DemandFilter(f.round_id, f.unit)
    where, params = _where(principal, base, today)
    counts = {k: 0 for k in FILTER_STATUSES}
    for status, n, late in db.query(
        f"SELECT d.status, COUNT(*), SUM(CASE WHEN d.status <> 'confirmed' AND d.due_on < ? "
        f"THEN 1 ELSE 0 END) FROM {_FROM} WHERE {where} GROUP BY d.status",
        [today, *params],
    ):
        counts[str(status)] = counts.get(str(status), 0) + int(n)
        counts["overdue"] += int(late or 0)
    counts["all"] = sum(counts[s] for s in STATUS_NAMES)
    return counts


def iter_demands(
    db: Database, principal: Principal, today: date, f: DemandFilter
) -> Iterator[dict[str, Any]]:
    """Every demand under the filter, in the list's order (exports)."""
    offset = 0
    while True:
        chunk = list_demands(db, principal, today, f, 500, offset)
        yield from chunk
        if len(chunk) < 500:
            return
        offset += 500


def _row(db: Database, principal: Principal, demand_id: str) -> dict[str, Any]:
    _require_reader(principal)
    cond, params = scope_condition(principal)
    rows = db.query_dicts(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE d.demand_id = ? AND {cond}", [demand_id, *params]
    )
    if not rows:
        raise NotFoundError(f"整改要求“{demand_id}”不存在")
    return rows[0]


def get_demand(db: Database, principal: Principal, demand_id: str, today: date) -> dict[str, Any]:
    """One demand with its files and its history (404 for a unit not the reader's)."""
    item = _shape(_row(db, principal, demand_id), today, db)
    files = [
        {k: plain(v) for k, v in f.items()} | {"size_text": size_text(int(f["size_bytes"]))}
        for f in db.query_dicts(
            f"SELECT {_FILE_COLUMNS} FROM attachments WHERE owner_kind = ? AND owner_id = ? "
            "ORDER BY uploaded_at, attachment_id",
            [OWNER_KIND, demand_id],
        )
    ]
    history = [
        {k: plain(v) for k, v in h.items()}
        | {
            "action_name": ACTION_NAMES.get(str(h["action"]), str(h["action"])),
            "to_name": STATUS_NAMES.get(str(h["to_status"]), str(h["to_status"])),
            "actor_name": str(h["actor"]).split(":", 1)[-1],
            "attachments": [
                r | {"size_text": size_text(int(r.get("size_bytes", 0)))}
                for r in (orjson.loads(h["attachments"]) if h["attachments"] else [])
            ],
        }
        for h in db.query_dicts(
            "SELECT seq, action, from_status, to_status, actor, acted_at, text, attachments "
            "FROM eval_rectification_log WHERE demand_id = ? ORDER BY seq",
            [demand_id],
        )
    ]
    return item | {
        "files": files,
        "history": history,
        "can_reply": principal.role == "department" and item["status"] in DEPARTMENT_OWES,
        "can_decide": principal.role == "admin" and item["status"] in ADMIN_OWES,
        "can_move_due": principal.role == "admin" and item["status"] != "confirmed",
    }


def demand_file(
    db: Database, principal: Principal, demand_id: str, attachment_id: str
) -> tuple[str, bytes]:
    """A reply's file (its name and bytes), for a reader of its demand."""
    _row(db, principal, demand_id)
    rows = db.query(
        "SELECT name, content_base64 FROM attachments WHERE attachment_id = ? "
        "AND owner_kind = ? AND owner_id = ?",
        [attachment_id, OWNER_KIND, demand_id],
    )
    if not rows:
        raise NotFoundError(f"附件“{attachment_id}”不存在")
    return str(rows[0][0]), base64.b64decode(str(rows[0][1]))


def size_text(size_bytes: int) -> str:
    """1536 → '1.5 KB' (as the attachment lists say it)."""
    if size_bytes < 1024:
        return f"{size_bytes} 字节"
    if size_bytes < 2**20:
        return f"{size_bytes / 1024:.1f} KB"
    return f"{size_bytes / 2**20:.1f} MB"


def list_gaps(
    db: Database, principal: Principal, round_id: str | None = None, unit: str | None = None
) -> list[dict[str, Any]]:
    """The data-gap flags (缺数据) the principal may read: no demand, supply the data."""
    _require_reader(principal)
    cond, params = scope_condition(principal, "g")
    where = [cond]
    if round_id:
        where.append("g.round_id = ?")
        params.append(round_id)
    if unit:
        where.append("g.unit = ?")
        params.append(unit)
    return [
        {k: plain(v) for k, v in g.items()}
        for g in db.query_dicts(
            "SELECT g.round_id, r.name AS round_name, g.unit, u.unit_name, g.indicator, "
            "g.indicator_name, g.points_lost, g.flagged_at FROM eval_data_gaps g "
            "JOIN eval_rounds r ON r.round_id = g.round_id LEFT JOIN eval_units u "
            "ON u.round_id = g.round_id AND u.unit = g.unit "
            f"WHERE {' AND '.join(where)} ORDER BY g.round_id, g.unit, g.points_lost DESC, "
            "g.indicator LIMIT 2000",
            params,
        )
    ]


# -- acting ------------------------------------------------------------------------------------


def _move(
    db: Database,
    principal: Principal,
    demand_id: str,
    action: str,
    allowed_from: tuple[str, ...],
    to_status: str,
    at: datetime,
    text: str | None,
    store_files: FileStore | None = None,
    expected_version: int | None = None,
    extra_sets: str = "",
    extra_params: Sequence[Any] = (),
) -> None:
    def work(tx: Database) -> None:
        row = _row(tx, principal, demand_id)
        current = str(row["status"])
        label = f"整改要求“{row['indicator_name'] or row['indicator']}”（{row['unit']}）"
        if current not in allowed_from:
            raise InputError(
                f"{label}当前为“{STATUS_NAMES.get(current, current)}”，不能"
                f"{ACTION_NAMES[action]}（应为"
                f"{'、'.join(STATUS_NAMES[s] for s in allowed_from)}）"
            )
        version = int(row["version"] or 0)
        if expected_version is not None and expected_version != version:
            raise InputError(f"{label}已被他人处理（版本 {version}），请刷新后再操作")
        files = store_files(tx) if store_files is not None else []
        changed = tx.query(
            f"UPDATE eval_rectifications SET status = ?, version = ?{extra_sets} "
            "WHERE demand_id = ? AND COALESCE(version, 0) = ? RETURNING demand_id",
            [to_status, version + 1, *extra_params, demand_id, version],
        )
        if not changed:
            raise InputError(f"{label}已被他人处理，请刷新后再操作")
        seq = int(
            tx.scalar(
                "SELECT COALESCE(MAX(seq), 0) FROM eval_rectification_log WHERE demand_id = ?",
                [demand_id],
            )
            or 0
        )
        tx.execute(
            "INSERT INTO eval_rectification_log (demand_id, seq, action, from_status, to_status, "
            "actor, acted_at, text, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                demand_id,
                seq + 1,
                action,
                current,
                to_status,
                principal.name,
                at,
                text,
                orjson.dumps(files).decode() if files else None,
            ],
        )
        entry: dict[str, Any] = {
            "round_id": row["round_id"],
            "unit": row["unit"],
            "indicator": row["indicator"],
            "from": current,
            "to": to_status,
            "text": text,
        }
        if files:
            entry["attachments"] = [f["sha256"] for f in files]
        append_one(tx, f"rectification.{action}", principal.name, f"rectification:{demand_id}",
                   at, entry)  # fmt: skip

    run_claimed(db, work)


def reply(
    db: Database,
    principal: Principal,
    demand_id: str,
    text: str,
    at: datetime,
    store_files: FileStore | None = None,
    expected_version: int | None = None,
) -> None:
    """The unit's department replies what it rectified (with files, stored by ``store_files``
    in the same unit of work): 待整改/已退回 → 已回复."""
    if principal.role != "department":
        _row(db, principal, demand_id)  # 404 before 403 for a demand the reader cannot see
        raise ForbiddenError("整改情况由被评估单位的部门账号回复")
    body = text.strip()
    if not body:
        raise InputError(f"整改要求“{demand_id}”的回复：请填写整改情况（不能为空）")
    _move(
        db,
        principal,
        demand_id,
        "reply",
        DEPARTMENT_OWES,
        "replied",
        at,
        body,
        store_files,
        expected_version,
        ", reply = ?, replied_by = ?, replied_at = ?",
        [body, principal.name, at],
    )


def _require_admin(db: Database, principal: Principal, demand_id: str, what: str) -> None:
    if principal.role != "admin":
        _row(db, principal, demand_id)
        raise ForbiddenError(f"{what}需要管理员角色")


def confirm(
    db: Database,
    principal: Principal,
    demand_id: str,
    at: datetime,
    note: str = "",
    expected_version: int | None = None,
) -> None:
    """The administrator confirms the rectification: 已回复 → 已确认."""
    _require_admin(db, principal, demand_id, "确认整改")
    _move(
        db,
        principal,
        demand_id,
        "confirm",
        ADMIN_OWES,
        "confirmed",
        at,
        note.strip() or None,
        None,
        expected_version,
        ", decided_by = ?, decided_at = ?, decision_reason = ?",
        [principal.name, at, note.strip() or None],
    )


def return_demand(
    db: Database,
    principal: Principal,
    demand_id: str,
    reason: str,
    at: datetime,
    expected_version: int | None = None,
) -> None:
    """The administrator returns the reply with a reason: 已回复 → 已退回 (to be replied again)."""
    _require_admin(db, principal, demand_id, "退回整改")
    why = reason.strip()
    if not why:
        raise InputError(f"整改要求“{demand_id}”退回：请填写退回理由（不能为空）")
    _move(
        db,
        principal,
        demand_id,
        "return",
        ADMIN_OWES,
        "returned",
        at,
        why,
        None,
        expected_version,
        ", decided_by = ?, decided_at = ?, decision_reason = ?",
        [principal.name, at, why],
    )


def move_due(
    db: Database, principal: Principal, demand_id: str, due_on: date, reason: str, at: datetime
) -> None:
    """The administrator sets another due date (a reason is required); the status stays."""
    _require_admin(db, principal, demand_id, "调整整改期限")
    why = reason.strip()
    if not why:
        raise InputError(f"整改要求“{demand_id}”调整期限：请填写理由（不能为空）")
    if due_on < at.date():
        raise InputError(
            f"整改要求“{demand_id}”的新期限 {due_on.isoformat()} 早于今天 {at.date().isoformat()}"
        )
    row = _row(db, principal, demand_id)
    status = str(row["status"])
    if status == "confirmed":
        raise InputError(f"整改要求“{demand_id}”已确认，不能再调整期限")
    _move(
        db,
        principal,
        demand_id,
        "due",
        (status,),
        status,
        at,
        f"期限由 {plain(row['due_on'])} 调整为 {due_on.isoformat()}：{why}",
        None,
        None,
        ", due_on = ?, due_provisional = FALSE",
        [due_on],
    )


def set_round_days(
    db: Database, principal: Principal, round_id: str, days: int, at: datetime
) -> None:
    """A round's rectification period in working days (before it is published), ledgered."""
    if principal.role != "admin":
        raise ForbiddenError("设置整改期限需要管理员角色")
    if not 1 <= days <= 250:
        raise InputError(f"评估批次“{round_id}”的整改期限 {days} 无效：应为 1 至 250 个工作日")
    with db.transaction():
        found = db.query(
            "UPDATE eval_rounds SET rectify_days = ? WHERE round_id = ? AND status NOT IN "
            "('published', 'closed') RETURNING round_id",
            [days, round_id],
        )
        if not found:
            raise GovwatchError(f"评估批次“{round_id}”不存在或已发布：整改期限只能在发布前设置")
        append_one(
            db, "round.rectify_days", principal.name, f"round:{round_id}", at,
            {"round_id": round_id, "days": days},
        )  # fmt: skip
