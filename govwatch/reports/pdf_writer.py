"""PDF from the DOCX by LibreOffice headless. Filled in below the interface commit."""

from __future__ import annotations

from pathlib import Path


def write_pdf(docx: Path, pdf: Path) -> Path:
    raise NotImplementedError("PDF writer lands in the next commit")
