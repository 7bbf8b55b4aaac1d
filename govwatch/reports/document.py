"""The notice's public interface: the document model and its three writers.

Builders return a :class:`Notice`; ``write_all`` writes the DOCX (GB/T 9704-2012 layout), the
PDF converted from it by LibreOffice (fonts embedded), and the XLSX with one sheet per table.
"""

from __future__ import annotations

from pathlib import Path

from govwatch.reports.docx_writer import write_docx
from govwatch.reports.model import Cell, Chart, Notice, Section, Table
from govwatch.reports.pdf_writer import write_pdf
from govwatch.reports.xlsx_writer import write_xlsx

__all__ = [
    "Cell",
    "Chart",
    "Notice",
    "Section",
    "Table",
    "write_all",
    "write_docx",
    "write_pdf",
    "write_xlsx",
]


def write_all(notice: Notice, out_dir: Path, stem: str) -> tuple[Path, Path, Path]:
    """Write ``stem``.docx, ``stem``.pdf and ``stem``.xlsx into ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    docx = write_docx(notice, out_dir / f"{stem}.docx")
    pdf = write_pdf(docx, out_dir / f"{stem}.pdf")
    xlsx = write_xlsx(notice, out_dir / f"{stem}.xlsx")
    return docx, pdf, xlsx
