"""What the generated cases show against each item's guide: the truth of the practice check.

The practice check (:mod:`govwatch.guides.practice`) counts, per item, the cases that
contradict its guide, and reports an element when at least
:data:`~govwatch.guides.practice.MIN_CASES` cases and a share of at least
:data:`~govwatch.guides.practice.MIN_SHARE` of the item's cases do. Whether a generated item
crosses that line depends on its cases, so it is counted here while they are generated, from
the events as written (the way truth.jsonl is written from the plans, without running the
check): a :class:`Tally` per chunk, summed by the writer.

Reading every case would cost the generator a quarter more time, so a case's events are read
only when it can contradict its guide: its item's guide has a fault, or its plan breaks one of
the rules whose violations also contradict a correct guide (materials beyond the list, a fee
other than the list's, steps out of order, late). Every case still counts in the
denominators, from its plan: whether it runs a step, pays, finishes (render.py writes those
events exactly then; the tests compare the counts with the check's).

The ``unlisted_step`` fault is made here too: each case of such an item that runs a step gets
one more, before its first, that neither the list nor the guide names; it breaks no rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from govwatch.generator.plan import Plan
from govwatch.generator.workdays import WorkCalendar
from govwatch.guides.elements import published, read
from govwatch.guides.model import GuideFee, GuideLimit
from govwatch.guides.practice import MIN_CASES, MIN_SHARE, deviates_fee

PROMISED = "basic.promised_limit"
# The guide elements a case breaking one of these rules contradicts even when the guide is
# right (the guide then says what the list says): such a case is read for them.
RULE_ELEMENTS: Mapping[str, str] = {
    "materials_beyond_guide": "materials",
    "fee_mismatch": "fees",
    "unlisted_fee": "fees",
    "step_out_of_order": "process",
    "case_overdue": PROMISED,
}
# The elements in which a fault makes the guide differ from what the cases do: every case of
# such an item is read for them.
FAULT_ELEMENTS: Mapping[str, frozenset[str]] = {
    "wrong_promised_limit": frozenset((PROMISED,)),
    "wrong_fee": frozenset(("fees",)),
    "wrong_materials": frozenset(("materials",)),
    "wrong_process": frozenset(("process",)),
    "unlisted_step": frozenset(("process",)),
}
# The event kinds each element reads (a case's other lines are not parsed).
_KINDS: Mapping[str, frozenset[bytes]] = {
    "materials": frozenset((b"apply", b"supplement_request")),
    "process": frozenset((b"step_start",)),
    "fees": frozenset((b"payment",)),
    PROMISED: frozenset(
        (b"accept", b"finish", b"terminate", b"reject", b"special_start", b"special_end",
         b"supplement_request", b"supplement_received", b"suspend", b"resume")
    ),
}  # fmt: skip
_KIND = b'"kind":"'


@dataclass(frozen=True)
class ItemFacts:
    """What the practice check compares an item's cases with: the checkable guide elements
    (None when the element is absent, malformed or the guide unpublished)."""

    materials: frozenset[str] | None
    steps: Mapping[str, int] | None
    fee: GuideFee | None
    promised: GuideLimit | None
    watched: frozenset[str]  # elements every case is read for (the guide's fault)
    unlisted_step: str = ""


def item_facts(guide: Any, fault: str = "", unlisted_step: str = "") -> ItemFacts:
    """What the cases of an item are compared with; ``fault`` is its guide's fault kind."""
    watched = FAULT_ELEMENTS.get(fault, frozenset())
    if not published(guide):
        return ItemFacts(None, None, None, None, frozenset())
    materials, process = read(guide, "materials"), read(guide, "process")
    fee, promised = read(guide, "fees"), read(guide, "basic.promised_limit")
    return ItemFacts(
        frozenset(m.name for m in materials.value) if materials.ok else None,
        {s.name: i for i, s in enumerate(process.value)} if process.ok else None,
        fee.value if fee.ok else None,
        promised.value if promised.ok else None,
        watched,
        unlisted_step,
    )


