"""One vocabulary: every code the spec defines has its Chinese label, and only in one place.

The spec files are read, not copied: each test parses one code list of spec/data.md,
spec/rules.md or spec/time.md (a table column, or a "Code A.n" paragraph) and checks the
vocabulary against it, so a code added to the spec without a label fails here.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from govwatch import vocabulary
from govwatch.rules.registry import DEFAULT_RULES

REPO = Path(__file__).resolve().parents[1]
SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec"
CJK = re.compile(r"[\u3400-\u9fff]")


def _spec(name: str) -> str:
    path = SPEC / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"spec file {path} is missing (CI must check the vocabulary against it)")
        pytest.skip(f"spec folder {SPEC} not present")
    return path.read_text(encoding="utf-8")


def _between(text: str, start: str, end: str) -> str:
    """The text from ``start`` (inclusive) up to the next ``end``."""
    a = text.index(start)
    b = text.index(end, a + len(start))
    return text[a:b]


def _table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the markdown table whose header row starts with ``header``."""
    lines = text[text.index(header) :].splitlines()
    rows = []
    for line in lines[2:]:  # skip the header and the |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _ticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def _assert_labelled(table: Mapping[str, str], codes: list[str], what: str) -> None:
    assert codes, f"found no {what} in the spec: has its layout changed?"
    missing = [c for c in codes if c not in table]
    assert not missing, f"{what} without a Chinese label in govwatch.vocabulary: {missing}"
    not_chinese = {c: table[c] for c in codes if not CJK.search(table[c])}
    assert not not_chinese, f"{what} whose label is not Chinese: {not_chinese}"


# --- spec/data.md ---------------------------------------------------------------------------


def test_every_event_kind_has_a_label() -> None:
    rows = _table_rows(_spec("data.md"), "| kind | meaning | fields |")
    kinds = [_ticked(row[0])[0] for row in rows]
    _assert_labelled(vocabulary.EVENT_KIND_NAMES, kinds, "event kinds")
    # Where the spec names the kind in Chinese, the label is that name.
    for row in rows:
        term = re.match(r"[\u3400-\u9fff]+", row[1])
        if term:
            assert term.group() in vocabulary.EVENT_KIND_NAMES[_ticked(row[0])[0]], row


def test_every_finish_result_has_the_spec_label() -> None:
    text = _between(_spec("data.md"), "Finish result codes", "Results `1 2 3 5 7`")
    pairs = dict(re.findall(r"`(\d)` ([\u3400-\u9fff]+)", text))
    _assert_labelled(vocabulary.FINISH_RESULT_NAMES, list(pairs), "finish results")
    assert {c: vocabulary.FINISH_RESULT_NAMES[c] for c in pairs} == pairs


@pytest.mark.parametrize(
    ("start", "end", "table", "what"),
    [
        ("Code A.1", "Code A.2", vocabulary.ITEM_TYPE_NAMES, "item types (A.1)"),
        ("Code A.2", "\n\n", vocabulary.ITEM_LEVEL_NAMES, "item levels (A.2)"),
        ("Code A.4", "Code A.5", vocabulary.APPLICANT_TYPE_NAMES, "applicant types (A.4)"),
        ("Code A.5", "Code A.8", vocabulary.CHANNEL_NAMES, "channels (A.5)"),
        ("Code A.8", ";", vocabulary.SATISFACTION_NAMES, "satisfaction levels (A.8)"),
    ],
)
def test_every_national_code_has_its_label(
    start: str, end: str, table: Mapping[str, str], what: str
) -> None:
    text = _between(_spec("data.md"), start, end)
    pairs = re.findall(r"`(\d+)` ([^,.;`…]+)", text)
    _assert_labelled(table, [code for code, _ in pairs], what)
    for code, term in pairs:
        # The spec abbreviates some (国家 for 国家级); the label contains what it says.
        chinese = "".join(CJK.findall(term))
        assert chinese in "".join(CJK.findall(table[code])), f"{what} {code}: spec {term!r}"


def test_item_fields_codes_have_labels() -> None:
    data = _spec("data.md")
    case_kind = next(r for r in _table_rows(data, "| field |") if r[0] == "`case_kind`")
    _assert_labelled(vocabulary.CASE_KIND_NAMES, _ticked(case_kind[1]), "case kinds")
    unit = next(r for r in _table_rows(data, "| field |") if r[0] == "`legal_limit_unit`")
    _assert_labelled(vocabulary.UNIT_NAMES, _ticked(unit[1]), "limit units")


