"""Every page speaks Chinese to its users: names, never the database's codes (issue 14).

Each role signs in (the public too, without signing in), opens every page of its menu and the
first links of each list (an alert, a case, an item, a round, an order …) and every page is
read as a person sees it: its text, and what it says on hover or to a screen reader. A page
fails on

- a rule id of the catalog (``case_overdue``) in visible text: ids may sit in a ``title``
  attribute or a URL, never in the text;
- an English code (an evidence key such as ``promised_unit``, a parameter name, a workflow
  action or state such as ``reject_appeal``, a measure such as ``office_hours``);
- a ``T`` between a date and a time (``2025-10-20T10:00``): times read ``2025-10-20 10:00``;
- a Python value's text (``{'``, ``[]``, ``None``, ``True``, ``False``, ``<object``);
- a unit's code (department, organisation, region) shown without its name: the name is the
  text and the code goes to ``title`` (``<span title="D1">市场监管局</span>``), or the code
  follows the name in the same element (``浙江省（330000）``).

The data is the page tests' small province (``tests.web.seed``) with its regions named in the
organisation tree and a few more cases, so that most rules fire, the handling log holds
explanations, appeals and rectifications, an order is answered and a rule has an override. It
runs on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from fastapi.testclient import TestClient

from govwatch import vocabulary
from govwatch.alerts.orders import act_on_order, issue_order
from govwatch.alerts.sync import sync_workflow
from govwatch.alerts.workflow import act
from govwatch.auth.orgs import add_org
from govwatch.auth.principal import Principal
from govwatch.deadlines import refresh_next_check
from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.rules.catalog import Catalog, save
from govwatch.rules.live import evaluate_cases
from govwatch.rules.registry import DEFAULT_RULES
from govwatch.storage import Database, connect
from govwatch.web.pages.base import ENV
from tests.conftest import drop_pg_schema, pg_url
from tests.web.conftest import login, make_app
from tests.web.seed import AT, ITEMS, _ev, _item, seed

ROLES = ("admin", "supervisor", "department", "evaluator", "public")
SUPERVISOR = Principal(name="web_supervisor", role="supervisor")
DEPARTMENT = Principal(
    name="web_department", role="department", org_code="D1", scope=frozenset({"D1"})
)

# --- what a page must not show ---------------------------------------------------------------

RULE_IDS = frozenset(vocabulary.RULE_NAMES)
# English codes: every evidence key and parameter name of the catalog, every code of the
# vocabulary that is an English identifier with an underscore (office_hours, reject_appeal,
# supplement_received …), the workflow's actions and states and the system actor.
ENGLISH_CODES = frozenset(
    {key for rule in DEFAULT_RULES for key in rule.evidence}
    | {param.name for rule in DEFAULT_RULES for param in rule.params}
    | {
        code
        for table in vocabulary.TABLES.values()
        for code in table
        if re.fullmatch(r"[a-z]+(?:_[a-z]+)+", code)
    }
    | set(vocabulary.WORKFLOW_ACTION_NAMES)
    | set(vocabulary.WORKFLOW_STATE_NAMES)
    | set(vocabulary.ORDER_STATE_NAMES)
    | {"system"}
)
SNAKE_CASE = re.compile(r"(?<![A-Za-z0-9_./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")
T_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
REPRS = re.compile(
    r"\{'|\[\]|(?<![A-Za-z])(?:None|True|False)(?![A-Za-z])|<object|Decimal\(|datetime\.\w"
)
# Elements whose text is not read as the page's words: code of the page, and what a user typed.
SILENT = frozenset({"script", "style", "template", "textarea"})
VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
SPOKEN_ATTRIBUTES = ("aria-label", "placeholder", "alt")


def _words(codes: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(c) for c in codes), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])")


RULE_ID_WORDS = _words(RULE_IDS)
ENGLISH_WORDS = _words(ENGLISH_CODES)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        if self.tag in SILENT:
            return ""
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class _Tree(HTMLParser):
    """A forgiving tree of the page: an end tag closes up to its open element, if any."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.open = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.open)
        self.open.children.append(node)
        if tag not in VOID:
            self.open = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.open))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.open
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.open = node.parent

    def handle_data(self, data: str) -> None:
        self.open.children.append(data)


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        if isinstance(child, Node):
            yield from _nodes(child)


def _around(text: str, match: re.Match[str]) -> str:
    start, end = max(0, match.start() - 25), min(len(text), match.end() + 25)
    return " ".join(text[start:end].split())


