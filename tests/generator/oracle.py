"""An independent, slow reading of spec/rules.md for checking the generator's truth in tests.

It evaluates the 21 default rules case by case in plain Python, straight from the spec,
spec/time.md and the semantics docs/generator.md fixes. It shares no code with the generator
(it reads the calendar from ``chinese_calendar`` itself), so agreement between the two is
evidence; the generator never uses it to write its truth.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import chinese_calendar

KIND_ORDER = {k: i for i, k in enumerate((
    "apply", "accept", "reject", "supplement_request", "supplement_received", "step_start",
    "step_end", "special_start", "special_end", "suspend", "resume", "payment", "finish",
    "terminate", "rating", "correction", "relation"))}  # fmt: skip
RISK_LEVEL = {"高": "red", "中": "yellow", "低": "warning"}
Finding = tuple[str, str, str, str]  # case_id, rule, key, level


def at(text: str) -> datetime:
    if len(text) == 14 and text.isdigit():
        return datetime.strptime(text, "%Y%m%d%H%M%S")
    return datetime.fromisoformat(text).replace(tzinfo=None)


@functools.cache
def workday(d: date) -> bool:
    return bool(chinese_calendar.is_workday(d))


def days(a: date, b: date, unit: str) -> int:
    if unit == "N":
        return (b - a).days
    return sum(1 for i in range(1, (b - a).days + 1) if workday(a + timedelta(days=i)))


def deadline(a: date, limit: int, unit: str) -> date:
    if limit <= 0:
        return a
    if unit == "N":
        d = a + timedelta(days=limit)
        while not workday(d):
            d += timedelta(days=1)
        return d
    d, n = a, 0
    while n < limit:
        d += timedelta(days=1)
        n += workday(d)
    return d


def pauses(evs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(kind, start event, end event or None) for each pause, starts paired with the next end."""
    out: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    open_: dict[str, list[int]] = defaultdict(list)
    ends = {"supplement_received": "supplement", "special_end": "special", "resume": "suspend"}
    for e in evs:
        k = e["kind"]
        if k == "supplement_request":
            open_["supplement"].append(len(out))
            out.append(("supplement", e, None))
        elif k == "special_start" and str(e.get("procedure_kind")) == "2":
            open_["special"].append(len(out))
            out.append(("special", e, None))
        elif k == "suspend":
            open_["suspend"].append(len(out))
            out.append(("suspend", e, None))
        elif k in ends and open_[ends[k]]:
            i = open_[ends[k]].pop(0)
            out[i] = (out[i][0], out[i][1], e)
    return out


