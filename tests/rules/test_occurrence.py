"""When an anomaly arose (an alert's occurred_at) beside when govwatch detected it
(first_seen_at), issue 14 item 1, on DuckDB and PostgreSQL.

Timeliness findings arose when their limit or warning point was passed (a deadline on the
first moment of the day after it, spec/time.md), step and pause overruns on the day their count
went past the limit, event and content findings when the event at fault happened, graded
findings when their current level was reached. The expected moments below are read off the
fixture cases of tests/rules/fixture_cases.py and the calendar of 2025 (National Day 1–8
October; Sunday 28 September and Saturday 11 October are working days).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from govwatch.alerts.escalation import check_overdue, escalate_rectification
from govwatch.alerts.orders import issue_order
from govwatch.alerts.queries import get_alert
from govwatch.alerts.sync import sync_workflow
from govwatch.alerts.workflow import act
from govwatch.auth.principal import SYSTEM, Principal
from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.live.pipeline import cases_changed
from govwatch.rules.catalog import Catalog
from govwatch.rules.custom import CustomRuleDef
from govwatch.rules.engine import DatabaseExecutor, audit, run
from govwatch.rules.live import alert_id, evaluate_cases, sweep
from govwatch.rules.model import Finding
from govwatch.rules.registry import BY_ID
from govwatch.storage import Database, connect
from tests.conftest import drop_pg_schema, pg_url
from tests.rules import fixture_cases as fx

Identity = tuple[str, str, str]

# (case, rule, key) -> (moment audited, when the anomaly arose, why)
ARISEN: dict[Identity, tuple[str, datetime, str]] = {
    # -- timeliness: the limit or warning point passed -------------------------------------
    ("open_promised_20w", "near_deadline", ""): (
        "oct28",
        datetime(2025, 10, 28),
        "20 W from 26 Sep: deadline 30 Oct, 2 days remain from 28 Oct (time.md example 4)",
    ),
    ("overdue_promised_then_legal", "case_overdue", ""): (
        "nov20",
        datetime(2025, 11, 14),
        "red: the legal deadline (30 W from 26 Sep) is 13 Nov, passed on 14 Nov",
    ),
    ("step_review_late", "step_overdue", "审查"): (
        "nov20",
        datetime(2025, 9, 5),
        "3 W from Monday 1 Sep: the fourth working day, 5 Sep, is over the limit",
    ),
    # -- process ---------------------------------------------------------------------------
    ("finished_without_decision", "missing_step", "决定"): (
        "nov20",
        datetime(2025, 9, 2, 16, 30),
        "the finish that lacked the step",
    ),
    ("decision_before_review", "step_out_of_order", "审查"): (
        "nov20",
        datetime(2025, 9, 1, 12),
        "审查 started after 决定",
    ),
    ("step_before_accept", "event_out_of_order", "step_start"): (
        "nov20",
        datetime(2025, 9, 1, 9, 10),
        "the step started before acceptance",
    ),
    ("resume_without_suspend", "event_out_of_order", "resume"): (
        "nov20",
        datetime(2025, 9, 3, 9),
        "the resume without a suspension",
    ),
    ("two_supplement_requests", "repeated_supplement", ""): (
        "nov20",
        datetime(2025, 9, 2, 11),
        "the second request went over max_requests = 1",
    ),
    ("testing_over_its_limit", "special_procedure_overrun", "testing_over_its_limit-03"): (
        "nov20",
        datetime(2025, 9, 5),
        "3 W from Monday 1 Sep: over the limit on 5 Sep, before it ended on 8 Sep",
    ),
    ("suspended_six_weeks", "long_suspension", "suspended_six_weeks-03"): (
        "nov20",
        datetime(2025, 10, 2),
        "30 N from 1 Sep: the 31st day is 2 Oct",
    ),
    ("returned_three_times", "repeated_return", ""): (
        "nov20",
        datetime(2025, 9, 1, 10, 25),
        "the third return went over max_returns = 2",
    ),
    ("voided_without_reason", "result_without_reason", ""): (
        "nov20",
        datetime(2025, 9, 2, 16, 30),
        "the finish without a reason",
    ),
    ("licence_without_number", "licence_missing", ""): (
        "nov20",
        datetime(2025, 9, 2, 16, 30),
        "the finish without a licence number",
    ),
    ("rejected_without_basis", "adverse_decision_without_basis", ""): (
        "nov20",
        datetime(2025, 9, 1, 10),
        "the rejection without a legal basis",
    ),
    # -- content ---------------------------------------------------------------------------
    ("id_card_supplemented_later", "missing_materials", "身份证"): (
        "sep01",
        datetime(2025, 9, 1, 9, 30),
        "accepted without the ID card",
    ),
    ("item_not_in_catalog", "unknown_item", ""): (
        "nov20",
        datetime(2025, 9, 1, 9),
        "the first event naming the unknown item",
    ),
    ("asks_for_household_register", "materials_beyond_guide", "户口本"): (
        "nov20",
        datetime(2025, 9, 2, 9),
        "the supplement request naming it",
    ),
    ("promise_after_deadline", "promise_mismatch", ""): (
        "nov20",
        datetime(2025, 9, 1, 9, 30),
        "the acceptance that promised too late",
    ),
    # -- discretion and fees ---------------------------------------------------------------
    ("fine_above_band", "discretion_out_of_band", ""): (
        "nov20",
        datetime(2025, 9, 2, 16, 30),
        "the finish deciding out of band",
    ),
    ("fee_on_free_item", "unlisted_fee", ""): (
        "nov20",
        datetime(2025, 9, 2, 15),
        "the first payment on a free item",
    ),
    ("fee_short", "fee_mismatch", ""): (
        "nov20",
        datetime(2025, 9, 2, 16, 30),
        "finished with 30 of 50 yuan paid",
    ),
    # -- integrity: the first event that broke the measure ---------------------------------
    ("risks_ignored", "risk_measure_violated", "审查/separation_of_duties"): (
        "nov20",
        datetime(2025, 9, 1, 11, 30),
        "the accepting handler ended the step",
    ),
    ("risks_ignored", "risk_measure_violated", "受理/no_conflict_of_interest"): (
        "nov20",
        datetime(2025, 9, 1, 10),
        "the related handler started the step",
    ),
    ("risks_ignored", "risk_measure_violated", "决定/two_person_review"): (
        "nov20",
        datetime(2025, 9, 1, 19),
        "the step ended by one handler",
    ),
    ("risks_ignored", "risk_measure_violated", "审查/no_edit_after_finish"): (
        "nov20",
        datetime(2025, 9, 3, 9),
        "the correction after the finish",
    ),
}

# Fee cases whose payments go on after the finish: the mismatch arose at the finish, or at the
# payment after it from which the totals have not matched since.
FEE_EXTRA: list[tuple[str, list[tuple[str, float]], datetime | None]] = [
    ("fee_right_then_extra", [("09-02T15:00:00", 50.0), ("09-05T10:00:00", 10.0)],
     datetime(2025, 9, 5, 10)),
    ("fee_short_then_still_short", [("09-02T15:00:00", 30.0), ("09-05T10:00:00", 10.0)],
     datetime(2025, 9, 2, 16, 30)),
    ("fee_short_settled_then_over", [("09-02T15:00:00", 30.0), ("09-03T10:00:00", 20.0),
                                     ("09-04T10:00:00", 5.0)], datetime(2025, 9, 4, 10)),
    ("fee_short_then_settled", [("09-02T15:00:00", 30.0), ("09-03T10:00:00", 20.0)], None),
]  # fmt: skip


def _fee_events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for cid, payments, _ in FEE_EXTRA:
        out += [
            {"event_id": f"{cid}-1", "case_id": cid, "kind": "apply", "item_code": "F001",
             "occurred_at": "2025-09-01T09:00:00",
             "materials": [{"name": "申请书", "provided": True},
                           {"name": "身份证", "provided": True}]},
            {"event_id": f"{cid}-2", "case_id": cid, "kind": "accept", "item_code": "F001",
             "occurred_at": "2025-09-01T09:30:00"},
            {"event_id": f"{cid}-3", "case_id": cid, "kind": "finish", "result": "6",
             "occurred_at": "2025-09-02T16:30:00"},
        ]  # fmt: skip
        for n, (at, amount) in enumerate(payments):
            out.append(
                {
                    "event_id": f"{cid}-p{n}",
                    "case_id": cid,
                    "kind": "payment",
                    "amount": amount,
                    "occurred_at": f"2025-{at}",
                }
            )
    return out


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def _load(db: Database, folder: Path, events: list[dict[str, Any]]) -> None:
    import_catalog(db, [_write(folder / "catalog.jsonl", fx.CATALOG)])
    import_events(db, [_write(folder / "events.jsonl", events)])


def _alert(db: Database, case_id: str, rule: str, key: str = "") -> dict[str, Any]:
    rows = db.query_dicts(
        "SELECT level, status, occurred_at, first_seen_at, last_seen_at, level_changed_at "
        "FROM alerts WHERE alert_id = ?",
        [alert_id(case_id, rule, key)],
    )
    assert len(rows) == 1, (case_id, rule, key)
    return rows[0]


@pytest.fixture
def fixture_db(db: Database, tmp_path: Path) -> Database:
    _load(db, tmp_path, fx.EVENTS + _fee_events())
    return db


Audited = dict[str, dict[Identity, Finding]]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def audited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Audited:
    """The fixture cases audited at the moments the table names, once per engine."""
    folder = tmp_path_factory.mktemp("occurrence")
    url = f"duckdb:///{folder}/audit.duckdb" if request.param == "duckdb" else pg_url()
    db = connect(url)
    try:
        _load(db, folder, fx.EVENTS + _fee_events())
        moments = {m for m, _, _ in ARISEN.values()} | {"nov20"}
        return {m: {f.identity(): f for f in audit(db, fx.MOMENTS[m])} for m in moments}
    finally:
        drop_pg_schema(db)
        db.close()


def test_every_rule_has_a_case_whose_moment_is_checked() -> None:
    assert {rule for _, rule, _ in ARISEN} == set(BY_ID)
    assert {BY_ID[rule].rule_class for _, rule, _ in ARISEN} == {
        "timeliness",
        "process",
        "content",
        "discretion",
        "integrity",
    }


@pytest.mark.parametrize(
    "identity",
    list(ARISEN),
    ids=[f"{BY_ID[r].rule_class}-{r}-{c}" for c, r, _ in ARISEN],
)
def test_a_finding_says_when_its_anomaly_arose(audited: Audited, identity: Identity) -> None:
    moment, arose, why = ARISEN[identity]
    assert audited[moment][identity].occurred_at == arose, why


def test_a_fee_that_stops_matching_after_the_finish_arose_with_that_payment(
    audited: Audited,
) -> None:
    for cid, _, arose in FEE_EXTRA:
        found = audited["nov20"].get((cid, "fee_mismatch", ""))
        assert (found and found.occurred_at) == arose, cid


def test_the_moment_is_not_part_of_the_audit_record(audited: Audited) -> None:
    for moment, findings in audited.items():
        for finding in findings.values():
            assert list(finding.as_dict()) == [
                "case_id", "rule", "class", "type", "level", "key", "message", "evidence"
            ]  # fmt: skip
            assert finding.occurred_at is not None
            assert finding.occurred_at <= fx.MOMENTS[moment]


def test_a_custom_rule_arose_with_the_case_s_last_event(fixture_db: Database) -> None:
    catalog = Catalog(
        custom=(
            CustomRuleDef(
                id="two_requests",
                rule_class="process",
                rule_type="过程异常",
                level="yellow",
                description="补正告知达到两次",
                expression="supplement_requests >= 2",
            ),
        )
    )
    found = run(DatabaseExecutor(fixture_db), catalog, fx.MOMENTS["nov20"], only=["two_requests"])
    assert [(f.case_id, f.occurred_at) for f in found] == [
        ("two_supplement_requests", datetime(2025, 9, 2, 11))
    ]


# -- alerts: occurred_at beside first_seen_at ----------------------------------------------------

EVALUATED = datetime(2026, 6, 30, 22, 0)


def test_a_case_overdue_since_2025_evaluated_in_2026_occurred_at_its_deadline(
    fixture_db: Database,
) -> None:
    evaluate_cases(fixture_db, None, EVALUATED)
    row = _alert(fixture_db, "overdue_promised_then_legal", "case_overdue")
    # red: the legal deadline 2025-11-13 passed at the first moment of 14 November
    assert (row["level"], row["occurred_at"]) == ("red", datetime(2025, 11, 14))
    assert row["first_seen_at"] == EVALUATED
    shown = get_alert(
        fixture_db, SYSTEM, alert_id("overdue_promised_then_legal", "case_overdue", "")
    )
    assert shown is not None
    assert (shown["occurred_at"], shown["first_seen_at"]) == (datetime(2025, 11, 14), EVALUATED)


def test_a_level_change_moves_the_moment_to_the_new_level_s(fixture_db: Database) -> None:
    cid = "overdue_promised_then_legal"
    evaluate_cases(fixture_db, [cid], datetime(2025, 10, 31, 12))
    yellow = _alert(fixture_db, cid, "case_overdue")
    # the promised deadline, 30 October, passed at the first moment of the 31st
    assert (yellow["level"], yellow["occurred_at"]) == ("yellow", datetime(2025, 10, 31))
    evaluate_cases(fixture_db, [cid], datetime(2025, 11, 20, 12))
    red = _alert(fixture_db, cid, "case_overdue")
    assert (red["level"], red["occurred_at"]) == ("red", datetime(2025, 11, 14))
    assert red["level_changed_at"] == datetime(2025, 11, 20, 12)
    assert red["first_seen_at"] == datetime(2025, 10, 31, 12)


def test_a_reevaluation_keeps_the_moment_of_an_open_alert(db: Database, tmp_path: Path) -> None:
    """A suspension after the promised deadline moves the deadline by its days (time.md), but
    the anomaly had arisen already: the open alert keeps the moment it was raised with."""
    cid = "overdue_then_suspended"
    events: list[dict[str, Any]] = [
        {"event_id": "o1", "case_id": cid, "kind": "apply", "item_code": "E001",
         "occurred_at": "2025-09-26T09:00:00",
         "materials": [{"name": "申请书", "provided": True}, {"name": "身份证", "provided": True}]},
        {"event_id": "o2", "case_id": cid, "kind": "accept", "item_code": "E001",
         "occurred_at": "2025-09-26T10:00:00"},
    ]  # fmt: skip
    _load(db, tmp_path, events)
    evaluate_cases(db, [cid], datetime(2025, 10, 31, 12))
    raised = _alert(db, cid, "case_overdue")
    assert raised["occurred_at"] == datetime(2025, 10, 31)
    suspend = {"event_id": "o3", "case_id": cid, "kind": "suspend", "reason": "等待鉴定",
               "occurred_at": "2025-11-03T09:00:00"}  # fmt: skip
    import_events(db, [_write(tmp_path / "more.jsonl", [suspend])])
    for day in (5, 6, 7):
        evaluate_cases(db, [cid], datetime(2025, 11, day, 12))
    later = _alert(db, cid, "case_overdue")
    assert (later["level"], later["status"]) == ("yellow", "active")
    assert later["last_seen_at"] == datetime(2025, 11, 7, 12)
    assert later["occurred_at"] == datetime(2025, 10, 31)
    # what a fresh evaluation would say now: a later day, that the alert does not take
    (finding,) = [f for f in audit(db, datetime(2025, 11, 7, 12)) if f.rule == "case_overdue"]
    assert finding.occurred_at is not None and finding.occurred_at > datetime(2025, 10, 31)


def test_an_alert_holding_only_its_detection_moment_takes_the_engine_s(
    fixture_db: Database,
) -> None:
    """Alerts from before migration 063 hold first_seen_at as their occurrence."""
    cid = "step_review_late"
    evaluate_cases(fixture_db, [cid], EVALUATED)
    aid = alert_id(cid, "step_overdue", "审查")
    fixture_db.execute("UPDATE alerts SET occurred_at = first_seen_at WHERE alert_id = ?", [aid])
    evaluate_cases(fixture_db, [cid], datetime(2026, 7, 1, 9))
    assert _alert(fixture_db, cid, "step_overdue", "审查")["occurred_at"] == datetime(2025, 9, 5)


# -- the batch evaluation and the live path agree ------------------------------------------------


def _replay(db: Database, folder: Path, events: list[dict[str, Any]], until: datetime) -> None:
    """The live path: each day's events arrive at its end and are followed as an import is
    (rules, workflow, stored deadlines), and the sweeper runs whenever a stored moment comes."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_day[datetime.fromisoformat(str(event["occurred_at"])).date()].append(event)
    arrivals = [min(datetime.combine(d, time(23, 59, 59)), until) for d in sorted(by_day)]

    def sweep_until(moment: datetime) -> None:
        while True:
            due = db.scalar(
                "SELECT MIN(m) FROM (SELECT next_check_at AS m FROM case_deadlines UNION ALL "
                "SELECT next_check_at AS m FROM rule_schedule) x"
            )
            if due is None or due >= moment:
                return
            sweep(db, due)

    for n, arrival in enumerate(arrivals):
        sweep_until(arrival)
        batch = by_day[arrival.date()]
        import_events(db, [_write(folder / f"day{n}.jsonl", batch)])
        cases_changed(db, sorted({str(e["case_id"]) for e in batch}), at=arrival)
    sweep_until(until)
    sweep(db, until)


