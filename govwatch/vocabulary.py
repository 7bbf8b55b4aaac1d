"""Every Chinese label for a code, once.

Pages, messages, documents and the command line show codes (``yellow``, ``supplement_received``,
``7``) by their Chinese names. The names live here and nowhere else, so that two screens can
never call one thing by two names (they did: the timeline said 补正收讫 where the rule messages
said 补正材料收讫). Where spec/data.md or spec/rules.md gives the Chinese term, the label is
that term; ``tests/test_vocabulary.py`` checks every code the spec lists has a label here and
that no other module defines a second copy of a table.

This module imports nothing but the standard library, so every layer may use it. Tables are
read-only mappings from code to label; :func:`label` looks a code up and falls back to the code
itself, which is what a page should show for a code it does not know (a custom rule, a value a
newer release added) rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final


def _table(entries: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(entries)


def label(table: Mapping[str, str], code: object) -> str:
    """The Chinese label of ``code`` in ``table``; the code itself (as text) if it has none."""
    text = "" if code is None else str(code)
    return table.get(text, text)


# --- Supervision rules (spec/rules.md) -----------------------------------------------------

# Alert levels (告警等级).
LEVEL_NAMES: Final = _table({"warning": "预警", "yellow": "黄牌", "red": "红牌"})

# The five classes of anomaly (异常类别).
CLASS_NAMES: Final = _table(
    {
        "timeliness": "时效异常",
        "process": "流程异常",
        "content": "内容异常",
        "discretion": "裁量(收费)异常",
        "integrity": "廉政风险点异常",
    }
)

# The eleven seed types of anomaly (异常类型) and the class each belongs to. The types are
# Chinese terms themselves (findings carry them as they are), so this table maps a type to
# its class code rather than to a label.
ANOMALY_TYPE_CLASSES: Final = _table(
    {
        "临近时限预警": "timeliness",
        "办理环节超期": "timeliness",
        "办理超期异常": "timeliness",
        "过程异常": "process",
        "结果异常": "process",
        "决定异常": "process",
        "完整性异常": "content",
        "一致性异常": "content",
        "裁量异常": "discretion",
        "收费金额异常": "discretion",
        "廉政风险点异常": "integrity",
    }
)

# Short names of the built-in rules, by their stable id. The rule registry
# (govwatch.rules.registry) holds what a rule does; this holds what it is called.
RULE_NAMES: Final = _table(
    {
        "near_deadline": "临近办结时限",
        "step_overdue": "办理环节超期",
        "case_overdue": "办件超期",
        "missing_step": "缺少必经环节",
        "step_out_of_order": "环节顺序异常",
        "event_out_of_order": "事件顺序异常",
        "repeated_supplement": "多次补正告知",
        "special_procedure_overrun": "特别程序超时",
        "long_suspension": "中止时间过长",
        "repeated_return": "多次退回",
        "result_without_reason": "办结未说明理由",
        "licence_missing": "出证办结缺证照编号",
        "adverse_decision_without_basis": "不利决定缺理由或依据",
        "missing_materials": "材料不全即受理",
        "unknown_item": "事项不在目录中",
        "materials_beyond_guide": "要求办事指南以外的材料",
        "promise_mismatch": "承诺办结时间与目录不符",
        "discretion_out_of_band": "裁量超出基准",
        "unlisted_fee": "擅自收费",
        "fee_mismatch": "收费金额不符",
        "risk_measure_violated": "廉政风险防控措施未落实",
        # Raised by the supervision-order workflow (govwatch.alerts.orders), not the catalog.
        "order_overdue": "督办反馈超期",
        # Raised on an item after a guide check run (govwatch.rules.item_rules), not on cases.
        "guide_element_missing": "办事指南缺少必备要素",
        "guide_element_malformed": "办事指南要素不规范",
        "guide_list_mismatch": "办事指南与实施清单不一致",
        "guide_dead_link": "表格样表下载链接失效",
    }
)

# Prevention measures (防控措施) a risk point may name (spec/data.md).
RISK_MEASURE_NAMES: Final = _table(
    {
        "two_person_review": "双人审核",
        "separation_of_duties": "受理与决定岗位分离",
        "no_conflict_of_interest": "利害关系回避",
        "office_hours": "工作时间办理",
        "no_edit_after_finish": "办结后不得修改数据",
    }
)

# Where a rule setting applies (规则设置范围); the most specific wins.
SCOPE_NAMES: Final = _table(
    {"all": "全局", "region": "行政区划", "department": "部门", "item": "事项"}
)

# --- Canonical data (spec/data.md) ---------------------------------------------------------

# Event kinds (办件事件类型).
EVENT_KIND_NAMES: Final = _table(
    {
        "apply": "申请",
        "accept": "受理",
        "reject": "不予受理",
        "supplement_request": "补正告知",
        "supplement_received": "补正材料收讫",
        "step_start": "环节开始",
        "step_end": "环节结束",
        "special_start": "特别程序开始",
        "special_end": "特别程序结束",
        "suspend": "中止",
        "resume": "恢复",
        "terminate": "终止",
        "finish": "办结",
        "payment": "收费",
        "rating": "好差评",
        "correction": "数据更正",
        "relation": "关联关系申报",
    }
)

# Finish result codes (办结结果).
FINISH_RESULT_NAMES: Final = _table(
    {
        "0": "出证办结",
        "1": "退回办结",
        "2": "作废办结",
        "3": "删除办结",
        "4": "转报办结",
        "5": "补正不来办结",
        "6": "准予",
        "7": "不予许可",
    }
)

# Code A.1 事项类型 (GB/T 39046).
ITEM_TYPE_NAMES: Final = _table(
    {
        "01": "行政许可",
        "02": "行政处罚",
        "03": "行政强制",
        "04": "行政征收",
        "05": "行政给付",
        "06": "行政检查",
        "07": "行政确认",
        "08": "行政奖励",
        "09": "行政裁决",
        "10": "其他行政权力",
        "20": "公共服务",
    }
)

# Code A.2 行使层级.
ITEM_LEVEL_NAMES: Final = _table(
    {
        "1": "国家级",
        "2": "省级",
        "3": "市级",
        "4": "县级",
        "5": "乡镇（街道）级",
        "6": "村(社区)级",
        "7": "分级管理",
    }
)

# 办件类型: the kind of a case.
CASE_KIND_NAMES: Final = _table({"1": "即办件", "2": "承诺件"})

# Units of a time limit.
UNIT_NAMES: Final = _table({"W": "工作日", "N": "自然日"})

# Code A.4 申请者类型.
APPLICANT_TYPE_NAMES: Final = _table(
    {
        "1": "自然人",
        "2": "企业法人",
        "3": "事业法人",
        "4": "社会组织法人",
        "5": "行政机关",
        "6": "其他组织",
    }
)

# Code A.5 办理形式 (the channel of an application).
CHANNEL_NAMES: Final = _table(
    {"1": "窗口", "2": "电脑端网办", "3": "移动端", "4": "快递", "9": "其他"}
)

# Code A.8 满意度 (a rating's level); 4 and 5 are 差评.
SATISFACTION_NAMES: Final = _table(
    {"1": "非常满意", "2": "满意", "3": "基本满意", "4": "不满意", "5": "非常不满意"}
)

# 业务动作: how a step ended.
STEP_ACTION_NAMES: Final = _table({"pass": "通过", "return": "退回", "other": "其他"})

# 特别程序种类.
PROCEDURE_KIND_NAMES: Final = _table({"1": "延长审批", "2": "其他特别程序"})

# 网上办理深度 of an item's online profile.
ONLINE_DEPTH_NAMES: Final = _table(
    {
        "0": "仅线下办理",
        "1": "信息发布",
        "2": "表格下载",
        "3": "在线预审",
        "4": "在线受理",
        "5": "全程网办",
    }
)

# --- Case clocks (spec/time.md, spec/interface.md) -----------------------------------------

# What paused a clock.
PAUSE_KIND_NAMES: Final = _table(
    {"supplement": "补正", "special": "特别程序", "suspension": "中止"}
)

# A case's status: the clock's four (open, paused, finished, terminated) and the stages
# before acceptance or without it that pages also show.
CASE_STATUS_NAMES: Final = _table(
    {
        "applied": "已申请",
        "open": "办理中",
        "accepted": "办理中",
        "paused": "暂停计时",
        "finished": "已办结",
        "terminated": "已终止",
        "rejected": "不予受理",
    }
)

# --- Alerts and their handling --------------------------------------------------------------

# The rule engine's view of an alert's condition.
ALERT_STATUS_NAMES: Final = _table({"active": "有效", "cleared": "已消除"})

# The handling workflow's states (govwatch.alerts.states).
WORKFLOW_STATE_NAMES: Final = _table(
    {
        "open": "待处理",
        "explained": "已说明",
        "appealed": "申诉中",
        "rectifying": "整改中",
        "rectified": "已整改待确认",
        "closed": "已办结",
        "dismissed": "申诉成立已撤销",
    }
)

# The handling workflow's moves.
WORKFLOW_ACTION_NAMES: Final = _table(
    {
        "explain": "情况说明",
        "appeal": "申诉",
        "accept_explanation": "采纳说明",
        "uphold_appeal": "申诉成立",
        "reject_appeal": "驳回申诉",
        "require_rectification": "责令整改",
        "report_rectified": "报告整改",
        "confirm_rectified": "确认整改",
        "return_rectification": "退回整改",
        "close": "直接办结",
        "auto_close": "条件消除自动办结",
        "reopen": "条件重现重新打开",
        "escalate": "整改逾期升级",
        "raise": "发现告警",
    }
)

# Who acted when no person did (the rule engine, the sweeper), in a handling log.
SYSTEM_ACTOR_NAME: Final = "系统"

# Changes of an alert's condition recorded by the rule engine (alert_history.change).
CONDITION_CHANGE_NAMES: Final = _table(
    {"raised": "发现", "level": "级别变化", "cleared": "消除", "reopened": "重现"}
)

# --- What an alert's evidence says (govwatch/alerts/evidence_text.py) ------------------------

# The label of each evidence field the built-in rules record, by key; ``rule.key`` where one
# rule means something narrower by the key (a step's start, a suspension's start). Units,
# shown with the number they count (``3 个工作日``), have labels for custom and unknown uses.
EVIDENCE_FIELD_NAMES: Final = _table(
    {
        "deadline": "承诺办结期限",
        "elapsed": "已用时间",
        "remaining": "剩余时间",
        "limit_days": "时限",
        "unit": "计时单位",
        "warn_days": "提前预警",
        "provisional": "期限为暂定",
        "step": "环节",
        "started_at": "开始时间",
        "ended_at": "结束时间",
        "days_late": "超出时间",
        "still_open": "仍在办理",
        "status": "办件状态",
        "finished_at": "办结时间",
        "promised_deadline": "承诺办结期限",
        "promised_unit": "承诺时限单位",
        "promised_days_late": "超出承诺期限",
        "legal_deadline": "法定办结期限",
        "legal_unit": "法定时限单位",
        "legal_days_late": "超出法定期限",
        "legal_overdue": "已超法定期限",
        "result": "办结结果",
        "flow_seq": "在流程中的顺序",
        "after_step": "先于它开始的后续环节",
        "after_flow_seq": "后续环节在流程中的顺序",
        "kind": "事件",
        "problem": "问题",
        "event_id": "事件编号",
        "occurred_at": "发生时间",
        "count": "同类事件数",
        "requests": "补正告知次数",
        "max_requests": "允许的补正告知次数",
        "start_event_id": "开始事件编号",
        "procedure_type": "特别程序类型",
        "days": "持续时间",
        "max_days": "允许的最长时间",
        "returns": "退回次数",
        "max_returns": "允许的退回次数",
        "missing_reason": "缺少理由",
        "missing_legal_basis": "缺少法律依据",
        "material": "材料",
        "accepted_at": "受理时间",
        "item_code": "事项编码",
        "event_kind": "事件",
        "promised_finish_at": "受理时承诺的办结时间",
        "tier": "裁量档次",
        "decided_value": "决定值",
        "min_value": "档次下限",
        "max_value": "档次上限",
        "payments": "收费笔数",
        "amount_yuan": "收费合计",
        "paid_yuan": "实收合计",
        "expected_yuan": "按收费标准应收",
        "quantity": "计费数量",
        "tolerance": "允许差额",
        "measure": "防控措施",
        "risk_level": "风险等级",
        "actor": "经办人",
        "near_deadline.limit_days": "承诺时限",
        "step_overdue.started_at": "环节开始时间",
        "step_overdue.ended_at": "环节结束时间",
        "step_overdue.limit_days": "环节时限",
        "step_out_of_order.started_at": "本环节开始时间",
        "special_procedure_overrun.started_at": "特别程序开始时间",
        "special_procedure_overrun.ended_at": "特别程序结束时间",
        "special_procedure_overrun.limit_days": "特别程序时限",
        "special_procedure_overrun.days": "已用时间",
        "long_suspension.started_at": "中止开始时间",
        "long_suspension.ended_at": "恢复计时时间",
        "long_suspension.days": "中止时间",
        "result_without_reason.kind": "办结或终止",
        "adverse_decision_without_basis.kind": "决定",
        "promise_mismatch.event_id": "受理事件编号",
        "promise_mismatch.limit_days": "事项承诺时限",
        "promise_mismatch.promised_deadline": "按承诺时限计算的期限",
        "risk_measure_violated.occurred_at": "事件时间",
        # an item's guide (事项公开信息异常, govwatch.rules.item_rules)
        "item_name": "事项名称",
        "guide_element": "指南要素",
        "guide_check": "核查方式",
        "expected": "应为",
        "found": "实际",
        "guide_run": "核查批次",
        "guide_url": "指南网址",
        "details": "具体问题",
    }
)

# What was wrong with an event's place in a case (event_out_of_order's ``problem``).
EVENT_ORDER_PROBLEM_NAMES: Final = _table(
    {
        "before_accept": "受理前发生",
        "without_request": "无对应的补正告知",
        "without_start": "无对应的特别程序开始",
        "without_suspend": "无对应的中止",
        "after_end": "办结或终止后发生",
    }
)

# What was wrong with a decision's discretion (discretion_out_of_band's ``problem``).
DISCRETION_PROBLEM_NAMES: Final = _table(
    {"unknown_tier": "档次不在裁量基准中", "out_of_band": "决定值超出档次范围"}
)

# A yes/no value (a flag of the evidence, an item's online features), by its text.
YES_NO_NAMES: Final = _table({"True": "是", "False": "否"})

# The fields of a canonical event (spec/data.md §2), as a correction names the field it changed.
EVENT_FIELD_NAMES: Final = _table(
    {
        "item_code": "事项编码",
        "occurred_at": "发生时间",
        "actor": "经办人",
        "org_code": "办理单位",
        "applicant_type": "申请者类型",
        "applicant_name": "申请人姓名",
        "applicant_id_type": "申请人证件类型",
        "applicant_id": "申请人证件号码",
        "phone": "联系电话",
        "channel": "办理形式",
        "materials": "申请材料",
        "case_kind": "办件类型",
        "promised_finish_at": "承诺办结时间",
        "reason": "理由",
        "legal_basis": "法律依据",
        "step": "环节",
        "action": "业务动作",
        "opinion": "办理意见",
        "procedure_kind": "特别程序种类",
        "procedure_type": "特别程序类型",
        "limit": "时限",
        "limit_unit": "时限单位",
        "approved_by": "批准人",
        "result": "办结结果",
        "license_no": "证照编号",
        "tier": "裁量档次",
        "decided_value": "决定值",
        "amount": "金额",
        "fee_item": "收费项目",
        "quantity": "数量",
        "level": "满意度",
        "text": "评价内容",
        "handler": "经办人",
        "relation": "关联关系",
        "field": "更正的字段",
        "old": "原值",
        "new": "新值",
    }
)

# Supervision orders (督办单): states and moves.
ORDER_STATE_NAMES: Final = _table(
    {"issued": "待回复", "replied": "已回复", "overdue": "逾期未回复", "closed": "已办结"}
)
ORDER_ACTION_NAMES: Final = _table(
    {"reply": "回复督办", "accept": "采纳回复", "return": "退回重新回复"}
)

# --- Accounts and organisations -------------------------------------------------------------

ROLE_NAMES: Final = _table(
    {
        "admin": "管理员",
        "supervisor": "监察人员",
        "department": "部门用户",
        "evaluator": "第三方评估人员",
        "source": "数据来源系统",
        "public": "公众",
    }
)

# What each permission allows, as a refusal names it ("监察人员无权管理用户").
PERMISSION_NAMES: Final = _table(
    {
        "events.post": "提交办件事件",
        "alerts.read": "查看告警",
        "cases.read": "查看办件",
        "alerts.department_act": "以责任部门身份处理告警",
        "alerts.supervise": "以监察人员身份处理告警",
        "orders.read": "查看督办单",
        "orders.issue": "发出督办",
        "orders.reply": "回复督办",
        "rules.read": "查看监察规则",
        "rules.manage": "管理监察规则目录",
        "evaluations.read": "查看评估结果",
        "notifications.read": "查看通知",
        "webhooks.manage": "管理 Webhook",
        "users.manage": "管理用户",
        "ledger.verify": "校验账本",
        "pii.view": "查看未脱敏个人信息",
    }
)

ORG_KIND_NAMES: Final = _table(
    {"province": "省", "city": "市", "county": "县（区）", "department": "部门"}
)

# --- Evaluation (spec/evaluation.md) --------------------------------------------------------

# The stages of an evaluation round (评估批次).
ROUND_STAGE_NAMES: Final = _table(
    {
        "configured": "已配置",
        "collecting": "采集中",
        "computed": "已计算",
        "review": "复核中",
        "published": "已发布",
    }
)

# --- Calendar -------------------------------------------------------------------------------

# The calendar's exceptions to the weekend rule, as `calendar show` lists them.
DAY_KIND_NAMES: Final = _table({"holiday": "放假", "makeup_workday": "上班"})

# Chinese names of the official-holiday package's (English) holiday labels.
HOLIDAY_NAMES: Final = _table(
    {
        "New Year's Day": "元旦",
        "Spring Festival": "春节",
        "Tomb-sweeping Day": "清明节",
        "Labour Day": "劳动节",
        "Dragon Boat Festival": "端午节",
        "National Day": "国庆节",
        "Mid-autumn Festival": "中秋节",
        "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
    }
)

# --- Jobs of the web app (govwatch/live/jobs.py) -----------------------------------------------

# Long administrator operations run in the background, with their progress on the pages.
JOB_KIND_NAMES: Final = _table(
    {"rule_reevaluation": "规则调整后重新评估", "round_compute": "计算评估结果"}
)
JOB_STATUS_NAMES: Final = _table(
    {
        "queued": "排队中",
        "running": "进行中",
        "done": "已完成",
        "failed": "失败",
        "interrupted": "中断",
    }
)
JOB_STAGE_NAMES: Final = _table(
    {
        "queued": "等待开始",
        "started": "准备中",
        "rules": "按新规则评估全部办件",
        "workflow": "同步预警处置流程",
        "compute": "计算得分、星级与排名",
        "done": "已完成",
    }
)

# The marks of a health check (govwatch doctor, the administrator's 系统检查 page).
HEALTH_STATUS_NAMES: Final = _table({"ok": "正常", "warn": "提示", "fail": "需处理"})


def __getattr__(name: str) -> Mapping[str, Mapping[str, str]]:
    """``TABLES``: every table of this module (a ``*_NAMES`` mapping), by name, wherever in the
    file it is defined: the tests and the docs walk it, and a table added later is walked too."""
    if name != "TABLES":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return MappingProxyType(
        {
            key: value
            for key, value in globals().items()
            if key.endswith("_NAMES") and isinstance(value, Mapping)
        }
    )


def rule_name(rule_id: str) -> str:
    """A rule's short Chinese name; a custom rule (not listed) is shown by its id."""
    return label(RULE_NAMES, rule_id)


