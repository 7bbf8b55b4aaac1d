"""The notice workflow (通报): draft → approved → issued, then each unit acknowledges (签收).

- **Draft** (:func:`draft_notice`): on demand (a page, ``govwatch report draft``) or on the
  schedule (:func:`scheduled_drafts`: the monthly supervision notice of the previous month,
  drafted on the first working day of each month, once). The draft stores the kind's inputs
  (period and scope, or round), the administrator's template overrides and settings, and the
  built :class:`~govwatch.reports.model.Notice` as canonical JSON.
- **Edit** (:func:`edit_notice`): template texts, thresholds, doc number and addressees of a
  draft; the notice is rebuilt with them. An approved notice goes back to draft when edited;
  an issued one refuses every edit.
- **Approve** (:func:`approve_notice`) and **issue** (:func:`issue_notice`): administrators
  only. Issuing freezes the body with its SHA-256 digest (kept in the row and in the ledger,
  ``notice.issue``), fixes the units it is addressed to, and sends it to their inboxes and the
  webhooks (:func:`govwatch.alerts.notify.notify`, kind ``notice.issued``).
- **Acknowledge** (:func:`acknowledge`): a department user for its organisation.

Who sees what (:func:`notice_access`): administrators and supervisors every notice at every
stage; a department (and an evaluator) only issued notices that are general (province-wide, or
an evaluation result) or addressed to a unit in its scope; any other notice is reported as not
existing (404). Every change is ledgered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from govwatch.auth.errors import ConflictError, ForbiddenError, NotFoundError
from govwatch.auth.orgs import REGION_KINDS, subtree
from govwatch.auth.passwords import new_id
from govwatch.auth.principal import Principal
from govwatch.calendar.queries import is_workday
from govwatch.errors import GovwatchError, InputError
from govwatch.ledger import append_one
from govwatch.notifications import Notice as Notification
from govwatch.notifications import notify
from govwatch.reports import evaluation, supervision
from govwatch.reports.fields import to_chinese
from govwatch.reports.model import Notice
from govwatch.storage import Database

KINDS = ("supervision", "evaluation")
STATUSES = ("draft", "approved", "issued")
SYSTEM_ACTOR = "system:schedule"


class NoticeStateError(ConflictError):
    """An action the notice's stage (or the actor's role) does not allow."""


# -- the kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindSpec:
    """What a kind of notice needs: its builder, its editable templates and settings."""

    name: str  # Chinese
    templates: Callable[[], Mapping[str, str]]
    template_names: Mapping[str, str]
    settings: Callable[[], Mapping[str, Any]]
    setting_names: Mapping[str, str]


def _supervision_settings() -> Mapping[str, Any]:
    return {**HEAD_SETTINGS, **dict(supervision.DEFAULT_SETTINGS)}


HEAD_SETTINGS: dict[str, str] = {"doc_number": "", "addressees": ""}
HEAD_SETTING_NAMES = {"doc_number": "发文字号", "addressees": "主送机关", "issuer": "发文机关"}
SUPERVISION_SETTING_NAMES = {
    **HEAD_SETTING_NAMES,
    "doc_prefix": "发文字号前缀",
    "praise_ontime_rate": "表扬标准：按时办结率不低于（0–1 之间的小数，如 0.98）",
    "criticism_ontime_rate": "批评标准：按时办结率低于（0–1 之间的小数，如 0.90）",
    "criticism_red_per_1000": "批评标准：每千件办件红牌数超过",
    "min_cases": "参与表扬批评的最少办结件数",
    "reply_days": "整改情况报送期限（工作日）",
    "typical_cases": "通报典型问题条数",
    "top_units": "红黄牌排名列出单位数",
    "top_items": "用时最长事项列出个数",
}

SUPERVISION_TEMPLATE_NAMES = supervision.TEMPLATE_NAMES

SPECS: dict[str, KindSpec] = {
    "supervision": KindSpec(
        "电子监察通报",
        supervision.default_templates,
        SUPERVISION_TEMPLATE_NAMES,
        _supervision_settings,
        SUPERVISION_SETTING_NAMES,
    ),
    "evaluation": KindSpec(
        "评估结果通报",
        lambda: evaluation.TEMPLATES,
        evaluation.TEMPLATE_NAMES,
        lambda: evaluation.DEFAULT_SETTINGS,
        {**HEAD_SETTING_NAMES, **evaluation.SETTING_NAMES},
    ),
}


def _spec(kind: str) -> KindSpec:
    if kind not in SPECS:
        raise InputError(
            f"通报类型“{kind}”无效：应为 supervision（电子监察通报）或 evaluation（评估结果通报）"
        )
    return SPECS[kind]


@dataclass(frozen=True)
class NoticeInputs:
    """What a notice is built from."""

    kind: str
    period: str | None = None
    scope: str | None = None
    round_id: str | None = None


def build(
    db: Database,
    inputs: NoticeInputs,
    at: datetime,
    templates: Mapping[str, str],
    settings: Mapping[str, Any],
) -> Notice:
    """Build the notice from the data as it is at ``at`` with the overrides given."""
    head = {k: str(v) for k, v in settings.items() if k in HEAD_SETTING_NAMES and v}
    if inputs.kind == "evaluation":
        if not inputs.round_id:
            raise InputError("评估结果通报须指定评估批次（round）")
        notice = evaluation.build_evaluation_notice(
            db, inputs.round_id, at, templates=templates, settings=head
        )
    else:
        if not inputs.period:
            raise InputError("电子监察通报须指定期间（period，如 2026-06）")
        notice = supervision.build_supervision_notice(
            db, inputs.period, inputs.scope, at, settings, templates=templates or None
        )
    return evaluation.with_fields(notice, head)


# -- digest ----------------------------------------------------------------------------------


def canonical(notice: Notice) -> str:
    return orjson.dumps(notice.to_dict(), option=orjson.OPT_SORT_KEYS).decode()


def digest_of(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class NoticeVerification:
    notice_id: str
    stored: str | None  # the row's digest
    recomputed: str  # SHA-256 of the row's body now
    ledgered: str | None  # the digest the ledger recorded at issue

    @property
    def ok(self) -> bool:
        return self.stored is not None and self.stored == self.recomputed == self.ledgered

    def to_json(self) -> dict[str, Any]:
        return {
            "notice": self.notice_id,
            "ok": self.ok,
            "digest": self.stored,
            "recomputed": self.recomputed,
            "ledgered": self.ledgered,
        }


def verify_notice(db: Database, notice_id: str) -> NoticeVerification:
    """Recompute the issued notice's digest from its stored body, and compare it with the row's
    and with the ledger's record of the issue (an edit of the row alone shows either way)."""
    row = _row(db, notice_id)
    if row["status"] != "issued":
        raise NoticeStateError(f"通报“{notice_id}”尚未下发，没有摘要可核验")
    ledgered = None
    for (payload,) in db.query(
        "SELECT payload FROM ledger WHERE kind = 'notice.issue' AND ref = ? ORDER BY seq",
        [f"notice:{notice_id}"],
    ):
        ledgered = str(orjson.loads(str(payload)).get("digest"))
    return NoticeVerification(notice_id, row["digest"], digest_of(str(row["body"])), ledgered)


