"""Turn a :class:`~govwatch.generator.plan.Plan` into the events of one case.

Events are laid out on working-day ordinals in the order they happen; times of day are then
assigned per day, strictly increasing, between 08:30 and about 16:00, so every event lies on a
working day in office hours. The one exception is a step end that breaks ``office_hours``:
it is stamped 18:30–20:30 and is always the last event of its day (the planner moves what
follows to the next working day).
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from govwatch.generator.people import mobile, person_name, random_body8, resident_id, uscc
from govwatch.generator.plan import Pause, Plan
from govwatch.generator.workdays import WorkCalendar

_TOD = tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400))
_TODC = tuple(t.replace(":", "") for t in _TOD)
CHANNELS = ("1", "1", "1", "1", "2", "2", "2", "3", "3", "3", "4", "9")
RATING_CHANNELS = ("PC端", "移动端", "二维码", "大厅平板", "大厅其他终端", "电话", "短信")
RATING_LEVELS = ("1",) * 14 + ("2",) * 4 + ("3", "4", "5")
RATING_TEXT = {"1": "办事效率高，服务热情", "2": "流程清楚", "3": "", "4": "等待时间较长",
               "5": "多次跑腿，要求提供指南以外的材料"}  # fmt: skip
_USCC_PREFIX = {"2": "91", "3": "12", "4": "52", "5": "11", "6": "93"}
_BRANDS = (
    "恒信",
    "华远",
    "金桥",
    "瑞丰",
    "鑫达",
    "宏图",
    "润泽",
    "安泰",
    "博远",
    "嘉禾",
    "汇通",
    "天成",
)
_TRADES = ("商贸", "科技", "餐饮", "建筑工程", "物流", "医药", "农业开发", "文化传媒", "环保科技")
_ORG_SUFFIX = {"2": "有限公司", "3": "中心", "4": "协会", "5": "办事处", "6": "合作社"}
PROCEDURE_TYPES = ("听证", "检验", "检测", "鉴定", "专家评审", "实地核查")
RESULT_REASON = {"1": "申请材料不符合法定形式，退回申请人", "2": "申请人重复提交，作废本件",
                 "3": "误登记的办件，予以删除", "5": "申请人逾期未补正材料",
                 "7": "申请人不符合法定条件"}  # fmt: skip

Event = tuple[int, bool, str, dict[str, Any]]  # (ordinal, after hours, kind, fields)


class Renderer:
    """Renders plans of one chunk; holds the calendar, the chunk's random stream and options."""

    def __init__(
        self, cal: WorkCalendar, rng: random.Random, compact_share: float, end_ord: int
    ) -> None:
        self.cal = cal
        self.rng = rng
        self.compact_share = compact_share
        self.end_ord = end_ord  # ordinal of the audit day

    # -- people -----------------------------------------------------------------------------
    def applicant(self, plan: Plan) -> dict[str, Any]:
        rng, item = self.rng, plan.item
        kind = item.applicants[int(rng.random() * len(item.applicants))]
        region = item.person_regions[int(rng.random() * len(item.person_regions))]
        if kind == "1":
            name, id_type, number = person_name(rng), "身份证", resident_id(rng, region)
        else:
            name = (_BRANDS[int(rng.random() * len(_BRANDS))] + _TRADES[int(rng.random() * len(_TRADES))]
                    + _ORG_SUFFIX[kind])  # fmt: skip
            id_type, number = "统一社会信用代码", uscc(_USCC_PREFIX[kind][0], _USCC_PREFIX[kind][1], region,
                                                    random_body8(rng))  # fmt: skip
        return {"applicant_type": kind, "applicant_name": name, "applicant_id_type": id_type,
                "applicant_id": number, "phone": mobile(rng)}  # fmt: skip

    # -- the case ---------------------------------------------------------------------------
    def render(self, plan: Plan, accept: int, case_no: int) -> tuple[list[bytes], list[bytes]]:
        rng, item, cal = self.rng, plan.item, self.cal
        staff = item.staff
        org = item.department_code
        code = plan.unknown_code or item.code
        applied = accept - plan.apply_lag
        case_id = f"{item.region_code}{cal.compact[cal.workdays[applied]]}{case_no:08d}"
        ev: list[Event] = []
        who = self.applicant(plan)
        materials = [
            {"name": n, "provided": r or rng.random() < 0.5}
            for n, r in (() if plan.unknown_code else item.materials)
            if not (plan.missing_absent and n in plan.missing)
        ]
        for m in materials:
            if m["name"] in plan.missing:
                m["provided"] = False
        if plan.extra_material:
            materials.append({"name": plan.extra_material, "provided": True})
        channel = CHANNELS[int(rng.random() * len(CHANNELS))]
        ev.append((applied, False, "apply", {"item_code": code, **who, "channel": channel,
                                              "materials": materials}))  # fmt: skip
        clerk = item.clerks[int(rng.random() * len(item.clerks))]
        if plan.outcome == "reject":
            fields: dict[str, Any] = {"actor": clerk, "org_code": org}
            if plan.with_reason:
                fields["reason"] = "申请事项不属于本机关职权范围"
            if plan.with_basis:
                fields["legal_basis"] = item.basis
            ev.append((accept, False, "reject", fields))
            if plan.rating and accept + 1 <= self.end_ord:
                ev.append((accept + 1, False, "rating", self._rating()))
            return self._finalize(plan, case_id, ev)
        actors = [staff[int(rng.random() * len(staff))] for _ in item.step_names]
        finish_actor = (
            actors[item.step_names.index("决定")] if "决定" in item.step_names else actors[-1]
        )
        accept_actor = clerk
        if plan.separation_violated:
            risk = next(r for r in item.risks if r.measure == "separation_of_duties")
            accept_actor = finish_actor = actors[risk.step]
        elif plan.same_actor:
            finish_actor = clerk
        for pay in plan.payments:
            if pay[0] == "pre_accept":
                ev.append((applied, False, "payment", self._payment(plan, pay)))
        acc: dict[str, Any] = {"item_code": code, "actor": accept_actor, "org_code": org,
                               "case_kind": item.kind if not plan.unknown_code else "2"}  # fmt: skip
        if plan.promised_offset is not None:
            due = cal.deadline_ordinal(accept, item.promised, item.unit) + plan.promised_offset
            acc["promised_finish_at"] = cal.iso[cal.workdays[due]] + "T17:00:00+08:00"
        ev.append((accept, False, "accept", acc))
        if plan.relation_step >= 0:
            ev.append((accept, False, "relation", {"handler": actors[plan.relation_step],
                       "applicant_id": who["applicant_id"], "relation": "近亲属"}))  # fmt: skip
        if plan.correction_before:
            ev.append((accept, False, "correction", self._correction(who)))
        cur = self._steps(plan, ev, accept, actors)
        if plan.outcome == "open":
            return self._finalize(plan, case_id, ev)
        for pay in plan.payments:
            if pay[0] == "pre_finish":
                ev.append((cur, False, "payment", self._payment(plan, pay)))
        if plan.outcome == "terminate":
            fields = {"actor": finish_actor, "org_code": org}
            if plan.with_reason:
                fields["reason"] = "申请人主动撤回申请"
            ev.append((cur, False, "terminate", fields))
        else:
            ev.append((cur, False, "finish", self._finish(plan, case_id, finish_actor, org)))
        if plan.restart_after_finish:
            last = plan.steps[-1]
            ev.append((cur, False, "step_start", {"step": item.step_names[last], "actor": actors[last],
                                                  "org_code": org}))  # fmt: skip
            ev.append((cur, False, "step_end", {"step": item.step_names[last], "action": "other",
                       "opinion": "补充归档", "actor": actors[last], "org_code": org}))  # fmt: skip
        for pay in plan.payments:
            if pay[0] == "post_finish":
                ev.append((cur, False, "payment", self._payment(plan, pay)))
        if plan.correction_after:
            ev.append((cur + int(rng.random() * 2), False, "correction", self._correction(who)))
        if plan.rating:
            ev.append((cur + int(rng.random() * 3), False, "rating", self._rating()))
        return self._finalize(plan, case_id, ev)

    def _steps(self, plan: Plan, ev: list[Event], accept: int, actors: list[str]) -> int:
        """Emit gaps, pauses and steps; return the ordinal where the case then stands."""
        item, rng, names, org = plan.item, self.rng, plan.item.step_names, plan.item.department_code
        staff = item.staff
        two = {r.step for r in item.risks if r.measure == "two_person_review"}
        by_position: dict[int, list[tuple[int, Pause]]] = {}
        for i, p in enumerate(plan.pauses):
            by_position.setdefault(p.position, []).append((i, p))
        cur = accept
        for pos in range(len(plan.steps) + 1):
            here = by_position.get(pos, ())
            for index, pause in here:  # an extension comes before the gap's waiting days
                if pause.kind == "extension":
                    self._pause(ev, cur, pause, index, item.staff[0], item.materials)
            cur += plan.gaps[pos]
            for index, pause in here:
                if pause.kind != "extension":
                    cur = self._pause(ev, cur, pause, index, item.staff[0], item.materials)
            if pos == len(plan.steps):
                break
            s = plan.steps[pos]
            start = {"step": names[s], "actor": actors[s], "org_code": org}
            ev.append((cur, False, "step_start", start))
            for _ in range(plan.returns.get(pos, 0)):
                ev.append(
                    (
                        cur,
                        False,
                        "step_end",
                        {
                            "step": names[s],
                            "action": "return",
                            "opinion": "材料需进一步说明，退回修改",
                            "actor": actors[s],
                            "org_code": org,
                        },
                    )
                )
                ev.append((cur, False, "step_start", start))  # fmt: skip
            cur += plan.durations[pos]
            late = s == plan.late_step
            ev.append((cur, late, "step_end", {"step": names[s], "action": "pass", "opinion": "同意",
                                               "actor": actors[s], "org_code": org}))  # fmt: skip
            if s in two and s != plan.single_review_step:
                other = staff[
                    (staff.index(actors[s]) + 1 + int(rng.random() * (len(staff) - 1))) % len(staff)
                ]
                ev.append((cur, late, "step_end", {"step": names[s], "action": "pass",
                           "opinion": "复核同意", "actor": other, "org_code": org}))  # fmt: skip
            if late:
                cur += 1
        if plan.outcome == "open" and plan.open_start_last:
            last = item.last_mandatory
            low = max(cur, self.end_ord - item.step_limits[last])
            if low <= self.end_ord:
                day = low + int(rng.random() * (self.end_ord - low + 1))
                ev.append((day, False, "step_start", {"step": names[last], "actor": actors[last],
                                                      "org_code": org}))  # fmt: skip
        return cur

    def _pause(self, ev: list[Event], cur: int, p: Pause, index: int, boss: str,
               materials: tuple[tuple[str, bool], ...]) -> int:  # fmt: skip
        if p.kind == "supplement":
            ev.append(
                (
                    cur,
                    False,
                    "supplement_request",
                    {"materials": list(p.materials), "reason": "材料不齐全，一次性告知补正"},
                )
            )
            cur += p.length
            ev.append((cur, False, "supplement_received", {"materials": list(p.materials)}))
        elif p.kind == "special":
            ev.append((cur, False, "special_start", {"procedure_kind": "2", "procedure_type": p.procedure_type,
                       "limit": p.limit, "limit_unit": p.unit, "reason": "依法需要" + p.procedure_type,
                       "approved_by": boss, "_ref": index}))  # fmt: skip
            cur += self._length(cur, p)
            ev.append((cur, False, "special_end", {"result": p.procedure_type + "完成"}))
        elif p.kind == "suspend":
            ev.append((cur, False, "suspend", {"reason": "申请人申请中止", "_ref": index}))
            cur += self._length(cur, p)
            ev.append((cur, False, "resume", {}))
        elif p.kind == "extension":
            ev.append(
                (
                    cur,
                    False,
                    "special_start",
                    {
                        "procedure_kind": "1",
                        "limit": p.limit,
                        "limit_unit": p.unit,
                        "reason": "情况复杂，经负责人批准延长",
                        "approved_by": boss,
                    },
                )
            )
        elif p.kind == "orphan_received":
            ev.append((cur, False, "supplement_received", {"materials": [materials[0][0]]}))
        elif p.kind == "orphan_special_end":
            ev.append((cur, False, "special_end", {"result": "检测完成"}))
        elif p.kind == "orphan_resume":
            ev.append((cur, False, "resume", {}))
        return cur

    def _length(self, cur: int, p: Pause) -> int:
        """Ordinals a pause lasts; natural-day pauses are fitted to the dates they span."""
        if p.natural == 0:
            return p.length
        natural = self.cal.natural_days
        if p.natural == 1:
            k = p.length
            while k > 0 and natural(cur, cur + k) > p.limit:
                k -= 1
            return k
        k = 1
        while natural(cur, cur + k) <= p.limit:
            k += 1
        return k + p.length

    def _finish(self, plan: Plan, case_id: str, actor: str, org: str) -> dict[str, Any]:
        item = plan.item
        out: dict[str, Any] = {"result": plan.result, "actor": actor, "org_code": org}
        if plan.finish_item_code:
            out["item_code"] = plan.finish_item_code
        if plan.with_reason and plan.result in RESULT_REASON:
            out["reason"] = RESULT_REASON[plan.result]
        if plan.with_basis and plan.result == "7":
            out["legal_basis"] = item.basis
        if plan.result == "0" and plan.with_licence:
            out["license_no"] = f"{item.region_code}{item.code[8:12]}{case_id[-12:]}"
        if plan.decided is not None:
            out["tier"], out["decided_value"] = plan.decided
        return out

    def _payment(self, plan: Plan, pay: tuple[str, float, float | None]) -> dict[str, Any]:
        out: dict[str, Any] = {"amount": pay[1], "fee_item": plan.item.fee_name or "服务费"}
        if pay[2] is not None:
            out["quantity"] = pay[2]
        return out

    def _rating(self) -> dict[str, Any]:
        rng = self.rng
        level = RATING_LEVELS[int(rng.random() * len(RATING_LEVELS))]
        out: dict[str, Any] = {"level": level, "channel": RATING_CHANNELS[int(rng.random() * 7)]}
        if RATING_TEXT[level]:
            out["text"] = RATING_TEXT[level]
        return out

    def _correction(self, who: dict[str, Any]) -> dict[str, Any]:
        return {"field": "phone", "old": who["phone"], "new": mobile(self.rng),
                "reason": "申请人联系电话变更", "actor": "admin"}  # fmt: skip

    # -- times, ids, truth ------------------------------------------------------------------
    def _finalize(
        self, plan: Plan, case_id: str, ev: list[Event]
    ) -> tuple[list[bytes], list[bytes]]:
        rng, cal = self.rng, self.cal
        lines: list[bytes] = []
        refs: dict[int, str] = {}
        prev_day = -1
        second = 0
        closed_day = -1
        share = self.compact_share
        dumps = orjson.dumps
        for i, (ordinal, late, kind, fields) in enumerate(ev):
            day = cal.workdays[ordinal]
            if day == closed_day and not late:
                raise AssertionError(f"{case_id}: event after an after-hours step end on its day")
            if late:
                base = 66600 + int(rng.random() * 3600)
                second = max(second + 60, base) if day == prev_day else base
                closed_day = day
            elif day == prev_day:
                second += 120 + int(rng.random() * 600)
            else:
                second = 30600 + int(rng.random() * 5400)
            if not late and second > 64800:
                raise AssertionError(f"{case_id}: too many events on one day")
            prev_day = day
            if share and rng.random() < share:
                stamp = cal.compact[day] + _TODC[second]
            else:
                stamp = cal.iso[day] + "T" + _TOD[second] + "+08:00"
            if "_ref" in fields:
                refs[fields.pop("_ref")] = f"{case_id}-{i:02d}"
            # The head holds only ASCII digits, letters and punctuation: no JSON escaping needed,
            # so it is formatted directly and the kind's own fields are spliced in after it.
            head = f'{{"event_id":"{case_id}-{i:02d}","case_id":"{case_id}","kind":"{kind}","occurred_at":"{stamp}"'
            if fields:
                lines.append(head.encode() + b"," + dumps(fields)[1:])
            else:
                lines.append(head.encode() + b"}")
        truth = []
        for rule, key, level, ref in sorted(plan.truth):
            truth.append(orjson.dumps({"case_id": case_id, "rule": rule,
                                       "key": refs[ref] if ref >= 0 else key, "level": level}))  # fmt: skip
        return lines, truth