def event_kind_name(kind: object) -> str:
    return label(EVENT_KIND_NAMES, kind)


def level_name(level: object) -> str:
    return label(LEVEL_NAMES, level)


def unit_name(unit: object) -> str:
    """``W`` → 工作日; a missing unit is working days, the default of spec/data.md."""
    return label(UNIT_NAMES, unit or "W")


# --- Rule parameters on the rules page (govwatch/rules/describe.py; issue 14 item 6) ---------

# Each built-in rule parameter's Chinese name and the unit its value counts in, by
# "rule.parameter"; the unit is "" for a parameter whose value is itself a level or a unit.
# near_deadline's days count in the item's promised-limit unit, long_suspension's max_days in
# the rule's own ``unit`` parameter (describe.py says which). Pairs, not a code->label table.
RULE_PARAM_LABELS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "near_deadline.warn_days": ("预警提前天数", "天"),
        "case_overdue.promised_level": ("超承诺时限的级别", ""),
        "case_overdue.legal_level": ("超法定时限的级别", ""),
        "repeated_supplement.max_requests": ("允许的补正告知次数", "次"),
        "long_suspension.max_days": ("允许的最长中止天数", "天"),
        "long_suspension.unit": ("中止天数的计算单位", ""),
        "repeated_return.max_returns": ("允许的退回次数", "次"),
        "fee_mismatch.tolerance": ("允许的收费差额", "元"),
        "risk_measure_violated.high_level": ("高风险点的级别", ""),
        "risk_measure_violated.medium_level": ("中风险点的级别", ""),
        "risk_measure_violated.low_level": ("低风险点的级别", ""),
    }
)


