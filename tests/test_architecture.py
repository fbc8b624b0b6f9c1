"""The import graph: data flows one way, and each third-party library stays in its module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "briefing"
# The stages in the order data flows through them; a module may import only those after it.
FLOW = (
    "cli",
    "pipeline",
    "watch",
    "articles",
    "extract",
    "places",
    "workbook",
    "odsxml",
    "sheetxml",
    "archive",
    "validate",
    "provenance",
    "edition",
    "changes",
    "context",
    "render",
    "render.plaintext",
    "render.html",
    "render.source",
    "render.word",
    "render.remote",
    "render.chart",
    "render.sandbox",
    "render.child",
    "output",
    "lock",
)
# Read by every stage; among themselves, each may import only those after it.
SHARED = ("model", "schema", "text", "errors")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """The briefing modules a module imports when it runs (not those for type checking only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("briefing"):
            base = node.module.removeprefix("briefing").lstrip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                found.add(candidate if candidate in FLOW + SHARED else base)
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("briefing.")
                for a in node.names
                if a.name.startswith("briefing.")
            }
    return found - {""}


MODULES = sorted(
    (module_name(path), path)
    for path in PACKAGE.rglob("*.py")
    if module_name(path) in FLOW + SHARED
)


def test_every_module_has_its_place_in_the_flow() -> None:
    known = {name for name, _ in MODULES}
    unplaced = {
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if module_name(path) not in FLOW + SHARED
    }
    # briefing/__init__.py holds the version alone; examples/ holds the seed records as data.
    assert unplaced == {"", "examples"}
    assert known == set(FLOW + SHARED)


@pytest.mark.parametrize(("name", "path"), MODULES, ids=[name for name, _ in MODULES])
def test_imports_run_with_the_flow(name: str, path: Path) -> None:
    against = []
    for imported in sorted(runtime_imports(path)):
        if imported in SHARED:
            allowed = name not in SHARED or SHARED.index(imported) > SHARED.index(name)
        else:
            allowed = name in FLOW and FLOW.index(imported) > FLOW.index(name)
        if not allowed:
            against.append(imported)
    assert against == [], f"{name} imports {against}, against the flow"


def test_the_check_itself_sees_imports() -> None:
    assert runtime_imports(PACKAGE / "pipeline.py") >= {"workbook", "validate", "render", "output"}
    assert runtime_imports(PACKAGE / "errors.py") == set()  # model is imported for types only
