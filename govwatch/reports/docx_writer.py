"""DOCX writer (GB/T 9704-2012 layout). Filled in below the interface commit."""

from __future__ import annotations

from pathlib import Path

from govwatch.reports.model import Notice


def write_docx(notice: Notice, path: Path) -> Path:
    raise NotImplementedError("DOCX writer lands in the next commit")
