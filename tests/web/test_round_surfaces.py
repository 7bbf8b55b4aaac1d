"""Every surface that shows round data, read by every role at every stage, leaks nothing beyond
the matrix of docs/security.md ("Evaluation rounds: who sees what, and when"), on both engines.

One app per engine serves six rounds (one per stage, units D1 and D2) whose scores are marked:
D1's score in stage i is ``70 + i + 0.1357`` and D2's ``50 + i + 0.8642``, so that a result is
found in any answer by its full-precision text (JSON) or its two-decimal text (pages, sheets).
Each role reads, in one pass and on the same app (so that the page cache, which keeps figures
for a few seconds, is read by one role after another with the most entitled first): the round
list and every round page with their JSON twins and XLSX/CSV exports, the filtered result
tables (what the distribution's counts link to), the API resource, each unit's history with its
exports, the dashboard and its JSON twin, the workspace, the public page and every download it
links to. A hidden round must not show even its name; a result the role may not see must show
nowhere; the distribution's counts and the round's ``units`` count only what the role sees.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govwatch.auth.orgs import add_org
from govwatch.auth.users import add_user
from govwatch.evaluation.rounds.views import PUBLIC_FIELDS, STAGES
from govwatch.storage import Database
from tests.evaluation import visibility_seed
from tests.evaluation.visibility_seed import seed_round
from tests.web.signed_in import signed_in

AT = datetime(2025, 11, 10, 10, 0)
PASSWORD = "Surface-pass-2025!"
OWN, OTHER = "D1", "D2"
EVALUATOR = getattr(visibility_seed, "EVALUATOR", "ev_account")
OUTSIDER_ORG = getattr(visibility_seed, "OUTSIDER_ORG", "EV-OTHER")

# role -> (username, org); the order is the order of reading (most entitled first)
ROLES = {
    "admin": ("sf_admin", None),
    "supervisor": ("sf_supervisor", None),
    "evaluator": (EVALUATOR, None),
    "evaluator_outside": ("sf_evaluator_out", OUTSIDER_ORG),
    "department_own": ("sf_dept_own", OWN),
    "department_other": ("sf_dept_other", "D3"),
    "anonymous": ("", None),
}
# per stage (configured collecting computed review published closed):
# "-" hidden, "0" the round without results, "o" D1's result only, "a" both results
MATRIX = {
    "admin": "aaaaaa",
    "supervisor": "aaaaaa",
    "evaluator": "aaaaaa",  # commissioned for every seeded round
    "evaluator_outside": "------",  # commissioned for none
    "department_own": "000oaa",
    "department_other": "0000aa",
    "anonymous": "----aa",
}


def own_score(i: int) -> float:
    return 70 + i + 0.1357


def other_score(i: int) -> float:
    return 50 + i + 0.8642


def marks(score: float) -> tuple[str, str]:
    """How a score may appear: full precision (JSON) or two decimals (pages, sheets)."""
    return (f"{score:.4f}", f"{score:.2f}")


def seed_world(db: Database) -> None:
    add_org(db, "330000", "浙江省", "province", None, "330000", AT)
    for code, name in ((OWN, "市场监管局"), (OTHER, "交通运输局"), ("D3", "文旅局")):
        add_org(db, code, name, "department", "330000", None, AT)
    add_org(db, OUTSIDER_ORG, "另一评估机构", "department", None, None, AT)
    for role, (username, org) in ROLES.items():
        if username:
            kind = role.split("_")[0]
            add_user(db, username, PASSWORD, kind, org, AT, display_name=f"测试{role}")
    for i, stage in enumerate(STAGES):
        round_id = f"S-{stage}"
        seed_round(db, round_id, stage, units=(OWN, OTHER))
        for unit, score in ((OWN, own_score(i)), (OTHER, other_score(i))):
            db.execute(
                "UPDATE eval_results SET score = ? WHERE round_id = ? AND unit = ?",
                [score, round_id, unit],
            )


@dataclass
class Served:
    app: object
    client_of: dict[str, TestClient]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("surfaces")
    users = {role: username for role, (username, _org) in ROLES.items()}
    with signed_in(request.param, folder, AT, seed_world, users, PASSWORD) as (app, _url, clients):
        yield Served(app, clients)


def text_of(body: bytes, content_type: str) -> str:
    """An answer as text: a workbook's every cell, anything else decoded."""
    if "spreadsheetml" in content_type:
        book = load_workbook(io.BytesIO(body), read_only=True)
        cells = []
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += [str(v) for v in row if v is not None]
        return "\n".join(cells)
    return body.decode("utf-8-sig", errors="replace")


