"""The evaluation notice (评估结果通报) of a published round.

What it says, and where each number comes from (every number the text or a table states is
also in ``Notice.facts`` under the key named here, rounded as shown):

- 一、基本情况: units evaluated (``units``), mean / highest / lowest score (``mean_score``,
  ``max_score``, ``min_score``), how many units at each star level (``stars_5`` … ``stars_0``);
- 二、评估结果: per group (``eval_results.group_name``), the units by group rank with score
  (``score.<unit>``), stars (``stars.<unit>``), group rank (``group_rank.<unit>``) and overall
  rank (``rank.<unit>``);
- 三、失分情况: each unit's points lost per dimension (the top level of the round's frozen
  indicator system: ``lost.<unit>.<dimension id>``) and in all (``lost.<unit>``);
- 四、与上一批次比较: the previous round of the same indicator system (the round's
  ``previous_round_id`` when that round is published, else the latest published round of the
  same ``system_name`` ending before this one): score change (``score_delta.<unit>``), rank
  change (``rank_delta.<unit>``, positive = moved up), units improved / declined
  (``improved``, ``declined``) and the mean score's change (``mean_delta``);
- 五、整改要求: the round's rectification demands (``eval_rectifications``) with their due dates
  when the table has them (``demands``, ``demands.<unit>``).

Results are read through :func:`govwatch.evaluation.rounds.views.round_summary` as the
administration sees them (``OPERATOR``). Paragraph texts are templates with named fields
(:data:`TEMPLATES`); an administrator's override of any key replaces the default text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from govwatch.errors import InputError
from govwatch.evaluation.rounds.values import RoundStateError, round_row, round_system
from govwatch.evaluation.rounds.views import OPERATOR, PUBLISHED_STAGES, round_summary
from govwatch.evaluation.systems.system import Leaf
from govwatch.reports.fields import check as check_template
from govwatch.reports.fields import fill as fill_template
from govwatch.reports.model import Notice, Section, Table
from govwatch.storage import Database
from govwatch.vocabulary import ROUND_STAGE_NAMES, label

KIND = "evaluation"

# Paragraph templates (str.format fields, named in Chinese: govwatch.vocabulary.
# NOTICE_TEMPLATE_FIELDS["evaluation"] maps each to the builder's key). Keys are what the
# administrator edits.
TEMPLATES: dict[str, str] = {
    "opening": (
        "根据政务服务评估评价工作安排，现将{批次名称}（评估期{评估期起}至{评估期止}）"
        "评估结果通报如下。"
    ),
    "overview": (
        "本批次依据《{指标体系}》对{参评单位数}个单位开展评估，平均得分{平均得分}分，"
        "最高{最高得分}分，最低{最低得分}分。其中五星{五星单位数}个、四星{四星单位数}个、"
        "三星{三星单位数}个、二星{二星单位数}个，未达星级{未达星级单位数}个。"
    ),
    "ranking": "各单位评估得分、星级及排名按分组列示如下（组内排名在前，总排名在后）。",
    "lost": "各单位在各评估维度的失分情况如下，请对照失分较多的维度查找原因。",
    "compare": (
        "与上一批次（{上一批次}）相比，{得分提高单位数}个单位得分提高，{得分下降单位数}个单位得分下降，"
        "平均得分变化{平均得分变化}分。"
    ),
    "no_previous": "本批次为该指标体系的首次评估，暂无上一批次可比较。",
    "rectify": (
        "针对失分较多的指标，共提出整改要求{整改要求数}条。请各单位对照要求认真分析原因，"
        "在整改期限内完成整改并报送整改情况。"
    ),
    "closing": "请各单位高度重视评估结果，巩固优势、补齐短板，持续提升政务服务水平。",
}
DEFAULT_SETTINGS: dict[str, str] = {
    "issuer": "政务服务管理办公室",
    "addressees": "各参评单位",
    "doc_number": "",
}
SETTING_NAMES: dict[str, str] = {
    "issuer": "发文机关",
    "addressees": "主送机关",
    "doc_number": "发文字号",
}
TEMPLATE_NAMES: dict[str, str] = {
    "opening": "开头段",
    "overview": "基本情况段",
    "ranking": "评估结果段",
    "lost": "失分情况段",
    "compare": "与上一批次比较段",
    "no_previous": "无上一批次时的说明",
    "rectify": "整改要求段",
    "closing": "结尾段",
}
# Due-date columns r13rect's migration may add to eval_rectifications (the first found is used).
DUE_COLUMNS = ("due_on", "due_date", "due_at")
STAR_LEVELS = (5, 4, 3, 2, 0)


def fmt2(value: float) -> str:
    return f"{value:.2f}"


def signed(value: float) -> str:
    """``+1.25`` / ``-0.50`` / ``0.00``: a change as the notice prints it."""
    text = f"{value:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text


def rank_change(delta: int) -> str:
    if delta > 0:
        return f"上升{delta}位"
    if delta < 0:
        return f"下降{-delta}位"
    return "持平"


def stars_text(n: int) -> str:
    return f"{n}星" if n else "未达星级"


def fill(templates: Mapping[str, str], key: str, fields: Mapping[str, Any]) -> str:
    """The template ``key`` filled from ``fields`` (the builder's keys); a field the template
    may not use is refused (:func:`govwatch.reports.fields.check`)."""
    return fill_template(KIND, TEMPLATE_NAMES.get(key, key), templates[key], TEMPLATES[key], fields)


def merged_templates(
    defaults: Mapping[str, str], overrides: Mapping[str, str] | None
) -> dict[str, str]:
    out = dict(defaults)
    for key, text in (overrides or {}).items():
        if key not in defaults:
            raise InputError(f"通报模板项“{key}”不存在：可改的项为 {'、'.join(defaults)}")
        out[key] = str(text)
        if key in TEMPLATES:  # every override, used this time or not
            check_template(KIND, TEMPLATE_NAMES.get(key, key), str(text), TEMPLATES[key])
    return out


@dataclass(frozen=True)
class _Round:
    meta: dict[str, Any]
    results: list[dict[str, Any]]
    rectifications: list[dict[str, Any]]


def _read(db: Database, round_id: str) -> _Round:
    s = round_summary(db, round_id, OPERATOR)
    return _Round(meta=s, results=list(s["results"]), rectifications=list(s["rectifications"]))


def previous_round(db: Database, round_id: str) -> str | None:
    """The published round this one is compared with (see the module's docstring)."""
    row = round_row(db, round_id)
    prev = row.get("previous_round_id")
    if prev:
        status = db.scalar("SELECT status FROM eval_rounds WHERE round_id = ?", [prev])
        if status in PUBLISHED_STAGES:
            return str(prev)
    found = db.query(
        "SELECT round_id FROM eval_rounds WHERE system_name = ? AND round_id <> ? "
        "AND status IN ('published', 'closed') AND period_end < ? "
        "ORDER BY period_end DESC, round_id DESC LIMIT 1",
        [row["system_name"], round_id, row["period_end"]],
    )
    return str(found[0][0]) if found else None


def _dimensions(db: Database, round_id: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, name, leaf ids) of each top-level node of the round's frozen system; a top-level
    leaf is a dimension of its own."""
    system = round_system(round_row(db, round_id))
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for node in system.indicators:
        if isinstance(node, Leaf):
            out.append((node.id, node.name, (node.id,)))
        else:
            ids = tuple(leaf.id for leaf in system.leaves if node.id in leaf.path)
            out.append((node.id, node.name, ids))
    return out


def _due_dates(db: Database, round_id: str) -> dict[tuple[str, str], str]:
    """(unit, indicator) → due date text, when eval_rectifications has a due column."""
    rows = db.query_dicts("SELECT * FROM eval_rectifications WHERE round_id = ?", [round_id])
    out: dict[tuple[str, str], str] = {}
    for r in rows:
        for col in DUE_COLUMNS:
            value = r.get(col)
            if value is not None:
                due = value.date() if isinstance(value, datetime) else value
                out[(str(r["unit"]), str(r["indicator"]))] = (
                    due.isoformat() if isinstance(due, date) else str(due)
                )
                break
    return out


def build_evaluation_notice(
    db: Database,
    round_id: str,
    at: datetime,
    templates: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
) -> Notice:
    """The evaluation notice of a published round (refused, in Chinese, for any other stage)."""
    status = db.scalar("SELECT status FROM eval_rounds WHERE round_id = ?", [round_id])
    if status is None:
        raise InputError(f"评估批次“{round_id}”不存在：请用 govwatch evaluation list 查看已有批次")
    if status not in PUBLISHED_STAGES:
        raise RoundStateError(
            f"评估批次“{round_id}”当前为“{label(ROUND_STAGE_NAMES, str(status))}”，"
            "只有已发布的批次才能生成评估结果通报"
        )
    texts = merged_templates(TEMPLATES, templates)
    config = {**DEFAULT_SETTINGS, **{k: str(v) for k, v in (settings or {}).items()}}
    cur = _read(db, round_id)
    meta = cur.meta
    results = cur.results
    names = {r["unit"]: r["unit_name"] for r in results}
    facts: dict[str, float | int | str] = {}

    # 一、基本情况
    scores = [float(r["score"]) for r in results]
    n = len(results)
    mean = sum(scores) / n if n else 0.0
    facts["units"] = n
    facts["mean_score"] = round(mean, 2)
    facts["max_score"] = round(max(scores), 2) if scores else 0.0
    facts["min_score"] = round(min(scores), 2) if scores else 0.0
    for level in STAR_LEVELS:
        facts[f"stars_{level}"] = sum(1 for r in results if int(r["stars"]) == level)
    fields: dict[str, Any] = {
        "round_name": meta["name"],
        "round_id": round_id,
        "system_name": meta["system_name"],
        "period_start": meta["period_start"],
        "period_end": meta["period_end"],
        "units": n,
        "mean_score": fmt2(mean),
        "max_score": fmt2(max(scores)) if scores else "0.00",
        "min_score": fmt2(min(scores)) if scores else "0.00",
        **{f"stars_{level}": facts[f"stars_{level}"] for level in STAR_LEVELS},
    }

    # 四 (read first: the ranking tables show the change too)
    prev_id = previous_round(db, round_id)
    prev_by_unit: dict[str, dict[str, Any]] = {}
    prev_name = ""
    if prev_id is not None:
        prev = _read(db, prev_id)
        prev_name = str(prev.meta["name"])
        prev_by_unit = {str(r["unit"]): r for r in prev.results}
    deltas: dict[str, tuple[float, int]] = {}
    for r in results:
        p = prev_by_unit.get(str(r["unit"]))
        if p is not None:
            score_delta = round(float(r["score"]) - float(p["score"]), 2)
            rank_delta = int(p["rank"]) - int(r["rank"])
            deltas[str(r["unit"])] = (score_delta, rank_delta)
            facts[f"score_delta.{r['unit']}"] = score_delta
            facts[f"rank_delta.{r['unit']}"] = rank_delta

    # 二、评估结果 by group
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(str(r["group"] or "全部单位"), []).append(r)
    ranking_tables = []
    for group, rows in sorted(groups.items()):
        rows = sorted(rows, key=lambda r: (int(r["group_rank"]), str(r["unit"])))
        table_rows = []
        for r in rows:
            unit = str(r["unit"])
            facts[f"score.{unit}"] = round(float(r["score"]), 2)
            facts[f"stars.{unit}"] = int(r["stars"])
            facts[f"group_rank.{unit}"] = int(r["group_rank"])
            facts[f"rank.{unit}"] = int(r["rank"])
            d = deltas.get(unit)
            table_rows.append(
                (
                    int(r["group_rank"]),
                    str(r["unit_name"]),
                    round(float(r["score"]), 2),
                    stars_text(int(r["stars"])),
                    int(r["rank"]),
                    signed(d[0]) if d else "—",
                    rank_change(d[1]) if d else "—",
                )
            )
        ranking_tables.append(
            Table(
                title=f"{group}评估结果",
                columns=("组内排名", "单位", "得分", "星级", "总排名", "得分变化", "排名变化"),
                rows=tuple(table_rows),
                note="得分变化、排名变化与上一批次比较；“—”为上一批次未参评",
            )
        )

    # 三、失分情况 by dimension
    dims = _dimensions(db, round_id)
    lost_rows: list[tuple[str | int | float | None, ...]] = []
    for r in sorted(results, key=lambda r: (int(r["rank"]), str(r["unit"]))):
        unit = str(r["unit"])
        lost_of = {p["id"]: float(p["lost"]) for p in r["per_indicator"]}
        per_dim = []
        for dim_id, _, leaf_ids in dims:
            lost = round(sum(lost_of.get(i, 0.0) for i in leaf_ids), 2)
            facts[f"lost.{unit}.{dim_id}"] = lost
            per_dim.append(lost)
        total = round(sum(lost_of.values()), 2)
        facts[f"lost.{unit}"] = total
        lost_rows.append((str(r["unit_name"]), *per_dim, total))
    lost_table = Table(
        title="各单位分维度失分",
        columns=("单位", *(name for _, name, _ in dims), "合计失分"),
        rows=tuple(lost_rows),
        note="失分 = 指标分值 − 得分，按指标体系的一级维度汇总",
    )

    # 四、与上一批次比较
    if prev_id is not None:
        common = [u for u in deltas]
        improved = sum(1 for u in common if deltas[u][0] > 0)
        declined = sum(1 for u in common if deltas[u][0] < 0)
        prev_scores = [float(prev_by_unit[u]["score"]) for u in common]
        cur_scores = [float(r["score"]) for r in results if str(r["unit"]) in deltas]
        mean_delta = (
            round(sum(cur_scores) / len(cur_scores) - sum(prev_scores) / len(prev_scores), 2)
            if common
            else 0.0
        )
        facts["improved"] = improved
        facts["declined"] = declined
        facts["mean_delta"] = mean_delta
        facts["previous_round"] = prev_id
        fields.update(
            previous_name=prev_name,
            improved=improved,
            declined=declined,
            mean_delta=signed(mean_delta),
        )
        compare_text = fill(texts, "compare", fields)
    else:
        compare_text = fill(texts, "no_previous", fields)

    # 五、整改要求
    due = _due_dates(db, round_id)
    leaf_names = {p["id"]: p["name"] for r in results for p in r["per_indicator"]}
    demand_rows = []
    for dem in cur.rectifications:
        unit, indicator = str(dem["unit"]), str(dem["indicator"])
        demand_rows.append(
            (
                names.get(unit, unit),
                leaf_names.get(indicator, indicator),
                round(float(dem["points_lost"]), 2),
                str(dem["demand"]),
                due.get((unit, indicator), "—"),
            )
        )
        key = f"demands.{unit}"
        facts[key] = int(facts.get(key, 0)) + 1
    facts["demands"] = len(demand_rows)
    fields["demands"] = len(demand_rows)
    demand_table = Table(
        title="整改要求",
        columns=("单位", "指标", "失分", "整改要求", "整改期限"),
        rows=tuple(demand_rows),
        note="整改期限按工作日计算；“—”为未设定期限",
    )

    sections = (
        Section("一、基本情况", (fill(texts, "opening", fields), fill(texts, "overview", fields))),
        Section("二、评估结果", (fill(texts, "ranking", fields),), tuple(ranking_tables)),
        Section("三、失分情况", (fill(texts, "lost", fields),), (lost_table,)),
        Section("四、与上一批次比较", (compare_text,)),
        Section(
            "五、整改要求",
            (fill(texts, "rectify", fields), fill(texts, "closing", fields)),
            (demand_table,),
        ),
    )
    notice = Notice(
        kind=KIND,
        issuer=config["issuer"],
        doc_number=config["doc_number"] or f"政服评〔{at.year}〕1号",
        title=f"关于{meta['name']}{'' if str(meta['name']).endswith('评估') else '评估'}结果的通报",
        addressees=config["addressees"],
        sections=sections,
        attachments=tuple(t.title for s in sections for t in s.tables),
        date=at.date(),
        facts=facts,
    )
    return notice


def with_fields(notice: Notice, settings: Mapping[str, str]) -> Notice:
    """The notice with its head fields (doc number, addressees, issuer) as set."""
    changes = {
        k: str(v) for k, v in settings.items() if k in ("doc_number", "addressees", "issuer")
    }
    changes = {k: v for k, v in changes.items() if v}
    return replace(notice, **changes)  # type: ignore[arg-type]