# --- Lists and the dashboard's drill-down (issue 14 items 5 and 9; alerts/queries.py,
# alerts/case_list.py, pages/alerts.py, pages/case_list.py) ---------------------------------

# Which moment of an alert a date filter reads (queries.DATE_BASES).
DATE_BASIS_NAMES: Final = _table(
    {
        "occurred": "发生时间",
        "detected": "发现时间",
        "cleared": "消除时间",
        "closed": "办结时间",
    }
)

# A filter of the alert list over several handling states at once.
STATE_FILTER_NAMES: Final = _table({"unfinished": "未办结（待处理至整改中）"})

# A case's timeliness as the case list filters it (case_list.TIMINGS).
CASE_TIMING_NAMES: Final = _table({"overdue": "超期", "ontime": "按时办结"})


# --- Service-guide checks (issue 16; govwatch/guides/elements.py, docs/guides.md) ----------
# (G1's block: the element codes are the stable English codes of guides/elements.py.)

# The elements a service guide (办事指南) publishes.
GUIDE_ELEMENT_NAMES: Final = _table(
    {
        "guide": "办事指南",
        "basic.name": "事项名称",
        "basic.codes": "事项编码",
        "basic.item_type": "事项类型",
        "basic.basis": "设定依据",
        "basic.department": "实施主体",
        "basic.level": "行使层级",
        "basic.conditions": "受理条件",
        "basic.legal_limit": "法定办结时限",
        "basic.promised_limit": "承诺办结时限",
        "basic.place": "办理地点",
        "basic.hours": "办理时间",
        "basic.contact": "咨询方式",
        "basic.complaint": "监督投诉方式",
        "materials": "申请材料",
        "process": "办理流程",
        "downloads": "表格及样表下载",
        "fees": "收费信息",
        "online": "网上办理深度",
    }
)

