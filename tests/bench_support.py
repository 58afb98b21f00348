"""Shared helper for the tests of the repository's scripts: load benchmarks/NAME.py or tools/NAME.py as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"

__all__ = ["BENCHMARKS", "REPO", "load_script"]


def load_script(name: str, folder: str = "benchmarks") -> ModuleType:
    """FOLDER/NAME.py as a module; FOLDER goes on sys.path for the scripts that import a sibling."""
    where = REPO / folder
    if str(where) not in sys.path:
        sys.path.insert(0, str(where))
    spec = importlib.util.spec_from_file_location(name, where / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
