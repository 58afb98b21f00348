"""Shared helper for the research tests: load a script from research/fer2013/ as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

RESEARCH = Path(__file__).resolve().parents[1]

__all__ = ["RESEARCH", "load_script"]


def load_script(name: str) -> ModuleType:
    """research/fer2013/NAME.py as a module; its folder goes on sys.path for the scripts that import a sibling."""
    if str(RESEARCH) not in sys.path:
        sys.path.insert(0, str(RESEARCH))
    spec = importlib.util.spec_from_file_location(name, RESEARCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
