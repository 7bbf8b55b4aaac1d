"""Custom rules: a boolean expression over the documented case-view columns, checked before use.

An administrator writes e.g. ``status = 'open' AND supplement_requests >= 1 AND
promised_remaining < 3``. sqlglot parses it; the check walks the tree and refuses anything
that is not a column of :data:`~govwatch.rules.views.CASE_VIEW_COLUMNS`, a literal, an
operator or one of :data:`FUNCTIONS`: no statements, no subqueries, no other tables. The
expression is then written for the engine at hand and runs like a built-in rule over
``gw_case_view`` (one finding per case, key empty).

When a custom finding arose cannot be known from an expression in general. govwatch takes the
moment of the case's last event as of the evaluation (``last_at``): on the live path that is
the event after which the expression first held, and for an expression over events and counts
(``supplement_requests >= 2``) it is that event's moment as long as no later event came before
the evaluation. For an expression that turns true with the passing of time alone
(``promised_remaining < 3``) it is the last event before that moment, earlier than the true
one; the alert's first_seen_at tells when govwatch saw it.

What a custom rule cannot do to supervision: its divisions are guarded (a zero divisor gives
NULL, :func:`guard_divisions`); it is dry-run over every stored case before it is saved
(:func:`govwatch.rules.engine.dry_run`); and should it still fail on a case to come (a cast
that cannot convert, an overflow), the live engine skips it, records the failure for the
administrator (``rule_failures``, shown on the rules page) and runs every other rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from govwatch.errors import ValidationError
from govwatch.rules.model import LEVELS, TYPE_CLASSES, Evidence, Level, Rule
from govwatch.rules.views import CASE_VIEW_COLUMNS

# The fixed list of functions, by sqlglot expression class name (and their SQL names).
FUNCTIONS = {
    "Coalesce": "COALESCE",
    "Abs": "ABS",
    "Round": "ROUND",
    "Least": "LEAST",
    "Greatest": "GREATEST",
    "Lower": "LOWER",
    "Upper": "UPPER",
    "Length": "LENGTH",
    "Trim": "TRIM",
    "Nullif": "NULLIF",
}

_ALLOWED = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Not,
    exp.Neg,
    exp.And,
    exp.Or,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Case,
    exp.If,
    exp.Tuple,
    exp.DPipe,
    exp.Cast,
    exp.DataType,
)
_ID = re.compile(r"^[a-z][a-z0-9_]{2,47}$")


@dataclass(frozen=True)
class CustomRuleDef:
    """A custom rule as an administrator saved it."""

    id: str
    rule_class: str
    rule_type: str
    level: Level
    description: str
    expression: str
    legal_basis: str = ""

    def as_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "class": self.rule_class,
            "type": self.rule_type,
            "level": self.level,
            "description": self.description,
            "expression": self.expression,
            "legal_basis": self.legal_basis,
        }


def parse_expression(text: str) -> exp.Expression:
    """Parse and check an expression; raise ValidationError saying what is not allowed."""
    if not text or not text.strip():
        raise ValidationError("表达式为空：应为基于办件视图列的布尔表达式", field="expression")
    try:
        trees = sqlglot.parse(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ValidationError(f"表达式无法解析：{first}", field="expression") from exc
    found = [t for t in trees if t is not None]
    if len(found) != 1:
        raise ValidationError("表达式只能有一个，不允许多条语句（;）", field="expression")
    tree: Any = found[0]
    statements = (
        exp.Query,
        exp.Command,
        exp.Drop,
        exp.Create,
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Alter,
        exp.Set,
        exp.Use,
        exp.Pragma,
        exp.Transaction,
    )
    if isinstance(tree, statements) or tree.find(exp.Query):
        raise ValidationError(
            "表达式中不允许语句或子查询（SELECT、INSERT、DROP 等）：只能写布尔表达式",
            field="expression",
        )
    for node in tree.walk():
        if isinstance(node, exp.Column):
            if node.table:
                raise ValidationError(
                    f"列“{node.sql()}”不能带表名：只能使用办件视图的列", field="expression"
                )
            if node.name not in CASE_VIEW_COLUMNS:
                raise ValidationError(
                    f"未知列“{node.name}”：可用列见 govwatch rules columns（如 status、"
                    "promised_remaining、supplement_requests）",
                    field="expression",
                )
        elif isinstance(node, _ALLOWED):
            continue
        elif isinstance(node, exp.Func):
            name = type(node).__name__
            if name not in FUNCTIONS:
                shown = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
                raise ValidationError(
                    f"不允许的函数“{shown}”：只能使用 {'、'.join(sorted(FUNCTIONS.values()))}",
                    field="expression",
                )
        elif not isinstance(node, _ALLOWED):
            raise ValidationError(
                f"表达式中不允许“{node.sql()[:40]}”：只能使用列、常量、比较与逻辑运算和规定函数",
                field="expression",
            )
    return tree  # type: ignore[no-any-return]


def columns_of(tree: exp.Expression) -> list[str]:
    return sorted({c.name for c in tree.find_all(exp.Column)})


def check_definition(definition: CustomRuleDef, taken: set[str]) -> exp.Expression:
    """Check everything about a custom rule except the dry run; return its parsed expression."""
    if not _ID.match(definition.id):
        raise ValidationError(
            f"规则编号“{definition.id}”不合法：应为 3–48 位小写字母、数字和下划线，以字母开头",
            field="id",
        )
    if definition.id in taken:
        raise ValidationError(f"规则编号“{definition.id}”已被使用，请另取一个", field="id")
    expected_class = TYPE_CLASSES.get(definition.rule_type)
    if expected_class is None:
        raise ValidationError(
            f"类型“{definition.rule_type}”无法识别：应为 {'、'.join(TYPE_CLASSES)} 之一",
            field="type",
        )
    if definition.rule_class != expected_class:
        raise ValidationError(
            f"类型“{definition.rule_type}”属于类别 {expected_class}，而不是 {definition.rule_class}",
            field="class",
        )
    if definition.level not in LEVELS:
        raise ValidationError(
            f"级别“{definition.level}”无法识别：应为 warning、yellow 或 red", field="level"
        )
    if not definition.description.strip():
        raise ValidationError(
            "请填写规则说明（中文，一句话说明什么情况算异常）", field="description"
        )
    return parse_expression(definition.expression)


def guard_divisions(tree: exp.Expression) -> exp.Expression:
    """Every divisor wrapped in ``NULLIF(divisor, 0)``: a division by zero is NULL, not an error.

    PostgreSQL raises DivisionByZero and DuckDB raises on ``%`` (and answers ``inf`` for
    ``/``), so ``x / (event_count - 40)`` would fail, or differ between engines, on the first
    case with 40 events, however many cases its dry run passed. NULL makes the comparison
    unknown and the case is not flagged, on every engine.
    """

    def guard(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div | exp.Mod | exp.IntDiv):
            divisor = node.expression
            if not (isinstance(divisor, exp.Nullif) and divisor.expression == _ZERO):
                node.set("expression", exp.Nullif(this=divisor, expression=_ZERO.copy()))
        return node

    return tree.transform(guard)


_ZERO = exp.Literal.number(0)


def compile_rule(definition: CustomRuleDef) -> Rule:
    """Turn a checked definition into a rule whose query reads ``gw_case_view``."""
    tree = parse_expression(definition.expression)
    cols = columns_of(tree)
    qualified = guard_divisions(
        tree.transform(lambda n: exp.column(n.name, table="s") if isinstance(n, exp.Column) else n)
    )
    evidence = tuple(c for c in cols if c != "case_id")
    picks = "".join(f", s.{c} AS {c}" for c in evidence)
    # When a custom rule's finding arose: the case's last event as of the moment evaluated,
    # the event after which the expression held on the live path (see the module's notes).
    sql = (
        f"SELECT s.case_id, '' AS key, {{level}} AS level, s.last_at AS arose_at{picks} "
        f"FROM gw_case_view s WHERE ({qualified.sql(dialect='duckdb')})"
    )
    description = definition.description

    def message(ev: Evidence) -> str:
        facts = "，".join(f"{k} = {v}" for k, v in ev.items())
        return f"{description}（{facts}）" if facts else description

    return Rule(
        id=definition.id,
        rule_class=definition.rule_class,
        rule_type=definition.rule_type,
        level=definition.level,
        description=definition.description,
        legal_basis=definition.legal_basis,
        sql=sql,
        evidence=evidence,
        message=message,
        custom=True,
        needs_clock=any(
            c in CASE_VIEW_COLUMNS
            and c.startswith(("promised_", "legal_", "paused", "extension", "provisional"))
            for c in cols
        ),
    )
