"""Alert handling: the workflow state machine, supervision orders (督办), notifications."""

from __future__ import annotations

from govwatch.alerts.states import ACTIONS, STATES, TERMINAL
from govwatch.alerts.workflow import act

__all__ = ["ACTIONS", "STATES", "TERMINAL", "act"]
