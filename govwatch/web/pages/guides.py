"""办事指南核查: runs, coverage per unit, findings with their evidence, the evaluator's review.

- ``/guides``: the runs (the administrator starts one), and the selected run's coverage and
  accuracy per city, county or department; every number links to the items it counts;
- ``/guides/findings``: the run's findings, filtered by element, check, problem, unit, item or
  review, each with its evidence and (evaluator, administrator) the form that sets it aside or
  restores it with a reason;
- ``/guides/items``: the items a figure counts or misses;
- ``/guides/evidence``: what an evaluation round's guide or coverage value for one unit rests
  on (the round page links each such value here), for whoever may see that unit's result.

Administrators, supervisors and evaluators read the run pages; each has a JSON twin
(``?format=json``) and exports (``?format=xlsx|csv``). Domain functions:
:mod:`govwatch.guides.runs`, :mod:`govwatch.guides.coverage`, :mod:`govwatch.guides.lists`;
a run and what follows it: :mod:`govwatch.live.guide_runs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from govwatch.auth.errors import NotFoundError
from govwatch.auth.names import people_names, unit_names
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.metrics.definitions import unit_expr
from govwatch.evaluation.metrics.guides import FIGURE_OF
from govwatch.evaluation.metrics.supply import resolve_metric
from govwatch.evaluation.rounds.values import round_row, round_system
from govwatch.evaluation.rounds.views import RoundViewer, access_of
from govwatch.guides.coverage import (
    ACCURACY,
    ACCURACY_GROUPS,
    COVERAGE,
    FIGURES,
    Coverage,
    coverage,
)
from govwatch.guides.lists import FindingFilter, UnitFilter, list_findings, list_items
from govwatch.guides.runs import GuideRun, get_run, latest_run, list_runs, review_finding
from govwatch.live.guide_runs import guide_check_run
from govwatch.storage import Database
from govwatch.vocabulary import (
    GUIDE_CHECK_NAMES,
    GUIDE_ELEMENT_NAMES,
    GUIDE_FIGURE_NAMES,
    GUIDE_FINDING_KIND_NAMES,
    GUIDE_GROUP_NAMES,
    GUIDE_MEASURE_NAMES,
    GUIDE_REVIEW_ACTION_NAMES,
    GUIDE_RUN_SOURCE_NAMES,
    GUIDE_UNIT_KIND_NAMES,
    label,
)
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    back,
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)
from govwatch.web.pages.paging import Paging, filter_query
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter()
PAGE_SIZE = 50
READ_ROLES = ("admin", "supervisor", "evaluator")
REVIEW_ROLES = ("admin", "evaluator")
RUN_ROLES = ("admin",)
UNIT_KINDS = ("city", "county", "department")  # offered on the page
ALL_KINDS = ("region", "province", "city", "county", "department")  # a round's, any
Text = Annotated[str, Query(max_length=64)]


def _refused(request: Request, db: Database, caller: Principal) -> Response | None:
    if caller.role == "public":
        return login_redirect(request)
    if caller.role not in READ_ROLES:
        return error_page(request, db, caller, 403, "本角色无权查看办事指南核查")
    return None


def _run_of(db: Database, run_id: str) -> GuideRun | None:
    """The run named, or the latest (None when there is none); an unknown id is refused."""
    return get_run(db, run_id) if run_id else latest_run(db)


def _kind(by: str) -> str:
    if by not in ALL_KINDS:
        raise InputError(f"统计单位“{by[:20]}”无效：应为设区市、县（市、区）或部门")
    return by


def _unit(by: str, unit: str) -> UnitFilter | None:
    return UnitFilter(unit_expr(_kind(by), "i"), unit) if unit else None


def _href(path: str, **params: object) -> str:
    return f"{path}?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"


def _percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def _row(run: GuideRun, by: str, c: Coverage, names: Mapping[str, str]) -> dict[str, Any]:
    """One unit's line of the coverage table: every figure with the links to its items."""

    def items(measure: str) -> str:
        return _href("/guides/items", run=run.run_id, by=by, unit=c.unit, measure=measure)

    figures = []
    for figure in FIGURES:
        counted = {
            "items_published": "published",
            "guides_published": "with_guide",
            "guide_standard": "standard",
        }.get(figure, f"accurate_{figure}")
        missed = {
            "items_published": "unpublished",
            "guides_published": "without_guide",
            "guide_standard": "nonstandard",
        }.get(figure, f"faulty_{figure}")
        figures.append(
            {
                "figure": figure,
                "name": label(GUIDE_FIGURE_NAMES, figure),
                "ratio": c.ratio(figure),
                "percent": _percent(c.ratio(figure)),
                "counted": c.numerator(figure),
                "missed": c.items - c.numerator(figure),
                "counted_href": items(counted),
                "missed_href": items(missed),
                "findings_href": _href(
                    "/guides/findings",
                    run=run.run_id,
                    by=by,
                    unit=c.unit,
                    element=figure if figure in ACCURACY else None,
                    check="completeness" if figure == "guide_standard" else None,
                )
                if figure not in ("items_published", "guides_published")
                else None,
            }
        )
    return {
        "unit": c.unit,
        "name": names.get(c.unit, c.unit),
        "count": c.items,
        "items_href": items("items"),
        "figures": figures,
    }