# -- reading and access ---------------------------------------------------------------------

_COLUMNS = (
    "notice_id, kind, period, scope, round_id, general, status, title, doc_number, templates, "
    "settings, body, digest, schedule_key, drafted_by, drafted_at, edited_by, edited_at, "
    "approved_by, approved_at, issued_by, issued_at"
)
MANAGE_ROLES = frozenset({"admin"})
READ_ALL_ROLES = frozenset({"admin", "supervisor"})


def _row(db: Database, notice_id: str) -> dict[str, Any]:
    rows = db.query_dicts(f"SELECT {_COLUMNS} FROM notices WHERE notice_id = ?", [notice_id])
    if not rows:
        raise NotFoundError(f"通报“{notice_id}”不存在")
    return _fields_in_chinese(rows[0])


def units_of(principal: Principal) -> frozenset[str]:
    """The organisation and region codes a principal acts for (a department: its subtree)."""
    if principal.scope is None:
        return frozenset()
    own = principal.scope | principal.regions
    return own | ({principal.org_code} if principal.org_code else frozenset())


def visible_condition(principal: Principal, alias: str = "n") -> tuple[str, list[Any]]:
    """SQL condition (and parameters) for the notices a principal may read."""
    if principal.role in READ_ALL_ROLES:
        return "TRUE", []
    if principal.role not in ("department", "evaluator"):
        return "FALSE", []
    units = sorted(units_of(principal))
    condition = f"{alias}.status = 'issued' AND ({alias}.general"
    if units:
        marks = ", ".join("?" for _ in units)
        condition += (
            f" OR EXISTS (SELECT 1 FROM notice_units u WHERE u.notice_id = {alias}.notice_id "
            f"AND u.unit IN ({marks}))"
        )
    return condition + ")", list(units)


