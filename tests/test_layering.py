"""The layering contract's own check: imports inside functions are found, and only the listed
ones exist in govwatch (``make lint`` runs every import-linter contract; this keeps the custom
one honest)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tools.import_contracts import _function_level_imports

ROOT = Path(__file__).resolve().parents[1]


def test_an_import_inside_a_function_is_found_and_one_at_the_top_is_not(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("import json\n")
    (package / "sub" / "mod.py").write_text(
        "import os\n\n"
        "def f():\n    from pkg.sub import g\n    return g\n\n"
        "class C:\n    async def m(self):\n        import zlib\n        return zlib\n"
    )
    assert _function_level_imports(package) == {
        ("pkg.sub.mod", "pkg.sub"),
        ("pkg.sub.mod", "zlib"),
    }


def test_govwatch_imports_inside_functions_only_what_the_contract_lists() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c["type"] == "function_level_imports"
    ]
    listed = {tuple(part.strip() for part in line.split("->")) for line in contract["allowed"]}
    assert _function_level_imports(ROOT / "govwatch") == listed