# The groups of elements the evaluation scores (办事指南准确度, element by element).
GUIDE_GROUP_NAMES: Final = _table(
    {
        "guide": "指南公开",
        "basic": "基础信息",
        "materials": "申请材料",
        "process": "办理流程",
        "downloads": "表格及样表下载",
        "fees": "收费信息",
        "online": "网上办理",
    }
)

# The three kinds of guide check.
GUIDE_CHECK_NAMES: Final = _table(
    {
        "completeness": "要素完整性",
        "consistency": "与实施清单一致性",
        "practice": "与办理实际一致性",
    }
)


# --- The desks: 督办台, 今日待办, the inbox (issue 14 items 3 and 4; govwatch/alerts/desk*.py) ----

# What a page says once a handling action succeeded ("已情况说明" is not Chinese).
WORKFLOW_ACTION_DONE: Final = _table(
    {
        "explain": "已提交情况说明",
        "appeal": "已申诉",
        "accept_explanation": "已采纳情况说明",
        "uphold_appeal": "已认定申诉成立",
        "reject_appeal": "已驳回申诉",
        "require_rectification": "已责令整改",
        "report_rectified": "已报告整改情况",
        "confirm_rectified": "已确认整改",
        "return_rectification": "已退回整改",
        "close": "已直接办结",
    }
)

