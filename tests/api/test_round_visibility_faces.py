"""Round visibility through the faces: the API resource and the round page's JSON twin return
the same dict, and a department outside a round under review reads none of its results (the
leak of issue 13), on both engines."""

from __future__ import annotations

from tests.api.conftest import T0, World
from tests.evaluation.visibility_seed import seed_round


def test_department_not_in_round_under_review_sees_no_results(world: World) -> None:
    seed_round(world.db, "r-review", "review", units=("D2", "D3"))
    for url in ("/api/v1/evaluations/r-review", "/evaluations/r-review?format=json"):
        seen = world.get("dept1", url)
        assert seen.status_code == 200, (url, seen.text)
        body = seen.json()
        assert body["status"] == "review"
        assert body["results"] == [] and body["appeals"] == [], url
    # the department inside the round sees its own row only, the supervisor every row
    own = world.get("dept2", "/api/v1/evaluations/r-review").json()
    assert [r["unit"] for r in own["results"]] == ["D2"]
    everyone = world.get("supervisor", "/api/v1/evaluations/r-review").json()
    assert [r["unit"] for r in everyone["results"]] == ["D2", "D3"]


def test_page_json_twin_is_the_api_resource(world: World) -> None:
    seed_round(world.db, "r-pub", "published", units=("D1", "D2"))
    # an evaluator sees only the rounds it is commissioned for: this one, its token's account
    world.db.execute(
        "INSERT INTO eval_commissions (round_id, evaluator_kind, evaluator, indicator, "
        "commissioned_by, commissioned_at) VALUES ('r-pub', 'user', 'token:evaluator', 'guide', "
        "'admin:admin', ?)",
        [T0],
    )
    for who in ("admin", "dept1", "evaluator"):
        api = world.get(who, "/api/v1/evaluations/r-pub").json()
        twin = world.get(who, "/evaluations/r-pub?format=json").json()
        assert api == twin, who
        assert [r["unit"] for r in api["results"]] == ["D1", "D2"]


def test_unpublished_round_is_hidden_from_the_public_and_source_tokens(world: World) -> None:
    seed_round(world.db, "r-review", "review", units=("D1", "D2"))
    assert world.client.get("/api/v1/evaluations/r-review").status_code == 404
    assert world.get("source1", "/api/v1/evaluations/r-review").status_code in (403, 404)
    seed_round(world.db, "r-pub", "published", units=("D1", "D2"))
    public = world.client.get("/api/v1/evaluations/r-pub").json()
    assert [r["unit"] for r in public["results"]] == ["D1", "D2"]
    assert "points" not in public["results"][0]
    assert world.get("source1", "/api/v1/evaluations/r-pub").status_code in (403, 404)
