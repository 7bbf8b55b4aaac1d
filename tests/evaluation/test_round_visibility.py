"""Who sees what of a round, cell by cell (docs/security.md, "Evaluation rounds"), through the
one reader of rounds (``govwatch.evaluation.rounds.views``), on DuckDB and PostgreSQL.

Each cell: role × stage × own unit / other unit. ``-`` the round is hidden (reported as not
existing), ``0`` the round shows without results, ``o`` own unit's result only, ``a`` every
unit's result. Evaluators are three rows: commissioned by account, commissioned through their
organisation, and not commissioned (every round hidden).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from govwatch.auth.errors import NotFoundError
from govwatch.auth.principal import Principal
from govwatch.auth.users import add_user
from govwatch.evaluation.rounds.commission import Evaluator, commission, revoke
from govwatch.evaluation.rounds.values import Actor
from govwatch.evaluation.rounds.views import (
    PUBLIC_FIELDS,
    PUBLIC_VIEWER,
    STAGES,
    RoundViewer,
    list_rounds,
    round_summary,
)
from govwatch.storage import Database

from .visibility_seed import EVALUATOR, EVALUATOR_ORG, OTHER, OUTSIDER_ORG, OWN, seed_round

#             configured collecting computed review published closed
MATRIX = {
    "admin": "aaaaaa",
    "supervisor": "aaaaaa",
    "evaluator": "aaaaaa",  # commissioned (its account)
    "evaluator_org": "aaaaaa",  # commissioned through its organisation
    "evaluator_outside": "------",  # not commissioned for the round
    "department": "000oaa",
    "public": "----aa",
    "source": "------",
}
CELLS = [(role, stage, MATRIX[role][i]) for role in MATRIX for i, stage in enumerate(STAGES)]


def viewer_of(role: str) -> RoundViewer:
    if role == "department":
        return RoundViewer.of_principal(
            Principal("d", "department", org_code=OWN, scope=frozenset({OWN}))
        )
    if role == "public":
        return PUBLIC_VIEWER
    if role == "evaluator":
        return RoundViewer.of_principal(Principal(EVALUATOR, "evaluator"))
    if role == "evaluator_org":
        return RoundViewer.of_principal(Principal("ev_colleague", "evaluator", EVALUATOR_ORG))
    if role == "evaluator_outside":
        return RoundViewer.of_principal(Principal("ev_outsider", "evaluator", OUTSIDER_ORG))
    return RoundViewer.of_principal(Principal(role, role))


@pytest.fixture
def rounds(db: Database) -> Database:
    for stage in STAGES:
        seed_round(db, f"r-{stage}", stage)
    return db


@pytest.mark.parametrize(("role", "stage", "cell"), CELLS)
def test_round_visibility_cell(rounds: Database, role: str, stage: str, cell: str) -> None:
    viewer = viewer_of(role)
    round_id = f"r-{stage}"
    listed = [r["round_id"] for r in list_rounds(rounds, viewer)]
    if cell == "-":
        assert round_id not in listed
        with pytest.raises(NotFoundError):
            round_summary(rounds, round_id, viewer)
        return
    assert round_id in listed
    seen = round_summary(rounds, round_id, viewer)
    units = [r["unit"] for r in seen["results"]]
    expected = {"0": [], "o": [OWN], "a": [OWN, OTHER]}[cell]
    assert units == expected, (role, stage)
    assert seen["units"] == len(expected)
    appeal_units = {a["unit"] for a in seen["appeals"]}
    rect_units = {d["unit"] for d in seen["rectifications"]}
    if role == "public":
        assert set(seen["results"][0]) == set(PUBLIC_FIELDS)
        assert appeal_units == rect_units == set()
    elif role == "department":
        # its own appeals and demands only, whatever the stage
        assert appeal_units == rect_units == {OWN}
    else:
        assert appeal_units == rect_units == {OWN, OTHER}


@pytest.mark.parametrize("stage", STAGES)
def test_anonymous_cli_viewer_is_the_public(rounds: Database, stage: str) -> None:
    visible = MATRIX["public"][STAGES.index(stage)] != "-"
    if not visible:
        with pytest.raises(NotFoundError):
            round_summary(rounds, f"r-{stage}", None)
    else:
        assert len(round_summary(rounds, f"r-{stage}", None)["results"]) == 2


def test_department_not_in_the_round_reads_no_result_under_review(db: Database) -> None:
    """The leak of issue 13: a department outside the round read the whole unpublished ranking."""
    seed_round(db, "r", "review", units=("330201", "330202"))
    seen = round_summary(db, "r", viewer_of("department"))
    assert seen["results"] == [] and seen["appeals"] == [] and seen["rectifications"] == []


def test_command_line_department_actor_sees_its_own_unit_under_review(rounds: Database) -> None:
    seen = round_summary(rounds, "r-review", Actor("填报员", "department", OWN))
    assert [r["unit"] for r in seen["results"]] == [OWN]
    published = round_summary(rounds, "r-published", Actor("填报员", "department", OWN))
    assert [r["unit"] for r in published["results"]] == [OWN, OTHER]


def test_a_round_that_does_not_exist_reads_as_a_hidden_one(db: Database) -> None:
    with pytest.raises(NotFoundError) as missing:
        round_summary(db, "nope", viewer_of("admin"))
    seed_round(db, "hidden", "review")
    with pytest.raises(NotFoundError) as hidden:
        round_summary(db, "hidden", PUBLIC_VIEWER)
    assert str(missing.value).replace("nope", "X") == str(hidden.value).replace("hidden", "X")


def test_an_evaluator_sees_a_round_once_commissioned_and_no_longer_once_revoked(
    db: Database,
) -> None:
    at = datetime(2025, 11, 3, 10)
    seed_round(db, "r-new", "collecting")
    add_user(db, "ev_late", "pw-ev-late-123456", "evaluator", None, at)
    late = RoundViewer.of_principal(Principal("ev_late", "evaluator"))
    assert "r-new" not in [r["round_id"] for r in list_rounds(db, late)]
    admin = Actor("admin", "admin")
    commission(db, "r-new", Evaluator("user", "ev_late"), ["guide"], admin, at)
    assert [r["unit"] for r in round_summary(db, "r-new", late)["results"]] == [OWN, OTHER]
    revoke(db, "r-new", Evaluator("user", "ev_late"), admin, at)
    with pytest.raises(NotFoundError):
        round_summary(db, "r-new", late)