def offences(html: str, names: dict[str, str]) -> list[str]:
    """What a person would read on the page that is a code, a repr or an ISO time.

    ``names`` maps each code of a unit (department, organisation, region) or a person (a
    username) to its name: the code may be read only in the element that also shows the name.
    """
    tree = _Tree()
    tree.feed(html)
    found: list[str] = []

    def check(text: str, where: str, *, codes_allowed: bool, whole: str = "") -> None:
        taken: list[tuple[int, int]] = []  # a word is reported once, by its first check
        if not codes_allowed:
            for match in CODE_TOKEN.finditer(text):
                code = match.group()
                if code in names and names[code] not in whole:
                    taken.append(match.span())
                    found.append(
                        f"code {code!r} without its name {names[code]!r} in {where}: "
                        f"“{_around(text, match)}”"
                    )
        checks: list[tuple[str, re.Pattern[str]]] = [
            ("ISO time with T", T_TIME),
            ("Python value", REPRS),
        ]
        if not codes_allowed:
            checks += [
                ("rule id", RULE_ID_WORDS),
                ("English code", ENGLISH_WORDS),
                ("English identifier", SNAKE_CASE),
            ]
        for what, pattern in checks:
            for match in pattern.finditer(text):
                if any(a < match.end() and match.start() < b for a, b in taken):
                    continue
                taken.append(match.span())
                found.append(f"{what} {match.group()!r} in {where}: “{_around(text, match)}”")

    for node in _nodes(tree.root):
        if node.tag in SILENT or any(a.tag in SILENT for a in _ancestors(node)):
            continue
        for name in SPOKEN_ATTRIBUTES:
            if node.attrs.get(name):
                text = node.attrs[name]
                check(text, f"<{node.tag} {name}>", codes_allowed=False, whole=text)
        if node.attrs.get("title"):  # on hover: codes belong here, but not reprs or ISO times
            check(node.attrs["title"], f"<{node.tag} title>", codes_allowed=True)
        own = [c for c in node.children if isinstance(c, str) and c.strip()]
        whole = node.text() if own else ""
        for text in own:
            check(text, f"<{node.tag}>", codes_allowed=False, whole=whole)
    return found


CODE_TOKEN = re.compile(r"(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]*[A-Za-z0-9](?![A-Za-z0-9_.-])")


def _ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def test_the_checker_finds_codes_and_accepts_names() -> None:
    names = {"D1": "市场监管局", "330102": "上城区", "zhang.san": "张三"}
    bad = (
        "<p>case_overdue</p><dd>promised_unit W</dd><td>raise → open</td><td>system（system）</td>"
        "<td>2025-10-20T10:00:00</td><dd>{'warn_days': 3}</dd><td>None</td><td>[]</td>"
        "<dd>D1</dd><td>（330102）</td><td>office_hours</td><p aria-label='reject_appeal'>x</p>"
        "<td title='2025-10-20T10:00'>x</td><span>zhang.san（监察人员）</span>"
    )
    found = offences(bad, names)
    for expected in (
        "rule id 'case_overdue'",
        "English code 'promised_unit'",
        "English code 'raise'",
        "English code 'open'",
        "English code 'system'",
        "ISO time with T",
        'Python value "{\'"',
        "Python value 'None'",
        "Python value '[]'",
        "code 'D1' without its name '市场监管局'",
        "code '330102'",
        "code 'zhang.san' without its name '张三'",
        "English code 'office_hours'",
        "English code 'reject_appeal' in <p aria-label>",
        "ISO time with T '2025-10-20T10:00' in <td title>",
    ):
        assert any(f.startswith(expected) for f in found), (expected, found)
    good = (
        '<p title="case_overdue">办件超期</p><a href="/alerts?rule=case_overdue">办件超期</a>'
        '<span title="D1">市场监管局</span><option value="330102">上城区（330102）</option>'
        '<span title="zhang.san">张三</span>（监察人员）'
        "<td>2025-10-20 10:00</td><script>var x = {'a': None}</script>"
        '<textarea name="sql">SELECT case_id FROM gw_case</textarea><td>承诺期限 3 个工作日</td>'
    )
    assert offences(good, names) == []


# --- the data --------------------------------------------------------------------------------

