"""Who is asking, and what they may see and do.

Roles: ``admin`` (everything, manages users and the catalog), ``supervisor`` (the supervising
administration: decides appeals, issues orders, sees all), ``department`` (acts on its own
organisation subtree only), ``evaluator`` (third-party evaluator: evaluation data, read-only,
personal data always masked), ``source`` (a source system's token: posts events for its
organisations), ``public`` (no login: published results only).
"""

from __future__ import annotations

from dataclasses import dataclass

from govwatch.auth.errors import AuthenticationError, ForbiddenError
from govwatch.vocabulary import PERMISSION_NAMES, ROLE_NAMES, label

ROLES = ("admin", "supervisor", "department", "evaluator", "source", "public")

# permission -> roles holding it
PERMISSIONS: dict[str, frozenset[str]] = {
    "events.post": frozenset({"admin", "source"}),
    "alerts.read": frozenset({"admin", "supervisor", "department", "evaluator"}),
    "cases.read": frozenset({"admin", "supervisor", "department", "evaluator"}),
    "alerts.department_act": frozenset({"department"}),
    "alerts.supervise": frozenset({"admin", "supervisor"}),
    "orders.read": frozenset({"admin", "supervisor", "department"}),
    "orders.issue": frozenset({"admin", "supervisor"}),
    "orders.reply": frozenset({"department"}),
    "rules.read": frozenset({"admin", "supervisor", "department", "evaluator"}),
    "rules.manage": frozenset({"admin"}),
    "evaluations.read": frozenset({"admin", "supervisor", "department", "evaluator"}),
    "notifications.read": frozenset({"admin", "supervisor", "department", "evaluator"}),
    "webhooks.manage": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "ledger.verify": frozenset({"admin", "supervisor"}),
    "pii.view": frozenset({"admin", "supervisor", "department"}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated user or token, or the anonymous public.

    ``scope`` is the set of organisation codes (an org and its subtree) the principal is
    limited to, and ``regions`` the region codes of the region nodes in it; ``None`` means
    unlimited (administration-wide roles).
    """

    name: str
    role: str
    org_code: str | None = None
    user_id: str | None = None
    token_id: str | None = None
    session_hash: str | None = None
    scope: frozenset[str] | None = None
    regions: frozenset[str] = frozenset()

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            if self.role == "public":
                raise AuthenticationError(f"{label(PERMISSION_NAMES, permission)}需要先登录")
            raise ForbiddenError(
                f"{label(ROLE_NAMES, self.role)}无权{label(PERMISSION_NAMES, permission)}"
            )

    def covers(self, *codes: str | None) -> bool:
        """Whether any of the organisation or region codes lies in this principal's scope."""
        if self.scope is None:
            return True
        return any(c is not None and (c in self.scope or c in self.regions) for c in codes)

    @property
    def pii_entitled(self) -> bool:
        return self.can("pii.view")


PUBLIC = Principal(name="public", role="public", scope=frozenset())
SYSTEM = Principal(name="system", role="admin")
