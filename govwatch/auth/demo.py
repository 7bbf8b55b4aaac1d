"""Demo accounts for ``govwatch demo``: one per role, with fresh random passwords."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govwatch.auth.orgs import add_org, get_org, list_orgs
from govwatch.auth.passwords import new_password
from govwatch.auth.tokens import create_token
from govwatch.auth.users import add_user, get_user, set_password
from govwatch.storage import Database


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    secret: str
    org_code: str | None
    kind: str  # "password" for a user, "token" for a source system's API token


def create_demo_users(db: Database, at: datetime) -> list[DemoAccount]:
    """Create (or reset) ``demo_admin``, ``demo_supervisor``, ``demo_department``,
    ``demo_evaluator`` and a source-system token; return their credentials.

    The department user and the token belong to the first department of the tree; the tree is
    taken as it is (``orgs sync`` fills it from the catalog), with a demo department added when
    there is none.
    """
    departments = [o for o in list_orgs(db) if o.kind == "department"]
    if departments:
        department = departments[0].org_code
    else:
        department = "DEMO-DEPT"
        if get_org(db, department) is None:
            add_org(db, department, "演示部门", "department", None, None, at)
    accounts: list[DemoAccount] = []
    for role, org in (
        ("admin", None),
        ("supervisor", None),
        ("department", department),
        ("evaluator", None),
    ):
        username = f"demo_{role}"
        password = new_password()
        if get_user(db, username) is None:
            add_user(db, username, password, role, org, at, display_name=f"演示{role}")
        else:
            set_password(db, username, password, at)
        accounts.append(DemoAccount(role, username, password, org, "password"))
    secret, _ = create_token(db, "demo-source", "source", [department], "demo", at)
    accounts.append(DemoAccount("source", "demo-source", secret, department, "token"))
    return accounts
