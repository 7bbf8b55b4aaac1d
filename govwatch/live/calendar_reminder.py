"""The reminder that next year's holiday notice is not loaded: one notification a year.

The sweeper asks every tick (:func:`govwatch.live.sweeper.sweep_once`); from the reminder day
(:func:`govwatch.calendar.coverage.remind_from`, 1 November by default) while a wanted year has
no notice, administrators and supervisors get one in-app notification (and the webhooks that
ask for ``calendar.*`` one delivery) per missing year: its dedupe key names the year, and a
look-up before writing keeps the tick read-only once it exists.
"""

from __future__ import annotations

from datetime import datetime

from govwatch.calendar.coverage import calendar_coverage
from govwatch.notifications import Notice as Notification
from govwatch.notifications import notify
from govwatch.storage import Database

KIND = "calendar.notice_missing"


def dedupe_key(year: int) -> str:
    return f"{KIND}:{year}"


def remind_calendar(db: Database, at: datetime) -> list[int]:
    """Notify once per missing year; the years notified now (empty when nothing is new)."""
    coverage = calendar_coverage(db, at.date())
    fresh = [
        year
        for year in coverage.missing_years
        if db.scalar("SELECT count(*) FROM notifications WHERE dedupe_key = ?", [dedupe_key(year)])
        == 0
    ]
    notify(
        db,
        [
            Notification(
                dedupe_key=dedupe_key(year),
                kind=KIND,
                ref=f"/calendar?year={year}",
                message=coverage.message(),
                recipient_role="supervisor",  # administrators read the supervisors' too
                recipient_org=None,
                payload=coverage.to_dict(),
            )
            for year in fresh
        ],
        at,
    )
    return fresh