@dataclass
class Tally:
    """Counts of one chunk (or, summed, of a province).

    ``cases`` counts the cases by (item, runs a step, pays, finishes); the others count the
    cases contradicting the guide, by item (and material).
    """

    cases: Counter[tuple[str, bool, bool, bool]] = field(default_factory=Counter)
    materials: Counter[tuple[str, str]] = field(default_factory=Counter)
    process: Counter[str] = field(default_factory=Counter)
    fees: Counter[str] = field(default_factory=Counter)
    late: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).update(getattr(other, name))

    def findings(self) -> set[tuple[str, str, str]]:
        """(item_code, element, "practice") for every item and element over the line."""
        applied: Counter[str] = Counter()
        stepped: Counter[str] = Counter()
        paying: Counter[str] = Counter()
        finished: Counter[str] = Counter()
        for (code, step, pay, finish), n in self.cases.items():
            applied[code] += n
            stepped[code] += n if step else 0
            paying[code] += n if pay else 0
            finished[code] += n if finish else 0

        def over(bad: int, of: int) -> bool:
            return bad >= MIN_CASES and bad >= MIN_SHARE * of

        out = {(c, "materials") for (c, _n), bad in self.materials.items() if over(bad, applied[c])}
        out |= {(c, "process") for c, bad in self.process.items() if over(bad, stepped[c])}
        out |= {(c, "fees") for c, bad in self.fees.items() if over(bad, paying[c])}
        out |= {
            (c, "basic.promised_limit") for c, bad in self.late.items() if over(bad, finished[c])
        }
        return {(code, element, "practice") for code, element in out}


class Observer:
    """Reads the cases of one chunk as they are generated (one per worker process)."""

    def __init__(self, facts: Mapping[str, ItemFacts], cal: WorkCalendar) -> None:
        self.facts = facts
        self.cal = cal
        self.day = {text: i for i, text in enumerate(cal.iso)}
        self.day.update({text: i for i, text in enumerate(cal.compact)})
        self.tally = Tally()

    def observe(
        self, plan: Plan, lines: list[bytes], truth: list[bytes]
    ) -> tuple[list[bytes], list[bytes]]:
        """Count one case (its plan and its event lines) and return its lines and truth, with
        the unlisted step inserted when its item has that fault."""
        code = plan.unknown_code or plan.item.code
        facts = self.facts.get(code)
        if facts is None:
            return lines, truth
        if facts.unlisted_step:
            lines, truth = insert_step(lines, truth, facts.unlisted_step)
        outcome = plan.outcome
        acted = outcome != "reject"  # a rejected case runs no step and pays nothing
        key = (code, acted and bool(plan.steps), acted and bool(plan.payments), outcome == "finish")
        cases = self.tally.cases
        cases[key] = cases.get(key, 0) + 1
        elements = facts.watched
        if plan.truth:
            elements = elements | {RULE_ELEMENTS[t[0]] for t in plan.truth if t[0] in RULE_ELEMENTS}
        if elements:
            kinds = frozenset().union(*(_KINDS[e] for e in elements))
            self._read(code, facts, elements, [orjson.loads(x) for x in lines if _kind(x) in kinds])
        return lines, truth

    def _read(
        self, code: str, facts: ItemFacts, elements: frozenset[str], events: list[dict[str, Any]]
    ) -> None:
        t = self.tally
        if facts.materials is not None and "materials" in elements:
            named = set()
            for e in events:
                if e["kind"] in ("apply", "supplement_request"):
                    for m in e.get("materials") or ():
                        named.add(m["name"] if isinstance(m, dict) else m)
            for name in named - facts.materials:
                t.materials[(code, name)] += 1
        if (
            facts.steps is not None
            and "process" in elements
            and _deviates_steps(events, facts.steps)
        ):
            t.process[code] += 1
        if facts.fee is not None and "fees" in elements:
            pays = [e for e in events if e["kind"] == "payment"]
            if pays:
                paid = sum(float(p.get("amount") or 0) for p in pays)
                quantity = sum(float(p.get("quantity") or 0) for p in pays)
                t.fees[code] += deviates_fee(facts.fee, paid, quantity)
        if (
            facts.promised is not None
            and PROMISED in elements
            and self._late(events, facts.promised)
        ):
            t.late[code] += 1

    def _late(self, events: list[dict[str, Any]], promised: GuideLimit) -> bool:
        """A finished case past the guide's promised limit, as the case clock counts it:
        pauses and extensions added, ``W`` on working days, ``N`` to the next working day."""
        day = self.day
        cal = self.cal
        accept = next((e for e in events if e["kind"] == "accept"), None)
        finish = next((e for e in events if e["kind"] == "finish"), None)
        if accept is None or finish is None:
            return False
        if any(e["kind"] in ("terminate", "reject") for e in events[: events.index(finish)]):
            return False
        a = day[_date(accept["occurred_at"])]
        f = max(day[_date(finish["occurred_at"])], a)
        extension = sum(
            int(e.get("limit") or 0)
            for e in events
            if e["kind"] == "special_start" and str(e.get("procedure_kind")) == "1"
        )
        spans = []
        for s, e in _pauses(events):
            lo = max(day[_date(s["occurred_at"])], a)
            hi = min(day[_date(e["occurred_at"])] if e is not None else f, f)
            spans.append((lo, hi))
        paused = 0
        reach = -1
        for lo, hi in sorted(spans):
            lo2 = max(reach, lo) if reach >= 0 else lo
            if hi > lo2:
                paused += cal.cum[hi] - cal.cum[lo2] if promised.unit == "W" else hi - lo2
            reach = max(reach, hi)
        return f > cal.deadline(a, promised.limit + extension + paused, promised.unit)


