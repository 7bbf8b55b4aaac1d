"""Page numbers for the lists (预警, 办件): the total, the pages, and the links between them.

A list shows ``共 N 条，第 p / P 页`` and the numbers around the current page with the first and
the last (1 … 4 5 [6] 7 8 … 87); every link keeps the list's filter (the request's query
without ``page``, ``format`` and ``msg``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from fastapi.responses import Response

# How many page numbers are shown on each side of the current one.
AROUND = 2


@dataclass(frozen=True)
class Paging:
    total: int
    page: int
    page_size: int
    query: str  # the filter as a query string, without page

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def first_row(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_row(self) -> int:
        return min(self.total, self.offset + self.page_size)

    def numbers(self) -> list[int | None]:
        """The page numbers to show, None where some are left out."""
        shown = {1, self.pages, *range(self.page - AROUND, self.page + AROUND + 1)}
        kept = sorted(n for n in shown if 1 <= n <= self.pages)
        out: list[int | None] = []
        previous = 0
        for n in kept:
            if previous and n - previous > 1:
                out.append(None)
            out.append(n)
            previous = n
        return out

    @property
    def params(self) -> list[tuple[str, str]]:
        """The filter as (name, value) pairs (for a form that keeps it)."""
        return parse_qsl(self.query)

    def href(self, path: str, page: int) -> str:
        sep = "&" if self.query else ""
        return f"{path}?{self.query}{sep}page={page}"


def filter_query(request: Request, *, drop: tuple[str, ...] = ()) -> str:
    """The request's query string without paging, format and notice (and ``drop``), with the
    empty fields left out."""
    skip = {"page", "format", "msg", *drop}
    return urlencode(
        [(k, v) for k, v in request.query_params.multi_items() if k not in skip and v != ""]
    )


def refused_json(message: str) -> Response:
    """422 ``{"detail": message}``: what a JSON twin or an export answers for a filter it
    cannot use (a page shows the message above its form instead)."""
    body = json.dumps({"detail": message}, ensure_ascii=False)
    return Response(body, status_code=422, media_type="application/json; charset=utf-8")