@pytest.fixture
def twin(db: Database, tmp_path: Path) -> Iterator[Database]:
    """A second fresh database on the engine of ``db``."""
    url = f"duckdb:///{tmp_path}/twin.duckdb" if db.dialect == "duckdb" else pg_url()
    other = connect(url)
    try:
        yield other
    finally:
        drop_pg_schema(other)
        other.close()


@pytest.mark.slow
def test_the_batch_and_the_live_path_give_the_same_moments(
    db: Database, twin: Database, tmp_path: Path
) -> None:
    events = fx.EVENTS + _fee_events()
    until = fx.MOMENTS["nov20"]
    _load(db, tmp_path, events)
    evaluate_cases(db, None, until)  # the whole store at once, as the demo does
    import_catalog(twin, [_write(tmp_path / "catalog.jsonl", fx.CATALOG)])
    _replay(twin, tmp_path, events, until)
    query = (
        "SELECT case_id, rule, key, level, occurred_at FROM alerts "
        "WHERE status = 'active' ORDER BY case_id, rule, key"
    )
    in_batch, in_live = db.query(query), twin.query(query)
    # every rule but the two whose fixture cases no longer hold on 20 November
    assert {r[1] for r in in_batch} == set(BY_ID) - {"missing_materials", "near_deadline"}
    assert [tuple(r) for r in in_live] == [tuple(r) for r in in_batch]