@router.get("/guides", response_model=None)
def guides_page(
    request: Request, db: DB, caller: Caller, at: Clock, run: Text = "", by: Text = "city"
) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    try:
        chosen = _run_of(db, run)
        kind = _kind(by)
        rows: list[dict[str, Any]] = []
        if chosen is not None:
            names = unit_names(db)
            rows = [
                _row(chosen, kind, c, names)
                for c in coverage(db, chosen.run_id, unit_expr(kind, "i")).values()
            ]
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    runs = list_runs(db, 20)
    if wants_json(request):
        return json_response(
            {
                "runs": [r.as_dict() for r in runs],
                "run": chosen.as_dict() if chosen else None,
                "by": kind,
                "coverage": [
                    {
                        "unit": r["unit"],
                        "name": r["name"],
                        "items": r["count"],
                        "figures": {
                            f["figure"]: {"ratio": f["ratio"], "counted": f["counted"]}
                            for f in r["figures"]
                        },
                    }
                    for r in rows
                ],
            }
        )
    fmt = export_format(request.query_params.get("format", ""))
    if fmt is not None and chosen is not None:
        return sheet_response(
            title="办事指南覆盖度与准确度",
            filters=[*_run_words(chosen), ("统计单位", label(GUIDE_UNIT_KIND_NAMES, kind))],
            columns=[
                "单位编码",
                "单位",
                "事项数",
                *(label(GUIDE_FIGURE_NAMES, f) for f in FIGURES),
            ],
            rows=(
                [r["unit"], r["name"], r["count"], *(f["ratio"] for f in r["figures"])]
                for r in rows
            ),
            fmt=fmt,
            filename="办事指南覆盖度与准确度",
            exported_at=at,
        )
    summary = _summary(chosen) if chosen else None
    return render(
        request,
        db,
        caller,
        "guides.html",
        {
            "runs": runs,
            "run": chosen,
            "by": kind,
            "kinds": {k: label(GUIDE_UNIT_KIND_NAMES, k) for k in UNIT_KINDS},
            "rows": rows,
            "figures": [(f, label(GUIDE_FIGURE_NAMES, f)) for f in FIGURES],
            "coverage_figures": COVERAGE,
            "summary": summary,
            "sources": GUIDE_RUN_SOURCE_NAMES,
            "can_run": caller.role in RUN_ROLES,
            "people": people_names(db, [r.run_by for r in runs]),
        },
    )


def _summary(run: GuideRun) -> dict[str, list[dict[str, Any]]]:
    """The run's findings by check, by element group and by problem, with their lists."""
    counts = run.counts

    def link(**params: object) -> str:
        return _href("/guides/findings", run=run.run_id, **params)

    return {
        "checks": [
            {"name": label(GUIDE_CHECK_NAMES, c), "n": n, "href": link(check=c)}
            for c, n in counts.get("by_check", {}).items()
        ],
        "groups": [
            {"name": label(GUIDE_GROUP_NAMES, g), "n": n, "href": link(element=_group_filter(g))}
            for g, n in counts.get("by_group", {}).items()
        ],
        "kinds": [
            {"name": label(GUIDE_FINDING_KIND_NAMES, k), "n": n, "href": link(problem=k)}
            for k, n in counts.get("by_kind", {}).items()
        ],
    }


def _group_filter(group: str) -> str:
    """The findings filter of an element group: its accuracy group, or its single element."""
    for figure, g in ACCURACY_GROUPS.items():
        if g == group:
            return figure
    return group  # guide, online: one element each


def _run_words(run: GuideRun) -> list[tuple[str, str]]:
    return [
        ("核查", f"第 {run.seq} 次（{label(GUIDE_RUN_SOURCE_NAMES, run.source)}）"),
        ("核查时点", f"{run.checked_at:%Y-%m-%d %H:%M}"),
    ]


