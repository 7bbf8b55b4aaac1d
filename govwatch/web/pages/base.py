"""What every page shares: the template environment, the signed-in user, CSRF, navigation.

Pages call the same functions the JSON API calls (``govwatch.alerts``, ``govwatch.rules``, …)
so that a page and its JSON twin never disagree. Sign-in uses the auth engineer's session
helpers: a cookie holding a random secret, and the session's CSRF token in every form.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from govwatch.alerts.evidence_text import moment_text, plain_text
from govwatch.alerts.waiting import Waiting, waiting_counts
from govwatch.alerts.workspace import TodoEntries, todo_entries
from govwatch.auth.errors import AuthenticationError, ConflictError, ForbiddenError, NotFoundError
from govwatch.auth.names import people_names
from govwatch.auth.principal import Principal
from govwatch.auth.sessions import CSRF_FIELD, csrf_token_of
from govwatch.calendar.coverage import CalendarCoverage, calendar_coverage
from govwatch.errors import GovwatchError
from govwatch.live.jobs import get_job
from govwatch.storage import Database
from govwatch.vocabulary import (
    ALERT_CLASS_NAMES,
    ALERT_STATUS_NAMES,
    CASE_KIND_NAMES,
    CASE_STATUS_NAMES,
    CONDITION_CHANGE_NAMES,
    ITEM_LEVEL_NAMES,
    ITEM_TYPE_NAMES,
    ONLINE_DEPTH_NAMES,
    RISK_MEASURE_NAMES,
    ROLE_NAMES,
    ROUND_STAGE_NAMES,
    SYSTEM_ACTOR_NAME,
    WORKFLOW_ACTION_NAMES,
    WORKFLOW_STATE_NAMES,
    YES_NO_NAMES,
    label,
    rule_name,
    unit_name,
)
from govwatch.vocabulary import CLASS_NAMES as CLASS_NAMES  # pages import the tables from here
from govwatch.vocabulary import LEVEL_NAMES as LEVEL_NAMES
from govwatch.web.api.deps import clock

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
ROUND_STATUS_NAMES = ROUND_STAGE_NAMES  # evaluations.py imports it by this name
T = TypeVar("T")


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    count: int = 0  # things waiting for the user there (shown as a badge; 0 shows none)


def cached(request: Request, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` kept a few seconds under ``key`` in the app's page cache (emptied by any
    write through the app); computed each time without an app pool."""
    pool = getattr(request.app.state, "pool", None)
    if pool is None:
        return compute()
    found: T = pool.pages.get_or_compute(key, compute)
    return found


def request_today(request: Request) -> date:
    """Today by the request's clock dependency (which tests and the benchmark pin)."""
    read_clock = request.app.dependency_overrides.get(clock, clock)
    today: date = read_clock().date()
    return today


def todo_of(request: Request, db: Database, principal: Principal) -> TodoEntries:
    """A department's whole to-do list today, read once for the page, its total, its overdue
    count and the menu's badge, and kept a few seconds per scope (the app's page cache,
    emptied by any write through the app)."""
    today = request_today(request)
    return cached(request, _todo_key(principal, today), lambda: todo_entries(db, principal, today))


def _todo_key(principal: Principal, today: date) -> tuple[Any, ...]:
    return ("todo", principal.scope, principal.regions, today)


def waiting_of(request: Request, db: Database, principal: Principal) -> Waiting:
    """The menu's counts for this user: one small query, kept a few seconds per user (the
    app's page cache, emptied by any write through the app, so an action shows at once).
    A department's to-do count is its to-do list's length when the list is kept (the to-do
    page reads it first, :func:`todo_of`), not counted again; on other pages the menu's query
    counts it (cheaper than reading the list in order)."""
    if principal.role == "public":
        return Waiting()
    pool = getattr(request.app.state, "pool", None)

    def compute() -> Waiting:
        kept = (
            pool.pages.peek(_todo_key(principal, request_today(request)))
            if pool is not None and principal.role == "department"
            else None
        )
        if isinstance(kept, TodoEntries):
            return waiting_counts(db, principal, kept.total)
        return waiting_counts(db, principal)

    if pool is None:
        return compute()
    key = ("waiting", principal.role, principal.user_id or principal.name, principal.scope)
    found: Waiting = pool.pages.get_or_compute(key, compute)
    return found


# Who reads the service-guide checks (办事指南核查, pages/guides.py READ_ROLES).
GUIDE_ROLES = ("admin", "supervisor", "evaluator")


