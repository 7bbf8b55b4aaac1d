"""公开 (社会公开): the public page, the open data downloads and their data dictionary, no login.

- ``/public?period=2026-06`` (month, ``2026-Q2`` quarter, ``2026`` year; default the latest
  complete month): on-time rates, 好差评 figures, published evaluation results with stars and
  rectification progress, by region and by department;
- ``/public/data/{dataset}/{period}.{csv|xlsx|json}``: each dataset of a period, numbers
  rounded as the page shows them, small counts withheld (:mod:`govwatch.disclosure.open_data`,
  the one place), CSV in UTF-8 with a BOM and the Chinese headers on its first line;
- ``/public/data``: the data dictionary (datasets, fields, units, rounding, suppression), and
  ``/public/data/dictionary.json`` the same for programs, with each field's JSON key;
- ``/public/rounds/{round}.{csv|json}``: one published round's results (the older address,
  kept for links already given out).

What the public sees of rounds is :data:`govwatch.evaluation.rounds.views.PUBLIC_VIEWER`'s:
published or closed rounds only, never case or personal data.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from govwatch.auth.errors import NotFoundError
from govwatch.disclosure.open_data import (
    DATASETS,
    DEFAULT_THRESHOLD,
    DIM_NAMES,
    RECT_STATUSES,
    SUPPRESSED,
    THRESHOLD_ENV,
    PublicRow,
    PublicTable,
    all_tables,
    dataset_table,
    min_count,
    score_value,
)
from govwatch.disclosure.periods import (
    KIND_NAMES,
    PeriodError,
    PublicPeriod,
    latest_month,
    parse_period,
    recent_periods,
    require_complete,
)
from govwatch.evaluation.rounds.views import PUBLIC_FIELDS, PUBLIC_VIEWER, round_summary
from govwatch.exports import SafeCsvWriter, content_disposition
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import error_page, json_response, render
from govwatch.web.pages.sheets import MEDIA_TYPES, write_xlsx

router = APIRouter()
CSV_HEADER = ("单位编码", "单位名称", "分组", "得分", "星级", "排名", "组内排名")
FORMATS = ("csv", "xlsx", "json")
FORMAT_NAMES = {"csv": "CSV", "xlsx": "Excel", "json": "JSON"}
ADDRESS = "/public/data/{数据集}/{期间}.{csv|xlsx|json}"


def _period(text: str, clock: Clock) -> PublicPeriod:
    chosen = parse_period(text) if text else latest_month(clock.date())
    return require_complete(chosen, clock.date())


def _header(table: PublicTable) -> list[str]:
    return [f.name if f.unit == "—" else f"{f.name}（{f.unit}）" for f in table.dataset.fields]


def _cells(row: PublicRow) -> list[object]:
    return [SUPPRESSED if c.suppressed else c.value for c in row.cells]


def _csv_cells(table: PublicTable, row: PublicRow) -> list[object]:
    """As the page writes them: rates with one decimal, scores with two (86.50), no % sign."""
    out: list[object] = []
    for f, c in zip(table.dataset.fields, row.cells, strict=True):
        if c.suppressed:
            out.append(SUPPRESSED)
        elif c.value is None:
            out.append("")
        elif f.kind == "rate":
            out.append(f"{float(c.value):.1f}")
        elif f.kind == "score":
            out.append(f"{float(c.value):.2f}")
        else:
            out.append(c.value)
    return out


def _download_csv(table: PublicTable) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # BOM: spreadsheet programs read the Chinese header as UTF-8
    writer = SafeCsvWriter(out, lineterminator="\r\n")
    writer.writerow(_header(table))
    for row in table.rows:
        writer.writerow(_csv_cells(table, row))
    return out.getvalue()


def _download_xlsx(table: PublicTable, clock: Clock) -> bytes:
    out = io.BytesIO()
    write_xlsx(
        out,
        title=f"{table.dataset.name}（{table.period.label}）",
        filters=[
            ("统计期间", f"{table.period.label}（{table.period.dates}）"),
            ("最小公开数量", str(table.threshold)),
        ],
        columns=_header(table),
        rows=(_cells(row) for row in table.rows),
        exported_at=clock,
    )
    return out.getvalue()


def _download_json(table: PublicTable, clock: Clock) -> dict[str, Any]:
    return {
        "dataset": table.dataset.key,
        "name": table.dataset.name,
        "period": table.period.code,
        "period_name": table.period.label,
        "period_start": table.period.start.isoformat(),
        "period_end": table.period.end.isoformat(),
        "threshold": table.threshold,
        "suppressed_text": SUPPRESSED,
        "generated_at": clock.strftime("%Y-%m-%d %H:%M"),
        "fields": [
            {"key": f.key, "name": f.name, "unit": f.unit, "rounding": f.rounding}
            for f in table.dataset.fields
        ],
        "rows": [row.as_json() for row in table.rows],
    }


def _downloads(period: PublicPeriod) -> dict[str, list[dict[str, str]]]:
    return {
        key: [
            {"href": f"/public/data/{key}/{period.code}.{fmt}", "label": FORMAT_NAMES[fmt]}
            for fmt in FORMATS
        ]
        for key in DATASETS
    }


def _rounds(table: PublicTable) -> list[dict[str, Any]]:
    """Rows of a round dataset grouped by round, in order."""
    out: list[dict[str, Any]] = []
    for row in table.rows:
        rid = row.cell("round_id").value
        if not out or out[-1]["id"] != rid:
            out.append(
                {
                    "id": rid,
                    "name": row.cell("round_name").text,
                    "period": row.cell("round_period").text if "round_period" in row.keys else "",
                    "rows": [],
                }
            )
        out[-1]["rows"].append(row)
    return out


def _bars(table: PublicTable, dim: str) -> list[dict[str, Any]]:
    """The shown on-time rates of one dimension, for the chart (withheld ones left out)."""
    return [
        {"name": r.cell("name").text, "rate": r.cell("ontime_rate").value}
        for r in table.rows
        if r.cell("dim").value == DIM_NAMES[dim] and r.cell("ontime_rate").value is not None
    ]


@router.get("/public", response_model=None)
def public_page(
    request: Request,
    db: DB,
    caller: Caller,
    clock: Clock,
    period: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    try:
        chosen = _period(period, clock)
        threshold = min_count()
    except PeriodError as exc:
        return error_page(request, db, caller, 422, str(exc))
    tables = all_tables(db, chosen, threshold)
    choices = recent_periods(clock.date())
    if chosen.code not in {p.code for p in choices}:
        choices.insert(0, chosen)
    context = {
        "period": chosen,
        "choices": [
            {"kind": KIND_NAMES[kind], "periods": [p for p in choices if p.kind == kind]}
            for kind in KIND_NAMES
        ],
        "threshold": threshold,
        "suppressed": SUPPRESSED,
        "tables": tables,
        "dims": [("region", DIM_NAMES["region"]), ("department", DIM_NAMES["department"])],
        "dim_names": DIM_NAMES,
        "bars": _bars(tables["ontime"], "department"),
        "evaluation": _rounds(tables["evaluation"]),
        "rectification": _rounds(tables["rectification"]),
        "downloads": _downloads(chosen),
    }
    return render(request, db, caller, "public.html", context)


@router.get("/public/data", response_model=None)
def data_dictionary(request: Request, db: DB, caller: Caller, clock: Clock) -> Response:
    example = latest_month(clock.date())
    context = {
        "datasets": list(DATASETS.values()),
        "threshold": min_count(),
        "default_threshold": DEFAULT_THRESHOLD,
        "threshold_env": THRESHOLD_ENV,
        "suppressed": SUPPRESSED,
        "address": ADDRESS,
        "example": example,
        "formats": FORMAT_NAMES,
        "rect_statuses": RECT_STATUSES,
    }
    return render(request, db, caller, "public_data.html", context)


@router.get("/public/data/dictionary.json", response_model=None)
def data_dictionary_json() -> Response:
    """The data dictionary for programs: every dataset's fields with their JSON keys."""
    return json_response(
        {
            "address": "/public/data/{dataset}/{period}.{csv|xlsx|json}",
            "periods": "YYYY-MM | YYYY-Qn | YYYY",
            "threshold": min_count(),
            "threshold_env": THRESHOLD_ENV,
            "suppressed_text": SUPPRESSED,
            "datasets": [
                {
                    "key": d.key,
                    "name": d.name,
                    "description": d.description,
                    "source": d.source,
                    "fields": [
                        {
                            "key": f.key,
                            "name": f.name,
                            "meaning": f.meaning,
                            "unit": f.unit,
                            "rounding": f.rounding,
                            "suppression": f.suppression,
                        }
                        for f in d.fields
                    ],
                }
                for d in DATASETS.values()
            ],
        }
    )


