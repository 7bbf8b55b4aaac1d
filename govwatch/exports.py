"""Cells that a spreadsheet program cannot run: every CSV (and XLSX) govwatch writes goes here.

Excel, WPS and LibreOffice read a cell whose text begins with ``=``, ``+``, ``-`` or ``@`` as
a formula, and some first strip a leading tab or carriage return; a case id, a unit name, a
rule message or a piece of evidence that arrived in an imported record could then run
``=HYPERLINK(…)`` or worse on the machine of whoever opens the download (CSV injection,
OWASP). Such text gets a leading apostrophe, which the programs show as nothing and which
makes the cell plain text. Numbers stay numbers: a negative amount is not text and is not
touched. openpyxl stores a string that begins with ``=`` as a formula, so an XLSX writer
needs the same treatment (:func:`neutralise_row` on each row it appends).

This module imports nothing of govwatch: any layer may use it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import quote

# What a spreadsheet may read as the start of a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
APOSTROPHE = "'"


def neutralise(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return APOSTROPHE + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`neutralise`."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


# Characters a filename may not carry in a header or on Windows.
_FILENAME_BAD = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]')


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the Chinese one (RFC 5987 / RFC 6266)."""
    name = _FILENAME_BAD.sub("_", filename).strip() or "export"
    stem, dot, ext = name.rpartition(".")
    fallback_stem = (stem if dot else name).encode("ascii", "ignore").decode().strip(" ._")
    fallback = f"{fallback_stem or 'export'}{'.' + ext if dot else ''}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
