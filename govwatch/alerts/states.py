"""The alert workflow as a table of moves.

::

    open ──explain──► explained ──accept_explanation──► closed
      │ └─appeal──► appealed ──uphold_appeal──► dismissed
      │                 └──reject_appeal──► rectifying ──report_rectified──► rectified
      └─require_rectification──► rectifying ◄──return_rectification──┘
                                  rectified ──confirm_rectified──► closed
    any state but closed/dismissed ──auto_close (the rule engine cleared the condition)──► closed
    closed (auto) ──reopen (the condition came back)──► open
    rectifying ──escalate (its due date passed; the alert rises one level)──► rectifying

This state is about *handling*; the rule engine's ``alerts.status`` (active/cleared) is about
the *condition*. A move not in this table is refused with a message naming what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("open", "explained", "appealed", "rectifying", "rectified", "closed", "dismissed")
TERMINAL = frozenset({"closed", "dismissed"})
STATE_NAMES = {
    "open": "待处理",
    "explained": "已说明",
    "appealed": "申诉中",
    "rectifying": "整改中",
    "rectified": "已整改待确认",
    "closed": "已办结",
    "dismissed": "申诉成立已撤销",
}

DEPARTMENT = "department"
SUPERVISOR = "supervisor"
SYSTEM = "system"


@dataclass(frozen=True)
class Move:
    action: str
    sources: tuple[str, ...]
    target: str
    by: str  # DEPARTMENT, SUPERVISOR or SYSTEM
    reason_required: bool
    due: bool  # sets a rectification due date
    name: str


_MOVES = (
    Move("explain", ("open",), "explained", DEPARTMENT, True, False, "情况说明"),
    Move("appeal", ("open", "explained"), "appealed", DEPARTMENT, True, False, "申诉"),
    Move("accept_explanation", ("explained",), "closed", SUPERVISOR, False, False, "采纳说明"),
    Move("uphold_appeal", ("appealed",), "dismissed", SUPERVISOR, True, False, "申诉成立"),
    Move("reject_appeal", ("appealed",), "rectifying", SUPERVISOR, True, True, "驳回申诉"),
    Move(
        "require_rectification",
        ("open", "explained"),
        "rectifying",
        SUPERVISOR,
        True,
        True,
        "责令整改",
    ),
    Move("report_rectified", ("rectifying",), "rectified", DEPARTMENT, True, False, "报告整改"),
    Move("confirm_rectified", ("rectified",), "closed", SUPERVISOR, False, False, "确认整改"),
    Move("return_rectification", ("rectified",), "rectifying", SUPERVISOR, True, True, "退回整改"),
    Move("close", ("open", "explained"), "closed", SUPERVISOR, True, False, "直接办结"),
    Move(
        "auto_close",
        ("open", "explained", "appealed", "rectifying", "rectified"),
        "closed",
        SYSTEM,
        False,
        False,
        "条件消除自动办结",
    ),
    Move("reopen", ("closed",), "open", SYSTEM, False, False, "条件重现重新打开"),
    # The sweeper, once per rectification due date that passes (govwatch.alerts.escalation).
    Move("escalate", ("rectifying",), "rectifying", SYSTEM, False, False, "整改逾期升级"),
)
MOVES = {m.action: m for m in _MOVES}
ACTIONS = tuple(m.action for m in _MOVES if m.by != SYSTEM)


def allowed_actions(state: str, by: str | None = None) -> list[str]:
    """The human actions possible from a state (for one side, or both)."""
    return [
        m.action
        for m in _MOVES
        if state in m.sources and m.by != SYSTEM and (by is None or m.by == by)
    ]