@router.get("/public/data/{dataset}/{name}", response_model=None)
def open_data(
    request: Request,
    dataset: Annotated[str, Path(max_length=32)],
    name: Annotated[str, Path(max_length=24)],
    db: DB,
    caller: Caller,
    clock: Clock,
) -> Response:
    code, _, fmt = name.rpartition(".")
    if dataset not in DATASETS:
        known = "、".join(DATASETS)
        return error_page(
            request, db, caller, 404, f"没有公开数据集“{dataset}”：数据集应为 {known} 之一"
        )
    if fmt not in FORMATS:
        return error_page(
            request, db, caller, 404, f"公开数据“{name}”的格式无效：应为 csv、xlsx 或 json"
        )
    try:
        table = dataset_table(db, dataset, _period(code, clock), min_count())
    except PeriodError as exc:
        return error_page(request, db, caller, 404, str(exc))
    filename = f"{dataset}-{table.period.code}.{fmt}"
    headers = {"Content-Disposition": content_disposition(filename)}
    if fmt == "json":
        response = json_response(_download_json(table, clock))
        response.headers.update(headers)
        return response
    if fmt == "xlsx":
        return Response(
            _download_xlsx(table, clock), media_type=MEDIA_TYPES["xlsx"], headers=headers
        )
    return Response(_download_csv(table), media_type=MEDIA_TYPES["csv"], headers=headers)


