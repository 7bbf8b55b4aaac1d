"""What the guide checks read and report: a published guide's parts and one finding.

A catalog record's ``guide`` object (spec/data.md §1, docs/guides.md) arrives as JSON; the
readers of :mod:`govwatch.guides.elements` turn its parts into the frozen values below, or
say what is wrong with them. A :class:`GuideFinding` is one line of ``govwatch guides check``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CHECKS = ("completeness", "consistency", "practice")


@dataclass(frozen=True)
class Link:
    """A download link as published; ``status`` is the HTTP status found when the link was
    last checked (``govwatch guides crawl``), None when it never was."""

    url: str
    status: int | None = None
    content_type: str | None = None
    size: int | None = None

    @property
    def dead(self) -> bool:
        return self.status is not None and not 200 <= self.status < 400


@dataclass(frozen=True)
class GuideMaterial:
    name: str
    required: bool = True
    originals: int | None = None
    copies: int | None = None
    form: Link | None = None  # the blank form (空白表格)
    sample: Link | None = None  # the filled-in sample (样表)


@dataclass(frozen=True)
class GuideStep:
    name: str
    limit: int | None = None
    unit: str | None = None


@dataclass(frozen=True)
class GuideFee:
    """收费信息: free (``charged`` False) or a fixed amount or a price per unit, with a basis."""

    charged: bool
    basis: str | None = None
    amount: float | None = None
    unit_price: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class GuideLimit:
    limit: int
    unit: str  # W working days, N natural days


@dataclass(frozen=True)
class GuideFinding:
    """One finding: an element of one item's guide failed one check.

    ``expected`` and ``found`` are short Chinese texts (what the standard, the implementation
    list or the guide says, and what was found); ``evidence`` holds the facts behind them
    (values compared, case ids and counts, the guide's address).
    """

    item_code: str
    element: str
    check: str
    expected: str
    found: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_code": self.item_code,
            "element": self.element,
            "check": self.check,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
            "evidence": dict(self.evidence),
        }
