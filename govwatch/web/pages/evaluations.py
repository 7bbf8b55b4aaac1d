"""评估: rounds, results with stars, ranks and group ranks, rank intervals, points per indicator,
the distribution of a round's scores, and a unit's results across its rounds.

Every page reads through :mod:`govwatch.evaluation.rounds.views`, the one reader of rounds and
the one rule of who sees what: a figure here (a histogram bar, a star band's count, a point of
a unit's history) is computed from the rows that reader returned for the caller, never from the
tables, so that it cannot count a result the caller may not see. The round page's JSON twin is
the API resource ``GET /api/v1/evaluations/{round}``, byte for byte the same dict.

Caching: a published (or closed) round is frozen by its digest, so what its pages draw from
its results (the results, the results table, the points-per-indicator table, the distribution,
the thresholds explained, an export) is kept in the app by (round, digest, what the reader may
see: its :class:`RoundAccess`), with no time limit: a reader is served only what a reader with
the same access computed. Appeals and rectification demands, which change after publishing,
are read on every request. Rounds not yet published are kept a few seconds in the page cache,
keyed the same way.

Rounding (spec/evaluation.md: "Scores are kept unrounded and shown with two decimals"): pages,
XLSX and CSV show every score and every indicator's points rounded to two decimals the same
way (:func:`score2`, as ``"%.2f"`` prints), so an export reads as the page; the JSON twins keep full precision
and carry no rounded copy beside it.
"""

from __future__ import annotations

import functools
import io
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from govwatch.auth.errors import NotFoundError
from govwatch.errors import GovwatchError
from govwatch.evaluation.rounds.views import (
    PUBLISHED_STAGES,
    WHOLE_ROUND_ROLES,
    RoundAccess,
    RoundViewer,
    compose_summary,
    list_rounds,
    round_body,
    round_head,
    round_live,
)
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.storage import Database
from govwatch.web.api.cache import TTLCache
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    ENV,
    ROUND_STATUS_NAMES,
    error_page,
    json_response,
    login_redirect,
    render,
    wants_json,
)
from govwatch.web.pages.sheets import (
    MEDIA_TYPES,
    SheetFormat,
    download_headers,
    export_format,
    sheet_response,
    write_sheet,
)

T = TypeVar("T")
router = APIRouter()
RoundId = Annotated[str, Path(min_length=1, max_length=64)]
UnitCode = Annotated[str, Path(min_length=1, max_length=64)]

# A stage the vocabulary may not name yet (closed is added with the administrator's pages).
_EXTRA_STATUS_NAMES = {"closed": "已关闭"}
BIN_WIDTH = 5  # points per bar of a round's score distribution
STAR_BANDS = (5, 4, 3, 2, 0)  # 0: below the lowest threshold (未达星级)


def score2(value: object) -> float:
    """A score or points as every page and export shows it: two decimals, the nearest to the
    stored value, exactly as the templates' ``"%.2f"|format`` prints it (so a page and its
    export never differ in the last digit)."""
    return float(f"{float(str(value)):.2f}")


def status_name(status: object) -> str:
    code = str(status)
    return ROUND_STATUS_NAMES.get(code) or _EXTRA_STATUS_NAMES.get(code, code)


def published_early(rnd: dict[str, Any]) -> bool:
    """Published before its period ended: the administrator's confirmed flag when the round
    has one (``published_early``), else read off the dates."""
    if rnd.get("published_early"):
        return True
    at, end = rnd.get("published_at"), rnd.get("period_end")
    if not at or not end:
        return False
    return str(at)[:10] <= str(end)[:10]


def with_status_name(rnd: dict[str, Any]) -> dict[str, Any]:
    return {**rnd, "status_name": status_name(rnd["status"]), "early": published_early(rnd)}


# --- the round's system: thresholds and gates, explained under every result ----------------


@functools.lru_cache(maxsize=64)
def _parsed(system_yaml: str, round_id: str) -> IndicatorSystem | None:
    try:
        return parse_system(system_yaml, origin=f"批次 {round_id} 的指标体系")
    except GovwatchError:
        return None


def round_system(db: Database, round_id: str) -> IndicatorSystem | None:
    """The frozen system of a round the caller was already allowed to read (no result in it)."""
    rows = db.query("SELECT system_yaml FROM eval_rounds WHERE round_id = ?", [round_id])
    if not rows or not rows[0][0]:
        return None
    return _parsed(str(rows[0][0]), round_id)