@router.post("/guides/run", response_model=None)
def guides_run(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    """The administrator checks every guide now (the catalog's) and keeps the run."""
    if caller.role == "public":
        return login_redirect(request)
    if caller.role not in RUN_ROLES:
        return error_page(request, db, caller, 403, "只有管理员可以运行办事指南核查")
    try:
        outcome = guide_check_run(db, at, caller.name)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    run, alerts = outcome.run, outcome.alerts
    return back(
        f"/guides?run={run.run_id}",
        f"已完成第 {run.seq} 次办事指南核查：{run.items} 个事项，{run.findings} 条发现；"
        f"事项公开信息异常告警新增 {alerts['raised']} 条、重新打开 {alerts['reopened']} 条、"
        f"消除 {alerts['cleared']} 条",
    )


# -- findings -------------------------------------------------------------------------------


def _finding_filter(
    by: str, unit: str, element: str, check: str, problem: str, item: str, reviewed: str
) -> FindingFilter:
    return FindingFilter(
        element=element or None,
        check=check or None,
        kind=problem or None,
        item_code=item or None,
        unit=_unit(by, unit),
        reviewed=reviewed or None,
    )


def _filter_words(
    flt: FindingFilter, by: str, unit: str, names: Mapping[str, str]
) -> list[tuple[str, str]]:
    element = flt.element or ""
    words = [
        (
            "要素",
            label(GUIDE_FIGURE_NAMES if element in ACCURACY else GUIDE_ELEMENT_NAMES, element),
        ),
        ("核查方式", label(GUIDE_CHECK_NAMES, flt.check or "")),
        ("问题类别", label(GUIDE_FINDING_KIND_NAMES, flt.kind or "")),
        ("事项", flt.item_code or ""),
        ("单位", f"{label(GUIDE_UNIT_KIND_NAMES, by)} {names.get(unit, unit)}" if unit else ""),
        ("复核", {"overridden": "已认定不成立", "standing": "成立"}.get(flt.reviewed or "", "")),
    ]
    return [(k, v) for k, v in words if v]


FINDING_COLUMNS = (
    "事项编码",
    "事项",
    "区划",
    "部门",
    "要素",
    "核查方式",
    "问题类别",
    "应为",
    "实际",
    "说明",
    "复核",
)


def _finding_rows(
    rows: Sequence[dict[str, Any]], names: Mapping[str, str]
) -> Iterator[list[object]]:
    for f in rows:
        review = f.get("review")
        yield [
            f["item_code"],
            f["name"],
            names.get(f["region_code"], f["region_code"]),
            names.get(f["department_code"], f["department_code"]),
            f["element_name"],
            f["check_name"],
            label(GUIDE_FINDING_KIND_NAMES, f["kind"]),
            f["expected"],
            f["found"],
            f["message"],
            (
                f"{label(GUIDE_REVIEW_ACTION_NAMES, review['action'])}：{review['reason']}"
                if review
                else ""
            ),
        ]


@router.get("/guides/findings", response_model=None)
def findings_page(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    run: Text = "",
    by: Text = "city",
    unit: Text = "",
    element: Text = "",
    check: Text = "",
    problem: Text = "",
    item: Text = "",
    reviewed: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    names = unit_names(db)
    try:
        chosen = _run_of(db, run)
        flt = _finding_filter(by, unit, element, check, problem, item, reviewed)
        rows: list[dict[str, Any]] = []
        total = 0
        if chosen is not None:
            fmt = export_format(request.query_params.get("format", ""))
            if fmt is not None:
                everything, _ = list_findings(db, chosen.run_id, flt, limit=None)
                return sheet_response(
                    title="办事指南核查发现",
                    filters=[*_run_words(chosen), *_filter_words(flt, by, unit, names)],
                    columns=FINDING_COLUMNS,
                    rows=_finding_rows(everything, names),
                    fmt=fmt,
                    filename="办事指南核查发现",
                    exported_at=at,
                )
            rows, total = list_findings(
                db, chosen.run_id, flt, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
            )
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if wants_json(request):
        return json_response(
            {
                "run": chosen.as_dict() if chosen else None,
                "total": total,
                "page": page,
                "findings": rows,
            }
        )
    paging = Paging(total, page, PAGE_SIZE, filter_query(request))
    return render(
        request,
        db,
        caller,
        "guide_findings.html",
        {
            "run": chosen,
            "rows": rows,
            "paging": paging,
            "words": _filter_words(flt, by, unit, names) if chosen else [],
            "f": {
                "by": by,
                "unit": unit,
                "element": element,
                "check": check,
                "problem": problem,
                "item": item,
                "reviewed": reviewed,
            },
            "kinds": {k: label(GUIDE_UNIT_KIND_NAMES, k) for k in UNIT_KINDS},
            "elements": [(code, label(GUIDE_FIGURE_NAMES, code)) for code in ACCURACY]
            + [(code, name) for code, name in GUIDE_ELEMENT_NAMES.items()],
            "checks": GUIDE_CHECK_NAMES,
            "problems": GUIDE_FINDING_KIND_NAMES,
            "names": names,
            "people": _reviewers(db, rows),
            "can_review": caller.role in REVIEW_ROLES,
            "review_actions": GUIDE_REVIEW_ACTION_NAMES,
        },
    )


@router.post("/guides/findings/review", response_model=None)
def review_page(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    run: Annotated[str, Form(max_length=64)],
    item: Annotated[str, Form(max_length=24)],
    element: Annotated[str, Form(max_length=32)],
    check: Annotated[str, Form(max_length=16)],
    action: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=4000)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    """An evaluator (or the administrator) sets a finding aside, or restores it, with a reason."""
    if caller.role == "public":
        return login_redirect(request)
    if caller.role not in REVIEW_ROLES:
        return error_page(request, db, caller, 403, "只有第三方评估机构和管理员可以复核核查发现")
    target = (
        next_url
        if next_url.startswith("/guides")
        else _href("/guides/findings", run=run, item=item)
    )
    try:
        review_finding(db, run, item, element, check, action, caller.name, reason, at)
    except GovwatchError as exc:
        return back(target, f"未保存：{exc}")
    what = label(GUIDE_ELEMENT_NAMES, element)
    return back(target, f"已将事项 {item} 的“{what}”问题{label(GUIDE_REVIEW_ACTION_NAMES, action)}")


def _reviewers(db: Database, rows: Sequence[Mapping[str, Any]], *more: str) -> dict[str, str]:
    """Display names of the people who reviewed these findings (and of ``more``)."""
    return people_names(db, [*(str(r["review"]["actor"]) for r in rows if r.get("review")), *more])


# -- items ------------------------------------------------------------------------------------

ITEM_COLUMNS = ("事项编码", "事项", "区划", "部门", "已公布", "有办事指南", "要素规范")


@router.get("/guides/items", response_model=None)
def items_page(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    run: Text = "",
    by: Text = "city",
    unit: Text = "",
    measure: Text = "items",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    names = unit_names(db)
    try:
        chosen = _run_of(db, run)
        unit_filter = _unit(by, unit)
        rows: list[dict[str, Any]] = []
        total = 0
        if chosen is not None:
            fmt = export_format(request.query_params.get("format", ""))
            words = [
                *_run_words(chosen),
                ("事项范围", label(GUIDE_MEASURE_NAMES, measure)),
                ("单位", names.get(unit, unit) if unit else "全部"),
            ]
            if fmt is not None:
                everything, _ = list_items(db, chosen.run_id, measure, unit=unit_filter, limit=None)
                return sheet_response(
                    title=label(GUIDE_MEASURE_NAMES, measure),
                    filters=words,
                    columns=ITEM_COLUMNS,
                    rows=(
                        [
                            r["item_code"],
                            r["name"],
                            names.get(r["region_code"], r["region_code"]),
                            names.get(r["department_code"], r["department_code"]),
                            "是" if r["published"] else "否",
                            "是" if r["has_guide"] else "否",
                            "是" if r["standard"] else "否",
                        ]
                        for r in everything
                    ),
                    fmt=fmt,
                    filename=label(GUIDE_MEASURE_NAMES, measure),
                    exported_at=at,
                )
            rows, total = list_items(
                db,
                chosen.run_id,
                measure,
                unit=unit_filter,
                offset=(page - 1) * PAGE_SIZE,
                limit=PAGE_SIZE,
            )
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if wants_json(request):
        return json_response(
            {
                "run": chosen.as_dict() if chosen else None,
                "measure": measure,
                "total": total,
                "page": page,
                "items": rows,
            }
        )
    return render(
        request,
        db,
        caller,
        "guide_items.html",
        {
            "run": chosen,
            "rows": rows,
            "paging": Paging(total, page, PAGE_SIZE, filter_query(request)),
            "title": label(GUIDE_MEASURE_NAMES, measure),
            "unit_name": names.get(unit, unit) if unit else "",
            "by": by,
            "unit": unit,
            "names": names,
        },
    )


# -- the evidence of a round's value ---------------------------------------------------------

# The items list behind each coverage figure (those that lost the unit points).
MISSED = {
    "items_published": "unpublished",
    "guides_published": "without_guide",
    "guide_standard": "nonstandard",
}


@router.get("/guides/evidence", response_model=None)
def evidence_page(
    request: Request,
    db: DB,
    caller: Caller,
    round_id: Annotated[str, Query(alias="round", max_length=64)],
    unit: Text,
    indicator: Annotated[str, Query(max_length=128)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """What a round's guide or coverage value of one unit rests on: the run, the counts and the
    findings (or items) behind it, for whoever may see that unit's result in detail."""
    if caller.role == "public":
        return login_redirect(request)
    try:
        context = _evidence(db, caller, round_id, unit, indicator, page)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if wants_json(request):
        return json_response({k: v for k, v in context.items() if k not in ("names", "paging")})
    return render(request, db, caller, "guide_evidence.html", context)


def _evidence(
    db: Database, caller: Principal, round_id: str, unit: str, indicator: str, page: int
) -> dict[str, Any]:
    hidden = NotFoundError(f"评估批次“{round_id}”中没有可查看的“{indicator}”依据")
    try:
        row = round_row(db, round_id)
    except InputError:
        raise hidden from None
    access = access_of(db, RoundViewer.of_principal(caller), round_id, str(row["status"]))
    if not (access.visible and access.detail and access.sees(unit)):
        raise hidden
    try:
        leaf = round_system(row).leaf(indicator)
    except KeyError:
        raise hidden from None
    metric = str(leaf.metric or "")
    run_id = row.get("guide_run_id")
    if metric not in FIGURE_OF or run_id is None:
        raise hidden
    figure = FIGURE_OF[metric]
    kind = str(row["unit_kind"])
    run = get_run(db, str(run_id))
    unit_filter = UnitFilter(unit_expr(kind, "i"), unit)
    counts = coverage(
        db, run.run_id, unit_expr(kind, "i"), item_types=leaf.item_types, units=[unit]
    ).get(unit)
    stored = db.query(
        "SELECT value, entered_at, status FROM eval_values WHERE round_id = ? AND unit = ? "
        "AND indicator = ?",
        [round_id, unit, indicator],
    )
    names = unit_names(db)
    offset = (page - 1) * PAGE_SIZE
    if figure in ACCURACY or figure == "guide_standard":
        flt = FindingFilter(
            element=figure if figure in ACCURACY else None,
            check="completeness" if figure == "guide_standard" else None,
            unit=unit_filter,
            item_types=leaf.item_types,
        )
        findings, total = list_findings(db, run.run_id, flt, offset=offset, limit=PAGE_SIZE)
        items: list[dict[str, Any]] = []
        shown = "findings"
    else:
        shown = "items"
        findings = []
        items, total = list_items(
            db,
            run.run_id,
            MISSED[figure],
            unit=unit_filter,
            item_types=leaf.item_types,
            offset=offset,
            limit=PAGE_SIZE,
        )
    value = stored[0][0] if stored else None
    return {
        "round_id": round_id,
        "round_name": row["name"],
        "unit": unit,
        "unit_name": names.get(unit, unit),
        "indicator": indicator,
        "indicator_name": leaf.name,
        "metric": metric,
        "metric_name": resolve_metric(metric).name,
        "figure_name": label(GUIDE_FIGURE_NAMES, figure),
        "value": value,
        "value_percent": _percent(None if value is None else float(value)),
        "value_status": stored[0][2] if stored else None,
        "collected_at": stored[0][1] if stored else None,
        "run": run.as_dict(),
        "counts": counts.as_dict() if counts else None,
        "now_percent": _percent(counts.ratio(figure) if counts else None),
        "now_counted": counts.numerator(figure) if counts else 0,
        "shown": shown,
        "findings": findings,
        "items": items,
        "total": total,
        "paging": Paging(
            total,
            page,
            PAGE_SIZE,
            urlencode({"round": round_id, "unit": unit, "indicator": indicator}),
        ),
        "names": names,
        "people": _reviewers(db, findings, run.run_by),
        "can_review": caller.role in REVIEW_ROLES
        and str(row["status"]) not in ("published", "closed"),
        "findings_href": _href(
            "/guides/findings",
            run=run.run_id,
            by=kind,
            unit=unit,
            element=figure if figure in ACCURACY else None,
        ),
    }
