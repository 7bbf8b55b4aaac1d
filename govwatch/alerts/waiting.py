"""What waits for the signed-in user, as the menu's badges show it, in one query.

- 督办台 (supervisors, administrators): replies to review plus alerts to decide — the lists
  only they can move on (:mod:`govwatch.alerts.desk`, ``replies`` + ``decide``);
- 今日待办 (departments): every item of its to-do list (:func:`govwatch.alerts.workspace.
  todo_count_sql`), or the length of the list when the page has just read it;
- 消息 (every signed-in role): notifications this reader has not read;
- the badges other pages register (:func:`register_badge`), each one more column.

Each figure equals the total its page shows (tests hold them together). The web app keeps the
answer a few seconds per user (its page cache, emptied by any write through the app).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govwatch.alerts.desk import DeskFilter, decide_from, decide_where, orders_where
from govwatch.alerts.notify import unread_condition, visible_filter
from govwatch.alerts.workspace import todo_count_sql
from govwatch.auth.principal import Principal
from govwatch.storage import Database


@dataclass(frozen=True)
class Waiting:
    desk: int = 0  # 督办台: replies to review + alerts to decide
    todo: int = 0  # 今日待办: orders and alerts owed
    unread: int = 0  # notifications not yet read
    more: Mapping[str, int] = field(default_factory=dict)  # the registered badges, by name

    def count(self, name: str) -> int:
        """A registered badge's count (0 when it does not apply to this user)."""
        return int(self.more.get(name, 0))


# A badge of the menu: for a principal, the SQL of one scalar count and its parameters, or
# None where the badge does not apply to that principal's role.
BadgeSql = Callable[[Principal], "tuple[str, list[Any]] | None"]
# Badges other pages add (name -> its SQL): each becomes one more column of the one query.
BADGES: dict[str, BadgeSql] = {}


def register_badge(name: str, sql: BadgeSql) -> None:
    """Add a menu badge, counted in the same query as the others (``Waiting.count(name)``).

    ``sql(principal)`` returns a scalar count such as ``"(SELECT COUNT(*) FROM t WHERE …)"``
    with its parameters, or None where the badge does not apply."""
    BADGES[name] = sql


def waiting_counts(db: Database, principal: Principal, todo: int | None = None) -> Waiting:
    """The three badges of this principal (0 where the role has no such page); ``todo``: the
    to-do count when the caller has already read the list (it is not counted again)."""
    if principal.role == "public" or not principal.can("notifications.read"):
        return Waiting()
    parts: list[str] = []
    params: list[Any] = []
    if principal.can("alerts.supervise"):
        replies, rp = orders_where(principal, ("replied",), DeskFilter())
        decide, dp = decide_where(principal, DeskFilter())
        parts.append(
            f"(SELECT COUNT(*) FROM orders o WHERE {replies}) + "
            f"(SELECT COUNT(*) FROM {decide_from(principal, DeskFilter())} WHERE {decide})"
        )
        params += [*rp, *dp]
    else:
        parts.append("0")
    if principal.role == "department" and todo is not None:
        parts.append(str(int(todo)))
    elif principal.role == "department":
        todo_count, tp = todo_count_sql(principal)
        parts.append(todo_count)
        params += tp
    else:
        parts.append("0")
    visible, vp = visible_filter(principal, "n")
    unread, up = unread_condition(principal, db.dialect)
    parts.append(f"(SELECT COUNT(*) FROM notifications n WHERE {visible}{unread})")
    params += [*vp, *up]
    names: list[str] = []
    for name, badge in BADGES.items():
        found = badge(principal)
        if found is not None:
            names.append(name)
            parts.append(found[0])
            params += found[1]
    row = db.query(f"SELECT {', '.join(parts)}", params)[0]
    desk, todo_n, unread_n = (int(v or 0) for v in row[:3])
    return Waiting(
        desk, todo_n, unread_n, {n: int(v or 0) for n, v in zip(names, row[3:], strict=True)}
    )
