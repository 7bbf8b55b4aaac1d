"""The canonical snapshot of a round and its digest.

Publishing freezes a round: its inputs (period, indicator system, units, values with their
provenance, evidence file digests, appeals) and its results are written out as canonical JSON
(sorted keys, floats in shortest round-trip form, times in ISO 8601), stored with the round,
and their SHA-256 is the round's digest. :func:`verify_round` rebuilds the snapshot from the
tables and compares: any later edit, by any path, shows as a different digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from govwatch.evaluation.rounds.values import round_row
from govwatch.storage import Database


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep="T", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) or value.__class__.__name__ == "Decimal":
        return float(value)
    return value


def _rows(db: Database, sql: str, round_id: str) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in r.items()} for r in db.query_dicts(sql, [round_id])]


def snapshot(db: Database, round_id: str) -> dict[str, Any]:
    """Everything a published round is: inputs and results, as plain data."""
    meta = _rows(
        db,
        "SELECT round_id, name, period_start, period_end, unit_kind, system_name, system_yaml, "
        "system_digest, fill_deadline_at, review_days, review_until_at, previous_round_id, "
        "created_by, created_at, computed_at FROM eval_rounds WHERE round_id = ?",
        round_id,
    )[0]
    results = _rows(
        db,
        "SELECT unit, group_name, score, stars, rank, group_rank, coverage, poorly_covered, "
        "points, missing, rank_low, rank_high, star_stability FROM eval_results "
        "WHERE round_id = ? ORDER BY unit",
        round_id,
    )
    for r in results:
        r["points"] = orjson.loads(r["points"])
        r["missing"] = orjson.loads(r["missing"])
    out = {
        "round": meta,
        "units": _rows(
            db,
            "SELECT unit, unit_name, group_name FROM eval_units WHERE round_id = ? ORDER BY unit",
            round_id,
        ),
        "values": _rows(
            db,
            "SELECT unit, indicator, value, source, status, entered_by, entered_at, verified_by, "
            "verified_at, note FROM eval_values WHERE round_id = ? ORDER BY unit, indicator",
            round_id,
        ),
        "evidence": _rows(
            db,
            "SELECT evidence_id, unit, indicator, file_name, size_bytes, sha256, uploaded_by, "
            "uploaded_at FROM eval_evidence WHERE round_id = ? ORDER BY evidence_id",
            round_id,
        ),
        "appeals": _rows(
            db,
            "SELECT appeal_id, unit, indicator, reason, submitted_by, submitted_at, status, "
            "decided_by, decided_at, decision FROM eval_appeals WHERE round_id = ? "
            "ORDER BY appeal_id",
            round_id,
        ),
        "results": results,
    }
    # the guide check run the guide and coverage values came from, with the evaluator's
    # reviews of its findings (rounds without one keep the snapshot, and digest, they had)
    run = db.query("SELECT guide_run_id FROM eval_rounds WHERE round_id = ?", [round_id])
    if run and run[0][0] is not None:
        run_id = str(run[0][0])
        out["guide_run"] = {
            "run": _rows(
                db,
                "SELECT run_id, seq, checked_at, run_by, source, source_ref, items, findings "
                "FROM guide_runs WHERE run_id = ?",
                run_id,
            ),
            "reviews": _rows(
                db,
                "SELECT item_code, element, check_kind, seq, action, actor, acted_at, reason "
                "FROM guide_overrides WHERE run_id = ? ORDER BY item_code, element, check_kind, seq",
                run_id,
            ),
        }
    return out


def canonical(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def digest_of(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


@dataclass(frozen=True)
class Verification:
    round_id: str
    stored: str | None
    recomputed: str
    frozen_matches: bool

    @property
    def ok(self) -> bool:
        return self.stored is not None and self.stored == self.recomputed and self.frozen_matches

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "ok": self.ok,
            "digest": self.stored,
            "recomputed": self.recomputed,
            "frozen_matches": self.frozen_matches,
        }


def verify_round(db: Database, round_id: str) -> Verification:
    """Recompute the digest of a published round from its tables and its frozen copy."""
    row = round_row(db, round_id)
    recomputed = digest_of(snapshot(db, round_id))
    frozen = row.get("frozen")
    frozen_ok = frozen is not None and hashlib.sha256(str(frozen).encode()).hexdigest() == (
        row.get("digest")
    )
    return Verification(round_id, row.get("digest"), recomputed, frozen_ok)
