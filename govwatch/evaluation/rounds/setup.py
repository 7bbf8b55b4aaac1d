"""Setting up a round from what an administrator enters on the web or sends to the API.

The page and the API read the same fields into one :class:`RoundSetup` (validated here, each
refusal naming the field and what was expected) and create the round with
:func:`govwatch.evaluation.rounds.lifecycle.create_round`. An uploaded indicator-system file
that does not parse says at which line it fails (:func:`failing_line`); the units default to
every unit of the round's kind, grouped as the demo groups them (:func:`default_units`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

import orjson
import yaml

from govwatch.errors import InputError, ValidationError
from govwatch.evaluation.metrics.definitions import UNIT_KINDS, Period
from govwatch.evaluation.presets import load_preset, preset_names
from govwatch.evaluation.rounds.lifecycle import UnitSpec, create_round
from govwatch.evaluation.rounds.values import Actor
from govwatch.evaluation.systems.system import IndicatorSystem, system_to_dict
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.items.queries import city_codes, departments
from govwatch.storage import Database
from govwatch.vocabulary import ITEM_LEVEL_NAMES, ROUND_UNIT_KIND_NAMES

ROUND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STAR_LEVELS = (2, 3, 4, 5)
SYSTEM_FILE_MAX_BYTES = 512 * 1024
UNIT_KIND_NAMES = ROUND_UNIT_KIND_NAMES


class SystemFileError(ValidationError):
    """An uploaded indicator-system file that does not parse, with the line it fails at."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message, field="system_file", record="指标体系文件")
        self.line = line


@dataclass(frozen=True)
class RoundSetup:
    round_id: str
    name: str
    system: IndicatorSystem
    period: Period
    unit_kind: str
    units: tuple[UnitSpec, ...]
    fill_deadline_at: datetime | None
    review_days: int


