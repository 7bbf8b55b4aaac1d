"""Questionnaires (问卷) with their responses, and call-back records (回访).

A questionnaire definition (YAML or JSON)::

    id: satisfaction-2025
    name: 政务服务满意度问卷
    questions:
      - {id: q1, text: 办事指南是否清楚, type: scale, min: 1, max: 5, best: high, weight: 2}
      - {id: q2, text: 是否一次办成, type: boolean}

A response's score is the weighted mean, over the questions it answers, of each answer
normalised to 0–1 (``scale``: position between min and max, reversed when ``best: low``;
``boolean``: 1 for yes). Responses are CSV (one column per question id, plus ``response_id``,
``unit``, ``answered_at``) or JSON Lines (``answers`` as an object, or question ids as keys).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import yaml

from govwatch.errors import InputError
from govwatch.evaluation.systems.values import parse_value, read_records
from govwatch.storage import Database
from govwatch.timeutil import parse_timestamp


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    type: str
    low: float = 1.0
    high: float = 5.0
    best_high: bool = True
    weight: float = 1.0

    def normalise(self, raw: Any, where: str) -> float | None:
        value = parse_value(raw, where)
        if value != value:  # NaN: not answered
            return None
        if self.type == "boolean":
            if value not in (0.0, 1.0):
                raise InputError(f"{where}答案“{raw}”应为 是/否")
            return value
        if not self.low <= value <= self.high:
            raise InputError(f"{where}答案 {value:g} 超出 {self.low:g}–{self.high:g}")
        share = (value - self.low) / (self.high - self.low)
        return share if self.best_high else 1.0 - share


@dataclass(frozen=True)
class Questionnaire:
    id: str
    name: str
    questions: tuple[Question, ...]

    def score(self, answers: Mapping[str, Any], where: str) -> float:
        total = weight = 0.0
        for q in self.questions:
            got = q.normalise(answers.get(q.id), f"{where}问题 {q.id} 的")
            if got is not None:
                total += q.weight * got
                weight += q.weight
        if weight == 0:
            raise InputError(f"{where}没有回答任何问题")
        return total / weight


def parse_questionnaire(raw: Any, origin: str = "问卷") -> Questionnaire:
    if (
        not isinstance(raw, Mapping)
        or not raw.get("id")
        or not isinstance(raw.get("questions"), list)
    ):
        raise InputError(f"{origin} 应包含 id、name 和 questions 列表")
    questions = []
    for q in raw["questions"]:
        if not isinstance(q, Mapping) or not q.get("id"):
            raise InputError(f"{origin} 的问题须有 id：{q}")
        kind = q.get("type", "scale")
        if kind not in ("scale", "boolean"):
            raise InputError(f"{origin} 问题 {q['id']} 的 type“{kind}”无效：应为 scale 或 boolean")
        low, high = float(q.get("min", 1)), float(q.get("max", 5))
        if kind == "scale" and high <= low:
            raise InputError(f"{origin} 问题 {q['id']} 的 max 应大于 min")
        best = q.get("best", "high")
        if best not in ("high", "low"):
            raise InputError(f"{origin} 问题 {q['id']} 的 best 应为 high 或 low")
        weight = float(q.get("weight", 1))
        if weight <= 0:
            raise InputError(f"{origin} 问题 {q['id']} 的 weight 应大于 0")
        questions.append(
            Question(str(q["id"]), str(q.get("text", "")), kind, low, high, best == "high", weight)
        )
    if not questions:
        raise InputError(f"{origin} 至少应有一个问题")
    return Questionnaire(str(raw["id"]), str(raw.get("name") or raw["id"]), tuple(questions))


def load_questionnaire(db: Database, path: str | Path, at: datetime) -> Questionnaire:
    """Read a questionnaire definition file and store it (replacing one of the same id)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"问卷文件 {path} 不是合法的 YAML/JSON：{exc}") from exc
    q = parse_questionnaire(raw, str(path))
    with db.transaction():
        db.execute("DELETE FROM questionnaires WHERE questionnaire_id = ?", [q.id])
        db.execute(
            "INSERT INTO questionnaires (questionnaire_id, name, definition, created_at) "
            "VALUES (?, ?, ?, ?)",
            [q.id, q.name, orjson.dumps(raw, default=str).decode(), at],
        )
    return q


