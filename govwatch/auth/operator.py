"""Who the command line acts as: a named account of the database, never a self-declared role.

Every command that changes something acts as a user of the ``users`` table (spec/interface.md,
"Stateful commands"): the one ``--as USER`` names, else the configured operator account (the
environment variable ``GOVWATCH_OPERATOR``), else the command is refused with a message saying
how to name one. The account's role and organisation decide what it may do; a refusal names
the role the action would need.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from govwatch.auth.errors import ForbiddenError
from govwatch.auth.users import User, get_user
from govwatch.errors import InputError
from govwatch.storage import Database
from govwatch.vocabulary import ROLE_NAMES, label

OPERATOR_ENV = "GOVWATCH_OPERATOR"
NO_OPERATOR = (
    f"未指定操作账号：请用 --as 用户名 指定，或设置环境变量 {OPERATOR_ENV}=用户名"
    "（账号用 govwatch users add 创建，govwatch users list 查看）"
)


@dataclass(frozen=True)
class Operator:
    """The account a command acts as: its username, role and organisation."""

    username: str
    role: str
    org_code: str | None

    @property
    def role_name(self) -> str:
        return label(ROLE_NAMES, self.role)


def operator_name(named: str | None) -> str:
    """The account to act as: ``--as``, else ``GOVWATCH_OPERATOR``, else refused."""
    name = (named or os.environ.get(OPERATOR_ENV, "")).strip()
    if not name:
        raise InputError(NO_OPERATOR)
    return name


def resolve_operator(db: Database, named: str | None) -> Operator:
    """The active account named by ``--as`` or the environment (:func:`operator_name`)."""
    name = operator_name(named)
    user: User | None = get_user(db, name) if db.table_exists("users") else None
    if user is None or not user.active:
        source = "--as" if named else f"环境变量 {OPERATOR_ENV}"
        raise InputError(
            f"{source} 所指的用户“{name}”不存在或已停用：请用 govwatch users list 查看账号"
        )
    return Operator(user.username, user.role, user.org_code)


def roles_text(roles: Sequence[str]) -> str:
    return "或".join(label(ROLE_NAMES, r) for r in roles)


def require_role(operator: Operator, roles: Sequence[str], what: str) -> None:
    """Refuse an account whose role may not do ``what``, naming the role it would need."""
    if operator.role not in roles:
        raise ForbiddenError(
            f"用户“{operator.username}”的角色是{operator.role_name}，不能{what}："
            f"需要{roles_text(roles)}角色"
        )
