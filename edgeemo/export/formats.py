"""The table of export formats: the single source of truth for what `quantize` can produce."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EXPORTS", "ExportFormat", "ExportOptions", "artifact_key", "artifact_name"]


@dataclass(frozen=True)
class ExportOptions:
    calibration: np.ndarray | None = None  # float32 NxHxWxC, already normalised by the PreprocessSpec
    int8_io: bool = True  # TFLite int8: integer input/output tensors (the fastest path on a device)
    onnx_calibration: str = "minmax"
    onnx_per_channel: bool = True


@dataclass(frozen=True)
class ExportFormat:
    fmt: str
    precision: str
    suffix: str
    needs_calibration: bool
    # Verification: the converted artifact must agree with the float model at least this often (top-1)
    # and its probabilities stay within max_abs_diff on average, on the calibration images.
    min_agreement: float
    max_mean_abs_diff: float
    convert: Callable[[Any, Path, ExportOptions], None]


def artifact_key(fmt: str, precision: str) -> str:
    return f"{fmt}-{precision}"


def artifact_name(stem: str, fmt: str, precision: str) -> str:
    return f"{stem}_{precision}.{'tflite' if fmt == 'tflite' else 'onnx'}"


def _build() -> dict[str, ExportFormat]:
    from edgeemo.export import onnx_export, tflite

    rows = [
        ExportFormat("tflite", "fp32", ".tflite", False, 0.995, 1e-3, tflite.convert_fp32),
        ExportFormat("tflite", "fp16", ".tflite", False, 0.99, 5e-3, tflite.convert_fp16),
        ExportFormat("tflite", "dynamic", ".tflite", False, 0.9, 0.05, tflite.convert_dynamic),
        ExportFormat("tflite", "int8", ".tflite", True, 0.85, 0.08, tflite.convert_int8),
        ExportFormat("onnx", "fp32", ".onnx", False, 0.995, 1e-3, onnx_export.convert_fp32),
        ExportFormat("onnx", "int8", ".onnx", True, 0.85, 0.08, onnx_export.convert_int8),
    ]
    return {artifact_key(r.fmt, r.precision): r for r in rows}


EXPORTS: dict[str, ExportFormat] = _build()
