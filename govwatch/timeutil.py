"""Time in govwatch: Asia/Shanghai wall time everywhere, and the one function that reads the clock.

Timestamps are stored as naive ``TIMESTAMP`` values holding Asia/Shanghai wall time (the
spec fixes that zone for all data), so that ``CAST(ts AS DATE)`` is the official date on every
engine without session time-zone settings.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone

from govwatch.errors import InputError

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
_COMPACT = re.compile(r"^\d{14}$")
_COMPACT_DATE = re.compile(r"^\d{8}$")


def now() -> datetime:
    """The current moment as Asia/Shanghai wall time (naive). The only reader of the clock.

    ``GOVWATCH_NOW`` (a timestamp) pins the clock: ``govwatch demo`` sets it to the generated
    province's end so that the province is seen "live" at that moment, deadlines and all.
    """
    pinned = os.environ.get("GOVWATCH_NOW")
    if pinned:
        return parse_timestamp(pinned)
    return datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def wall_clock() -> datetime:
    """The real current moment (Asia/Shanghai wall time, naive), never pinned.

    For bookkeeping only, never for deadlines or rules: ``events.ingested_at`` must grow in
    the order rows are appended, which the live path relies on to read only the recent part of
    the event store (:func:`govwatch.events.cases.ingest_window`), even under ``GOVWATCH_NOW``.
    """
    return datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def parse_timestamp(text: str | int | float | datetime | date) -> datetime:
    """Parse ISO 8601 (with or without offset) or ``YYYYMMDDhhmmss`` into Shanghai wall time."""
    if isinstance(text, datetime):
        value = text
    elif isinstance(text, date):
        return datetime(text.year, text.month, text.day)
    else:
        raw = str(text).strip()
        if isinstance(text, float) and text.is_integer():
            raw = str(int(text))
        if _COMPACT.match(raw):
            value = datetime.strptime(raw, "%Y%m%d%H%M%S")
        elif _COMPACT_DATE.match(raw):
            value = datetime.strptime(raw, "%Y%m%d")
        else:
            try:
                value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError as exc:
                raise InputError(
                    f"时间“{raw}”无法识别：应为 ISO 8601（如 2025-09-26T10:00:00+08:00）"
                    "或 YYYYMMDDhhmmss"
                ) from exc
    if value.tzinfo is not None:
        value = value.astimezone(SHANGHAI).replace(tzinfo=None)
    return value


def parse_date(text: str | date) -> date:
    """Parse ``YYYY-MM-DD`` or ``YYYYMMDD``."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    raw = str(text).strip()
    try:
        if _COMPACT_DATE.match(raw):
            return datetime.strptime(raw, "%Y%m%d").date()
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InputError(f"日期“{raw}”无法识别：应为 YYYY-MM-DD") from exc


def sql_timestamp(at: datetime) -> str:
    """``TIMESTAMP 'YYYY-MM-DD hh:mm:ss'``: the one way a moment is written into SQL text.

    Views and the queries sqlglot carries to Spark cannot take bound parameters, so the moment
    is a literal, whole seconds, Shanghai wall time without an offset (as stored), which
    DuckDB, PostgreSQL and Spark SQL all read the same. An aware moment is converted first.
    """
    if at.tzinfo is not None:
        at = at.astimezone(SHANGHAI).replace(tzinfo=None)
    return f"TIMESTAMP '{at:%Y-%m-%d %H:%M:%S}'"


def sql_date(on: date) -> str:
    """``DATE 'YYYY-MM-DD'``: the one way a day is written into SQL text (see sql_timestamp)."""
    return f"DATE '{on:%Y-%m-%d}'"
