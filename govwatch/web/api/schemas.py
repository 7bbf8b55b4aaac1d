"""Request and response bodies of the JSON API (validated here, at the edge).

Times are Asia/Shanghai and leave the API with their offset (``2025-10-09T10:00:00+08:00``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from govwatch.timeutil import SHANGHAI


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value


Moment = Annotated[datetime, BeforeValidator(_aware)]
AlertAction = Literal[
    "explain",
    "appeal",
    "accept_explanation",
    "uphold_appeal",
    "reject_appeal",
    "require_rectification",
    "report_rectified",
    "confirm_rectified",
    "return_rectification",
    "close",
]
OrderAction = Literal["reply", "accept", "return"]


class Problem(BaseModel):
    detail: str = Field(description="中文说明：哪里不对，应当如何")


class QuarantinedRecord(BaseModel):
    index: int = Field(description="0-based position of the record in the request body")
    field: str
    message: str


class ImportAnswer(BaseModel):
    applied: int
    duplicates: int
    quarantined: list[QuarantinedRecord]
    held: int = Field(
        0,
        description="records held until their case's organisation is known "
        "(a source token's record naming no org_code for a case not stored yet)",
    )


class AlertOut(BaseModel):
    alert_id: str
    case_id: str
    rule: str
    rule_class: str | None
    rule_type: str | None
    key: str
    level: str
    status: str
    message: str | None
    evidence: dict[str, Any]
    catalog_version: int | None
    item_code: str | None
    region_code: str | None
    department_code: str | None
    org_code: str | None
    occurred_at: Moment | None = Field(
        description="when the anomaly arose (the deadline passed, the step ran over, the "
        "event that broke the rule happened), at its current level; first_seen_at is when "
        "govwatch detected it"
    )
    first_seen_at: Moment | None
    last_seen_at: Moment | None
    level_changed_at: Moment | None
    cleared_at: Moment | None
    state: str = Field(description="handling state of the workflow (open … closed)")
    state_name: str
    version: int
    due_on: date | None


class AlertList(BaseModel):
    items: list[AlertOut]
    limit: int
    offset: int
    next_offset: int | None


class AttachmentRef(BaseModel):
    attachment_id: str
    name: str
    size_bytes: int
    sha256: str


class TransitionOut(BaseModel):
    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    actor_role: str
    acted_at: Moment
    reason: str | None
    due_on: date | None
    attachments: list[AttachmentRef]


class WorkflowOut(BaseModel):
    state: str
    state_name: str
    version: int
    due_on: date | None
    close_reason: str | None
    updated_at: Moment
    updated_by: str
    allowed_actions: list[str]


class OrderOut(BaseModel):
    order_id: str
    org_code: str
    state: str
    state_name: str
    version: int
    content: str
    issued_by: str
    issued_at: Moment
    reply_days: int
    reply_due_on: date
    provisional: bool
    automatic: bool
    reply_text: str | None
    replied_by: str | None
    replied_at: Moment | None
    closed_at: Moment | None
    alert_ids: list[str]


class AlertDetail(BaseModel):
    alert: AlertOut
    state: str  # the handling state, as in workflow.state
    workflow: WorkflowOut
    transitions: list[TransitionOut]
    history: list[dict[str, Any]]
    orders: list[OrderOut]


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    content_base64: str = Field(max_length=7_000_000)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: AlertAction
    reason: str | None = Field(default=None, max_length=4000)
    due_on: date | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    expected_version: int | None = Field(default=None, ge=1)


class CaseAlertOut(AlertOut):
    history: list[dict[str, Any]] = Field(
        default_factory=list, description="the engine's record: raised, level changes, cleared"
    )


class CaseOut(BaseModel):
    """One case: also the JSON twin of the case page (``/cases/{case_id}?format=json``)."""

    case: dict[str, Any]
    clock: dict[str, Any] | None = Field(description="the stored clock; null before acceptance")
    events: list[dict[str, Any]]
    item: dict[str, Any] | None = None
    alerts: list[CaseAlertOut]
    masked: bool = Field(description="personal data in this answer is masked")


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alert_ids: list[str] = Field(min_length=1, max_length=500)
    content: str = Field(min_length=1, max_length=4000)
    org_code: str | None = Field(default=None, max_length=64)
    reply_days: int | None = Field(default=None, ge=1, le=60)


class OrderActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: OrderAction
    text: str | None = Field(default=None, max_length=4000)
    expected_version: int | None = Field(default=None, ge=1)


class OrderList(BaseModel):
    items: list[OrderOut]
    limit: int
    offset: int


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    name: str
    role: str
    org_code: str | None


class LoginOut(Me):
    csrf_token: str
    expires_at: Moment


class NotificationOut(BaseModel):
    notification_id: str
    kind: str
    ref: str
    message: str
    created_at: Moment
    read_at: Moment | None


class RuleOut(BaseModel):
    id: str
    rule_class: str
    rule_type: str
    level: str
    description: str
    legal_basis: str
    key: str
    params: list[dict[str, Any]]
    custom: bool


class RulesOut(BaseModel):
    version: int
    rules: list[RuleOut]
    settings: list[dict[str, Any]]
    custom: list[dict[str, Any]]


class RuleSettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str = Field(min_length=1, max_length=64)
    scope: str = Field(default="all", max_length=80)
    enabled: bool | None = None
    level: Literal["warning", "yellow", "red"] | None = None
    params: dict[str, int | float | str] = Field(default_factory=dict)
    summary: str | None = Field(default=None, max_length=400)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=500)
    kinds: str = Field(default="*", max_length=400)
    org_code: str | None = Field(default=None, max_length=64)


class WebhookCreated(BaseModel):
    webhook_id: str
    secret: str


class WebhookOut(BaseModel):
    webhook_id: str
    url: str
    org_code: str | None
    kinds: str
    active: bool
    created_at: Moment


class LedgerCheck(BaseModel):
    ok: bool
    entries: int
    broken_seq: int | None
    problem: str


class SettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=40)