def nav_for(principal: Principal, waiting: Waiting | None = None) -> list[NavItem]:
    """The menu a role sees: each role only the pages it may open, with what waits there.

    A new entry with a count registers its badge once (:func:`govwatch.alerts.waiting.
    register_badge`: one more column of the menu's one query) and shows
    ``counts.count(name)`` here."""
    counts = waiting or Waiting()
    items: list[NavItem] = []
    if principal.can("alerts.read"):
        items += [NavItem("/", "首页"), NavItem("/alerts", "预警")]
    if principal.can("alerts.supervise"):
        items.append(NavItem("/desk", "督办台", counts.desk))
    if principal.role == "department":
        items.append(NavItem("/workspace", "今日待办", counts.todo))
    if principal.can("rules.read"):
        items.append(NavItem("/rules", "规则目录"))
    if principal.can("cases.read"):
        items += [NavItem("/cases", "办件"), NavItem("/items", "事项")]
    if principal.role in GUIDE_ROLES:
        items.append(NavItem("/guides", "指南核查"))
    if principal.can("evaluations.read"):
        items.append(NavItem("/evaluations", "评估"))
    if principal.role in CALENDAR_ROLES:
        items.append(NavItem("/calendar", "工作日历"))
    if principal.role == JOBS_ROLE:
        items.append(NavItem("/health", "系统检查"))
    if principal.can("notifications.read"):
        items.append(NavItem("/inbox", "消息", counts.unread))
    items.append(NavItem("/public", "公开"))
    return items


# Menu entries that page modules add from their ``register(app)`` (e.g. 通报 with its count):
# each gives its item for this user, or None; they stand before 消息.
NavExtra = Callable[[Request, Database, Principal], NavItem | None]
NAV_EXTRAS: list[NavExtra] = []


def with_extras(
    items: list[NavItem], request: Request, db: Database, principal: Principal
) -> list[NavItem]:
    extra = [item for make in NAV_EXTRAS if (item := make(request, db, principal)) is not None]
    if not extra:
        return items
    at = next((n for n, item in enumerate(items) if item.href == "/inbox"), len(items))
    return items[:at] + extra + items[at:]


def _fmt_time(value: object) -> str:
    """Every moment a page prints: ``2026-06-30 22:00`` (a date ``2026-06-30``), never a T."""
    return moment_text(value)


def _named(value: object, names: Mapping[str, str] | None = None) -> Markup:
    """A unit, person or code by name with the code on hover: ``<span title="D1">市场监管局</span>``.

    ``value`` is a ``{"code", "name"}`` mapping, or a code looked up in ``names`` (a
    vocabulary table or a name map); a code without a name is shown as itself.
    """
    if isinstance(value, Mapping):
        code, name = str(value.get("code") or ""), str(value.get("name") or "")
    else:
        code = "" if value is None else str(value)
        name = label(names, code) if names is not None else code
    if not code:
        return Markup("—")
    if not name or name == code:
        return Markup("{}").format(code)
    return Markup('<span title="{}">{}</span>').format(code, name)


def _stars(value: object) -> str:
    n = int(str(value or 0))
    return "★" * n + "☆" * (5 - n) if n else "未达星级"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        # templates ship with the package: checking every template's and include's file time
        # on each render cost a stat per file per page (7 % of a cached page's time)
        auto_reload=False,
    )
    env.filters["t"] = _fmt_time
    env.filters["plain"] = plain_text  # stored free text: its ISO moments written as above
    env.filters["named"] = _named
    env.filters["rule_name"] = rule_name
    env.filters["unit"] = unit_name
    env.filters["yesno"] = lambda v: label(YES_NO_NAMES, bool(v))
    env.filters["num"] = lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else v
    env.filters["stars"] = _stars
    env.filters["level_name"] = lambda v: label(LEVEL_NAMES, v)
    env.filters["case_status"] = lambda v: label(CASE_STATUS_NAMES, v)
    # (an alert's class: the five of the catalog, or item information, 事项公开信息异常)
    env.filters["class_name"] = lambda v: label(ALERT_CLASS_NAMES, v)
    env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
    env.filters["urlq"] = lambda v: quote(str(v), safe="")
    env.globals["ROLE_NAMES"] = ROLE_NAMES
    env.globals["WORKFLOW_ACTION_NAMES"] = WORKFLOW_ACTION_NAMES
    env.globals["WORKFLOW_STATE_NAMES"] = WORKFLOW_STATE_NAMES
    env.globals["CONDITION_CHANGE_NAMES"] = CONDITION_CHANGE_NAMES
    env.globals["SYSTEM_ACTOR_NAME"] = SYSTEM_ACTOR_NAME
    env.globals["LEVEL_NAMES"] = LEVEL_NAMES
    env.globals["CLASS_NAMES"] = CLASS_NAMES
    env.globals["ALERT_STATUS_NAMES"] = ALERT_STATUS_NAMES
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    env.globals.update(  # the case, item and alert pages name these codes
        RISK_MEASURE_NAMES=RISK_MEASURE_NAMES,
        CASE_KIND_NAMES=CASE_KIND_NAMES,
        ITEM_TYPE_NAMES=ITEM_TYPE_NAMES,
        ITEM_LEVEL_NAMES=ITEM_LEVEL_NAMES,
        ONLINE_DEPTH_NAMES=ONLINE_DEPTH_NAMES,
    )
    return env


