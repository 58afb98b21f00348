"""Keras -> LiteRT flatbuffers: fp32, fp16 weights, dynamic-range, and full-integer int8."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo._lazy import require_tensorflow
from edgeemo.errors import DataError, ModelError
from edgeemo.export.formats import ExportOptions
from edgeemo.fileio import write_bytes

__all__ = ["convert_dynamic", "convert_fp16", "convert_fp32", "convert_int8"]


def _converter(model: Any) -> Any:
    tf = require_tensorflow()
    return tf.lite.TFLiteConverter.from_keras_model(model)


def _write(converter: Any, out: Path) -> None:
    try:
        flatbuffer = converter.convert()
    except Exception as exc:  # the converter raises ConverterError and friends
        raise ModelError(f"expected a model LiteRT can convert, received: {str(exc).splitlines()[0][:300]}") from exc
    write_bytes(out, flatbuffer)


def convert_fp32(model: Any, out: Path, options: ExportOptions) -> None:
    _write(_converter(model), out)


def convert_fp16(model: Any, out: Path, options: ExportOptions) -> None:
    tf = require_tensorflow()
    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_types = [tf.float16]
    _write(conv, out)


def convert_dynamic(model: Any, out: Path, options: ExportOptions) -> None:
    tf = require_tensorflow()
    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    _write(conv, out)


def convert_int8(model: Any, out: Path, options: ExportOptions) -> None:
    """Full-integer: every op int8, calibrated on the representative images; int8 I/O unless int8_io=False."""
    tf = require_tensorflow()
    calib = options.calibration
    if calib is None or len(calib) == 0:
        raise DataError("expected calibration images for int8 (--calib), received none")
    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]

    def representative() -> Iterator[list[np.ndarray]]:
        for image in calib:
            yield [image[None].astype(np.float32)]

    conv.representative_dataset = representative
    if options.int8_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    _write(conv, out)
