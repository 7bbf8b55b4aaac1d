"""The notice's document model: what a 通报 says, independent of the file it is written to.

A :class:`Notice` is built by a builder (supervision.py, r15flow's evaluation.py), stored as a
dict (``to_dict``/``from_dict``, JSON-safe) by the workflow, and written to DOCX, PDF and XLSX by
the writers (govwatch.reports.document).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Cell = str | int | float | None


def _cell(v: Any) -> Cell:
    if v is None or isinstance(v, str | int | float):
        return v
    return str(v)


@dataclass(frozen=True)
class Table:
    """One table of the notice, also one sheet of the XLSX."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Table:
        return cls(
            title=str(d["title"]),
            columns=tuple(str(c) for c in d["columns"]),
            rows=tuple(tuple(_cell(v) for v in r) for r in d.get("rows", ())),
            note=str(d.get("note", "")),
        )


@dataclass(frozen=True)
class Chart:
    """A chart drawn as an image in DOCX/PDF."""

    title: str
    kind: str  # "bar" | "line"
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "kind": self.kind,
            "categories": list(self.categories),
            "series": [[name, list(values)] for name, values in self.series],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Chart:
        return cls(
            title=str(d["title"]),
            kind=str(d["kind"]),
            categories=tuple(str(c) for c in d["categories"]),
            series=tuple((str(s[0]), tuple(float(v) for v in s[1])) for s in d.get("series", ())),
        )


@dataclass(frozen=True)
class Section:
    heading: str  # 一、… (numbered by the writer if not)
    paragraphs: tuple[str, ...]
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "paragraphs": list(self.paragraphs),
            "tables": [t.to_dict() for t in self.tables],
            "charts": [c.to_dict() for c in self.charts],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Section:
        return cls(
            heading=str(d["heading"]),
            paragraphs=tuple(str(p) for p in d.get("paragraphs", ())),
            tables=tuple(Table.from_dict(t) for t in d.get("tables", ())),
            charts=tuple(Chart.from_dict(c) for c in d.get("charts", ())),
        )


@dataclass(frozen=True)
class Notice:
    kind: str  # "supervision" | "evaluation"
    issuer: str  # 发文机关 (版头 and 署名)
    doc_number: str  # 发文字号, e.g. 浙政服监〔2026〕6号
    title: str
    addressees: str  # 主送机关
    sections: tuple[Section, ...]
    attachments: tuple[str, ...]  # 附件说明 (names of attached tables)
    date: datetime.date  # 成文日期
    facts: Mapping[str, float | int | str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "issuer": self.issuer,
            "doc_number": self.doc_number,
            "title": self.title,
            "addressees": self.addressees,
            "sections": [s.to_dict() for s in self.sections],
            "attachments": list(self.attachments),
            "date": self.date.isoformat(),
            "facts": dict(self.facts),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Notice:
        raw_date = d["date"]
        date = (
            raw_date
            if isinstance(raw_date, datetime.date)
            else datetime.date.fromisoformat(str(raw_date))
        )
        facts: dict[str, float | int | str] = {}
        for k, v in dict(d.get("facts", {})).items():
            facts[str(k)] = v if isinstance(v, int | float | str) else str(v)
        return cls(
            kind=str(d["kind"]),
            issuer=str(d["issuer"]),
            doc_number=str(d["doc_number"]),
            title=str(d["title"]),
            addressees=str(d["addressees"]),
            sections=tuple(Section.from_dict(s) for s in d.get("sections", ())),
            attachments=tuple(str(a) for a in d.get("attachments", ())),
            date=date,
            facts=facts,
        )

    def tables(self) -> tuple[Table, ...]:
        """Every table of the notice, in order (the XLSX's sheets)."""
        return tuple(t for s in self.sections for t in s.tables)
