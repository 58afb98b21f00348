"""Import heavy optional packages only where they are needed."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

from edgeemo.errors import MissingDependency

__all__ = ["require", "require_tensorflow", "set_opencv_log_level"]


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


# What the user exported before edgeemo touched it; that choice always wins.
_USER_OPENCV_LOG_LEVEL = os.environ.get("OPENCV_LOG_LEVEL")
OPENCV_LOG_LEVELS = ("silent", "fatal", "error", "warning", "info", "debug", "verbose")


def set_opencv_log_level(level: str) -> None:
    """Set how much of OpenCV's native log (`[ WARN:0@0.03] global cap_v4l.cpp:915 open ...`,
    written straight to stderr, bypassing Python logging) this process shows: for a cv2
    imported later through OPENCV_LOG_LEVEL, for one already imported through its API. An
    OPENCV_LOG_LEVEL set by the user is left alone."""
    if level not in OPENCV_LOG_LEVELS:
        raise ValueError(f"expected an OpenCV log level in {OPENCV_LOG_LEVELS}, received {level!r}")
    if _USER_OPENCV_LOG_LEVEL is not None:
        return
    os.environ["OPENCV_LOG_LEVEL"] = level.upper()
    cv2 = sys.modules.get("cv2")
    utils_logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if utils_logging is not None:
        utils_logging.setLogLevel(getattr(utils_logging, f"LOG_LEVEL_{level.upper()}"))
