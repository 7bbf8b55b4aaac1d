"""Public disclosure (社会公开): the public page and every open data download, on both engines.

One seeded world per engine, the clock pinned at 2025-12-15 10:00 (October and November 2025
and the third quarter are complete periods; the fourth quarter is not):

- three departments: D1 (市场监管局, region 330102) finishes 10 cases in October (2 late), D3
  (卫生健康委, 330304) finishes 6 (1 late), D2 (交通运输局, 330203) 3 (fewer than 5: withheld);
- the applicants carry a distinctive name, ID number and phone, the ratings a distinctive text;
- October's ratings: D1 8 (2 negative, one rectified by its deadline), D3 6, D2 3 (withheld);
- round 2025Q3 is published with rectification demands; round 2025Q3-R is under review with a
  distinctive unit name and score that must appear nowhere.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from govwatch.alerts.sync import sync_workflow
from govwatch.auth.orgs import add_org
from govwatch.deadlines import refresh_next_check
from govwatch.disclosure.open_data import (
    DATASETS,
    SUPPRESSED,
    THRESHOLD_ENV,
    Dataset,
    Field,
    min_count,
    publish,
)
from govwatch.errors import InputError
from govwatch.evaluation.demand.ratings import import_ratings, open_followups, record_rectification
from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.rules.live import evaluate_cases
from govwatch.storage import Database, connect
from tests.conftest import drop_pg_schema, pg_url
from tests.web.conftest import make_app
from tests.web.seed import _item, _jsonl, seed_round

AT = datetime(2025, 12, 15, 10, 0)
NAME, ID_NUMBER, PHONE = "欧阳秘闻", "110101199912319999", "13912345678"
RATING_TEXT = "窗口人员态度极差绝密投诉"
HIDDEN_UNIT, HIDDEN_SCORE, HIDDEN_ROUND = "复核中单位甲", "63.21", "2025Q3-R"
HIDDEN_NAME = "2025年第三季度复核中批次"
PERIODS = ("2025-09", "2025-10", "2025-11", "2025-Q3")
FORMATS = ("csv", "xlsx", "json")
THRESHOLD = 5
ITEMS = [
    _item("A1", "D1", "市场监管局", "330102"),
    _item("B1", "D2", "交通运输局", "330203"),
    _item("E1", "D3", "卫生健康委", "330304"),
]


def _ev(eid: str, case: str, kind: str, at: str, **kw: Any) -> dict[str, Any]:
    return {"event_id": eid, "case_id": case, "kind": kind, "occurred_at": at, **kw}


def _case(case: str, item: str, applied: str, finished: str) -> list[dict[str, Any]]:
    return [
        _ev(
            f"{case}a",
            case,
            "apply",
            f"{applied}T09:00:00",
            item_code=item,
            channel="2",
            applicant_type="1",
            applicant_name=NAME,
            applicant_id=ID_NUMBER,
            phone=PHONE,
            materials=[{"name": "申请书", "provided": True}],
        ),
        _ev(f"{case}b", case, "accept", f"{applied}T10:00:00", item_code=item),
        _ev(f"{case}c", case, "step_start", f"{applied}T10:30:00", step="审查"),
        _ev(f"{case}d", case, "step_end", f"{finished}T10:00:00", step="审查", action="pass"),
        _ev(f"{case}e", case, "finish", f"{finished}T10:00:00", result="6"),
    ]


ON_TIME, LATE = ("2025-10-13", "2025-10-15"), ("2025-09-01", "2025-10-24")


def _events() -> list[dict[str, Any]]:
    plan = {"A1": (8, 2), "E1": (5, 1), "B1": (3, 0)}  # on time, late: finished in October
    rows: list[dict[str, Any]] = []
    for item, (good, late) in plan.items():
        for n in range(good + late):
            applied, finished = ON_TIME if n < good else LATE
            rows += _case(f"P{item}{n:02d}", item, applied, finished)
    rows += _case("PA1SEP", "A1", "2025-09-01", "2025-09-03")  # September: one case
    return rows


def _ratings_file(tmp: Path) -> Path:
    lines = ["评价编号,办件编号,满意度,评价时间,文字评价"]
    levels = ["1", "1", "2", "2", "3", "3", "4", "5"]
    for n, level in enumerate(levels):
        lines.append(f"R{n},PA1{n:02d},{level},2025-10-16 09:00:00,{RATING_TEXT}{n}")
    for n in range(6):
        lines.append(f"S{n},PE1{n:02d},1,2025-10-16 09:00:00,{RATING_TEXT}S{n}")
    for n in range(3):
        lines.append(f"T{n},PB1{n:02d},2,2025-10-16 09:00:00,{RATING_TEXT}T{n}")
    path = tmp / "ratings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rectifications(db: Database) -> None:
    rows = [
        ("D1", f"i{n}", s) for n, s in enumerate(["open"] * 3 + ["confirmed"] * 2 + ["replied"])
    ]
    rows += [("D2", "i0", "open"), ("D2", "i1", "returned")]
    rows += [("D3", f"i{n}", s) for n, s in enumerate(["open"] * 5 + ["confirmed"] * 2)]
    db.execute(
        "INSERT INTO eval_units (round_id, unit, unit_name, group_name) "
        "VALUES ('2025Q3', 'D3', '卫生健康委', '市级部门')"
    )
    db.execute(
        "INSERT INTO eval_results (round_id, unit, group_name, score, stars, rank, group_rank, "
        "coverage, poorly_covered, points, missing) VALUES ('2025Q3', 'D3', '市级部门', 64.005, "
        "0, 3, 3, 1.0, FALSE, '{}', '[]')"
    )
    for unit, indicator, status in rows:
        db.execute(
            "INSERT INTO eval_rectifications (round_id, unit, indicator, points_lost, demand, "
            "status) VALUES ('2025Q3', ?, ?, 1.5, ?, ?)",
            [unit, indicator, f"“{indicator}”失分，请限期整改", status],
        )


def _hidden_round(db: Database) -> None:
    db.execute(
        "INSERT INTO eval_rounds (round_id, name, period_start, period_end, unit_kind, "
        "system_name, system_yaml, system_digest, status, created_by, created_at, computed_at) "
        "VALUES (?, ?, ?, ?, 'department', 'x', '', 'x', 'review', "
        "'web_admin', ?, ?)",
        [HIDDEN_ROUND, HIDDEN_NAME, date(2025, 7, 1), date(2025, 9, 30), AT, AT],
    )
    db.execute(
        "INSERT INTO eval_units (round_id, unit, unit_name, group_name) VALUES (?, 'D3', ?, '组')",
        [HIDDEN_ROUND, HIDDEN_UNIT],
    )
    db.execute(
        "INSERT INTO eval_results (round_id, unit, group_name, score, stars, rank, group_rank, "
        "coverage, poorly_covered, points, missing) VALUES (?, 'D3', '组', ?, 5, 1, 1, 1.0, "
        "FALSE, '{}', '[]')",
        [HIDDEN_ROUND, float(HIDDEN_SCORE)],
    )
    for n in range(7):
        db.execute(
            "INSERT INTO eval_rectifications (round_id, unit, indicator, points_lost, demand, "
            "status) VALUES (?, 'D3', ?, 2.0, '复核中要求', 'open')",
            [HIDDEN_ROUND, f"h{n}"],
        )


def seed_world(db: Database, tmp: Path) -> None:
    import_catalog(db, [_jsonl(tmp / "catalog.jsonl", ITEMS)])
    import_events(db, [_jsonl(tmp / "events.jsonl", _events())])
    refresh_next_check(db, None, at=AT)
    evaluate_cases(db, None, AT)
    sync_workflow(db, AT)
    add_org(db, "330000", "浙江省", "province", None, "330000", AT)
    for code, name in (("D1", "市场监管局"), ("D2", "交通运输局"), ("D3", "卫生健康委")):
        add_org(db, code, name, "department", "330000", None, AT)
    import_ratings(db, [_ratings_file(tmp)])
    open_followups(db, at=AT)
    record_rectification(db, "R6", datetime(2025, 10, 20, 9, 0), "web_department")
    seed_round(db)
    _rectifications(db)
    _hidden_round(db)


@dataclass(frozen=True)
class World:
    url: str
    client: TestClient


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("public")
    url = f"duckdb:///{tmp}/govwatch.duckdb" if request.param == "duckdb" else pg_url()
    db = connect(url)
    seed_world(db, tmp)
    db.close()
    with TestClient(make_app(url, AT)) as client:
        yield World(url, client)
    if request.param == "postgres":
        cleanup = connect(url, migrate=False)
        drop_pg_schema(cleanup)
        cleanup.close()


# --- reading a download back ------------------------------------------------------------------


def table_of(fmt: str, body: bytes) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a download, as cells."""
    if fmt == "csv":
        text = body.decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:])))
        return rows[0], rows[1:]
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
        assert sheet is not None
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        return [str(v) for v in values[4]], values[5:]
    data = json.loads(body)
    keys = [f["key"] for f in data["fields"]]
    return keys, [[r[k] for k in keys] for r in data["rows"]]