def audit_case(case_id: str, evs: list[dict[str, Any]], items: dict[str, dict[str, Any]],
               moment: datetime) -> set[Finding]:  # fmt: skip
    evs = [e for e in evs if at(e["occurred_at"]) <= moment]
    evs.sort(key=lambda e: (at(e["occurred_at"]), KIND_ORDER[e["kind"]], e["event_id"]))
    found: set[Finding] = set()

    def add(rule: str, key: str = "", level: str = "yellow") -> None:
        found.add((case_id, rule, key, level))

    if any(e.get("item_code") and e["item_code"] not in items for e in evs):
        add("unknown_item")
    first = next((e for e in evs if e["kind"] in ("apply", "accept")), None)
    item = items.get(first["item_code"]) if first else None
    apply = next((e for e in evs if e["kind"] == "apply"), None)
    accept = next((e for e in evs if e["kind"] == "accept"), None)
    end = next((e for e in evs if e["kind"] in ("finish", "terminate")), None)
    finish = end if end and end["kind"] == "finish" else None
    reject = next((e for e in evs if e["kind"] == "reject"), None)
    # event order
    acc_pos = evs.index(accept) if accept else len(evs)
    end_pos = evs.index(end) if end else len(evs)
    open_counts: dict[str, int] = defaultdict(int)
    starts = {"supplement_received": "supplement_request", "resume": "suspend"}
    for i, e in enumerate(evs):
        k = e["kind"]
        if k in ("step_start", "step_end", "finish", "payment") and i < acc_pos:
            add("event_out_of_order", k)
        if i > end_pos and k not in ("rating", "payment", "correction"):
            add("event_out_of_order", k)
        if k in ("supplement_request", "suspend") or (
            k == "special_start" and str(e.get("procedure_kind")) == "2"
        ):
            open_counts["special" if k == "special_start" else k] += 1
        elif k in starts or k == "special_end":
            need = starts.get(k, "special")
            if open_counts[need] == 0:
                add("event_out_of_order", k)
            else:
                open_counts[need] -= 1
    if sum(e["kind"] == "supplement_request" for e in evs) > 1:
        add("repeated_supplement")
    if sum(e["kind"] == "step_end" and e.get("action") == "return" for e in evs) > 2:
        add("repeated_return")
    ps = pauses(evs)
    for kind, s, e in ps:
        s_on = at(s["occurred_at"]).date()
        e_on = at(e["occurred_at"]).date() if e else moment.date()
        if kind == "special" and days(s_on, e_on, s.get("limit_unit") or "W") > int(s["limit"]):
            add("special_procedure_overrun", s["event_id"])
        if kind == "suspend" and (e_on - s_on).days > 30:
            add("long_suspension", s["event_id"])
    if finish is not None:
        res = str(finish["result"])
        if res in ("1", "2", "3", "5") and not finish.get("reason"):
            add("result_without_reason")
        if res == "0" and not finish.get("license_no"):
            add("licence_missing")
        if res == "7" and not (finish.get("reason") and finish.get("legal_basis")):
            add("adverse_decision_without_basis", level="red")
    if end and end["kind"] == "terminate" and not end.get("reason"):
        add("result_without_reason")
    if reject and not (reject.get("reason") and reject.get("legal_basis")):
        add("adverse_decision_without_basis", level="red")
    if item is None:
        return found
    names = [m["name"] for m in item["materials"]]
    for e in evs:
        if e["kind"] in ("apply", "supplement_request"):
            for m in e.get("materials") or []:
                name = m["name"] if isinstance(m, dict) else m
                if name not in names:
                    add("materials_beyond_guide", name)
    if accept and apply:
        got = {m["name"] for m in apply.get("materials") or [] if m.get("provided")}
        for e in evs:
            if e["kind"] == "supplement_received":
                got.update(e.get("materials") or [])
        for m in item["materials"]:
            if m["required"] and m["name"] not in got:
                add("missing_materials", m["name"])
    payments = [e for e in evs if e["kind"] == "payment"]
    fee = item.get("fee")
    if payments and not fee:
        add("unlisted_fee", level="red")
    if fee and finish is not None and str(finish["result"]) in ("0", "6"):
        paid = sum(float(p["amount"]) for p in payments)
        due = fee["amount"] if fee.get("amount") is not None else fee["unit_price"] * sum(
            float(p.get("quantity") or 0) for p in payments)  # fmt: skip
        if abs(paid - due) > 0.01:
            add("fee_mismatch")
    if finish is not None and finish.get("tier") is not None:
        tiers = {t["tier"]: t for t in item.get("discretion") or []}
        t = tiers.get(finish["tier"])
        if t is None or not t["min"] <= float(finish["decided_value"]) <= t["max"]:
            add("discretion_out_of_band", level="red")
    flow = [s["name"] for s in item["steps"]]
    first_start: dict[str, int] = {}
    for i, e in enumerate(evs):
        if e["kind"] == "step_start" and e["step"] not in first_start:
            first_start[e["step"]] = i
    if finish is not None and str(finish["result"]) in ("0", "6"):
        for s in item["steps"]:
            if s.get("mandatory", True) and s["name"] not in first_start:
                add("missing_step", s["name"])
    prev = -1
    for name in sorted(first_start, key=first_start.__getitem__):
        if name in flow:
            if flow.index(name) < prev:
                add("step_out_of_order", name)
            prev = flow.index(name)
    _timeliness(add, evs, item, accept, end, ps, moment)
    _risks(add, evs, item, apply, accept, finish)
    return found


def _paused_within(ps: list[Any], lo: date, hi: date, unit: str, moment: datetime) -> int:
    """Days of the unit d with lo < d <= hi that fall inside a pause (S < d <= E)."""
    total = 0
    for _kind, s, e in ps:
        s_on = at(s["occurred_at"]).date()
        e_on = at(e["occurred_at"]).date() if e else moment.date()
        a, b = max(lo, s_on), min(hi, e_on)
        if b > a:
            total += days(a, b, unit)
    return total


