"""Shared helper for the benchmark tests: load a script from benchmarks/ as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

__all__ = ["BENCHMARKS", "load_script"]


def load_script(name: str) -> ModuleType:
    """benchmarks/NAME.py as a module; benchmarks/ goes on sys.path for the scripts that import a sibling."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