def public_rows(db: Database, round_id: str) -> list[dict[str, Any]] | None:
    """A published round's public fields, scores rounded as shown; None when not public."""
    try:
        data = round_summary(db, round_id, PUBLIC_VIEWER)
    except NotFoundError:
        return None
    return [{**r, "score": score_value(float(r["score"]))} for r in data["results"]]


@router.get("/public/rounds/{name}", response_model=None)
def public_download(
    request: Request, name: Annotated[str, Path(max_length=70)], db: DB, caller: Caller
) -> Response:
    round_id, _, ext = name.rpartition(".")
    rows = public_rows(db, round_id) if ext in ("csv", "json") else None
    if rows is None:
        return error_page(request, db, caller, 404, f"没有已发布的评估结果“{name}”")
    disposition = {"Content-Disposition": f'attachment; filename="{round_id}.{ext}"'}
    if ext == "json":
        response = json_response({"round_id": round_id, "results": rows})
        response.headers.update(disposition)
        return response
    out = io.StringIO()
    # unit names come from the catalog and the organisation tree: a name a spreadsheet would run
    # (=…, +…, -…, @…) is written as text
    writer = SafeCsvWriter(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow([r[k] if r[k] is not None else "" for k in PUBLIC_FIELDS])
    # BOM so that spreadsheet programs read the Chinese header as UTF-8.
    return Response(
        "\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers=disposition
    )