def _kind(line: bytes) -> bytes:
    """The kind of an event line (written ``{"event_id":…,"case_id":…,"kind":"…"``)."""
    start = line.index(_KIND) + len(_KIND)
    return line[start : line.index(b'"', start)]


def _date(occurred_at: str) -> str:
    return occurred_at[:10] if "-" in occurred_at[:8] else occurred_at[:8]


_PAUSE_KIND = {
    "supplement_request": "supplement",
    "supplement_received": "supplement",
    "special_end": "special",
    "suspend": "suspension",
    "resume": "suspension",
}
_STARTS = ("supplement_request", "special_start", "suspend")


def _pauses(events: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each pause start with the first end of its kind after it (the case clock's pairing)."""
    out = []
    for i, e in enumerate(events):
        kind = e["kind"]
        if kind == "special_start" and str(e.get("procedure_kind")) != "2":
            continue
        if kind not in _STARTS:
            continue
        pause = "special" if kind == "special_start" else _PAUSE_KIND[kind]
        end = next(
            (
                x
                for x in events[i + 1 :]
                if x["kind"] not in _STARTS and _PAUSE_KIND.get(x["kind"]) == pause
            ),
            None,
        )
        out.append((e, end))
    return out


def _deviates_steps(events: list[dict[str, Any]], order: Mapping[str, int]) -> bool:
    """A step the guide does not list, or two listed steps first started in reverse order."""
    seen: set[str] = set()
    last = -1
    for e in events:
        if e["kind"] != "step_start" or e.get("step") is None or e["step"] in seen:
            continue
        seen.add(e["step"])
        position = order.get(e["step"])
        if position is None or position < last:
            return True
        last = position
    return False


def _shift(occurred_at: str, seconds: int) -> str:
    if "-" in occurred_at[:8]:  # 2025-03-04T09:12:30+08:00
        clock = occurred_at[11:19]
        total = int(clock[:2]) * 3600 + int(clock[3:5]) * 60 + int(clock[6:8]) + seconds
        text = f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}"
        return occurred_at[:11] + text + occurred_at[19:]
    total = int(occurred_at[8:10]) * 3600 + int(occurred_at[10:12]) * 60 + int(occurred_at[12:14])
    total += seconds
    return f"{occurred_at[:8]}{total // 3600:02d}{total // 60 % 60:02d}{total % 60:02d}"


def insert_step(
    lines: Sequence[bytes], truth: Sequence[bytes], step: str
) -> tuple[list[bytes], list[bytes]]:
    """The case with ``step`` run (started and passed) just before its first step starts.

    Events are 2 minutes apart or more on a day, so 100 and 50 seconds before the first step
    start fall after whatever precedes it. Event ids are positions (``<case_id>-NN``): they
    are renumbered, and truth keys naming an event id follow.
    """
    events = [orjson.loads(line) for line in lines]
    first = next((i for i, e in enumerate(events) if e["kind"] == "step_start"), None)
    if first is None:
        return list(lines), list(truth)
    anchor = events[first]
    case_id = anchor["case_id"]
    who = {k: anchor[k] for k in ("actor", "org_code") if k in anchor}
    added = [
        {
            "event_id": "",
            "case_id": case_id,
            "kind": "step_start",
            "occurred_at": _shift(anchor["occurred_at"], -100),
            "step": step,
            **who,
        },
        {
            "event_id": "",
            "case_id": case_id,
            "kind": "step_end",
            "occurred_at": _shift(anchor["occurred_at"], -50),
            "step": step,
            "action": "pass",
            "opinion": "同意",
            **who,
        },
    ]
    events[first:first] = added
    renamed: dict[str, str] = {}
    for i, e in enumerate(events):
        new = f"{case_id}-{i:02d}"
        if e["event_id"]:
            renamed[e["event_id"]] = new
        e["event_id"] = new
    out_truth = []
    for line in truth:
        finding = orjson.loads(line)
        finding["key"] = renamed.get(finding["key"], finding["key"])
        out_truth.append(orjson.dumps(finding))
    return [orjson.dumps(e) for e in events], out_truth
