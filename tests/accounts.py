"""Accounts for command-line tests: every stateful command acts as a named user (``--as``)."""

from __future__ import annotations

from datetime import datetime

from govwatch.auth.orgs import add_org, get_org
from govwatch.auth.users import add_user, get_user
from govwatch.storage import connect

CREATED = datetime(2025, 1, 1, 9, 0)
PASSWORD = "account-password-1"


def account(db_url: str, username: str, role: str = "admin", org: str | None = None) -> str:
    """The username of an active account with this role (created once), for ``--as``; a
    department's organisation is added to the tree when it is missing."""
    db = connect(db_url)
    try:
        if get_user(db, username) is None:
            if org is not None and get_org(db, org) is None:
                add_org(db, org, org, "department", None, None, CREATED)
            add_user(db, username, PASSWORD, role, org, CREATED)
    finally:
        db.close()
    return username