def _levels(thresholds: dict[int, float]) -> str:
    return "、".join(f"{'★' * k} ≥ {v:g} 分" for k, v in sorted(thresholds.items()))


def star_rules(system: IndicatorSystem | None) -> list[str]:
    """The round's star thresholds, group thresholds, gates and coverage flag, in Chinese."""
    if system is None:
        return []
    names = {leaf.id: leaf.name for leaf in system.leaves}
    lines = [
        f"星级按总分评定：{_levels(dict(system.thresholds))}；"
        f"低于 {min(system.thresholds.values()):g} 分为“未达星级”。"
    ]
    for group, own in sorted(system.group_thresholds.items()):
        lines.append(f"分组“{group}”的门槛：{_levels({**system.thresholds, **own})}。")
    for level, ids in sorted(system.gates.items()):
        needed = "、".join(f"“{names.get(i, i)}”" for i in ids)
        lines.append(f"评为 {'★' * level} 及以上，还须 {needed} 达标（该项有得分）。")
    lines.append(
        f"缺少数据的指标计 0 分；有数据的指标不足 {system.coverage_min * 100:g}% 的单位标为"
        "“数据不足”，其得分与星级仅供参考。分数保留两位小数显示，排名按未舍入的分数计算，"
        "同分同名次。"
    )
    return lines


# --- distribution of a round's scores ---------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    low: float  # inclusive
    high: float  # exclusive, except the last bar (100 inclusive)
    count: int

    @property
    def label(self) -> str:
        return f"{self.low:g}–{self.high:g}"


