"""How long is left: a due date as a working-day countdown (剩余 N 个工作日 / 已超期 N 个工作日).

The count is the calendar's own (spec/time.md ``days(a, b)``, :func:`govwatch.calendar.queries.
days_between`): the working days after today up to and including the due date, or, once the due
date has passed, after the due date up to and including today. Lists do not call it once per
row: their query joins the ``calendar`` table on the due date (:data:`DUE_ORDINAL`), and the
difference of that ordinal and today's (:func:`today_ordinal`) is the same subtraction. The due
date itself is still on time (as for orders and rectification, docs/workflow.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from govwatch.calendar.queries import ordinal
from govwatch.errors import GovwatchError
from govwatch.storage import Database

# The join a list adds for the countdown of its rows' ``due_on`` column (``{due}``), giving
# ``due_ordinal``: the due date's cumulative working-day ordinal (NULL outside the calendar).
DUE_ORDINAL = "LEFT JOIN calendar cd ON cd.on_date = {due}"


@dataclass(frozen=True)
class Countdown:
    """A due date seen from today: working days left (negative: working days overdue)."""

    due_on: date | None
    today: date
    workdays_left: int | None  # None: no due date, or one beyond the calendar

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < self.today

    @property
    def overdue_days(self) -> int:
        return -self.workdays_left if self.overdue and self.workdays_left else 0

    @property
    def text(self) -> str:
        """剩余 3 个工作日 · 今日到期 · 已超期 2 个工作日 · 无期限."""
        if self.due_on is None:
            return "无期限"
        if self.overdue:
            days = self.overdue_days
            return f"已超期 {days} 个工作日" if days else "已超期"
        if self.due_on == self.today:
            return "今日到期"
        if self.workdays_left is None:
            return f"{(self.due_on - self.today).days} 天后到期"
        if self.workdays_left == 0:
            return "剩余不足 1 个工作日"
        return f"剩余 {self.workdays_left} 个工作日"

    @property
    def tone(self) -> str:
        """For the page's colour: ``overdue``, ``soon`` (today or the next working day), ``ok``."""
        if self.overdue:
            return "overdue"
        if self.due_on is not None and (self.workdays_left or 0) <= 1:
            return "soon"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "due_on": self.due_on,
            "workdays_left": self.workdays_left,
            "overdue": self.overdue,
            "overdue_workdays": self.overdue_days,
            "text": self.text,
            "tone": self.tone,
        }


def today_ordinal(db: Database, today: date) -> int | None:
    """Today's working-day ordinal (None beyond the calendar)."""
    try:
        return ordinal(db, today, "W")
    except GovwatchError:
        return None


def countdown(
    due_on: date | None, today: date, due_ordinal: object, today_ord: int | None
) -> Countdown:
    """The countdown of a row whose query joined :data:`DUE_ORDINAL`."""
    if due_on is None or due_ordinal is None or today_ord is None:
        return Countdown(due_on, today, None)
    return Countdown(due_on, today, int(str(due_ordinal)) - today_ord)
