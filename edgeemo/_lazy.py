"""Import heavy optional packages only where they are needed."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterator
from types import ModuleType

from edgeemo._fds import Captured, captured_fds
from edgeemo.errors import MissingDependency

__all__ = ["require", "require_keras", "require_tensorflow", "set_opencv_log_level"]


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
    """TensorFlow, imported once with its start-up chatter filtered out; host side only.

    TensorFlow's C++ side prints oneDNN, CPU-feature, "Could not find cuda drivers" and "failed call
    to cuInit" lines at import and at device set-up, before absl logging is configured, so
    TF_CPP_MIN_LOG_LEVEL alone does not hide them. Both happen here with stderr captured; every
    captured line that is not one of those known notices is written back, so real errors still show.
    EDGEEMO_TF_LOGS=1 keeps everything.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _filtered_stderr():
        tf = require("tensorflow", "host")
        tf.config.list_logical_devices()  # device set-up prints its lines now, not mid-command
    return tf


def require_keras() -> ModuleType:
    """Keras, after a quiet TensorFlow import when TensorFlow is installed (any backend converts with it)."""
    if importlib.util.find_spec("tensorflow") is not None:
        require_tensorflow()
    return require("keras", "host")


# Start-up notices TensorFlow prints on every machine without a GPU, or about its own build.
_TF_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|\] oneDNN custom operations are on"
    r"|cudart_stub\.cc:\d+\] Could not find cuda drivers"
    r"|cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"
    r"|^To enable the following instructions: .* rebuild TensorFlow"
    r"|cuda_platform\.cc:\d+\] failed call to cuInit"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation_placer\.cc:\d+\] computation placer already registered"
    r"|TF-TRT Warning: Could not find TensorRT"
)


@contextlib.contextmanager
def _filtered_stderr() -> Iterator[None]:
    """Capture fd 2 for the block, then write back every line that is not TensorFlow start-up noise."""
    if os.environ.get("EDGEEMO_TF_LOGS") == "1":
        yield
        return
    captured = Captured()
    try:
        with captured_fds(2) as captured:
            yield
    finally:
        kept = [line for line in captured.text.splitlines(keepends=True)
                if line.strip() and not _TF_NOISE.search(line)]
        if kept:
            sys.stderr.write("".join(kept))
            sys.stderr.flush()



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
