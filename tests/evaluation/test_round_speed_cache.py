"""What the round pages keep (govwatch.web.pages.evaluations): a published round by its digest,
a round not yet published for a few seconds, each per what the reader may see; on both engines.

The readers read one after another on one app, the most entitled first, so that whatever the
first one left kept is there for the next: each must get exactly what the one reader of rounds
(:func:`round_summary`) gives it, read straight from the tables.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govwatch.auth.orgs import add_org
from govwatch.auth.users import add_user
from govwatch.evaluation.rounds.views import RoundViewer, round_summary
from govwatch.storage import Database, connect
from tests.evaluation.visibility_seed import seed_round
from tests.web.signed_in import signed_in

AT = datetime(2025, 11, 10, 10, 0)
PASSWORD = "Speed-cache-2025!"
# username -> (role, org); read in this order (most entitled first)
READERS = {
    "sc_admin": ("admin", None),
    "sc_supervisor": ("supervisor", None),
    "sc_sup2": ("supervisor", None),
    "sc_dept_a": ("department", "DA"),
    "sc_dept_b": ("department", "DB"),
    "sc_dept_c": ("department", "DC"),
}


@dataclass
class Served:
    app: object
    url: str
    clients: dict[str, TestClient]


def seed(db: Database) -> None:
    add_org(db, "330000", "浙江省", "province", None, "330000", AT)
    for code, name in (("DA", "市场监管局"), ("DB", "交通运输局"), ("DC", "文旅局")):
        add_org(db, code, name, "department", "330000", None, AT)
    for username, (role, org) in READERS.items():
        add_user(db, username, PASSWORD, role, org, AT, display_name=username)
    seed_round(db, "P", "published", units=("DA", "DB"))
    seed_round(db, "R", "review", units=("DA", "DB"))


@pytest.fixture(params=["duckdb", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("speed")
    readers = {u: u for u in READERS}
    with signed_in(request.param, folder, AT, seed, readers, PASSWORD) as (app, url, clients):
        yield Served(app, url, clients)


def viewer_of(username: str) -> RoundViewer:
    role, org = READERS[username]
    units = frozenset({org}) if org else frozenset()
    return RoundViewer(role, units, username, org)


def straight(served: Served, round_id: str, username: str) -> dict[str, object]:
    """The round as the reader may see it, read from the tables (nothing kept)."""
    db = connect(served.url, migrate=False)
    try:
        return round_summary(db, round_id, viewer_of(username))
    finally:
        db.close()


def units_in(summary: dict[str, object]) -> set[str]:
    results = summary["results"]
    assert isinstance(results, list)
    return {str(r["unit"]) for r in results}


def test_every_reader_gets_what_it_may_see_whatever_another_left_kept(served: Served) -> None:
    for round_id in ("P", "R"):
        for username, client in served.clients.items():
            for _ in range(2):  # the second reading is the kept one
                answer = client.get(f"/evaluations/{round_id}?format=json")
                assert answer.status_code == 200, (round_id, username)
                assert answer.json() == straight(served, round_id, username), (round_id, username)
    # under review a department sees its own unit's result only, a department of no unit none
    review = {
        u: units_in(c.get("/evaluations/R?format=json").json()) for u, c in served.clients.items()
    }
    assert review["sc_dept_a"] == {"DA"}
    assert review["sc_dept_b"] == {"DB"}
    assert review["sc_dept_c"] == set()
    assert review["sc_supervisor"] == {"DA", "DB"}
    # the page and the export say the same, read after the supervisors'
    page = served.clients["sc_dept_a"].get("/evaluations/R")
    assert "单位DA" in page.text and "单位DB" not in page.text
    book = load_workbook(
        io.BytesIO(served.clients["sc_dept_a"].get("/evaluations/R?format=xlsx").content)
    )
    cells = {
        str(c) for row in book.active.iter_rows(values_only=True) for c in row if c is not None
    }
    assert "DA" in cells and "DB" not in cells


def test_a_published_round_keeps_its_results_but_not_its_demands(served: Served) -> None:
    supervisor = served.clients["sc_supervisor"]
    first = supervisor.get("/evaluations/P?format=json").json()
    assert [d["status"] for d in first["rectifications"]] == ["open", "open"]
    supervisor.get("/evaluations/P")  # the page's pieces kept too
    # a demand answered after publishing (as rectification.py does): the next reading shows it
    db = connect(served.url, migrate=False)
    try:
        db.execute(
            "UPDATE eval_rectifications SET status = 'replied' WHERE round_id = 'P' AND unit = 'DA'"
        )
    finally:
        db.close()
    again = served.clients["sc_sup2"].get("/evaluations/P?format=json").json()
    assert {d["unit"]: d["status"] for d in again["rectifications"]} == {
        "DA": "replied",
        "DB": "open",
    }
    assert again["results"] == first["results"]


def test_a_published_round_is_kept_by_its_digest(served: Served) -> None:
    supervisor = served.clients["sc_supervisor"]
    before = supervisor.get("/evaluations/P").text
    assert "79.00" in before
    # another digest is another round: what was kept under the old one is not served
    db = connect(served.url, migrate=False)
    try:
        db.execute("UPDATE eval_results SET score = 88.5 WHERE round_id = 'P' AND unit = 'DA'")
        db.execute("UPDATE eval_rounds SET digest = ? WHERE round_id = 'P'", ["e" * 64])
    finally:
        db.close()
    after = supervisor.get("/evaluations/P").text
    assert "88.50" in after and "79.00" not in after
    export = load_workbook(io.BytesIO(supervisor.get("/evaluations/P?format=xlsx").content))
    scores = [row[5] for row in export.active.iter_rows(min_row=6, values_only=True)]
    assert 88.5 in scores
