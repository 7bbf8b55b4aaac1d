"""Settings of the workflow, stored in ``workflow_settings`` (text values, with defaults)."""

from __future__ import annotations

import re
from datetime import datetime

from govwatch.errors import InputError
from govwatch.storage import Database

DEFAULTS = {
    # A red card triggers a supervision order to its department automatically.
    "auto_order_red": "on",
    # Reply period of an order, working days.
    "order_reply_days": "5",
}
_CHOICES = {"auto_order_red": ("on", "off")}


def get_setting(db: Database, name: str) -> str:
    value = db.scalar("SELECT value FROM workflow_settings WHERE name = ?", [name])
    return str(value) if value is not None else DEFAULTS[name]


def set_setting(db: Database, name: str, value: str, by: str, at: datetime) -> None:
    if name not in DEFAULTS:
        raise InputError(f"设置项“{name}”不存在：应为 {' / '.join(DEFAULTS)} 之一")
    if name in _CHOICES and value not in _CHOICES[name]:
        raise InputError(f"设置项 {name} 的值应为 {' / '.join(_CHOICES[name])}，收到“{value}”")
    # ASCII digits only: str.isdigit() also accepts "²" or "١", which int() then refuses
    if name == "order_reply_days" and (
        not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= 60
    ):
        raise InputError(f"设置项 {name} 应为 1–60 之间的整数，收到“{value[:40]}”")
    with db.transaction():
        db.execute("DELETE FROM workflow_settings WHERE name = ?", [name])
        db.execute(
            "INSERT INTO workflow_settings (name, value, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?)",
            [name, value, at, by],
        )