def get_questionnaire(db: Database, questionnaire_id: str) -> Questionnaire:
    text = db.scalar(
        "SELECT definition FROM questionnaires WHERE questionnaire_id = ?", [questionnaire_id]
    )
    if text is None:
        raise InputError(
            f"问卷“{questionnaire_id}”不存在：请先用 govwatch evaluation questionnaire 导入"
        )
    return parse_questionnaire(orjson.loads(text), questionnaire_id)


def import_responses(db: Database, questionnaire_id: str, paths: Iterable[str | Path]) -> int:
    """Load responses of a stored questionnaire; returns how many were new."""
    q = get_questionnaire(db, questionnaire_id)
    rows: list[list[Any]] = []
    for path in paths:
        for number, raw in enumerate(read_records(path, ("unit", "answered_at")), start=1):
            where = f"{path} 第 {number} 份答卷"
            answers = raw.get("answers")
            if isinstance(answers, str) and answers.strip().startswith("{"):
                answers = orjson.loads(answers)
            if not isinstance(answers, Mapping):
                answers = {k: v for k, v in raw.items() if k in {x.id.lower() for x in q.questions}}
                answers = {x.id: answers.get(x.id.lower()) for x in q.questions}
            score = q.score(answers, where)
            response_id = str(
                raw.get("response_id")
                or hashlib.sha256(
                    orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str)
                ).hexdigest()[:32]
            )
            rows.append(
                [
                    q.id,
                    response_id,
                    str(raw["unit"]).strip(),
                    parse_timestamp(raw["answered_at"]),
                    orjson.dumps(answers, default=str).decode(),
                    score,
                    str(path),
                ]
            )
    before = int(db.scalar("SELECT COUNT(*) FROM survey_responses") or 0)
    with db.transaction():
        for row in rows:
            exists = db.scalar(
                "SELECT COUNT(*) FROM survey_responses "
                "WHERE questionnaire_id = ? AND response_id = ?",
                row[:2],
            )
            if not exists:
                db.execute(
                    "INSERT INTO survey_responses (questionnaire_id, response_id, unit, "
                    "answered_at, answers, score, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
    return int(db.scalar("SELECT COUNT(*) FROM survey_responses") or 0) - before


def import_callbacks(db: Database, paths: Iterable[str | Path]) -> int:
    """Load call-back records; a reached call-back of a negative rating marks it called back."""
    rows: list[list[Any]] = []
    for path in paths:
        for number, raw in enumerate(read_records(path, ("called_at", "reached")), start=1):
            where = f"{path} 第 {number} 条回访记录"
            if not (raw.get("case_id") or raw.get("rating_id") or raw.get("unit")):
                raise InputError(f"{where}应至少给出 case_id、rating_id 或 unit 之一")
            reached = parse_value(raw["reached"], where)
            satisfied = parse_value(raw.get("satisfied"), where)
            callback_id = str(
                raw.get("callback_id")
                or hashlib.sha256(
                    orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str)
                ).hexdigest()[:32]
            )
            rows.append(
                [
                    callback_id,
                    raw.get("case_id") or None,
                    raw.get("rating_id") or None,
                    raw.get("unit") or None,
                    parse_timestamp(raw["called_at"]),
                    raw.get("method") or None,
                    reached == 1.0,
                    None if satisfied != satisfied else satisfied == 1.0,
                    raw.get("note") or None,
                    str(path),
                ]
            )
    new = 0
    with db.transaction():
        for row in rows:
            if db.scalar("SELECT COUNT(*) FROM callbacks WHERE callback_id = ?", [row[0]]):
                continue
            db.execute(
                "INSERT INTO callbacks (callback_id, case_id, rating_id, unit, called_at, method, "
                "reached, satisfied, note, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            new += 1
            if row[2] and row[6]:
                db.execute(
                    "UPDATE rating_followups SET called_back_at = COALESCE(called_back_at, ?), "
                    "status = CASE WHEN status = 'open' THEN 'called_back' ELSE status END "
                    "WHERE rating_id = ?",
                    [row[4], row[2]],
                )
    return new