def _fields_in_chinese(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its stored template overrides' fields named in Chinese (overrides saved
    before r15fields name them by the builder's keys: govwatch.reports.fields.to_chinese)."""
    raw = row.get("templates")
    if raw and row.get("kind") in SPECS:
        stored = orjson.loads(str(raw))
        row["templates"] = orjson.dumps(
            {k: to_chinese(str(row["kind"]), str(v)) for k, v in stored.items()}
        ).decode()
    return row


def get_notice(db: Database, principal: Principal, notice_id: str) -> dict[str, Any]:
    """The notice row as ``principal`` may read it; 404 (as if absent) when it may not."""
    condition, params = visible_condition(principal)
    rows = db.query_dicts(
        f"SELECT {_COLUMNS} FROM notices n WHERE n.notice_id = ? AND {condition}",
        [notice_id, *params],
    )
    if not rows:
        raise NotFoundError(f"通报“{notice_id}”不存在")
    return _fields_in_chinese(rows[0])


def notice_of(row: Mapping[str, Any]) -> Notice:
    return Notice.from_dict(orjson.loads(str(row["body"])))


@dataclass(frozen=True)
class NoticeFilter:
    status: str | None = None
    kind: str | None = None
    period: str | None = None


def _filter_sql(principal: Principal, f: NoticeFilter) -> tuple[str, list[Any]]:
    condition, params = visible_condition(principal)
    if f.status:
        condition += " AND n.status = ?"
        params.append(f.status)
    if f.kind:
        condition += " AND n.kind = ?"
        params.append(f.kind)
    if f.period:
        condition += " AND n.period = ?"
        params.append(f.period)
    return condition, params


LIST_COLUMNS = (
    "n.notice_id, n.kind, n.period, n.scope, n.round_id, n.general, n.status, n.title, "
    "n.doc_number, n.drafted_at, n.approved_at, n.issued_at, n.issued_by"
)


def list_notices(
    db: Database,
    principal: Principal,
    f: NoticeFilter = NoticeFilter(),
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The notices the principal may read, newest first, each with its acknowledgement counts
    (``addressed``: units addressed; ``acked``: of those, acknowledged) and, for a department,
    whether its own organisation has acknowledged it (``acked_by_me``)."""
    condition, params = _filter_sql(principal, f)
    me = principal.org_code or ""
    return db.query_dicts(
        f"SELECT {LIST_COLUMNS}, "
        "(SELECT COUNT(*) FROM notice_units u WHERE u.notice_id = n.notice_id) AS addressed, "
        "(SELECT COUNT(*) FROM notice_acks a JOIN notice_units u ON u.notice_id = a.notice_id "
        " AND u.unit = a.unit WHERE a.notice_id = n.notice_id) AS acked, "
        "(SELECT COUNT(*) FROM notice_acks a WHERE a.notice_id = n.notice_id AND a.unit = ?) "
        " AS acked_by_me "
        f"FROM notices n WHERE {condition} "
        "ORDER BY COALESCE(n.issued_at, n.drafted_at) DESC, n.notice_id "
        f"LIMIT {int(limit)} OFFSET {int(offset)}",
        [me, *params],
    )


def count_notices(db: Database, principal: Principal, f: NoticeFilter = NoticeFilter()) -> int:
    condition, params = _filter_sql(principal, f)
    return int(db.scalar(f"SELECT COUNT(*) FROM notices n WHERE {condition}", params) or 0)


def unacknowledged_count(db: Database, principal: Principal) -> int:
    """The menu's count: a department's issued notices its organisation has not acknowledged;
    an administrator's issued notices some addressed unit has not acknowledged yet."""
    if principal.role == "department" and principal.org_code:
        condition, params = visible_condition(principal)
        return int(
            db.scalar(
                f"SELECT COUNT(*) FROM notices n WHERE {condition} AND NOT EXISTS "
                "(SELECT 1 FROM notice_acks a WHERE a.notice_id = n.notice_id AND a.unit = ?)",
                [*params, principal.org_code],
            )
            or 0
        )
    if principal.role in MANAGE_ROLES:
        return int(
            db.scalar(
                "SELECT COUNT(*) FROM notices n WHERE n.status = 'issued' AND EXISTS "
                "(SELECT 1 FROM notice_units u WHERE u.notice_id = n.notice_id AND NOT EXISTS "
                "(SELECT 1 FROM notice_acks a WHERE a.notice_id = u.notice_id AND a.unit = u.unit))"
            )
            or 0
        )
    return 0


def acknowledgements(db: Database, notice_id: str) -> list[dict[str, Any]]:
    """Every addressed unit with its acknowledgement (who, when; none yet: None), then any
    acknowledgement by a unit not addressed (a general notice read further down)."""
    rows = db.query_dicts(
        "SELECT u.unit, a.acked_by, a.acked_at, TRUE AS addressed FROM notice_units u "
        "LEFT JOIN notice_acks a ON a.notice_id = u.notice_id AND a.unit = u.unit "
        "WHERE u.notice_id = ? ORDER BY a.acked_at IS NULL, a.acked_at, u.unit",
        [notice_id],
    )
    rows += db.query_dicts(
        "SELECT a.unit, a.acked_by, a.acked_at, FALSE AS addressed FROM notice_acks a "
        "WHERE a.notice_id = ? AND NOT EXISTS (SELECT 1 FROM notice_units u "
        "WHERE u.notice_id = a.notice_id AND u.unit = a.unit) ORDER BY a.acked_at, a.unit",
        [notice_id],
    )
    return rows


# -- actions --------------------------------------------------------------------------------


def actor_of(principal: Principal) -> str:
    return f"{principal.role}:{principal.name}"


def _require_admin(principal: Principal, what: str) -> None:
    if principal.role not in MANAGE_ROLES:
        raise ForbiddenError(f"只有管理员可以{what}通报")


def _clean_templates(kind: str, templates: Mapping[str, str] | None) -> dict[str, str]:
    defaults = _spec(kind).templates()
    out: dict[str, str] = {}
    for key, text in (templates or {}).items():
        if key not in defaults:
            raise InputError(f"通报模板项“{key}”不存在：可改的项为 {'、'.join(defaults)}")
        if str(text).strip() and str(text) != defaults[key]:
            out[key] = str(text)
    return out


def _clean_settings(kind: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    defaults = _spec(kind).settings()
    names = _spec(kind).setting_names
    out: dict[str, Any] = {}
    for key, value in (settings or {}).items():
        if key not in defaults and key not in HEAD_SETTING_NAMES:
            raise InputError(f"通报设置项“{key}”不存在：可设的项为 {'、'.join(defaults)}")
        default = defaults.get(key)
        if value is None or str(value).strip() == "":
            continue
        if isinstance(default, int | float) and not isinstance(default, bool):
            try:
                number = float(str(value).strip().rstrip("%"))
            except ValueError as exc:
                raise InputError(f"通报设置“{names.get(key, key)}”应为数字，收到“{value}”") from exc
            if number < 0:
                raise InputError(f"通报设置“{names.get(key, key)}”不能为负数，收到“{value}”")
            value = int(number) if isinstance(default, int) and number.is_integer() else number
        if value != default:
            out[key] = value
    return out


def _addressed(db: Database, inputs: NoticeInputs) -> tuple[bool, list[str]]:
    """(general, the units a notice is addressed to)."""
    if inputs.kind == "evaluation":
        units = [
            str(r[0])
            for r in db.query(
                "SELECT unit FROM eval_units WHERE round_id = ? ORDER BY unit", [inputs.round_id]
            )
        ]
        return True, units
    scope = inputs.scope
    kind = None
    if scope:
        found = db.query("SELECT kind FROM orgs WHERE org_code = ?", [scope])
        kind = str(found[0][0]) if found else None
    if not scope or kind == "province":
        units = [
            str(r[0])
            for r in db.query("SELECT org_code FROM orgs WHERE kind = 'department' ORDER BY 1")
        ]
        return True, units
    codes, _ = subtree(db, [scope])
    units = [
        str(r[0])
        for r in db.query(
            "SELECT org_code FROM orgs WHERE kind = 'department' ORDER BY org_code",
        )
        if str(r[0]) in codes
    ]
    if kind not in REGION_KINDS and scope not in units:
        units.append(scope)
    return False, sorted(units)


def recipients(db: Database, notice_id: str) -> tuple[bool, list[str]]:
    """(general, units) a notice is (or, before issue, would be) addressed to."""
    row = _row(db, notice_id)
    if row["status"] == "issued":
        units = [
            str(r[0])
            for r in db.query(
                "SELECT unit FROM notice_units WHERE notice_id = ? ORDER BY unit", [notice_id]
            )
        ]
        return bool(row["general"]), units
    return _addressed(db, _inputs(row))


def draft_notice(
    db: Database,
    principal: Principal | None,
    inputs: NoticeInputs,
    at: datetime,
    templates: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
    schedule_key: str | None = None,
) -> str:
    """Draft a notice (``principal`` None: the schedule); returns its id."""
    if principal is not None:
        _require_admin(principal, "起草")
    _spec(inputs.kind)
    clean_t = _clean_templates(inputs.kind, templates)
    clean_s = _clean_settings(inputs.kind, settings)
    if "doc_number" not in clean_s and inputs.kind == "evaluation":
        clean_s["doc_number"] = next_doc_number(db, inputs.kind, at.year)
    notice = build(db, inputs, at, clean_t, clean_s)
    general, _ = _addressed(db, inputs)
    notice_id = new_id()
    actor = actor_of(principal) if principal is not None else SYSTEM_ACTOR
    with db.transaction():
        db.execute(
            "INSERT INTO notices (notice_id, kind, period, scope, round_id, general, status, "
            "title, doc_number, templates, settings, body, schedule_key, drafted_by, drafted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                notice_id,
                inputs.kind,
                inputs.period,
                inputs.scope,
                inputs.round_id,
                general,
                notice.title,
                notice.doc_number,
                orjson.dumps(clean_t).decode(),
                orjson.dumps(clean_s).decode(),
                canonical(notice),
                schedule_key,
                actor,
                at,
            ],
        )
        append_one(
            db,
            "notice.draft",
            actor,
            f"notice:{notice_id}",
            at,
            {
                "kind": inputs.kind,
                "period": inputs.period,
                "scope": inputs.scope,
                "round_id": inputs.round_id,
                "schedule_key": schedule_key,
            },
        )
    return notice_id


DOC_PREFIX = {"evaluation": "政服评"}


def next_doc_number(db: Database, kind: str, year: int) -> str:
    """``政服监〔2026〕7号``: the kind's notices drafted this year, plus one (editable)."""
    count = int(
        db.scalar(
            "SELECT COUNT(*) FROM notices WHERE kind = ? AND drafted_at >= ? AND drafted_at < ?",
            [kind, datetime(year, 1, 1), datetime(year + 1, 1, 1)],
        )
        or 0
    )
    return f"{DOC_PREFIX[kind]}〔{year}〕{count + 1}号"


def _inputs(row: Mapping[str, Any]) -> NoticeInputs:
    return NoticeInputs(
        str(row["kind"]),
        row["period"] and str(row["period"]),
        row["scope"] and str(row["scope"]),
        row["round_id"] and str(row["round_id"]),
    )


def edit_notice(
    db: Database,
    principal: Principal,
    notice_id: str,
    templates: Mapping[str, str],
    settings: Mapping[str, Any],
    at: datetime,
) -> None:
    """Replace the draft's template overrides and settings, and rebuild it. An approved notice
    returns to draft (it must be approved again); an issued one is frozen."""
    _require_admin(principal, "修改")
    row = _row(db, notice_id)
    if row["status"] == "issued":
        raise NoticeStateError(
            f"通报“{row['doc_number']}”已于 {row['issued_at']:%Y-%m-%d %H:%M} 下发，内容已冻结，不能修改"
        )
    kind = str(row["kind"])
    clean_t = _clean_templates(kind, templates)
    clean_s = _clean_settings(kind, settings)
    if "doc_number" not in clean_s:
        clean_s["doc_number"] = str(row["doc_number"])
    notice = build(db, _inputs(row), at, clean_t, clean_s)
    actor = actor_of(principal)
    with db.transaction():
        changed = db.query(
            "UPDATE notices SET templates = ?, settings = ?, body = ?, title = ?, doc_number = ?, "
            "status = 'draft', approved_by = NULL, approved_at = NULL, edited_by = ?, "
            "edited_at = ? WHERE notice_id = ? AND status <> 'issued' RETURNING notice_id",
            [
                orjson.dumps(clean_t).decode(),
                orjson.dumps(clean_s).decode(),
                canonical(notice),
                notice.title,
                notice.doc_number,
                actor,
                at,
                notice_id,
            ],
        )
        if not changed:
            raise NoticeStateError(f"通报“{notice_id}”已下发，内容已冻结，不能修改")
        append_one(
            db,
            "notice.edit",
            actor,
            f"notice:{notice_id}",
            at,
            {"templates": sorted(clean_t), "settings": clean_s, "was": row["status"]},
        )


def approve_notice(db: Database, principal: Principal, notice_id: str, at: datetime) -> None:
    _require_admin(principal, "审核")
    actor = actor_of(principal)
    with db.transaction():
        done = db.query(
            "UPDATE notices SET status = 'approved', approved_by = ?, approved_at = ? "
            "WHERE notice_id = ? AND status = 'draft' RETURNING notice_id",
            [actor, at, notice_id],
        )
        if not done:
            row = _row(db, notice_id)
            raise NoticeStateError(
                f"通报“{row['doc_number']}”当前为“{STATUS_NAMES[str(row['status'])]}”，"
                "只有草稿可以审核通过"
            )
        append_one(db, "notice.approve", actor, f"notice:{notice_id}", at, {})


def issue_notice(db: Database, principal: Principal, notice_id: str, at: datetime) -> str:
    """Freeze and send an approved notice; returns its digest."""
    _require_admin(principal, "下发")
    actor = actor_of(principal)
    with db.transaction():
        row = _row(db, notice_id)
        if row["status"] != "approved":
            raise NoticeStateError(
                f"通报“{row['doc_number']}”当前为“{STATUS_NAMES[str(row['status'])]}”，"
                "须先审核通过才能下发"
            )
        body = str(row["body"])
        digest = digest_of(body)
        general, units = _addressed(db, _inputs(row))
        done = db.query(
            "UPDATE notices SET status = 'issued', digest = ?, general = ?, issued_by = ?, "
            "issued_at = ? WHERE notice_id = ? AND status = 'approved' RETURNING notice_id",
            [digest, general, actor, at, notice_id],
        )
        if not done:
            raise NoticeStateError(f"通报“{notice_id}”已被他人下发或退回，请刷新后再试")
        db.executemany(
            "INSERT INTO notice_units (notice_id, unit) VALUES (?, ?)",
            [(notice_id, u) for u in units],
        )
        append_one(
            db,
            "notice.issue",
            actor,
            f"notice:{notice_id}",
            at,
            {"digest": digest, "units": len(units), "general": general},
        )
        title = str(row["title"])
        message = f"收到通报：{row['doc_number']} {title}，请查阅并签收"
        ref = f"/notices/{notice_id}"
        payload = {"notice": notice_id, "doc_number": row["doc_number"], "title": title}
        if general:
            notices = [
                Notification(
                    f"notice:{notice_id}", "notice.issued", ref, message, None, None, payload
                )
            ]
        else:
            notices = [
                Notification(
                    f"notice:{notice_id}:{u}", "notice.issued", ref, message, "department", u,
                    payload | {"unit": u},
                )
                for u in units
            ]  # fmt: skip
        notify(db, notices, at)
    return digest


def acknowledge(db: Database, principal: Principal, notice_id: str, at: datetime) -> bool:
    """签收 for the principal's organisation; False when it had already acknowledged."""
    if principal.role != "department" or not principal.org_code:
        raise ForbiddenError("签收由收文单位（部门账号）进行")
    get_notice(db, principal, notice_id)  # 404 unless the unit may read it (issued only)
    with db.transaction():
        done = db.query(
            "INSERT INTO notice_acks (notice_id, unit, acked_by, acked_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING notice_id",
            [notice_id, principal.org_code, principal.name, at],
        )
        if done:
            append_one(
                db,
                "notice.ack",
                actor_of(principal),
                f"notice:{notice_id}",
                at,
                {"unit": principal.org_code},
            )
    return bool(done)


STATUS_NAMES = {"draft": "草稿", "approved": "已审核", "issued": "已下发"}
KIND_NAMES = {k: SPECS[k].name for k in KINDS}


# -- the schedule ---------------------------------------------------------------------------


def first_workday(db: Database, year: int, month: int) -> date:
    day = date(year, month, 1)
    while not is_workday(db, day):
        day += timedelta(days=1)
    return day


def scheduled_drafts(db: Database, at: datetime) -> list[str]:
    """Draft the monthly supervision notice of the previous month, on or after the first
    working day of the month, once (``schedule_key`` ``supervision:YYYY-MM``). Idempotent:
    the sweeper's tick and ``govwatch report schedule`` may both call it."""
    today = at.date()
    if today < first_workday(db, today.year, today.month):
        return []
    previous = date(today.year, today.month, 1) - timedelta(days=1)
    period = f"{previous.year:04d}-{previous.month:02d}"
    key = f"supervision:{period}"
    if db.scalar("SELECT COUNT(*) FROM notices WHERE schedule_key = ?", [key]):
        return []
    try:
        return [
            draft_notice(db, None, NoticeInputs("supervision", period=period), at, schedule_key=key)
        ]
    except GovwatchError:
        raise
    except Exception as exc:
        if db.scalar("SELECT COUNT(*) FROM notices WHERE schedule_key = ?", [key]):
            return []  # another sweeper drafted it at the same moment
        raise exc


# -- the demo -------------------------------------------------------------------------------


def issue_demo_notices(db: Database, at: datetime, admin_user: Principal) -> list[str]:
    """Draft, approve and issue the previous month's supervision notice and an evaluation
    notice of the latest published round (when there is one); returns their ids."""
    previous = date(at.year, at.month, 1) - timedelta(days=1)
    ids = [
        draft_notice(db, admin_user, NoticeInputs("supervision", period=f"{previous:%Y-%m}"), at)
    ]
    found = db.query(
        "SELECT round_id FROM eval_rounds WHERE status IN ('published', 'closed') "
        "ORDER BY published_at DESC, round_id LIMIT 1"
    )
    if found:
        ids.append(
            draft_notice(db, admin_user, NoticeInputs("evaluation", round_id=str(found[0][0])), at)
        )
    for notice_id in ids:
        approve_notice(db, admin_user, notice_id, at)
        issue_notice(db, admin_user, notice_id, at)
    return ids