def test_step_actions_and_procedure_kinds_have_labels() -> None:
    rows = {
        _ticked(r[0])[0]: r[2] for r in _table_rows(_spec("data.md"), "| kind | meaning | fields |")
    }
    actions = _ticked(rows["step_end"].split("`action`:")[1].split(", `opinion`")[0])
    _assert_labelled(vocabulary.STEP_ACTION_NAMES, actions, "step actions")
    kinds = re.findall(r"`(\d)`", rows["special_start"].split("`procedure_kind`:")[1].split(";")[0])
    _assert_labelled(vocabulary.PROCEDURE_KIND_NAMES, kinds, "special procedure kinds")


def test_every_risk_measure_has_a_label() -> None:
    text = _between(_spec("data.md"), "is one of the checkable prevention measures", "- **online")
    measures = re.findall(r"`([a-z_]+)` \(", text)
    _assert_labelled(vocabulary.RISK_MEASURE_NAMES, measures, "risk measures")


def test_every_online_depth_has_a_label() -> None:
    text = _between(_spec("data.md"), "Depth levels", "\n\n")
    depths = re.findall(r"(\d) [a-z]", text)
    _assert_labelled(vocabulary.ONLINE_DEPTH_NAMES, depths, "online depth levels")


# --- spec/rules.md --------------------------------------------------------------------------


def test_every_level_has_the_spec_label() -> None:
    text = _between(_spec("rules.md"), "## Alert levels", "\n\n## ")
    pairs = dict(re.findall(r"`(\w+)` ([\u3400-\u9fff]+)", text))
    _assert_labelled(vocabulary.LEVEL_NAMES, list(pairs), "alert levels")
    assert dict(vocabulary.LEVEL_NAMES) == pairs


def _default_rule_rows() -> list[list[str]]:
    return _table_rows(_spec("rules.md"), "| class | type (seed term) | id |")


def test_every_class_and_type_has_the_spec_name() -> None:
    classes: dict[str, str] = {}
    types: dict[str, str] = {}
    current = ""
    for row in _default_rule_rows():
        if row[0]:
            chinese, code = row[0].split()[:2]
            classes[code] = chinese
            current = code
        if row[1]:
            types[row[1].split()[0]] = current
    _assert_labelled(vocabulary.CLASS_NAMES, list(classes), "anomaly classes")
    assert dict(vocabulary.CLASS_NAMES) == classes
    assert dict(vocabulary.ANOMALY_TYPE_CLASSES) == types
    assert len(types) == 11


def test_every_rule_id_has_a_name() -> None:
    ids = [_ticked(row[2])[0] for row in _default_rule_rows()]
    _assert_labelled(vocabulary.RULE_NAMES, ids, "rule ids")
    registered = [rule.id for rule in DEFAULT_RULES]
    _assert_labelled(vocabulary.RULE_NAMES, registered, "registered rules")
    assert vocabulary.rule_name("near_deadline") == "临近办结时限"
    # A custom rule has no entry: it is shown by its id.
    assert vocabulary.rule_name("my_custom_rule") == "my_custom_rule"


# --- spec/time.md and spec/interface.md -----------------------------------------------------


def test_every_pause_kind_has_the_spec_label() -> None:
    rows = _table_rows(_spec("time.md"), "| pause |")
    pairs = {row[0].split()[0]: re.findall(r"\(([\u3400-\u9fff]+)", row[0])[0] for row in rows}
    _assert_labelled(vocabulary.PAUSE_KIND_NAMES, list(pairs), "pause kinds")
    assert dict(vocabulary.PAUSE_KIND_NAMES) == pairs


def test_every_clock_status_has_a_label() -> None:
    text = _spec("interface.md")
    statuses = re.search(r'"status": "([a-z|]+)"', text)
    assert statuses, "interface.md no longer lists the deadline statuses"
    _assert_labelled(vocabulary.CASE_STATUS_NAMES, statuses.group(1).split("|"), "statuses")


# --- the vocabulary itself ------------------------------------------------------------------


def test_every_label_is_chinese_and_every_table_listed() -> None:
    public = {
        name: value
        for name, value in vars(vocabulary).items()
        if name.endswith("_NAMES") and isinstance(value, Mapping)
    }
    # TABLES is read when asked, so a table appended at the end of the module is listed too
    assert set(public) == set(vocabulary.TABLES), "every *_NAMES table is in vocabulary.TABLES"
    assert {"LEVEL_NAMES", "RULE_NAMES", "EVIDENCE_FIELD_NAMES"} <= set(vocabulary.TABLES)
    for name, table in vocabulary.TABLES.items():
        for code, text in table.items():
            assert isinstance(code, str) and isinstance(text, str), (name, code)
            assert CJK.search(text), f"{name}[{code!r}] = {text!r} is not Chinese"


