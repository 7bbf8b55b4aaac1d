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

from govwatch.vocabulary import WORKFLOW_ACTION_NAMES, WORKFLOW_STATE_NAMES

STATES = ("open", "explained", "appealed", "rectifying", "rectified", "closed", "dismissed")
TERMINAL = frozenset({"closed", "dismissed"})
STATE_NAMES = WORKFLOW_STATE_NAMES  # the name the workflow modules and pages import

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

    @property
    def name(self) -> str:
        """The move's Chinese name, as the history and messages show it."""
        return WORKFLOW_ACTION_NAMES[self.action]


_MOVES = (
    Move("explain", ("open",), "explained", DEPARTMENT, True, False),
    Move("appeal", ("open", "explained"), "appealed", DEPARTMENT, True, False),
    Move("accept_explanation", ("explained",), "closed", SUPERVISOR, False, False),
    Move("uphold_appeal", ("appealed",), "dismissed", SUPERVISOR, True, False),
    Move("reject_appeal", ("appealed",), "rectifying", SUPERVISOR, True, True),
    Move("require_rectification", ("open", "explained"), "rectifying", SUPERVISOR, True, True),
    Move("report_rectified", ("rectifying",), "rectified", DEPARTMENT, True, False),
    Move("confirm_rectified", ("rectified",), "closed", SUPERVISOR, False, False),
    Move("return_rectification", ("rectified",), "rectifying", SUPERVISOR, True, True),
    Move("close", ("open", "explained"), "closed", SUPERVISOR, True, False),
    Move(
        "auto_close",
        ("open", "explained", "appealed", "rectifying", "rectified"),
        "closed",
        SYSTEM,
        False,
        False,
    ),
    Move("reopen", ("closed",), "open", SYSTEM, False, False),
    # The sweeper, once per rectification due date that passes (govwatch.alerts.escalation).
    Move("escalate", ("rectifying",), "rectifying", SYSTEM, False, False),
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
