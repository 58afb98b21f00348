"""The stages import in one direction: runtime/ (what a device runs) never reaches into export/ or
training/ (workstation steps), so the data flow reads off the folders and has no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "edgeemo"

# package -> packages it must not import, at module level or inside functions
FORBIDDEN = {
    "runtime": ("edgeemo.export", "edgeemo.training", "edgeemo.evaluation"),
    "models": ("edgeemo.export", "edgeemo.runtime", "edgeemo.training"),
    "vision": ("edgeemo.export", "edgeemo.training"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_stage_does_not_import_the_stages_that_depend_on_it(package: str) -> None:
    wrong = sorted(f"{module.relative_to(PACKAGE.parent)} imports {name}"
                   for module in (PACKAGE / package).glob("*.py") for name in _imports(module)
                   if name.startswith(FORBIDDEN[package]))
    assert not wrong, f"expected {package}/ to import none of {FORBIDDEN[package]}, received: {wrong}"
