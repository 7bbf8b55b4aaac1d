"""The forms a unit still has to fill: rounds collecting values and its filled indicators open."""

from __future__ import annotations

from typing import Any

from govwatch.errors import GovwatchError
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.storage import Database


def forms_to_fill(db: Database, unit: str | None) -> list[dict[str, Any]]:
    """Rounds collecting values in which ``unit`` takes part, with its pending filled indicators.

    A round whose stored system no longer parses lists no indicators rather than failing the
    department's workspace.
    """
    if not db.table_exists("eval_rounds") or unit is None:
        return []
    rows = db.query_dicts(
        "SELECT r.round_id, r.name, r.fill_deadline_at, r.system_yaml, u.unit FROM eval_rounds r "
        "JOIN eval_units u ON u.round_id = r.round_id WHERE r.status = 'collecting' "
        "AND u.unit = ? ORDER BY r.round_id",
        [unit],
    )
    out = []
    for r in rows:
        try:
            leaves = [x for x in parse_system(str(r["system_yaml"])).leaves if x.source == "filled"]
        except GovwatchError:
            leaves = []
        done = {
            str(v[0])
            for v in db.query(
                "SELECT indicator FROM eval_values WHERE round_id = ? AND unit = ?",
                [r["round_id"], r["unit"]],
            )
        }
        out.append(
            {
                "round_id": r["round_id"],
                "name": r["name"],
                "deadline": r["fill_deadline_at"],
                "pending": [x.name for x in leaves if x.id not in done],
                "filled": len([x for x in leaves if x.id in done]),
            }
        )
    return out
