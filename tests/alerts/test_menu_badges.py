"""The menu's badges are one query, and other pages can add theirs to it (govwatch.alerts.
waiting.register_badge): a registered badge is counted for the roles it applies to, 0 for the
others, beside the built-in three."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from govwatch.alerts.waiting import BADGES, register_badge, waiting_counts
from govwatch.auth.orgs import add_org
from govwatch.auth.principal import Principal
from govwatch.auth.users import add_user
from govwatch.storage import Database

AT = datetime(2025, 10, 9, 9, 0)
SUP = Principal(name="sup", role="supervisor", user_id="u-sup")
DEPT = Principal(name="dept", role="department", org_code="D1", scope=frozenset({"D1"}))
OTHER = Principal(name="other", role="department", org_code="D2", scope=frozenset({"D2"}))


def _colleagues(principal: Principal) -> tuple[str, list[Any]] | None:
    """Users of the department's own unit (a badge only departments have)."""
    if principal.role != "department":
        return None
    return "(SELECT COUNT(*) FROM users u WHERE u.org_code = ?)", [principal.org_code]


@pytest.fixture
def colleagues_badge() -> Iterator[str]:
    register_badge("colleagues", _colleagues)
    yield "colleagues"
    BADGES.pop("colleagues", None)


def test_a_registered_badge_counts_for_its_roles_in_the_same_query(
    db: Database, colleagues_badge: str
) -> None:
    add_org(db, "D1", "市场监管局", "department", None, None, AT)
    add_org(db, "D2", "交通运输局", "department", None, None, AT)
    for name, unit in (("d1_a", "D1"), ("d1_b", "D1"), ("d2_a", "D2")):
        add_user(db, name, "Passw0rd-long-enough", "department", unit, AT)
    assert waiting_counts(db, DEPT).count(colleagues_badge) == 2
    assert waiting_counts(db, OTHER).count(colleagues_badge) == 1
    assert waiting_counts(db, SUP).count(colleagues_badge) == 0
    assert colleagues_badge not in waiting_counts(db, SUP).more


def test_the_to_do_badge_given_by_the_page_is_not_counted_again(db: Database) -> None:
    assert waiting_counts(db, DEPT, todo=7).todo == 7
    assert waiting_counts(db, DEPT).todo == 0