RISKY = _item("R1", "D1", "市场监管局", "330102") | {
    "name": "食品经营许可",
    "fee": {"basis": "省物价局文件", "amount": 50.0},
    "discretion": [{"tier": "一般", "min": 1000, "max": 5000}],
    "risk_points": [
        {"step": "审查", "level": "高", "description": "夜间审批", "measure": "office_hours"},
        {"step": "审查", "level": "中", "description": "一人审批", "measure": "two_person_review"},
    ],
}
_APPLY = {"channel": "3", "applicant_type": "2", "applicant_name": "李四"}
MORE_EVENTS = [
    # C6: reviewed at night on a Saturday, finished with a licence but no number, outside the
    # discretion band, charged more than the fee; a resume without a suspension
    _ev(
        "C6a",
        "C6",
        "apply",
        "2025-10-13T09:00:00",
        item_code="R1",
        **_APPLY,
        materials=[{"name": "申请书", "provided": True}, {"name": "户口本", "provided": True}],
    ),
    _ev("C6b", "C6", "accept", "2025-10-13T10:00:00", item_code="R1", actor="王五"),
    _ev("C6c", "C6", "step_start", "2025-10-13T10:30:00", step="审查", actor="王五"),
    _ev("C6r", "C6", "resume", "2025-10-14T09:00:00"),
    _ev("C6d", "C6", "step_end", "2025-10-18T22:00:00", step="审查", action="pass", actor="王五"),
    _ev("C6p", "C6", "payment", "2025-10-20T09:00:00", amount=80.0, fee_item="工本费"),
    _ev("C6e", "C6", "finish", "2025-10-20T10:00:00", result="0", tier="一般", decided_value=8000),
    _ev("C6g", "C6", "rating", "2025-10-21T10:00:00", level="4", channel="移动端", text="太慢"),
    # C7: accepted without its application form, asked twice for more, suspended since September
    _ev(
        "C7a",
        "C7",
        "apply",
        "2025-09-01T09:00:00",
        item_code="A1",
        **_APPLY,
        materials=[{"name": "申请书", "provided": False}],
    ),
    _ev("C7b", "C7", "accept", "2025-09-01T10:00:00", item_code="A1"),
    _ev(
        "C7s",
        "C7",
        "supplement_request",
        "2025-09-02T09:00:00",
        materials=["身份证"],
        reason="缺件",
    ),
    _ev("C7t", "C7", "supplement_received", "2025-09-03T09:00:00", materials=["身份证"]),
    _ev(
        "C7u", "C7", "supplement_request", "2025-09-04T09:00:00", materials=["照片"], reason="缺件"
    ),
    _ev("C7v", "C7", "supplement_received", "2025-09-05T09:00:00", materials=["照片"]),
    _ev("C7w", "C7", "suspend", "2025-09-08T09:00:00", reason="等待鉴定"),
    # C8: refused without a reason or a legal basis; C9: returned without a reason
    _ev("C8a", "C8", "apply", "2025-10-09T09:00:00", item_code="B1", **_APPLY),
    _ev("C8b", "C8", "reject", "2025-10-10T09:00:00", item_code="B1"),
    _ev("C9a", "C9", "apply", "2025-10-09T09:00:00", item_code="B1", **_APPLY),
    _ev("C9b", "C9", "accept", "2025-10-09T10:00:00", item_code="B1"),
    _ev("C9c", "C9", "finish", "2025-10-10T10:00:00", result="1"),
    # C11: steps out of order and returned three times, a promise beyond the limit, a fee on a
    # free item, an inspection that overran its limit
    _ev("C11a", "C11", "apply", "2025-10-09T09:00:00", item_code="B1", **_APPLY),
    _ev(
        "C11b",
        "C11",
        "accept",
        "2025-10-09T10:00:00",
        item_code="B1",
        promised_finish_at="2025-12-31T17:00:00",
    ),
    _ev("C11c", "C11", "step_start", "2025-10-09T11:00:00", step="决定", actor="赵六"),
    _ev("C11d", "C11", "step_start", "2025-10-10T09:00:00", step="审查", actor="赵六"),
    *(
        _ev(f"C11r{i}", "C11", "step_end", f"2025-10-1{i}T16:00:00", step="审查", action="return")
        for i in (3, 4, 5)
    ),
    _ev("C11p", "C11", "payment", "2025-10-16T09:00:00", amount=20.0, fee_item="检验费"),
    _ev(
        "C11s",
        "C11",
        "special_start",
        "2025-10-16T10:00:00",
        procedure_kind="2",
        procedure_type="检验",
        limit=3,
        limit_unit="W",
        reason="送检",
        approved_by="钱七",
    ),
    # C10: an item the catalog does not list
    _ev("C10a", "C10", "apply", "2025-10-09T09:00:00", item_code="ZZ9", **_APPLY),
]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _alert(db: Database, case_id: str, rule: str) -> str:
    return str(
        db.scalar("SELECT alert_id FROM alerts WHERE case_id = ? AND rule = ?", [case_id, rule])
    )


