"""National table exports: GB/T 39046-2020 tables and the legacy ``SBLSH`` layout as events.

Existing platforms export cases as the GB/T 39046 tables (办事申请, 事项受理, 事项办理, 事项办结,
政务服务绩效评价, 支付, and the 申请材料 sub-table) or in the legacy provincial exchange layout
keyed by ``SBLSH`` (see ``legacy.py``). :func:`iter_national` turns a set of such table files
into canonical event dicts (spec/data.md §2) for the importer; :func:`detect_layout` tells the
importer which files are national tables. ``docs/national-tables.md`` is the field-by-field map.

A file's table is recognised by its header (the standard's Chinese column names), falling back
to its file or sheet name. Each *group* of columns (申请, 受理, 环节, 特别程序, 办结, 支付, 评价)
present in the header yields its events when its time column is filled, so a wide export with
several groups per row works as well as one table per file. The file's first group is its
*primary* one: a row that yields nothing from it still comes out, as a record of the primary
kind without ``occurred_at``, so that the importer quarantines it with file and row number.
Values are passed on as given (times stay ``YYYYMMDDhhmmss`` strings); only code values with a
documented mapping are translated. Validation is the importer's job.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path

from govwatch.errors import InputError
from govwatch.events import legacy
from govwatch.events.gbt39046 import CASE, GBT_GROUPS, GBT_NAMES, groups_of, is_materials
from govwatch.events.national_codes import (
    Context,
    Export,
    Group,
    Layout,
    NationalRecord,
    make_event,
    material_of,
)
from govwatch.events.national_tables import TABLE_SUFFIXES, Table, read_tables


def table_layout(table: Table) -> Layout | None:
    if "kind" in table.columns:  # a canonical event file that happens to use aliases
        return None
    if legacy.is_legacy(table):
        return "legacy"
    if is_materials(table) or groups_of(table, GBT_GROUPS, GBT_NAMES):
        return "gbt39046"
    return None


def detect_layout(path: Path) -> Layout | None:
    """``gbt39046`` or ``legacy`` when the file (any sheet of it) is a national table, else None."""
    for table in read_tables(Path(path), header_only=True):
        layout = table_layout(table)
        if layout is not None:
            return layout
    return None


def export_of(paths: Sequence[Path]) -> Export:
    """The export the files belong to: every national table in their directories.

    National exports come as a directory of tables, and the importer may hand them over one
    file at a time; reading the siblings lets 办事申请 carry its 申请材料 rows and 事项办结 know
    whether 支付 already has the payment, whichever way the files arrive.
    """
    files = set(paths)
    for directory in {p.parent for p in paths}:
        if directory.is_dir():
            files.update(
                f for f in directory.iterdir() if f.is_file() and f.suffix.lower() in TABLE_SUFFIXES
            )
    given = {str(p) for p in paths}
    stamps = []
    for f in sorted(files):
        stat = f.stat()
        stamps.append((str(f), stat.st_mtime_ns, stat.st_size, str(f) in given))
    return _read_export(tuple(stamps))


def _tables(path: Path, given: bool) -> Iterator[Table]:
    """A file's tables; a sibling that cannot be read is not this import's problem."""
    if given:
        yield from read_tables(path)
        return
    try:
        yield from read_tables(path)
    except (InputError, OSError, UnicodeDecodeError):
        return


@functools.lru_cache(maxsize=2)
def _read_export(stamps: tuple[tuple[str, int, int, bool], ...]) -> Export:
    materials: dict[str, list[dict[str, object]]] = {}
    paid: set[str] = set()
    applied: set[str] = set()
    for name, _, _, given in stamps:
        for table in _tables(Path(name), given):
            if table_layout(table) != "gbt39046":
                continue
            names = {g.name for g in groups_of(table, GBT_GROUPS, GBT_NAMES)}
            listing = is_materials(table) or "材料名称" in table.columns
            if not (listing or names & {"支付", "办事申请"}):
                continue
            for _, row in table.rows:
                case_id = row.get(CASE, "")
                if not case_id:
                    continue
                if "支付" in names:
                    paid.add(case_id)
                if "办事申请" in names:
                    applied.add(case_id)
                if listing and row.get("材料名称"):
                    materials.setdefault(case_id, []).append(material_of(row))
    return Export(materials, frozenset(paid), frozenset(applied))


def iter_national(paths: Sequence[Path]) -> Iterator[NationalRecord]:
    """Canonical event records ``(source, line, record)`` from national table files.

    Files that are not national tables are skipped (the importer reads them as canonical
    events). Each data row yields at least one record; see the module docstring.
    """
    files = [Path(p) for p in paths]
    gbt = Context("gbt39046", export_of(files))
    leg = Context("legacy")
    for path in files:
        for table in read_tables(path):
            layout = table_layout(table)
            if layout == "legacy":
                yield from _emit(table, legacy.groups_of_legacy(table), leg, legacy.CASE)
            elif layout == "gbt39046" and is_materials(table):
                yield from _orphans(table, gbt)
            elif layout == "gbt39046":
                yield from _emit(table, groups_of(table, GBT_GROUPS, GBT_NAMES), gbt, CASE)


def _orphans(table: Table, ctx: Context) -> Iterator[NationalRecord]:
    """Materials of an application that is not in the export: flagged, not dropped."""
    seen: set[str] = set()
    for line, row in table.rows:
        case_id = row.get(CASE, "")
        if case_id in ctx.export.applied_cases or case_id in seen:
            continue
        seen.add(case_id)
        materials = ctx.export.materials.get(case_id) or [material_of(row)]
        yield (
            table.source,
            line,
            make_event(ctx, "办事申请", "apply", row, CASE, "", f"row {line}", materials=materials),
        )


def _emit(
    table: Table, groups: list[Group], ctx: Context, case_col: str
) -> Iterator[NationalRecord]:
    if not groups:
        return
    primary = groups[0]
    for line, row in table.rows:
        if not any(row.values()):
            continue
        produced = False
        for group in groups:
            if group is not primary and not any(row.get(t) for t in group.times):
                continue
            for event in group.emit(row, ctx):
                produced = True
                yield table.source, line, event
        if not produced:
            yield (
                table.source,
                line,
                make_event(
                    ctx, primary.name, primary.primary_kind, row, case_col, "", f"row {line}"
                ),
            )


__all__ = ["Layout", "NationalRecord", "detect_layout", "export_of", "iter_national"]
