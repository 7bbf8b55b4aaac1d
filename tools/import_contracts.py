"""import-linter contract types of our own (registered in pyproject.toml, ``[tool.importlinter]``).

``function_level_imports``: an import inside a function hides a dependency from whoever reads
the top of the module, and is how the old layering ran upward unnoticed. Each one must be
listed in the contract, as ``importer -> imported``, with the reason in a comment beside the
list (an optional dependency loaded only when used: Spark, the web server).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _function_level_imports(package_dir: Path) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        module = ".".join(parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found.update((module, alias.name) for alias in inner.names)
                elif isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                    found.add((module, inner.module))
    return found


class FunctionLevelImportsContract(Contract):
    """Every import inside a function of the package is listed in ``allowed``."""

    type_name = "function_level_imports"

    package = fields.StringField()
    allowed = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        package = str(self.package)
        root = Path(__import__(package).__file__ or "").parent
        found = _function_level_imports(root)
        allowed: set[tuple[str, str]] = set()
        for line in self.allowed or []:  # type: ignore[attr-defined]
            importer, _, imported = str(line).partition("->")
            allowed.add((importer.strip(), imported.strip()))
        unlisted = sorted(found - allowed)
        stale = sorted(allowed - found)
        return ContractCheck(
            kept=not unlisted and not stale,
            metadata={"unlisted": unlisted, "stale": stale},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        metadata: dict[str, Any] = check.metadata
        for importer, imported in metadata["unlisted"]:
            output.print_error(
                f"{importer} imports {imported} inside a function: move it to the top of the "
                "module, or list it in the contract with the reason",
                bold=False,
            )
        for importer, imported in metadata["stale"]:
            output.print_error(
                f"listed but no longer imported inside a function: {importer} -> {imported} "
                "(remove it from the contract)",
                bold=False,
            )