def dataset_of(header: list[str], fmt: str) -> Dataset:
    for d in DATASETS.values():
        names = [f.key if fmt == "json" else f.name for f in d.fields]
        if [h.split("（")[0] if fmt != "json" else h for h in header] == names:
            return d
    raise AssertionError(f"unknown header {header}")


def pct(num: float, den: float) -> float:
    return float((Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.1"), ROUND_HALF_UP))


FORBIDDEN = (
    NAME,
    ID_NUMBER,
    PHONE,
    RATING_TEXT,
    HIDDEN_UNIT,
    HIDDEN_SCORE,
    HIDDEN_ROUND,
    HIDDEN_NAME,
)


def assert_publishable(text: str) -> None:
    for word in FORBIDDEN:
        assert word not in text, word
    for case_id in ("PA100", "PE100", "PB100", "PA1SEP"):
        assert case_id not in text, case_id


# --- tests ------------------------------------------------------------------------------------


def test_every_download_withholds_small_counts_and_shows_no_unpublished_or_personal_data(
    world: World,
) -> None:
    seen_rows = 0
    for dataset in DATASETS:
        for period in PERIODS:
            for fmt in FORMATS:
                answer = world.client.get(f"/public/data/{dataset}/{period}.{fmt}")
                assert answer.status_code == 200, (dataset, period, fmt, answer.text)
                header, rows = table_of(fmt, answer.content)
                d = dataset_of(header, fmt)
                text = answer.content.decode("utf-8") if fmt != "xlsx" else repr(rows)
                assert_publishable(text)
                for row in rows:
                    seen_rows += 1
                    cells = dict(zip([f.key for f in d.fields], row, strict=True))
                    for f in d.fields:
                        value = cells[f.key]
                        if f.kind == "count" and value not in (None, "", SUPPRESSED):
                            assert not 0 < int(value) < THRESHOLD, (dataset, f.key, row)
                        if f.kind == "rate" and f.base in cells and cells[f.base] == SUPPRESSED:
                            assert value == SUPPRESSED, (dataset, f.key, row)
                if fmt == "json":
                    # a withheld base or numerator withholds the rate computed from it
                    for r in answer.json()["rows"]:
                        for f in d.fields:
                            if f.kind == "rate" and {f.base, f.numerator} & set(r["suppressed"]):
                                assert r[f.key] is None and f.key in r["suppressed"]
    assert seen_rows > 20


def test_the_page_shows_every_period_without_unpublished_or_personal_data(world: World) -> None:
    for period in PERIODS:
        page = world.client.get(f"/public?period={period}")
        assert page.status_code == 200
        assert_publishable(page.text)
        for dataset in DATASETS:
            for fmt in FORMATS:
                assert f'href="/public/data/{dataset}/{period}.{fmt}" download' in page.text
    october = world.client.get("/public?period=2025-10").text
    assert SUPPRESSED in october
    assert "86.50" not in october  # the round's period ends in September
    default = world.client.get("/public").text  # the latest complete month
    assert "2025年11月" in default


def test_figures_equal_independent_queries_rounded_as_shown(world: World) -> None:
    db = connect(world.url)
    try:
        finished = {
            str(d): (int(n), int(k))
            for d, n, k in db.query(
                "SELECT c.department_code, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM alerts a "
                "WHERE a.case_id = c.case_id AND a.rule = 'case_overdue' AND a.status = 'active') "
                "THEN 0 ELSE 1 END) FROM cases c WHERE c.finished_at >= ? AND c.finished_at < ? "
                "GROUP BY c.department_code",
                [datetime(2025, 10, 1), datetime(2025, 11, 1)],
            )
        }
        rated = {
            str(d): (int(n), int(g), int(b))
            for d, n, g, b in db.query(
                "SELECT department_code, COUNT(*), SUM(CASE WHEN level IN ('1','2','3') THEN 1 "
                "ELSE 0 END), SUM(CASE WHEN level IN ('4','5') THEN 1 ELSE 0 END) FROM ratings "
                "WHERE rated_at >= ? AND rated_at < ? GROUP BY department_code",
                [datetime(2025, 10, 1), datetime(2025, 11, 1)],
            )
        }
    finally:
        db.close()
    assert finished == {"D1": (10, 8), "D2": (3, 3), "D3": (6, 5)}  # the seed's plan
    ontime = world.client.get("/public/data/ontime/2025-10.json").json()["rows"]
    by_unit = {r["code"]: r for r in ontime if r["dim"] == "部门"}
    assert by_unit["D1"]["finished"] == 10 and by_unit["D1"]["ontime_rate"] == pct(8, 10)
    # D2's 3 is withheld; D3's 6, the smallest other, too (10 + 6 + 3 = the total shown)
    assert by_unit["D2"]["finished"] is None and by_unit["D2"]["ontime_rate"] is None
    assert by_unit["D3"]["finished"] is None and "finished" in by_unit["D3"]["suppressed"]
    total = next(r for r in ontime if r["dim"] == "全部")
    assert total["finished"] == 19 and total["ontime_rate"] == pct(16, 19)
    ratings = {
        r["code"]: r
        for r in world.client.get("/public/data/ratings/2025-10.json").json()["rows"]
        if r["dim"] == "部门"
    }
    n, good, negative = rated["D1"]
    assert ratings["D1"]["ratings"] == n == 8 and ratings["D1"]["good_rate"] == pct(good, n)
    assert negative == 2 and ratings["D1"]["negative"] is None  # 2 < 5: withheld
    assert ratings["D1"]["rectified_on_time_rate"] is None  # computed over 2 negatives
    assert ratings["D2"]["ratings"] is None and ratings["D2"]["good_rate"] is None
    assert ratings["D3"]["ratings"] is None  # the smallest other beside D2's withheld 3
    # the CSV and the workbook say what the JSON says, as the page shows it
    header, rows = table_of("csv", world.client.get("/public/data/ontime/2025-10.csv").content)
    assert header == ["维度", "编码", "名称", "办结件数（件）", "按时办结率（%）"]
    assert ["部门", "D1", "市场监管局", "10", "80.0"] in rows
    assert ["部门", "D2", "交通运输局", SUPPRESSED, SUPPRESSED] in rows
    _, cells = table_of("xlsx", world.client.get("/public/data/ontime/2025-10.xlsx").content)
    assert ["部门", "D1", "市场监管局", 10, 80.0] in cells
    page = world.client.get("/public?period=2025-10").text
    assert "80.0%" in page and f"{pct(16, 19):.1f}%" in page


def test_published_results_and_rectification_progress_of_the_quarter(world: World) -> None:
    results = world.client.get("/public/data/evaluation/2025-Q3.json").json()["rows"]
    assert [(r["code"], r["score"], r["stars"]) for r in results] == [
        ("D1", 86.5, 4),
        ("D2", 71.0, 3),
        ("D3", 64.01, 0),
    ]
    header, rows = table_of("csv", world.client.get("/public/data/evaluation/2025-09.csv").content)
    assert header[7:9] == ["得分（分）", "星级（星）"] and rows[0][7] == "86.50"
    rect = world.client.get("/public/data/rectification/2025-09.json").json()["rows"]
    units = {r["code"]: r for r in rect}
    total = next(r for r in rect if r["dim"] == "全部")
    # 4 confirmed in all: withheld, and the rate computed from it too
    assert total["raised"] == 15 and total["done"] is None and total["done_rate"] is None
    # D2's 2 demands are withheld, and D1's 6 with them (the smallest other): so their rates
    assert units["D2"]["raised"] is None and units["D1"]["raised"] is None
    assert units["D1"]["done_rate"] is None
    # D3: 7 raised, 2 confirmed (withheld, with its rate); the 5 open would give the 2 away
    assert units["D3"]["raised"] == 7 and units["D3"]["done"] is None
    assert units["D3"]["done_rate"] is None and units["D3"]["status_open"] is None
    assert total["status_open"] == 9 and total["status_not_improved"] == 0
    assert all(r["round_id"] == "2025Q3" for r in rect)
    page = world.client.get("/public?period=2025-Q3").text
    assert "★★★★☆" in page and "86.50" in page and "64.01" in page and "未达星级" in page


def test_periods_are_complete_and_typed_right(world: World) -> None:
    late = world.client.get("/public/data/ontime/2025-Q4.csv")
    assert late.status_code == 404 and "尚未结束" in late.text
    bad = world.client.get("/public/data/ontime/2025-13.json")
    assert bad.status_code == 404 and "应为月（如 2026-06）" in bad.text
    assert world.client.get("/public/data/cases/2025-10.csv").status_code == 404
    assert world.client.get("/public/data/ontime/2025-10.pdf").status_code == 404
    page = world.client.get("/public?period=2025")
    assert page.status_code == 422 and "2025年”尚未结束" in page.text


def test_the_data_dictionary_documents_every_field_and_the_address(world: World) -> None:
    page = world.client.get("/public/data").text
    assert "/public/data/{数据集}/{期间}.{csv|xlsx|json}" in page
    assert THRESHOLD_ENV in page and SUPPRESSED in page
    keys = {
        d["key"]: [(f["key"], f["name"], f["unit"]) for f in d["fields"]]
        for d in world.client.get("/public/data/dictionary.json").json()["datasets"]
    }
    for d in DATASETS.values():
        assert keys[d.key] == [(f.key, f.name, f.unit) for f in d.fields]
        for f in d.fields:
            assert f'id="{d.key}-{f.key}"' in page and f"JSON 键名：{f.key}" in page


def test_threshold_comes_from_the_environment(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(THRESHOLD_ENV, "3")
    rows = world.client.get("/public/data/ontime/2025-10.json").json()["rows"]
    assert {r["code"]: r["finished"] for r in rows if r["dim"] == "部门"} == {
        "D1": 10,
        "D2": 3,
        "D3": 6,
    }
    monkeypatch.setenv(THRESHOLD_ENV, "five")
    with pytest.raises(InputError, match=r"GOVWATCH_PUBLIC_MIN_COUNT.*应为不小于 1 的整数"):
        min_count()


def test_a_lone_withheld_count_takes_the_next_smallest_with_it() -> None:
    d = Dataset(
        "t",
        "t",
        "",
        "",
        (
            Field("dim", "维度", "", "—", "text"),
            Field("n", "数", "", "件", "count"),
            Field("r", "率", "", "%", "rate", "n"),
        ),
    )
    raws = [
        {"dim": "department", "n": 3, "r": (3.0, 3.0)},
        {"dim": "department", "n": 9, "r": (2.0, 9.0)},
        {"dim": "department", "n": 7, "r": (6.0, 7.0)},
        {"dim": "department", "n": 0, "r": (0.0, 0.0)},
        {"dim": "total", "n": 19, "r": (11.0, 19.0)},
    ]
    shown = [(row.cell("n").text, row.cell("r").text) for row in publish(d, raws, 5)]
    assert shown == [
        (SUPPRESSED, SUPPRESSED),
        ("9", SUPPRESSED),  # computed from a count of 2
        (SUPPRESSED, SUPPRESSED),
        ("0", "—"),
        ("19", "57.9%"),
    ]