ROUND_SURFACES = (
    "/evaluations/{id}",
    "/evaluations/{id}?format=json",
    "/evaluations/{id}?format=csv",
    "/evaluations/{id}?format=xlsx",
    "/evaluations/{id}?stars=3",
    "/evaluations/{id}?score_from=0&score_to=100&format=csv",
    "/api/v1/evaluations/{id}",
    "/evaluations/{id}/fill",
    "/evaluations/{id}/check",
    "/evaluations/{id}/appeal",
    "/evaluations/{id}/rectification",
)
OTHER_SURFACES = (
    "/evaluations",
    "/evaluations?format=json",
    "/evaluations?format=csv",
    "/evaluations?format=xlsx",
    "/api/v1/evaluations",
    *(
        f"/evaluations/units/{u}{f}"
        for u in (OWN, OTHER)
        for f in ("", "?format=json", "?format=csv", "?format=xlsx")
    ),
    "/",
    "/?format=json",
    "/workspace",
    "/inbox",
    "/public",
)


def read_everything(client: TestClient) -> dict[str, str]:
    """Every surface as text, plus every download the public page links to."""
    seen: dict[str, str] = {}
    paths = [p.format(id=f"S-{s}") for s in STAGES for p in ROUND_SURFACES]
    paths += [f"/public?round=S-{s}" for s in STAGES]
    for path in [*paths, *OTHER_SURFACES]:
        answer = client.get(path, follow_redirects=False)
        seen[path] = text_of(answer.content, answer.headers.get("content-type", ""))
    public = seen["/public"] + "".join(seen[f"/public?round=S-{s}"] for s in STAGES)
    for link in sorted(set(re.findall(r'href="(/public/[^"#]+)"', public))):
        link = link.replace("&amp;", "&")
        answer = client.get(link, follow_redirects=False)
        seen[link] = text_of(answer.content, answer.headers.get("content-type", ""))
    return seen


@pytest.fixture(scope="module")
def readings(served: Served) -> dict[str, dict[str, str]]:
    """Each role's reading of every surface, in ROLES' order, on one app (one page cache)."""
    return {role: read_everything(served.client_of[role]) for role in ROLES}


CELLS = [(role, i, stage) for role in MATRIX for i, stage in enumerate(STAGES)]


@pytest.mark.parametrize(("role", "i", "stage"), CELLS)
def test_no_surface_shows_a_result_beyond_the_matrix(
    readings: dict[str, dict[str, str]], role: str, i: int, stage: str
) -> None:
    cell = MATRIX[role][i]
    seen = readings[role]
    forbidden: list[str] = []
    if cell in "-0":
        forbidden += marks(own_score(i))
    if cell in "-0o":
        forbidden += marks(other_score(i))
    if cell == "-":
        forbidden.append(f"S-{stage} 评估")  # not even the round's name
    leaks = [(path, m) for path, text in seen.items() for m in forbidden if m in text]
    assert not leaks, (role, stage, leaks[:5])


@pytest.mark.parametrize(("role", "i", "stage"), CELLS)
def test_the_round_surfaces_show_what_the_matrix_allows(
    served: Served, readings: dict[str, dict[str, str]], role: str, i: int, stage: str
) -> None:
    """The other side of the cell: what may be seen is seen, counted once per unit seen."""
    cell = MATRIX[role][i]
    seen = readings[role]
    round_id = f"S-{stage}"
    api = f"/api/v1/evaluations/{round_id}"
    if cell == "-":
        assert f"{round_id} 评估" not in seen["/evaluations?format=json"]
        return
    expected = {"0": [], "o": [OWN], "a": [OWN, OTHER]}[cell]
    body = json.loads(seen[api])
    assert [r["unit"] for r in body["results"]] == expected
    assert body["units"] == len(expected)
    if role == "anonymous":
        assert all(set(r) == set(PUBLIC_FIELDS) for r in body["results"])
        return
    twin = json.loads(seen[f"/evaluations/{round_id}?format=json"])
    assert twin == body
    page = seen[f"/evaluations/{round_id}"]
    for unit, score in ((OWN, own_score(i)), (OTHER, other_score(i))):
        assert (marks(score)[1] in page) == (unit in expected), (unit, role, stage)
        assert (marks(score)[1] in seen[f"/evaluations/{round_id}?format=xlsx"]) == (
            unit in expected
        )
    # the distribution counts the rows the role sees, no more
    found = re.search(r'id="data-dist">(.*?)</script>', page, re.S)
    counted = sum(b["value"] for b in json.loads(found.group(1))) if found else 0
    assert counted == len(expected)


def test_a_unit_history_lists_only_the_rounds_whose_result_the_role_may_see(
    readings: dict[str, dict[str, str]],
) -> None:
    for role, row in MATRIX.items():
        if role == "anonymous":
            continue
        for unit, allowed in ((OWN, "oa"), (OTHER, "a")):
            text = readings[role][f"/evaluations/units/{unit}?format=json"]
            rounds = json.loads(text)["rounds"] if text.startswith("{") else []
            expected = [f"S-{s}" for s, c in zip(STAGES, row, strict=True) if c in allowed]
            assert sorted(r["round_id"] for r in rounds) == sorted(expected), (role, unit)