def test_every_evidence_field_of_the_catalog_has_a_label() -> None:
    """An alert's evidence is shown field by field: every key a built-in rule records, and a
    rule-specific label only for a key that rule records."""
    keys = sorted({key for rule in DEFAULT_RULES for key in rule.evidence})
    _assert_labelled(vocabulary.EVIDENCE_FIELD_NAMES, keys, "evidence keys")
    evidence = {rule.id: set(rule.evidence) for rule in DEFAULT_RULES}
    for code in vocabulary.EVIDENCE_FIELD_NAMES:
        if "." in code:
            rule, key = code.split(".", 1)
            assert key in evidence.get(rule, set()), f"{code}: {rule} records no {key}"


@pytest.mark.parametrize(
    ("rule_id", "table"),
    [
        ("event_out_of_order", vocabulary.EVENT_ORDER_PROBLEM_NAMES),
        ("discretion_out_of_band", vocabulary.DISCRETION_PROBLEM_NAMES),
    ],
)
def test_every_problem_a_rule_reports_has_a_label(rule_id: str, table: Mapping[str, str]) -> None:
    """The ``problem`` codes are read from the rule's own query, not copied."""
    rule = next(r for r in DEFAULT_RULES if r.id == rule_id)
    problems = sorted(set(re.findall(r"(?:THEN|ELSE) '([a-z_]+)'", rule.sql)))
    _assert_labelled(table, problems, f"problems of {rule_id}")
    assert set(table) == set(problems)


def test_event_fields_named_by_the_spec_have_labels() -> None:
    """A correction names the field it changed: every field of spec/data.md §2 has a label."""
    text = _spec("data.md")
    fields = [_ticked(row[0])[0] for row in _table_rows(text, "| field |") if row[0]]
    kinds = _table_rows(text, "| kind | meaning | fields |")
    event_fields = {
        name.strip("`")
        for row in kinds
        for name in re.findall(r"`([a-z_]+)`", row[2])
        if not re.fullmatch(r"\d+|pass|return|other", name)
    }
    common = [f for f in ("item_code", "occurred_at", "actor", "org_code") if f in fields]
    _assert_labelled(vocabulary.EVENT_FIELD_NAMES, sorted(event_fields | set(common)), "fields")


def test_label_falls_back_to_the_code() -> None:
    assert vocabulary.label(vocabulary.LEVEL_NAMES, "red") == "红牌"
    assert vocabulary.label(vocabulary.FINISH_RESULT_NAMES, 7) == "不予许可"
    assert vocabulary.label(vocabulary.LEVEL_NAMES, "purple") == "purple"
    assert vocabulary.label(vocabulary.LEVEL_NAMES, None) == ""
    assert vocabulary.unit_name(None) == "工作日"
    assert vocabulary.label(vocabulary.YES_NO_NAMES, True) == "是"
    assert vocabulary.label(vocabulary.YES_NO_NAMES, False) == "否"


def _label_dicts(tree: ast.AST) -> list[tuple[int, dict[str, str]]]:
    """Every dict literal mapping string constants to string constants, at any depth."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict) or len(node.keys) < 2:
            continue
        pairs = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                break
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                break
            pairs[key.value] = value.value
        else:
            found.append((node.lineno, pairs))
    return found


def test_no_module_defines_a_second_copy_of_a_table() -> None:
    """A code->Chinese dict elsewhere that shares two labels with a vocabulary table is a copy.

    Two shared (code, label) pairs catch a full copy and a diverging one alike (the old
    timeline table agreed with the rules' on 14 of 17 kinds); dicts that map codes to other
    text (message details, generated comments) share no labels and pass.
    """
    copies = []
    package = REPO / "govwatch"
    for path in sorted(package.rglob("*.py")):
        if path == package / "vocabulary.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, pairs in _label_dicts(tree):
            for name, table in vocabulary.TABLES.items():
                shared = [code for code, text in pairs.items() if table.get(code) == text]
                if len(shared) >= 2:
                    where = f"{path.relative_to(REPO)}:{line}"
                    copies.append(f"{where} repeats vocabulary.{name} ({', '.join(shared)})")
    assert not copies, "labels defined outside govwatch/vocabulary.py:\n" + "\n".join(copies)


def test_the_check_catches_a_copy() -> None:
    tree = ast.parse('NAMES = {"warning": "预警", "yellow": "黄牌", "red": "红牌牌"}')
    (_, pairs), *_ = _label_dicts(tree)
    assert sum(vocabulary.LEVEL_NAMES.get(c) == t for c, t in pairs.items()) == 2