# In-app notifications by kind (notifications.kind), as the inbox lists them.
NOTIFICATION_KIND_NAMES: Final = _table(
    {
        "alert.raise": "发现告警",
        "alert.explain": "情况说明",
        "alert.appeal": "申诉",
        "alert.accept_explanation": "采纳说明",
        "alert.uphold_appeal": "申诉成立",
        "alert.reject_appeal": "驳回申诉",
        "alert.require_rectification": "责令整改",
        "alert.report_rectified": "报告整改",
        "alert.confirm_rectified": "确认整改",
        "alert.return_rectification": "退回整改",
        "alert.close": "直接办结",
        "alert.auto_close": "自动办结",
        "alert.reopen": "重新打开",
        "alert.escalate": "整改逾期升级",
        "alert.red": "升为红牌",
        "order.issued": "收到督办",
        "order.reply": "督办回复",
        "order.accept": "采纳回复",
        "order.return": "退回重新回复",
        "order.overdue": "督办逾期",
        "calendar.notice_missing": "节假日安排未导入",
        "round.collection_opened": "评估开始填报",
        "round.fill_due_soon": "评估填报即将截止",
        "round.fill_overdue": "评估填报已截止",
        "round.review_opened": "评估结果复核",
        "round.appeal_decided": "评估申诉已处理",
        "round.published": "评估结果发布",
        "rectification.due_soon": "整改即将到期",
        "rectification.overdue": "整改已超期",
        "notice.issued": "收到通报",
    }
)

