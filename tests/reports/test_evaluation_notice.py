"""The evaluation notice (评估结果通报): every number it states equals an independent query over
the seeded rounds; only published rounds have one; templates are editable by key."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from govwatch.errors import GovwatchError, InputError
from govwatch.reports.document import write_docx, write_xlsx
from govwatch.reports.evaluation import build_evaluation_notice
from govwatch.storage import Database
from tests.reports.notice_seed import AT, seed

WEIGHTS = {"channels": 40.0, "online": 20.0, "guide": 40.0}
DIMENSIONS = {"service": ("channels", "online"), "openness": ("guide",)}


@pytest.fixture()
def seeded(db: Database) -> Database:
    seed(db)
    return db


def test_a_round_not_yet_published_has_no_notice(seeded: Database) -> None:
    with pytest.raises(GovwatchError, match=r"复核中.*只有已发布的批次"):
        build_evaluation_notice(seeded, "R3", AT)
    with pytest.raises(InputError, match="评估批次“R9”不存在"):
        build_evaluation_notice(seeded, "R9", AT)


def test_every_fact_equals_an_independent_query(seeded: Database) -> None:
    db = seeded
    notice = build_evaluation_notice(db, "R2", AT)
    facts = notice.facts
    n, mean, top, low = db.query(
        "SELECT COUNT(*), AVG(score), MAX(score), MIN(score) FROM eval_results WHERE round_id = 'R2'"
    )[0]
    assert facts["units"] == n
    assert facts["mean_score"] == round(float(mean), 2)
    assert facts["max_score"] == round(float(top), 2)
    assert facts["min_score"] == round(float(low), 2)
    for stars, count in db.query(
        "SELECT stars, COUNT(*) FROM eval_results WHERE round_id = 'R2' GROUP BY stars"
    ):
        assert facts[f"stars_{stars}"] == count
    rows = db.query_dicts("SELECT * FROM eval_results WHERE round_id = 'R2'")
    for r in rows:
        unit = r["unit"]
        assert facts[f"score.{unit}"] == round(float(r["score"]), 2)
        assert facts[f"rank.{unit}"] == r["rank"]
        assert facts[f"group_rank.{unit}"] == r["group_rank"]
        assert facts[f"stars.{unit}"] == r["stars"]
        earned = json.loads(r["points"])
        for dim, leaves in DIMENSIONS.items():
            expected = sum(WEIGHTS[i] - earned[i] for i in leaves)
            assert facts[f"lost.{unit}.{dim}"] == round(expected, 2)
        assert facts[f"lost.{unit}"] == round(100 - float(r["score"]), 2)
    changes = db.query(
        "SELECT c.unit, c.score - p.score, p.rank - c.rank FROM eval_results c "
        "JOIN eval_results p ON p.unit = c.unit AND p.round_id = 'R1' WHERE c.round_id = 'R2'"
    )
    for unit, score_delta, rank_delta in changes:
        assert facts[f"score_delta.{unit}"] == round(float(score_delta), 2)
        assert facts[f"rank_delta.{unit}"] == rank_delta
    assert facts["improved"] == sum(1 for _, d, _ in changes if d > 0)
    assert facts["declined"] == sum(1 for _, d, _ in changes if d < 0)
    assert facts["previous_round"] == "R1"
    assert facts["demands"] == db.scalar(
        "SELECT COUNT(*) FROM eval_rectifications WHERE round_id = 'R2'"
    )


def test_the_text_and_tables_state_the_facts(seeded: Database) -> None:
    notice = build_evaluation_notice(seeded, "R2", AT)
    f = notice.facts
    text = "".join(p for s in notice.sections for p in s.paragraphs)
    assert f"对{f['units']}个单位开展评估，平均得分{float(f['mean_score']):.2f}分" in text
    assert f"{f['improved']}个单位得分提高，{f['declined']}个单位得分下降" in text
    assert f"共提出整改要求{f['demands']}条" in text
    ranking = {t.title: t for s in notice.sections for t in s.tables}
    assert set(ranking) >= {"市直评估结果", "公安评估结果", "各单位分维度失分", "整改要求"}
    for row in ranking["市直评估结果"].rows + ranking["公安评估结果"].rows:
        unit = {"市场监管局": "D1", "人社局": "D2", "公安局": "D3"}[str(row[1])]
        assert row[2] == f[f"score.{unit}"] and row[4] == f[f"rank.{unit}"]
    lost = ranking["各单位分维度失分"]
    assert lost.columns == ("单位", "服务能力", "公开透明", "合计失分")
    assert len(ranking["整改要求"].rows) == f["demands"]


def test_the_first_round_of_a_system_is_compared_with_nothing(seeded: Database) -> None:
    notice = build_evaluation_notice(seeded, "R1", AT)
    assert not any(k.startswith("score_delta.") for k in notice.facts)
    assert "暂无上一批次可比较" in notice.sections[3].paragraphs[0]


def test_templates_are_overridden_by_key_and_unknown_fields_refused(seeded: Database) -> None:
    notice = build_evaluation_notice(
        seeded, "R2", AT, templates={"closing": "请{units}个单位抓好整改。"}
    )
    assert notice.sections[-1].paragraphs[-1] == f"请{notice.facts['units']}个单位抓好整改。"
    with pytest.raises(InputError, match=r"结尾段.*\{人数\} 不存在"):
        build_evaluation_notice(seeded, "R2", AT, templates={"closing": "共{人数}人"})


def test_the_written_xlsx_shows_the_numbers(seeded: Database, tmp_path: Path) -> None:
    notice = build_evaluation_notice(seeded, "R2", AT)
    assert notice.title == "关于2026年第三季度评估结果的通报"
    xlsx = write_xlsx(notice, tmp_path / "n.xlsx")
    book = load_workbook(xlsx, read_only=True)
    values = [v for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row]
    for unit in ("D1", "D2", "D3"):
        assert notice.facts[f"score.{unit}"] in values
        assert notice.facts[f"lost.{unit}"] in values


def test_the_written_docx_states_the_numbers(seeded: Database, tmp_path: Path) -> None:
    notice = build_evaluation_notice(seeded, "R2", AT)
    document = Document(str(write_docx(notice, tmp_path / "n.docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    f = notice.facts
    assert f"平均得分{float(f['mean_score']):.2f}分" in text
    assert f"共提出整改要求{f['demands']}条" in text
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    for unit in ("D1", "D2", "D3"):
        for key in (f"score.{unit}", f"lost.{unit}"):  # as the writer prints a number
            assert {f"{float(f[key]):g}", f"{float(f[key]):.2f}"} & cells


def test_demands_carry_their_due_dates(seeded: Database) -> None:
    seeded.execute(
        "UPDATE eval_rectifications SET due_on = ? WHERE round_id = 'R2' AND unit = 'D1'",
        [date(2026, 10, 30)],
    )
    notice = build_evaluation_notice(seeded, "R2", AT)
    demands = next(t for s in notice.sections for t in s.tables if t.title == "整改要求")
    due = {(row[0], row[4]) for row in demands.rows}
    assert ("市场监管局", "2026-10-30") in due and ("人社局", "—") in due
