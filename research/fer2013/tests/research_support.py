"""Shared helper for the research tests: load a script from research/fer2013/ as a module
(tests/bench_support.py's loader, pointed at this folder)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[3]
RESEARCH = REPO / "research" / "fer2013"
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from bench_support import load_script as _load_script  # noqa: E402

__all__ = ["RESEARCH", "load_script"]


def load_script(name: str) -> ModuleType:
    """research/fer2013/NAME.py as a module; its folder goes on sys.path for the scripts that import a sibling."""
    return _load_script(name, "research/fer2013")