def failing_line(text: str, exc: BaseException) -> int | None:
    """The 1-based line of ``text`` an indicator-system error points at, if it can be found:
    the YAML parser's mark, else the line of the key (in the indicator) the message names."""
    cause = exc.__cause__
    mark = getattr(cause, "problem_mark", None) or getattr(cause, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    if root is None:
        return None
    field = str(getattr(exc, "field", "") or "")
    named = re.search(r"指标“([^”]+)”", str(exc))
    node: yaml.Node | None = root
    if named:
        node = _indicator_node(root, named.group(1))
        if node is None:
            return None
        if not field or field == "id":
            return int(node.start_mark.line) + 1
    line = int(node.start_mark.line) + 1 if node is not None and named else None
    for part in [p for p in field.split(".") if p]:
        found = _key_node(node, part)
        if found is None:
            break
        line, node = int(found[0].start_mark.line) + 1, found[1]
    return line


def _key_node(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and str(k.value) == key:
                return k, v
    return None


def _indicator_node(node: yaml.Node, node_id: str) -> yaml.Node | None:
    """The mapping whose ``id`` is ``node_id``, anywhere in the tree."""
    if isinstance(node, yaml.MappingNode):
        found = _key_node(node, "id")
        value = found[1] if found is not None else None
        if isinstance(value, yaml.ScalarNode) and str(value.value) == node_id:
            return node
        children: list[yaml.Node] = [v for _k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        return None
    for child in children:
        hit = _indicator_node(child, node_id)
        if hit is not None:
            return hit
    return None


def system_from_upload(data: bytes) -> IndicatorSystem:
    """An uploaded indicator-system file (YAML, UTF-8), refused with the failing line."""
    if len(data) > SYSTEM_FILE_MAX_BYTES:
        raise SystemFileError(
            f"指标体系文件过大（{len(data)} 字节）：应不超过 {SYSTEM_FILE_MAX_BYTES} 字节", None
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SystemFileError(
            "指标体系文件不是 UTF-8 编码的文本：请另存为 UTF-8 后重试", None
        ) from exc
    if not text.strip():
        raise SystemFileError("指标体系文件是空的：应为 YAML，至少包含 name 和 indicators", 1)
    try:
        return parse_system(text, origin="上传的指标体系文件")
    except ValidationError as exc:
        line = failing_line(text, exc)
        where = f"第 {line} 行：" if line is not None else ""
        cause = exc.__cause__
        detail = str(exc)
        if isinstance(cause, yaml.YAMLError):
            problem = getattr(cause, "problem", None) or str(cause).splitlines()[0]
            detail = f"上传的指标体系文件不是合法的 YAML（{problem}）"
        raise SystemFileError(f"{where}{detail}", line) from exc


def system_choice(preset: str, upload: bytes | None) -> IndicatorSystem:
    """The round's indicator system: an uploaded file when given, else the named preset."""
    if upload:
        return system_from_upload(upload)
    if not preset:
        raise InputError("请选择预置指标体系，或上传指标体系文件（YAML）")
    if preset not in preset_names():
        raise InputError(f"没有名为“{preset}”的预置指标体系：可选 {'、'.join(preset_names())}")
    return load_preset(preset)


def with_thresholds(system: IndicatorSystem, thresholds: Mapping[int, float]) -> IndicatorSystem:
    """The system with other star thresholds (星级最低分), checked as a system file would be;
    the round then keeps the system as canonical data instead of the original text."""
    if not thresholds or dict(thresholds) == dict(system.thresholds):
        return system
    doc: dict[str, Any] = system_to_dict(replace(system, thresholds=dict(thresholds)))
    return parse_system(orjson.dumps(doc).decode(), origin="星级最低分")


def parse_thresholds(raw: Mapping[str, str]) -> dict[int, float]:
    """``stars_2`` … ``stars_5`` (empty: the system's own), each a score 0–100."""
    out: dict[int, float] = {}
    for level in STAR_LEVELS:
        text = str(raw.get(f"stars_{level}", "") or "").strip()
        if not text:
            continue
        try:
            out[level] = float(text)
        except ValueError as exc:
            raise ValidationError(
                f"{level} 星最低分“{text}”不是数字：应为 0–100 的分数",
                field=f"stars_{level}",
                record="星级最低分",
            ) from exc
    return out


def parse_units(text: str) -> tuple[UnitSpec, ...]:
    """Units, one a line: ``编码,名称,分组`` (name and group may be empty)."""
    units: list[UnitSpec] = []
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells):
            continue
        code = cells[0]
        if not code or len(code) > 64:
            raise ValidationError(
                f"评估对象第 {number} 行：单位编码为空或超过 64 个字符，应为“编码,名称,分组”",
                field="units",
                record=f"第 {number} 行",
            )
        if code in seen:
            raise ValidationError(
                f"评估对象第 {number} 行：单位“{code}”重复", field="units", record=f"第 {number} 行"
            )
        seen.add(code)
        name = cells[1] if len(cells) > 1 and cells[1] else None
        group = cells[2] if len(cells) > 2 and cells[2] else None
        units.append(UnitSpec(code, name, group))
    if not units:
        raise ValidationError(
            "评估对象为空：每行一个“编码,名称,分组”", field="units", record="评估对象"
        )
    return tuple(units)


def units_text(units: Sequence[UnitSpec]) -> str:
    return "\n".join(",".join([u.unit, u.name or "", u.group or ""]) for u in units)


def default_units(db: Database, kind: str) -> list[UnitSpec]:
    """Every unit of the kind, grouped as the demo groups them: cities by economic zone (一类 /
    二类地区, alternately), departments by the level of their items; others without groups."""
    if kind == "city":
        names = {
            str(c): str(n)
            for c, n in db.query("SELECT org_code, name FROM orgs WHERE kind = 'city'")
        }
        return [
            UnitSpec(u, names.get(u), "一类地区" if i % 2 == 0 else "二类地区")
            for i, u in enumerate(city_codes(db))
        ]
    if kind == "department":
        groups = {lv: ITEM_LEVEL_NAMES[lv] for lv in ("2", "3", "4") if lv in ITEM_LEVEL_NAMES}
        return [UnitSpec(c, n, groups.get(lv, "其他")) for c, n, lv in departments(db)]
    if kind in ("province", "county", "region"):
        kinds = ("province", "city", "county") if kind == "region" else (kind,)
        marks = ", ".join("?" for _ in kinds)
        rows = db.query(
            f"SELECT org_code, name FROM orgs WHERE kind IN ({marks}) ORDER BY org_code",
            list(kinds),
        )
        return [UnitSpec(str(c), str(n) if n else None, None) for c, n in rows]
    return []


def _date(raw: Mapping[str, str], key: str, what: str) -> date:
    text = str(raw.get(key, "") or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(
            f"{what}“{text}”不是日期：应为 年-月-日，如 2026-06-30", field=key, record="评估批次"
        ) from exc


def _deadline(text: str) -> datetime | None:
    text = text.strip().replace("T", " ")
    if not text:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59))
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(
            f"填报截止“{text}”不是日期或时刻：应为 2026-07-10 或 2026-07-10 17:00",
            field="fill_deadline",
            record="评估批次",
        ) from exc


def read_setup(
    raw: Mapping[str, str], system: IndicatorSystem, units: Sequence[UnitSpec]
) -> RoundSetup:
    """The round an administrator asked for, each field checked with a Chinese message."""
    round_id = str(raw.get("round_id", "") or "").strip()
    if not ROUND_ID.match(round_id):
        raise ValidationError(
            f"批次编号“{round_id}”不合法：应为 1–64 个字母、数字、点、横线或下划线，如 2026-H1",
            field="round_id",
            record="评估批次",
        )
    name = str(raw.get("name", "") or "").strip()
    if not name or len(name) > 200:
        raise ValidationError(
            "批次名称不能为空，且不超过 200 个字符", field="name", record="评估批次"
        )
    start = _date(raw, "period_start", "评估期起")
    end = _date(raw, "period_end", "评估期止")
    if end < start:
        raise ValidationError(
            f"评估期止 {end} 早于评估期起 {start}", field="period_end", record="评估批次"
        )
    kind = str(raw.get("unit_kind", "") or "").strip() or system.unit_kind or ""
    if kind not in UNIT_KINDS:
        names = "、".join(f"{UNIT_KIND_NAMES[k]}（{k}）" for k in UNIT_KINDS)
        raise ValidationError(
            f"评估对象类型“{kind}”无效：应为 {names} 之一", field="unit_kind", record="评估批次"
        )
    review_text = str(raw.get("review_days", "") or "5").strip()
    if not review_text.isdigit() or int(review_text) > 60:
        raise ValidationError(
            f"复核申诉期“{review_text}”无效：应为 0–60 的工作日数",
            field="review_days",
            record="评估批次",
        )
    thresholds = parse_thresholds(raw)
    return RoundSetup(
        round_id,
        name,
        with_thresholds(system, thresholds),
        Period(start, end),
        kind,
        tuple(units),
        _deadline(str(raw.get("fill_deadline", "") or "")),
        int(review_text),
    )


def create_from_setup(db: Database, setup: RoundSetup, actor: Actor, at: datetime) -> None:
    create_round(
        db,
        setup.round_id,
        setup.name,
        setup.system,
        setup.period,
        setup.unit_kind,
        setup.units,
        actor,
        at,
        fill_deadline_at=setup.fill_deadline_at,
        review_days=setup.review_days,
    )