# -- alerts the workflow raises: the day after the date that was missed ---------------------------

SUPERVISOR = Principal(name="sup", role="supervisor")


def test_an_unanswered_order_arose_the_day_after_its_reply_date(fixture_db: Database) -> None:
    cid = "overdue_promised_then_legal"
    first = datetime(2025, 10, 31, 12)
    evaluate_cases(fixture_db, [cid], first)
    sync_workflow(fixture_db, first)
    order = issue_order(
        fixture_db, SUPERVISOR, [alert_id(cid, "case_overdue", "")], first, content="请核查"
    )
    late_seen = datetime(2025, 11, 10, 9)
    check_overdue(fixture_db, late_seen)
    query = "SELECT level, occurred_at, first_seen_at FROM alerts WHERE rule = 'order_overdue'"
    (late,) = fixture_db.query_dicts(query)
    # five working days from 31 October: reply by 7 November, late from the first moment of
    # the 8th (a Saturday), seen by the sweep of Monday the 10th
    assert order.reply_due_on == date(2025, 11, 7)
    assert (late["level"], late["occurred_at"]) == ("yellow", datetime(2025, 11, 8))
    assert late["first_seen_at"] == late_seen
    # still unanswered after a second period (to 14 November): red from the 15th
    check_overdue(fixture_db, datetime(2025, 11, 20, 9))
    (red,) = fixture_db.query_dicts(query)
    assert (red["level"], red["occurred_at"]) == ("red", datetime(2025, 11, 15))
    assert red["first_seen_at"] == late_seen


def test_an_escalated_rectification_arose_the_day_after_its_due_date(
    fixture_db: Database,
) -> None:
    cid = "overdue_promised_then_legal"
    first = datetime(2025, 10, 31, 12)
    evaluate_cases(fixture_db, [cid], first)
    sync_workflow(fixture_db, first)
    aid = alert_id(cid, "case_overdue", "")
    act(fixture_db, SUPERVISOR, aid, "require_rectification", first, reason="限期整改",
        due_on=date(2025, 11, 3))  # fmt: skip
    assert escalate_rectification(fixture_db, datetime(2025, 11, 5, 9)) == 1
    row = _alert(fixture_db, cid, "case_overdue")
    assert (row["level"], row["occurred_at"]) == ("red", datetime(2025, 11, 4))
    assert row["level_changed_at"] == datetime(2025, 11, 5, 9)