# The lists of the desks (the tabs of 督办台 and the sections of 今日待办).
DESK_LIST_NAMES: Final = _table(
    {
        "follow": "督办跟踪",
        "replies": "回复待审核",
        "decide": "待裁决",
        "issue": "待督办",
        "todo": "待办理",
        "submitted": "已提交待审核",
    }
)

# What a department owes on an item of 今日待办.
TODO_KIND_NAMES: Final = _table(
    {
        "order": "回复督办",
        "open": "答复告警",
        "rectifying": "整改并报告",
    }
)

# The moves of an order's history that no person chooses on a page (ORDER_ACTION_NAMES has the
# others): issuing it, and the sweeper marking it overdue.
ORDER_HISTORY_NAMES: Final = _table({"issue": "发出督办", "overdue": "逾期未回复"})

# --- Guide check runs, coverage and item-information alerts (issue 16; G3's block:
# govwatch/guides/runs.py, coverage.py, lists.py, rules/item_rules.py, web/pages/guides.py) ---

# The class of the item-information rules (事项公开信息异常), beside the five of spec/rules.md.
ITEM_RULE_CLASS_NAMES: Final = _table({"item_info": "事项公开信息异常"})
# Every class an alert may carry: the five classes and the item-information class.
ALERT_CLASS_NAMES: Final = _table({**CLASS_NAMES, **ITEM_RULE_CLASS_NAMES})

# What a guide check run read.
GUIDE_RUN_SOURCE_NAMES: Final = _table({"catalog": "事项目录", "crawl": "门户抓取"})

# What a finding means for supervision (guide_findings.kind).
GUIDE_FINDING_KIND_NAMES: Final = _table(
    {
        "missing": "要素缺失",
        "malformed": "要素不规范",
        "dead_link": "下载链接失效",
        "mismatch": "与实施清单不一致",
        "practice": "与办理实际不符",
    }
)

# An evaluator's review of a finding.
GUIDE_REVIEW_ACTION_NAMES: Final = _table({"override": "认定不成立", "restore": "恢复认定"})

# The coverage and accuracy figures of a run (govwatch/guides/coverage.py).
GUIDE_FIGURE_NAMES: Final = _table(
    {
        "items_published": "事项清单公布率",
        "guides_published": "办事指南公布率",
        "guide_standard": "指南要素规范率",
        "basic": "基本信息准确率",
        "materials": "申请材料准确率",
        "process": "办理流程准确率",
        "forms": "表格及样表下载准确率",
        "fees": "收费信息准确率",
    }
)

# The items a figure counts or misses (govwatch/guides/lists.py ITEM_MEASURES).
GUIDE_MEASURE_NAMES: Final = _table(
    {
        "items": "全部事项",
        "published": "已公布的事项",
        "unpublished": "未公布的事项",
        "with_guide": "已公布办事指南的事项",
        "without_guide": "未公布办事指南的事项",
        "standard": "指南要素规范的事项",
        "nonstandard": "指南要素缺失或不规范的事项",
        "faulty_basic": "基本信息有问题的事项",
        "faulty_materials": "申请材料有问题的事项",
        "faulty_process": "办理流程有问题的事项",
        "faulty_forms": "表格及样表下载有问题的事项",
        "faulty_fees": "收费信息有问题的事项",
        "accurate_basic": "基本信息无问题的事项",
        "accurate_materials": "申请材料无问题的事项",
        "accurate_process": "办理流程无问题的事项",
        "accurate_forms": "表格及样表下载无问题的事项",
        "accurate_fees": "收费信息无问题的事项",
    }
)

# Kinds of unit coverage is counted by (evaluation unit kinds, spec/evaluation.md).
GUIDE_UNIT_KIND_NAMES: Final = _table(
    {
        "city": "设区市",
        "county": "县（市、区）",
        "department": "部门",
        "province": "省",
        "region": "行政区划（本级）",
    }
)