def _timeliness(add: Any, evs: list[dict[str, Any]], item: dict[str, Any], accept: Any, end: Any,
                ps: list[Any], moment: datetime) -> None:  # fmt: skip
    if accept is None:
        return
    a_on = at(accept["occurred_at"]).date()
    kind = str(accept.get("case_kind") or item.get("case_kind") or "2")
    unit = item.get("legal_limit_unit") or "W"
    promised = 0 if kind == "1" else int(item["promised_limit"])
    legal = int(item["legal_limit"])
    ext = sum(
        int(e["limit"])
        for e in evs
        if e["kind"] == "special_start" and str(e.get("procedure_kind")) == "1"
    )
    if accept.get("promised_finish_at") and at(accept["promised_finish_at"]).date() > deadline(
        a_on, promised, unit
    ):
        add("promise_mismatch", level="warning")
    stop_on = at(end["occurred_at"]).date() if end else moment.date()
    paused = _paused_within(ps, a_on, stop_on, unit, moment)
    d_p = deadline(a_on, promised + ext + paused, unit)
    d_l = deadline(a_on, legal + ext + paused, unit)
    if end is not None:
        if stop_on > d_l:
            add("case_overdue", level="red")
        elif stop_on > d_p:
            add("case_overdue")
    else:
        elapsed = days(a_on, moment.date(), unit) - paused
        rem_p, rem_l = promised + ext - elapsed, legal + ext - elapsed
        is_paused = any(e is None for _k, _s, e in ps)
        if rem_l < 0:
            add("case_overdue", level="red")
        elif rem_p < 0:
            add("case_overdue")
        elif not is_paused and rem_p <= 2:
            add("near_deadline", level="warning")
    limits = {s["name"]: int(s["limit"]) for s in item["steps"] if s.get("limit") is not None}
    spans: dict[str, list[date | None]] = {}
    for e in evs:
        if e["kind"] == "step_start":
            spans.setdefault(e["step"], [at(e["occurred_at"]).date(), None])
            spans[e["step"]][1] = None
        elif e["kind"] == "step_end" and e["step"] in spans:
            spans[e["step"]][1] = at(e["occurred_at"]).date()
    for name, (s_on, e_on) in spans.items():
        assert s_on is not None
        e_on = e_on or moment.date()
        if (
            name in limits
            and days(s_on, e_on, "W") - _paused_within(ps, s_on, e_on, "W", moment) > limits[name]
        ):
            add("step_overdue", name)


def _risks(add: Any, evs: list[dict[str, Any]], item: dict[str, Any], apply: Any, accept: Any,
           finish: Any) -> None:  # fmt: skip
    for r in item.get("risk_points") or []:
        ends = [e for e in evs if e["kind"] == "step_end" and e["step"] == r["step"]]
        m = r["measure"]
        if m == "two_person_review":
            broken = bool(ends) and len({e.get("actor") for e in ends}) < 2
        elif m == "separation_of_duties":
            acc = accept.get("actor") if accept else None
            broken = acc is not None and (
                (finish is not None and finish.get("actor") == acc)
                or any(e.get("actor") == acc for e in ends)
            )
        elif m == "no_conflict_of_interest":
            actors = {e.get("actor") for e in evs if e.get("actor")}
            broken = any(e["kind"] == "relation" and e.get("handler") in actors and apply is not None
                         and e.get("applicant_id") == apply.get("applicant_id") for e in evs)  # fmt: skip
        elif m == "office_hours":
            broken = any(not workday(at(e["occurred_at"]).date())
                         or not 8 <= at(e["occurred_at"]).hour < 18 for e in ends)  # fmt: skip
        else:
            broken = finish is not None and any(
                e["kind"] == "correction" and evs.index(e) > evs.index(finish) for e in evs
            )
        if broken:
            add("risk_measure_violated", f"{r['step']}/{m}", RISK_LEVEL[r["level"]])


def audit(
    catalog: list[dict[str, Any]], events: list[dict[str, Any]], moment: datetime
) -> set[Finding]:
    items = {i["item_code"]: i for i in catalog}
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_case[e["case_id"]].append(e)
    out: set[Finding] = set()
    for case_id, evs in by_case.items():
        out |= audit_case(case_id, evs, items, moment)
    return out
