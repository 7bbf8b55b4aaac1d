"""The SQL clocks agree with the day-walking reference over random cases (hypothesis).

Cases are accepted between 2019 and mid-2027 (2027 has no notice yet: provisional), with
random limits and units, instant cases, items missing from the catalog, pauses of the three
kinds (overlapping, unended, starting before acceptance), extensions, finishes, terminations,
and a random moment of observation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govwatch.deadlines import install_clock_views
from govwatch.storage import Database
from tests.deadlines.clock_builders import add_events, add_item, event
from tests.deadlines.reference_clock import Day, reference_clock

ITEMS: dict[str, dict[str, Any]] = {
    "WW": {
        "promised_limit": 15,
        "promised_unit": "W",
        "legal_limit": 20,
        "legal_unit": "W",
        "case_kind": "2",
    },
    "NN": {
        "promised_limit": 30,
        "promised_unit": "N",
        "legal_limit": 60,
        "legal_unit": "N",
        "case_kind": "2",
    },
    "WN": {
        "promised_limit": 5,
        "promised_unit": "W",
        "legal_limit": 20,
        "legal_unit": "N",
        "case_kind": "2",
    },
    "K1": {
        "promised_limit": 3,
        "promised_unit": "W",
        "legal_limit": 10,
        "legal_unit": "W",
        "case_kind": "1",
    },
    "NP": {
        "promised_limit": None,
        "promised_unit": "W",
        "legal_limit": 1,
        "legal_unit": "N",
        "case_kind": "2",
    },
}
PAUSES = [
    ("supplement_request", "supplement_received"),
    ("suspend", "resume"),
    ("special_start", "special_end"),
]
FIRST = date(2019, 1, 1)
SPAN_DAYS = (date(2027, 6, 30) - FIRST).days


def moment(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


pause_st = st.tuples(st.integers(0, 2), st.integers(-5, 40), st.integers(0, 30), st.booleans())
case_st = st.fixed_dictionaries(
    {
        "item": st.sampled_from([*ITEMS, "MISSING"]),
        "kind": st.sampled_from([None, None, "1", "2"]),
        "accept_day": st.one_of(st.integers(0, SPAN_DAYS), st.integers(SPAN_DAYS - 300, SPAN_DAYS)),
        "hour": st.integers(8, 18),
        "pauses": st.lists(pause_st, max_size=3),
        "extensions": st.lists(st.tuples(st.integers(0, 30), st.integers(1, 10)), max_size=2),
        "end": st.sampled_from([None, "finish", "terminate", "reject"]),
        "end_offset": st.integers(0, 90),
        "at_offset": st.integers(-2, 120),
    }
)


def build(case_id: str, spec: dict[str, Any]) -> tuple[list[dict[str, Any]], datetime]:
    accepted = FIRST + timedelta(days=spec["accept_day"])
    rows = [
        event(
            case_id,
            "accept",
            moment(accepted, spec["hour"]),
            item_code=spec["item"],
            case_kind=spec["kind"],
        )
    ]
    for kind_index, offset, length, ended in spec["pauses"]:
        start_kind, end_kind = PAUSES[kind_index]
        start = moment(accepted + timedelta(days=offset), 9 + kind_index)
        extra = (
            {"procedure_kind": "2", "limit_days": 5, "limit_unit": "W"}
            if start_kind == "special_start"
            else {}
        )
        rows.append(event(case_id, start_kind, start, **extra))
        if ended:
            rows.append(event(case_id, end_kind, start + timedelta(days=length, hours=2)))
    for offset, limit in spec["extensions"]:
        rows.append(
            event(
                case_id,
                "special_start",
                moment(accepted + timedelta(days=offset), 15),
                procedure_kind="1",
                limit_days=limit,
                limit_unit="W",
            )
        )
    if spec["end"]:
        rows.append(
            event(case_id, spec["end"], moment(accepted + timedelta(days=spec["end_offset"]), 16))
        )
    return rows, moment(accepted + timedelta(days=spec["at_offset"]), 12)


def load_calendar(db: Database) -> dict[date, Day]:
    return {
        d: Day(bool(w), bool(p))
        for d, w, p in db.query("SELECT on_date, is_workday, provisional FROM calendar")
    }


_CALENDAR: dict[date, Day] = {}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases=st.lists(case_st, min_size=1, max_size=6), at_pick=st.integers(0, 5))
def test_sql_clocks_match_reference(
    db: Database, cases: list[dict[str, Any]], at_pick: int
) -> None:
    if not _CALENDAR:
        _CALENDAR.update(load_calendar(db))
    db.execute("DELETE FROM events")
    db.execute("DELETE FROM items")
    for code, item in ITEMS.items():
        if not db.scalar("SELECT count(*) FROM items WHERE item_code = ?", [code]):
            add_item(
                db,
                code,
                promised=(item["promised_limit"], item["promised_unit"]),
                legal=(item["legal_limit"], item["legal_unit"]),
                case_kind=item["case_kind"],
            )
    built = {f"c{i}": build(f"c{i}", spec) for i, spec in enumerate(cases)}
    add_events(db, [row for rows, _ in built.values() for row in rows])
    at = built[f"c{at_pick % len(cases)}"][1]  # one moment for all cases, near one of them

    install_clock_views(db, at)
    got = {r["case_id"]: r for r in db.query_dicts("SELECT * FROM case_clock")}
    for case_id, (rows, _) in built.items():
        item = ITEMS.get(cases[int(case_id[1:])]["item"])
        expected = reference_clock(_CALENDAR, item, rows, at)
        if expected is None:
            assert case_id not in got
            continue
        actual = got[case_id]
        for key, value in expected.items():
            assert actual[key] == value, (case_id, key, actual, expected)