# --- The case view's columns, as a custom rule's expression names them (C1's block: the column
# list of the custom-rule form on /rules, govwatch/rules/describe.py; rules/views.py
# CASE_VIEW_COLUMNS keeps each column's type and longer meaning). A column an evidence field or
# an event field already names takes that name.
CASE_VIEW_COLUMN_NAMES: Final = _table(
    {
        "case_id": "办件编号",
        "item_code": EVIDENCE_FIELD_NAMES["item_code"],
        "item_known": "事项在目录中",
        "item_name": "事项名称",
        "region_code": "行政区划代码",
        "department_code": "实施主体编码",
        "org_code": EVENT_FIELD_NAMES["org_code"],
        "channel": EVENT_FIELD_NAMES["channel"],
        "applicant_type": EVENT_FIELD_NAMES["applicant_type"],
        "case_kind": EVENT_FIELD_NAMES["case_kind"],
        "accepted_by": "受理人",
        "promised_finish_at": EVIDENCE_FIELD_NAMES["promised_finish_at"],
        "result": EVIDENCE_FIELD_NAMES["result"],
        "status": EVIDENCE_FIELD_NAMES["status"],
        "applied_at": "申请时间",
        "accepted_at": EVIDENCE_FIELD_NAMES["accepted_at"],
        "finished_at": EVIDENCE_FIELD_NAMES["finished_at"],
        "terminated_at": "终止时间",
        "rejected_at": "不予受理时间",
        "event_count": "事件数",
        "supplement_requests": EVIDENCE_FIELD_NAMES["requests"],
        "returns": EVIDENCE_FIELD_NAMES["returns"],
        "payments": EVIDENCE_FIELD_NAMES["payments"],
        "payment_total": "收费合计（元）",
        "payment_quantity": "收费数量合计",
        "has_fee": "事项收费",
        "fee_amount": "事项固定收费金额（元）",
        "fee_unit_price": "事项收费单价（元）",
        "first_at": "首个事件时间",
        "last_at": "最后事件时间",
        "paused_now": "当前暂停计时",
        "provisional": EVIDENCE_FIELD_NAMES["provisional"],
        "promised_limit": "承诺时限",
        "promised_unit": EVIDENCE_FIELD_NAMES["promised_unit"],
        "promised_deadline": EVIDENCE_FIELD_NAMES["promised_deadline"],
        "promised_elapsed": "承诺时限已用天数",
        "promised_remaining": "承诺时限剩余天数",
        "promised_overdue": "已超承诺期限",
        "promised_days_late": EVIDENCE_FIELD_NAMES["promised_days_late"],
        "legal_limit": "法定时限",
        "legal_unit": EVIDENCE_FIELD_NAMES["legal_unit"],
        "legal_deadline": EVIDENCE_FIELD_NAMES["legal_deadline"],
        "legal_elapsed": "法定时限已用天数",
        "legal_remaining": "法定时限剩余天数",
        "legal_overdue": EVIDENCE_FIELD_NAMES["legal_overdue"],
        "legal_days_late": EVIDENCE_FIELD_NAMES["legal_days_late"],
        "extension_days": "延长审批天数",
        "paused_days_promised": "暂停天数（承诺时限单位）",
        "paused_days_legal": "暂停天数（法定时限单位）",
    }
)

# The type of a case view column (CASE_VIEW_COLUMNS), as the column list says it.
VIEW_COLUMN_TYPE_NAMES: Final = _table(
    {
        "text": "文字",
        "boolean": "是/否",
        "integer": "整数",
        "number": "数值",
        "timestamp": "时刻",
        "date": "日期",
    }
)

# --- r13admin: rounds worked by the administrator (issue 13 item 3) ---------------------------

# What a round evaluates (govwatch.evaluation.metrics.definitions.UNIT_KINDS), on the new-round
# form; ``region`` is every division (province, cities, counties).
ROUND_UNIT_KIND_NAMES: Final = _table({"region": "区划（省、市、县）", **ORG_KIND_NAMES})

# The stages of a round on the administrator's panel: ROUND_STAGE_NAMES and the closed one.
ROUND_ADMIN_STAGE_NAMES: Final = _table({**ROUND_STAGE_NAMES, "closed": "已关闭"})

# An appeal (申诉) against a round's result.
ROUND_APPEAL_STATUS_NAMES: Final = _table(
    {"open": "待处理", "accepted": "已采纳", "rejected": "未采纳"}
)

# The ledger's entries about a round (ref ``round:<id>``), in its history on the panel.
ROUND_LEDGER_ACTION_NAMES: Final = _table(
    {
        "round.create": "创建批次",
        "round.collect": "采集监测数据",
        "round.compute": "计算结果",
        "round.review": "进入复核",
        "round.appeal": "提出申诉",
        "round.appeal_decision": "处理申诉",
        "round.publish": "发布结果",
        "round.close": "关闭批次",
        "round.guide_run": "更换办事指南核查",
        "round.commission": "委托第三方评估",
        "rectification.raise": "提出整改要求",
    }
)