def seed_plain(db: Database, tmp: Path) -> None:
    """The page tests' province, its regions named, more cases, handling and a rule override."""
    seed(db, tmp)
    for code, name, kind, parent in (
        ("330100", "杭州市", "city", "330000"),
        ("330102", "上城区", "county", "330100"),
        ("330200", "宁波市", "city", "330000"),
        ("330203", "海曙区", "county", "330200"),
    ):
        add_org(db, code, name, kind, parent, code, AT)
    import_catalog(db, [_jsonl(tmp / "more-items.jsonl", [*ITEMS, RISKY])])
    import_events(db, [_jsonl(tmp / "more-events.jsonl", MORE_EVENTS)])
    refresh_next_check(db, None, at=AT)
    evaluate_cases(db, None, AT)
    sync_workflow(db, AT)
    # the handling log: an explanation accepted, an appeal rejected, a rectification reported
    explained = _alert(db, "C1", "case_overdue")
    act(db, DEPARTMENT, explained, "explain", AT, reason="系统故障导致延误")
    act(db, SUPERVISOR, explained, "accept_explanation", AT, reason="情况属实")
    appealed = _alert(db, "C3", "step_overdue")
    act(db, DEPARTMENT, appealed, "appeal", AT, reason="申请人要求延期")
    act(db, SUPERVISOR, appealed, "reject_appeal", AT, reason="理由不成立")
    risky = _alert(db, "C6", "risk_measure_violated")
    act(db, SUPERVISOR, risky, "require_rectification", AT, reason="夜间审批须整改")
    act(db, DEPARTMENT, risky, "report_rectified", AT, reason="已调整审批时间")
    order = issue_order(db, SUPERVISOR, [appealed], AT, content="请说明审查环节超期原因")
    act_on_order(db, DEPARTMENT, order.order_id, "reply", AT, text="已加派人手")
    doc = {
        "settings": [
            {"rule": "near_deadline", "scope": "region:330100", "params": {"warn_days": 3}}
        ]
    }
    save(db, Catalog.from_doc(doc), "web_admin", "杭州市临近预警提前 3 天", AT)


def code_names(db: Database) -> dict[str, str]:
    """Every code of a unit or a person the data holds, with its name: departments,
    organisations, regions, and users (username → display name)."""
    names = {
        str(code): str(name)
        for code, name in db.query(
            "SELECT department_code, MAX(department_name) FROM items GROUP BY department_code"
        )
        if name
    }
    for code, name, region in db.query("SELECT org_code, name, region_code FROM orgs"):
        names[str(code)] = str(name)
        if region:
            names[str(region)] = str(name)
    for username, display in db.query("SELECT username, display_name FROM users"):
        names[str(username)] = str(display)
    return names


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def plain_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("plain")
    url = f"duckdb:///{tmp}/govwatch.duckdb" if request.param == "duckdb" else pg_url()
    db = connect(url)
    seed_plain(db, tmp)
    db.close()
    yield url
    if request.param == "postgres":
        cleanup = connect(url, migrate=False)
        drop_pg_schema(cleanup)
        cleanup.close()


@pytest.fixture(scope="module")
def names(plain_url: str) -> dict[str, str]:
    db = connect(plain_url)
    try:
        return code_names(db)
    finally:
        db.close()


# --- walking the pages -----------------------------------------------------------------------

# Links that are not pages to read: assets, downloads, the JSON twins, the API, signing out.
SKIP = re.compile(
    r"^/(?:static|api|docs|redoc|openapi|logout|favicon)|[?&](?:format|fmt)=|\.(?:csv|xlsx|json)$"
    r"|/export|/download|/attachments/"
)
PER_KIND = 3  # pages opened per kind of page (route and query keys): the first links of a list
MAX_PAGES = 120


def _kind(url: str) -> str:
    parts = urlsplit(url)
    segments = parts.path.strip("/").split("/")
    shape = "/" + "/".join([segments[0], *("*" for _ in segments[1:])])
    keys = sorted({k for k, _ in parse_qsl(parts.query) if k not in ("msg", "job")})
    return shape + ("?" + ",".join(keys) if keys else "")


