"""The built-in rule catalog: the 21 default rules of spec/rules.md, in a stable order."""

from __future__ import annotations

from collections.abc import Mapping

from govwatch.rules import (
    content_rules,
    discretion_rules,
    integrity_rules,
    process_rules,
    result_rules,
    timeliness_rules,
)
from govwatch.rules.model import Rule

DEFAULT_RULES: tuple[Rule, ...] = (
    *timeliness_rules.RULES,
    *process_rules.RULES,
    *result_rules.RULES,
    *content_rules.RULES,
    *discretion_rules.RULES,
    *integrity_rules.RULES,
)

BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in DEFAULT_RULES}

assert len(BY_ID) == len(DEFAULT_RULES) == 21, "rule ids must be unique; rules.md has 21"