# --- r15fields: the notice templates' fields -------------------------------------------------
# The named fields of the notices' paragraph templates (govwatch/reports/templates/*.yaml,
# govwatch.reports.evaluation.TEMPLATES): for each kind of notice, the builder's internal key
# (the ``facts`` key where the notice records the number) → (the Chinese name the template
# writes between braces, what it holds). Templates written before r15fields used the internal
# keys; govwatch.reports.fields translates them on read.
NOTICE_TEMPLATE_FIELDS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "supervision": {
        "issuer": ("发文机关", "发文机关名称，如 省政务服务管理办公室"),
        "scope": ("通报范围", "通报的地区或部门名称，如 全省"),
        "period": ("统计期间", "统计期间的名称，如 2026年6月"),
        "start": ("起始日期", "统计期间的第一天，如 2026年6月1日"),
        "end": ("截止日期", "统计期间的最后一天"),
        "prev_period": ("上期", "上一统计期间的名称"),
        "cases": ("办件总数", "期间受理的办件数"),
        "finished": ("办结数", "期间办结的办件数"),
        "ontime": ("按时办结数", "期间按时办结的办件数"),
        "overdue": ("超期数", "期间受理的办件中超期的件数"),
        "ontime_rate": ("按时办结率", "按时办结 ÷ 办结，如 96.35%"),
        "overdue_rate": ("超期率", "超期 ÷ 受理，如 1.20%"),
        "prev_ontime_rate": ("上期按时办结率", "上一期间的按时办结率"),
        "change": ("变化百分点", "按时办结率较上期变化的百分点数（不带正负号）"),
        "change_text": ("较上期变化", "按时办结率与上期比较的一句话（由“上升/下降/持平”模板生成）"),
        "reply_days": ("报送期限", "整改情况报送期限（工作日数）"),
        "alerts": ("告警总数", "期间产生的监察告警条数"),
        "red": ("红牌数", "期间产生的红牌条数"),
        "yellow": ("黄牌数", "期间产生的黄牌条数"),
        "warning": ("预警数", "期间产生的预警条数"),
        "class_text": ("分类情况", "各告警类别及条数，如 时效监察12条，程序监察3条"),
        "top_rules": ("告警最多的规则", "告警最多的三条监察规则及条数"),
        "worst_units": ("发生率最高单位", "每千件红黄牌数最高的三个单位"),
        "most_units": ("数量最多单位", "红黄牌数量最多的三个单位"),
        "slowest_items": ("用时最长事项", "平均办结用时最长的三个事项"),
        "orders_issued": ("督办数", "期间发出的督办件数"),
        "orders_answered": ("已回复督办数", "已回复的督办件数"),
        "orders_overdue": ("逾期未回复督办数", "逾期未回复的督办件数"),
        "orders_waiting": ("待回复督办数", "未到回复期限、仍在等待回复的督办件数"),
        "closed": ("已办结告警数", "期间告警中已办结（含不予处理）的条数"),
        "rectifying": ("整改中告警数", "期间告警中整改中的条数"),
        "rectified": ("待确认告警数", "期间告警中已整改待确认的条数"),
        "pending": ("待处理告警数", "期间告警中尚待处理的条数"),
        "demands": ("整改要求数", "期间发布的评估结果提出的整改要求项数"),
        "demands_done": ("已整改要求数", "已整改的整改要求项数"),
        "demands_open": ("在整改要求数", "尚在整改的整改要求项数"),
        "n": ("序号", "典型问题的序号"),
        "department": ("办理单位", "典型问题办件的办理单位"),
        "item": ("事项", "典型问题办件的事项名称"),
        "case_id": ("办件编号", "典型问题的办件编号"),
        "applied": ("受理日期", "典型问题办件的受理日期"),
        "finding": ("问题", "监察发现的问题（已脱敏）"),
        "level": ("告警等级", "红牌、黄牌或预警"),
        "rule": ("监察规则", "发现问题的监察规则名称"),
        "units": ("单位名单", "受表扬或批评的单位，以顿号分隔"),
        "praise_rate": ("表扬标准", "表扬的按时办结率标准，如 98.00%"),
        "criticism_rate": ("批评标准", "批评的按时办结率标准，如 90.00%"),
        "criticism_red": ("批评红牌标准", "批评的每千件红牌数标准"),
    },
    "evaluation": {
        "round_name": ("批次名称", "评估批次的名称"),
        "round_id": ("批次编号", "评估批次的编号"),
        "system_name": ("指标体系", "评估所依据的指标体系名称"),
        "period_start": ("评估期起", "评估期的第一天"),
        "period_end": ("评估期止", "评估期的最后一天"),
        "units": ("参评单位数", "参加评估的单位个数"),
        "mean_score": ("平均得分", "各单位得分的平均值（两位小数）"),
        "max_score": ("最高得分", "最高得分（两位小数）"),
        "min_score": ("最低得分", "最低得分（两位小数）"),
        "stars_5": ("五星单位数", "评为五星的单位个数"),
        "stars_4": ("四星单位数", "评为四星的单位个数"),
        "stars_3": ("三星单位数", "评为三星的单位个数"),
        "stars_2": ("二星单位数", "评为二星的单位个数"),
        "stars_0": ("未达星级单位数", "未达星级的单位个数"),
        "previous_name": ("上一批次", "比较的上一批次名称"),
        "improved": ("得分提高单位数", "较上一批次得分提高的单位个数"),
        "declined": ("得分下降单位数", "较上一批次得分下降的单位个数"),
        "mean_delta": ("平均得分变化", "平均得分较上一批次的变化，如 +1.25"),
        "demands": ("整改要求数", "本批次提出的整改要求条数"),
    },
}