def score_bars(results: Sequence[dict[str, Any]], width: int = BIN_WIDTH) -> list[Bar]:
    """Bars of ``width`` points from the lowest to the highest score seen (empty bars between
    kept); a score of 100 falls in the last bar. Only the results given: what the caller sees."""
    if not results:
        return []
    scores = [float(r["score"]) for r in results]

    def bin_of(s: float) -> int:
        return min(math.floor(s / width), 100 // width - 1)

    lo, hi = bin_of(min(scores)), bin_of(max(scores))
    counts = {b: 0 for b in range(lo, hi + 1)}
    for s in scores:
        counts[bin_of(s)] += 1
    return [Bar(float(b * width), float((b + 1) * width), n) for b, n in counts.items()]


def star_counts(results: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(k, sum(1 for r in results if int(r["stars"]) == k)) for k in STAR_BANDS]


# --- filters of the results table (what a bar or a band links to) -----------------------------


@dataclass(frozen=True)
class ResultFilter:
    score_from: float | None = None
    score_to: float | None = None
    stars: int | None = None

    @property
    def active(self) -> bool:
        return self != ResultFilter()

    def keeps(self, r: dict[str, Any]) -> bool:
        s = float(r["score"])
        if self.score_from is not None and s < self.score_from:
            return False
        if self.score_to is not None and not (s < self.score_to or (self.score_to >= 100)):
            return False
        return self.stars is None or int(r["stars"]) == self.stars

    def query(self) -> str:
        parts = []
        if self.score_from is not None:
            parts.append(f"score_from={self.score_from:g}")
        if self.score_to is not None:
            parts.append(f"score_to={self.score_to:g}")
        if self.stars is not None:
            parts.append(f"stars={self.stars}")
        return "&".join(parts)

    def describe(self) -> list[tuple[str, str]]:
        out = []
        if self.score_from is not None or self.score_to is not None:
            low = "" if self.score_from is None else f"{self.score_from:g} 分起"
            high = "" if self.score_to is None else f"{self.score_to:g} 分以下"
            out.append(("得分", "，".join(p for p in (low, high) if p)))
        if self.stars is not None:
            out.append(("星级", f"{self.stars} 星" if self.stars else "未达星级"))
        return out


class FilterError(ValueError):
    pass


def result_filter(request: Request) -> ResultFilter:
    """The results filter of a query; a bad value raises :class:`FilterError` in Chinese."""
    q = request.query_params

    def number(name: str, what: str) -> float | None:
        raw = q.get(name, "").strip()
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise FilterError(f"参数 {name}（{what}）应为 0–100 之间的数字，收到“{raw}”") from None
        if not 0 <= value <= 100:
            raise FilterError(f"参数 {name}（{what}）应为 0–100 之间的数字，收到“{raw}”")
        return value

    stars_raw = q.get("stars", "").strip()
    stars: int | None = None
    if stars_raw:
        if stars_raw not in {str(k) for k in STAR_BANDS}:
            raise FilterError(f"参数 stars（星级）应为 0、2、3、4 或 5，收到“{stars_raw}”")
        stars = int(stars_raw)
    return ResultFilter(number("score_from", "最低得分"), number("score_to", "得分上限"), stars)


# --- sheets -----------------------------------------------------------------------------------


def results_context(summary: dict[str, Any]) -> dict[str, Any]:
    """What round.html and public.html (through _results.html) draw from one round summary."""
    return {
        "round": with_status_name(summary),
        "leaves": summary["leaves"],
        "results": summary["results"],
        "units": summary["units"],
    }


def _moment(value: object) -> object:
    """A round's time as the reader gave it (ISO text) back to a date or a time, for a sheet."""
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


ROUND_COLUMNS = ("批次", "名称", "评估期起", "评估期止", "指标体系", "状态", "发布时间", "提前发布")


def round_rows(rounds: Sequence[dict[str, Any]]) -> Iterator[tuple[object, ...]]:
    for r in rounds:
        yield (
            r["round_id"],
            r["name"],
            _moment(r["period_start"]),
            _moment(r["period_end"]),
            r["system_name"],
            r["status_name"],
            _moment(r.get("published_at")),
            "是（评估期结束前发布）" if r.get("early") else "",
        )


def result_columns(summary: dict[str, Any], detail: bool) -> list[str]:
    columns = ["排名", "单位编码", "单位", "分组", "组内排名", "得分", "星级"]
    if detail:
        columns.append("排名区间")
        columns += [f"{leaf['name']}（满分 {leaf['points']:g}）" for leaf in summary["leaves"]]
    return columns


def result_rows(results: Sequence[dict[str, Any]], detail: bool) -> Iterator[list[object]]:
    """The results table as round.html draws it (and, in detail, the points per indicator)."""
    for r in results:
        row: list[object] = [
            r["rank"],
            r["unit"],
            r["unit_name"],
            r["group"] or "",
            r["group_rank"],
            score2(r["score"]),
            int(r["stars"]),
        ]
        if detail:
            interval = r.get("rank_interval")
            row.append(f"{interval[0]}–{interval[1]}" if interval else "")
            row += [score2(p["earned"]) for p in r.get("per_indicator", [])]
        yield row


# --- pages ------------------------------------------------------------------------------------


def _kept(request: Request, key: tuple[object, ...], compute: Callable[[], T]) -> T:
    """``compute()`` kept in the app under ``key``: without a time limit when the key is a
    frozen round's (:func:`reading`), else a few seconds in the app's page cache. A key holds
    what the reader may see (its :class:`RoundAccess`, or :func:`reader_key`), so that twenty
    people reading one round share one reading, and no one is served another's."""
    pool = getattr(request.app.state, "pool", None)
    if pool is None:
        return compute()
    cache: TTLCache[Any] = _frozen_cache(request) if key[0] == "frozen" else pool.pages
    found: T = cache.get_or_compute(key, compute)
    return found


FROZEN_ENTRIES = 128  # pieces of published rounds kept per app (all dropped when full)
_FROZEN_LOCK = threading.Lock()


def _frozen_cache(request: Request) -> TTLCache[Any]:
    state = request.app.state
    with _FROZEN_LOCK:
        cache: TTLCache[Any] | None = getattr(state, "frozen_rounds", None)
        if cache is None:
            cache = TTLCache(math.inf, max_entries=FROZEN_ENTRIES)
            state.frozen_rounds = cache
    return cache


def reader_key(viewer: RoundViewer) -> tuple[object, ...]:
    """What decides which rounds and results a viewer may see: its role, and a department's own
    units; an evaluator's account and organisation (its commissioning); nothing more."""
    if viewer.role in WHOLE_ROUND_ROLES:
        return (viewer.role,)
    if viewer.role == "department":
        return (viewer.role, viewer.units)
    if viewer.role == "public":
        return (viewer.role,)
    return (viewer,)


@dataclass(frozen=True)
class Reading:
    """One round as a reader may see it: its row (read on every request), the access, the
    body (leaves and results, kept) and the key its pieces are kept under."""

    row: dict[str, Any]
    access: RoundAccess
    body: dict[str, Any]
    key: tuple[object, ...]

    @property
    def frozen(self) -> bool:
        return self.key[0] == "frozen"


def shared_access(access: RoundAccess) -> RoundAccess:
    """The access as far as the results go: a reader who sees its own units' results exactly
    as it sees others' (a department once a round is published) reads the same rows as any
    other such reader, whatever its units (its appeals and demands are read apart)."""
    if access.own == access.others and access.units:
        return replace(access, units=frozenset())
    return access


def reading(request: Request, db: Database, round_id: str, viewer: RoundViewer) -> Reading:
    """The round's row and access, and its body kept by digest (published) or a few seconds."""
    row, access = round_head(db, round_id, viewer)
    digest = row.get("digest")
    shared = shared_access(access)
    if str(row["status"]) in PUBLISHED_STAGES and digest:
        key: tuple[object, ...] = ("frozen", round_id, str(digest), shared)
    else:
        key = ("round", round_id, str(row["status"]), shared)
    body = _kept(request, (*key, "body"), lambda: round_body(db, round_id, row, access))
    return Reading(row, access, body, key)


def summary_of(
    request: Request, db: Database, round_id: str, viewer: RoundViewer
) -> dict[str, Any]:
    """:func:`round_summary` for the web app: the body kept, appeals and demands read now."""
    got = reading(request, db, round_id, viewer)
    return compose_summary(got.row, got.body, round_live(db, round_id, viewer, got.access))


def matrix_rows(round_id: str, results: Sequence[dict[str, Any]]) -> list[Markup]:
    """The points-per-indicator table's rows (each cell: earned / −lost, two decimals, a link
    to the guide check's evidence where there is one), formatted here rather than in the
    template: 262 units × 25 indicators are 6,550 cells."""
    rows = []
    quoted = quote(round_id, safe="")
    for r in results:
        cells = []
        unit_q = quote(str(r["unit"]), safe="")
        for p in r.get("per_indicator", []):
            text = f"{float(p['earned']):.2f}"
            lost = float(p["lost"])
            if lost > 0:
                text += f" / −{lost:.2f}"
            if p.get("evidence"):
                href = (
                    f"/guides/evidence?round={quoted}&amp;unit={unit_q}"
                    f"&amp;indicator={quote(str(p['id']), safe='')}"
                )
                title = escape(f"查看{r['unit_name']}“{p['name']}”所依据的办事指南核查结果")
                text = f'<a href="{href}" title="{title}">{text}</a>'
            cells.append(f'<td class="lost">{text}</td>' if lost > 0 else f"<td>{text}</td>")
        rows.append(
            Markup(f'<tr><th scope="row">{escape(r["unit_name"])}</th>{"".join(cells)}</tr>')
        )
    return rows


def _refuse(request: Request, db: Database, caller: Any) -> Response | None:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("evaluations.read"):
        return error_page(request, db, caller, 403, "本角色无权查看评估")
    return None


@router.get("/evaluations", response_model=None)
def evaluations_page(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    refused = _refuse(request, db, caller)
    if refused is not None:
        return refused
    rounds = [with_status_name(r) for r in list_rounds(db, RoundViewer.of_principal(caller))]
    if wants_json(request):
        return json_response({"rounds": rounds})
    fmt = export_format(request.query_params.get("format", ""))
    if fmt is not None:
        return sheet_response(
            title="评估批次",
            filters=(),
            columns=ROUND_COLUMNS,
            rows=round_rows(rounds),
            fmt=fmt,
            filename="评估批次",
            exported_at=at,
        )
    return render(request, db, caller, "evaluations.html", {"rounds": rounds})


def distribution_context(round_id: str, results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The histogram and the star bands of the results the caller sees, each count a link."""
    base = f"/evaluations/{round_id}"
    bars = score_bars(results)
    chart = [
        {
            "name": b.label,
            "value": b.count,
            "href": f"{base}?score_from={b.low:g}&score_to={b.high:g}#results" if b.count else "",
        }
        for b in bars
    ]
    return {"bars": bars, "bands": star_counts(results), "chart_bars": chart}


def _sheet_bytes(
    fmt: SheetFormat,
    title: str,
    filters: Sequence[tuple[str, str]],
    columns: Sequence[str],
    rows: Iterator[list[object]],
    exported_at: datetime,
) -> bytes:
    out = io.BytesIO()
    write_sheet(out, fmt, title, filters, columns, rows, exported_at)
    return out.getvalue()


def _download(body: bytes, fmt: SheetFormat, filename: str) -> Response:
    """A kept export as :func:`sheet_response` sends one (same type and headers)."""
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers=download_headers(f"{filename}.{fmt}"),
    )


def _export(
    request: Request,
    got: Reading,
    summary: dict[str, Any],
    shown: list[dict[str, Any]],
    chosen: ResultFilter,
    fmt: SheetFormat,
    at: datetime,
) -> Response:
    rnd = with_status_name(summary)
    detail = any("per_indicator" in r for r in summary["results"])
    filters = [
        ("评估批次", f"{rnd['name']}（{rnd['round_id']}）"),
        ("评估期", f"{rnd['period_start']} 至 {rnd['period_end']}"),
        ("状态", rnd["status_name"]),
    ]
    if rnd["early"]:
        filters.append(("发布", f"{str(rnd['published_at'])[:10]}，评估期结束前发布"))
    title = f"{rnd['name']} 评估结果"
    filename = f"{rnd['name']}-评估结果"
    columns = result_columns(summary, detail)
    if not got.frozen:
        return sheet_response(
            title=title,
            filters=[*filters, *chosen.describe()],
            columns=columns,
            rows=result_rows(shown, detail),
            fmt=fmt,
            filename=filename,
            exported_at=at,
        )
    # a frozen round's file differs only by the minute it says it was exported at (and the
    # stage, published or closed, it names)
    minute = at.replace(second=0, microsecond=0)
    body = _kept(
        request,
        (*got.key, "export", fmt, chosen, rnd["status"], minute),
        lambda: _sheet_bytes(
            fmt, title, [*filters, *chosen.describe()], columns, result_rows(shown, detail), at
        ),
    )
    return _download(body, fmt, filename)


def page_parts(
    round_id: str,
    got: Reading,
    rnd: dict[str, Any],
    shown: list[dict[str, Any]],
    chosen: ResultFilter,
) -> dict[str, Any]:
    """What round.html draws from the results: the results table (rendered), the matrix rows,
    the distribution and the thresholds explained; kept with the round's body."""
    results = got.body["results"]
    scale = max([len(results), *(r["rank_interval"][1] for r in shown if r.get("rank_interval"))])
    data = {
        "round": rnd,
        "results": shown,
        "units": len(shown),
        "scale": scale,
        "empty_text": "没有符合筛选条件的单位" if chosen.active else "",
    }
    system = _parsed(str(got.row["system_yaml"]), round_id) if got.row["system_yaml"] else None
    return {
        "results_table": Markup(ENV.get_template("_results.html").render(data=data, detail=True)),
        "scale": scale,
        "rules": star_rules(system),
        "matrix": matrix_rows(round_id, shown),
        **distribution_context(round_id, results),
    }


@router.get("/evaluations/{round_id}", response_model=None)
def round_page(request: Request, round_id: RoundId, db: DB, caller: Caller, at: Clock) -> Response:
    refused = _refuse(request, db, caller)
    if refused is not None:
        return refused
    try:
        viewer = RoundViewer.of_principal(caller)
        got = reading(request, db, round_id, viewer)
        chosen = result_filter(request)
    except NotFoundError as exc:
        return error_page(request, db, caller, 404, str(exc))
    except FilterError as exc:
        return error_page(request, db, caller, 400, str(exc))
    if wants_json(request):
        summary = compose_summary(got.row, got.body, round_live(db, round_id, viewer, got.access))
        if not chosen.active:
            return json_response(summary)
        shown = [r for r in summary["results"] if chosen.keeps(r)]
        return json_response({**summary, "results": shown, "units": len(shown)})
    # the page and its exports show no appeal or demand: those are not read
    summary = compose_summary(got.row, got.body, {"appeals": [], "rectifications": []})
    shown = [r for r in summary["results"] if chosen.keeps(r)]
    fmt = export_format(request.query_params.get("format", ""))
    if fmt is not None:
        return _export(request, got, summary, shown, chosen, fmt, at)
    context = results_context(summary)
    parts = _kept(
        request,
        (*got.key, "page", chosen),
        lambda: page_parts(round_id, got, context["round"], shown, chosen),
    )
    return render(
        request,
        db,
        caller,
        "round.html",
        {
            **context,
            "results": shown,
            "all_units": summary["units"],
            "chosen": chosen,
            "query": chosen.query(),
            **parts,
        },
    )


# --- a unit across its rounds -----------------------------------------------------------------


def _dimensions(system: IndicatorSystem | None) -> list[tuple[str, str, frozenset[str]]]:
    """Top-level indicators (维度) with the leaves each sums."""
    if system is None:
        return []
    out = []
    for node in system.indicators:
        leaves = [leaf.id for leaf in system.leaves if (leaf.path[:1] or (leaf.id,))[0] == node.id]
        out.append((node.id, node.name, frozenset(leaves)))
    return out


def unit_history(
    db: Database,
    viewer: RoundViewer,
    unit: str,
    results_of: Callable[[str], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The unit's result in every round the viewer may see it in, oldest period first.

    ``results_of(round_id)``: the results of a round as the viewer may see them (default: read
    through :func:`round_head` and :func:`round_body`; the page passes its kept reading)."""

    def read(round_id: str) -> list[dict[str, Any]]:
        row, access = round_head(db, round_id, viewer)
        return list(round_body(db, round_id, row, access)["results"])

    results = results_of or read
    points: list[dict[str, Any]] = []
    unit_name = ""
    dimension_names: dict[str, str] = {}
    for rnd in reversed(list_rounds(db, viewer)):
        row = next((r for r in results(str(rnd["round_id"])) if r["unit"] == unit), None)
        if row is None:
            continue
        unit_name = str(row["unit_name"])
        dims: dict[str, float] = {}
        if "per_indicator" in row:
            earned = {p["id"]: float(p["earned"]) for p in row["per_indicator"]}
            for dim_id, dim_name, leaves in _dimensions(round_system(db, str(rnd["round_id"]))):
                dimension_names.setdefault(dim_name, dim_id)
                dims[dim_name] = sum(earned.get(leaf, 0.0) for leaf in leaves)
        points.append(
            {
                "round_id": rnd["round_id"],
                "name": rnd["name"],
                "period_start": rnd["period_start"],
                "period_end": rnd["period_end"],
                "status": rnd["status"],
                "status_name": status_name(rnd["status"]),
                "score": float(row["score"]),
                "stars": int(row["stars"]),
                "rank": int(row["rank"]),
                "group": row["group"],
                "group_rank": int(row["group_rank"]),
                "dimensions": dims,
            }
        )
    if not points:
        raise NotFoundError(f"单位“{unit}”没有可查看的评估结果")
    return {
        "unit": unit,
        "unit_name": unit_name,
        "dimensions": list(dimension_names),
        "rounds": points,
    }


UNIT_COLUMNS = (
    "批次",
    "名称",
    "评估期起",
    "评估期止",
    "状态",
    "得分",
    "星级",
    "排名",
    "分组",
    "组内排名",
)


def unit_rows(history: dict[str, Any]) -> Iterator[list[object]]:
    for p in history["rounds"]:
        yield [
            p["round_id"],
            p["name"],
            _moment(p["period_start"]),
            _moment(p["period_end"]),
            p["status_name"],
            score2(p["score"]),
            p["stars"],
            p["rank"],
            p["group"] or "",
            p["group_rank"],
            *(
                score2(p["dimensions"][d]) if d in p["dimensions"] else ""
                for d in history["dimensions"]
            ),
        ]


@router.get("/evaluations/units/{unit}", response_model=None)
def unit_rounds_page(
    request: Request, unit: UnitCode, db: DB, caller: Caller, at: Clock
) -> Response:
    refused = _refuse(request, db, caller)
    if refused is not None:
        return refused
    viewer = RoundViewer.of_principal(caller)
    try:
        history = _kept(
            request,
            ("unit-history", unit, *reader_key(viewer)),
            lambda: unit_history(
                db,
                viewer,
                unit,
                lambda round_id: reading(request, db, round_id, viewer).body["results"],
            ),
        )
    except NotFoundError as exc:
        return error_page(request, db, caller, 404, str(exc))
    if wants_json(request):
        return json_response(history)
    fmt = export_format(request.query_params.get("format", ""))
    if fmt is not None:
        return sheet_response(
            title=f"{history['unit_name']} 历次评估结果",
            filters=(("单位", f"{history['unit_name']}（{unit}）"),),
            columns=[*UNIT_COLUMNS, *(f"{d}得分" for d in history["dimensions"])],
            rows=unit_rows(history),
            fmt=fmt,
            filename=f"{history['unit_name']}-历次评估结果",
            exported_at=at,
        )
    chart = [
        {
            "name": p["name"],
            "href": f"/evaluations/{p['round_id']}",
            "score": score2(p["score"]),
            "stars": p["stars"],
            "rank": p["rank"],
            "dimensions": {d: score2(v) for d, v in p["dimensions"].items()},
        }
        for p in history["rounds"]
    ]
    return render(request, db, caller, "unit_rounds.html", {"history": history, "chart": chart})