ENV = _environment()


def csrf_token(db: Database, principal: Principal, request: Request | None = None) -> str:
    """The CSRF token of the principal's session ('' without one).

    The request's caller dependency leaves the token it read with the session on
    ``request.state``; only a principal resolved otherwise costs a query here.
    """
    if not principal.session_hash:
        return ""
    known = getattr(request.state, "csrf_token", None) if request is not None else None
    if isinstance(known, str):
        return known
    return csrf_token_of(db, principal.session_hash)


# Who is told that a holiday notice is missing (a banner on every page): the administrators who
# load it and the supervisors whose deadlines depend on it.
CALENDAR_ROLES = ("admin", "supervisor")


def calendar_banner(request: Request, db: Database, principal: Principal) -> dict[str, Any] | None:
    """The missing-notice banner for this caller, or None.

    The layout has no clock of its own: it asks the request's clock dependency (which tests
    pin). Coverage is kept with the page figures, per day, and forgotten on any write through
    the app, so the banner goes as soon as the notice is loaded.
    """
    if principal.role not in CALENDAR_ROLES:
        return None
    today = request_today(request)
    pool = getattr(request.app.state, "pool", None)
    try:
        if pool is not None:
            coverage: CalendarCoverage = pool.pages.get_or_compute(
                ("calendar-coverage", today), lambda: calendar_coverage(db, today)
            )
        else:
            coverage = calendar_coverage(db, today)
    except GovwatchError as exc:  # a bad reminder setting: say so where it would have shown
        return {"years": [], "message": str(exc), "manage": principal.role == "admin"}
    if not coverage.needs_action:
        return None
    return {
        "years": coverage.missing_years,
        "message": coverage.message().split("；")[0],
        "manage": principal.role == "admin",
    }


# Who sees the system checks and the background jobs (their progress on any page, ``?job=``).
JOBS_ROLE = "admin"


def job_panel(request: Request, db: Database, principal: Principal) -> dict[str, Any] | None:
    """The job named by ``?job=`` (a save that started one redirects so), for its progress bar."""
    job_id = request.query_params.get("job", "")
    if principal.role != JOBS_ROLE or not job_id or len(job_id) > 64:
        return None
    try:
        return get_job(db, job_id).to_dict()
    except NotFoundError:
        return None


def display_name(request: Request, db: Database, principal: Principal) -> str:
    """The signed-in user's display name for the header (the username if none is recorded),
    kept with the page figures like the calendar banner so a page costs no extra query."""
    if principal.role == "public":
        return ""
    pool = getattr(request.app.state, "pool", None)

    def lookup() -> str:
        return people_names(db, [principal.name]).get(principal.name, principal.name)

    if pool is None:
        return lookup()
    name: str = pool.pages.get_or_compute(("display-name", principal.name), lookup)
    return name


def render(
    request: Request,
    db: Database,
    principal: Principal,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with the layout's context (user, menu, CSRF token, notice)."""
    page = ENV.get_template(name).render(
        user=principal,
        role_name=ROLE_NAMES.get(principal.role, principal.role),
        user_name=display_name(request, db, principal),
        nav=with_extras(
            nav_for(principal, waiting_of(request, db, principal)), request, db, principal
        ),
        path=request.url.path,
        csrf=csrf_token(db, principal, request),
        notice=request.query_params.get("msg", ""),
        calendar_banner=calendar_banner(request, db, principal),
        job_panel=job_panel(request, db, principal),
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


def has_table(request: Request, db: Database, name: str) -> bool:
    """Whether ``name`` exists, remembered per app once seen (migrations only add tables)."""
    known: set[str] | None = getattr(getattr(request.app.state, "pool", None), "tables", None)
    if known is not None and name in known:
        return True
    exists = db.table_exists(name)
    if exists and known is not None:
        known.add(name)
    return exists


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def back(url: str, message: str) -> RedirectResponse:
    """Redirect after a successful form (post/redirect/get) with a notice."""
    sep = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{sep}msg={quote(message, safe='')}", status_code=303)


def wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


def json_response(data: object) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str)
    return Response(body, media_type="application/json; charset=utf-8")


def error_page(
    request: Request, db: Database, principal: Principal, status_code: int, message: str
) -> HTMLResponse:
    return render(
        request,
        db,
        principal,
        "error.html",
        {"message": message, "status": status_code},
        status_code,
    )


def status_of(exc: Exception) -> int:
    """The HTTP status for an expected error (as the API answers it)."""
    for cls, code in (
        (AuthenticationError, 401),
        (ForbiddenError, 403),
        (NotFoundError, 404),
        (ConflictError, 409),
    ):
        if isinstance(exc, cls):
            return code
    return 400
