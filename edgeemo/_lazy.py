"""Import heavy optional packages only where they are needed."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from edgeemo.errors import MissingDependency

__all__ = ["require", "require_tensorflow"]


def require(module: str, extra: str, package: str | None = None) -> ModuleType:
    """Import `module`, or raise MissingDependency naming the pip extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module.split(".")[0]
        raise MissingDependency(
            f"expected the package '{pkg}' (pip install 'edgeemo[{extra}]'), received ImportError: {exc}"
        ) from exc


def require_tensorflow() -> ModuleType:
    """TensorFlow with its start-up chatter turned down; host side only.

    Level 3 also hides the "no CUDA driver" lines every CPU-only machine prints; real failures
    still arrive as Python exceptions.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return require("tensorflow", "host")
