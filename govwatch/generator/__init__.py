"""The synthetic province generator (``govwatch generate``): catalog, events and the truth.

Public API: :func:`generate` with a :class:`GeneratorConfig` from :func:`make_config`.
See docs/generator.md for what is generated and how each rule is broken.
"""

from __future__ import annotations

from govwatch.generator.config import END_AT, RULES, START_AT, GeneratorConfig, make_config
from govwatch.generator.writer import GenerationSummary, generate

__all__ = [
    "END_AT",
    "RULES",
    "START_AT",
    "GenerationSummary",
    "GeneratorConfig",
    "generate",
    "make_config",
]
