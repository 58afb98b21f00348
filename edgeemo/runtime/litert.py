"""LiteRT backend (.tflite): ai_edge_litert, then tflite_runtime, then tensorflow.lite.

EDGEEMO_LITERT=ai_edge_litert|tflite_runtime|tensorflow forces one; otherwise the first that
imports wins and a log line says which, with a warning for each fallback taken.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.errors import MissingDependency, ModelError
from edgeemo.runtime.base import Runtime

__all__ = ["LiteRTRuntime", "load_interpreter_class", "LITERT_MODULES"]

log = logging.getLogger(__name__)

LITERT_MODULES: dict[str, str] = {
    "ai_edge_litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow.lite",
}
_chosen: tuple[str, Any] | None = None


def load_interpreter_class() -> tuple[str, Any]:
    """(module key, Interpreter class) following the documented fallback order."""
    global _chosen
    if _chosen is not None:
        return _chosen
    forced = os.environ.get("EDGEEMO_LITERT")
    if forced and forced not in LITERT_MODULES:
        raise MissingDependency(
            f"expected EDGEEMO_LITERT to be one of {', '.join(LITERT_MODULES)}, received {forced!r}"
        )
    order = [forced] if forced else list(LITERT_MODULES)
    errors = []
    for key in order:
        try:
            if key == "tensorflow":
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            module = importlib.import_module(LITERT_MODULES[key])
        except ImportError as exc:
            errors.append(f"{key}: {exc}")
            if not forced:
                log.warning("LiteRT: %s is not importable, trying the next runtime", key)
            continue
        _chosen = (key, module.Interpreter)
        log.info("LiteRT: using %s", key)
        return _chosen
    raise MissingDependency(
        "expected one of ai-edge-litert, tflite-runtime or tensorflow for .tflite models "
        f"(pip install 'edgeemo[device]'), received: {'; '.join(errors)}"
    )


class LiteRTRuntime(Runtime):
    key = "litert"

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        super().__init__(path, threads=threads)
        self.engine, interpreter_cls = load_interpreter_class()
        try:
            self._interp = interpreter_cls(model_path=str(self.path), num_threads=threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"expected a valid .tflite model at {self.path}, received: {exc}") from exc
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]
        self._batch = int(self._in["shape"][0])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        _, h, w, c = (int(v) for v in self._in["shape"])
        return (h, w, c)

    @property
    def num_classes(self) -> int:
        return int(self._out["shape"][-1])

    @property
    def input_dtype(self) -> str:
        return np.dtype(self._in["dtype"]).name

    @property
    def input_quantization(self) -> tuple[float, int]:
        scale, zero = self._in["quantization"]
        return float(scale), int(zero)

    @property
    def output_quantization(self) -> tuple[float, int]:
        scale, zero = self._out["quantization"]
        return float(scale), int(zero)

    def _resize(self, n: int) -> None:
        if n != self._batch:
            self._interp.resize_tensor_input(self._in["index"], [n, *self.input_shape])
            self._interp.allocate_tensors()
            self._in = self._interp.get_input_details()[0]
            self._out = self._interp.get_output_details()[0]
            self._batch = n

    def quantize_input(self, batch: np.ndarray) -> np.ndarray:
        dtype = np.dtype(self._in["dtype"])
        if dtype == np.float32:
            return np.ascontiguousarray(batch, dtype=np.float32)
        scale, zero = self.input_quantization
        info = np.iinfo(dtype)
        q = np.round(batch / scale + zero)
        return np.clip(q, info.min, info.max).astype(dtype)

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        """Run on an input already in the model's own dtype; returns the raw output tensor."""
        self._resize(model_input.shape[0])
        self._interp.set_tensor(self._in["index"], model_input)
        self._interp.invoke()
        return self._interp.get_tensor(self._out["index"])

    def dequantize_output(self, raw: np.ndarray) -> np.ndarray:
        if np.dtype(self._out["dtype"]) == np.float32:
            return raw.astype(np.float32, copy=False)
        scale, zero = self.output_quantization
        return (raw.astype(np.float32) - zero) * np.float32(scale)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self.dequantize_output(self.invoke(self.quantize_input(batch)))