def _links(html: str) -> list[str]:
    tree = _Tree()
    tree.feed(html)
    found = []
    for node in _nodes(tree.root):
        href = node.attrs.get("href", "") if node.tag == "a" else ""
        url = urldefrag(href.replace("&amp;", "&"))[0]
        if url.startswith("/") and not url.startswith("//") and not SKIP.search(url):
            found.append(url)
    return found


def _menu(html: str) -> list[str]:
    tree = _Tree()
    tree.feed(html)
    for node in _nodes(tree.root):
        if node.tag == "nav" and node.attrs.get("aria-label") == "主菜单":
            return [n.attrs["href"] for n in _nodes(node) if n.tag == "a" and "href" in n.attrs]
    return []


def walk(
    client: TestClient, start: list[str], names: dict[str, str]
) -> tuple[list[str], list[str]]:
    """Open the start pages, then the links they and their pages show (a few of each kind).

    Returns (the pages read, what was found on them)."""
    queue, seen, per_kind = list(start), set(), dict[str, int]()
    read: list[str] = []
    found: list[str] = []
    while queue and len(read) < MAX_PAGES:
        url = queue.pop(0)
        kind = _kind(url)
        if url in seen or per_kind.get(kind, 0) >= PER_KIND:
            continue
        seen.add(url)
        per_kind[kind] = per_kind.get(kind, 0) + 1
        answer = client.get(url)
        if answer.status_code >= 500:
            found.append(f"{url}: answered {answer.status_code}")
            continue
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        read.append(url)
        found += [f"{url}: {o}" for o in offences(answer.text, names)]
        queue += [link for link in _links(answer.text) if link not in seen]
    return read, found


def _report(role: str, read: list[str], found: list[str]) -> str:
    """Each offence once, with how many pages show it and the first of them."""
    pages: dict[str, list[str]] = {}
    for line in found:
        url, offence = line.split(": ", 1)
        pages.setdefault(offence, []).append(url)
    lines = [
        f"{offence}\n    on {len(urls)} page(s): {', '.join(urls[:3])}{' …' if len(urls) > 3 else ''}"
        for offence, urls in pages.items()
    ]
    more = f"\n… and {len(lines) - 60} more" if len(lines) > 60 else ""
    return (
        f"{role}: {len(pages)} kinds of code shown on {len(read)} pages read:\n"
        + "\n".join(lines[:60])
        + more
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_role_shows_names_not_codes(
    plain_url: str, names: dict[str, str], role: str
) -> None:
    app = make_app(plain_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        if role == "public":
            start = ["/public", "/login"]
        else:
            login(client, role)
            start = ["/", *_menu(client.get("/").text)]
        read, found = walk(client, start, names)
    assert len(read) >= (2 if role == "public" else 6), read
    assert not found, _report(role, read, found)


def test_every_alert_and_case_shows_names_not_codes(plain_url: str, names: dict[str, str]) -> None:
    """The supervisor reads every alert (every rule that fired) and every case in full."""
    db = connect(plain_url)
    try:
        alert_ids = [str(r[0]) for r in db.query("SELECT alert_id FROM alerts ORDER BY alert_id")]
        case_ids = [str(r[0]) for r in db.query("SELECT case_id FROM cases ORDER BY case_id")]
        fired = {str(r[0]) for r in db.query("SELECT DISTINCT rule FROM alerts")}
    finally:
        db.close()
    # the data reaches most of the catalog: every class, and the rules the issue names
    assert {"case_overdue", "missing_materials", "risk_measure_violated"} <= fired, fired
    assert len(fired) >= 20, fired
    app = make_app(plain_url)
    found: list[str] = []
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, "supervisor")
        pages = [f"/alerts/{a}" for a in alert_ids] + [f"/cases/{c}" for c in case_ids]
        for url in pages:
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.status_code)
            found += [f"{url}: {o}" for o in offences(answer.text, names)]
    assert not found, _report("supervisor", pages, found)


def test_times_on_the_alert_page_read_as_minutes() -> None:
    """The moment format every page uses: ``2026-06-30 22:00`` (no seconds, no ``T``)."""
    t = ENV.filters["t"]
    assert t(datetime(2026, 6, 30, 22, 0, 5)) == "2026-06-30 22:00"
    assert t("2026-06-30T22:00:05") == "2026-06-30 22:00"
    assert t("2026-06-30T22:00:05+08:00") == "2026-06-30 22:00"
    assert t(None) == ""
