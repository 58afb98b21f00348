"""ONNX Runtime backend (.onnx). Providers: EDGEEMO_ORT_PROVIDERS or the `providers` argument,
else TensorRT, CUDA, CPU in that order, keeping those this onnxruntime build offers."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from edgeemo._lazy import require
from edgeemo.errors import ModelError
from edgeemo.runtime.base import Runtime

__all__ = ["OnnxRuntime", "PREFERRED_PROVIDERS"]

log = logging.getLogger(__name__)

PREFERRED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


class OnnxRuntime(Runtime):
    key = "onnxruntime"

    def __init__(
        self, path: str | Path, *, threads: int | None = None, providers: list[str] | None = None
    ) -> None:
        super().__init__(path, threads=threads)
        ort = require("onnxruntime", "device")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        available = ort.get_available_providers()
        wanted = providers or _env_providers() or [p for p in PREFERRED_PROVIDERS if p in available]
        try:
            self._session = ort.InferenceSession(str(self.path), sess_options=options, providers=wanted)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"expected a valid .onnx model at {self.path}, received: {exc}") from exc
        self.providers = self._session.get_providers()
        log.info("ONNX Runtime: providers %s", ",".join(self.providers))
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        self._shape = inp.shape
        self._nchw = _is_nchw(inp.shape)
        out = self._session.get_outputs()[0]
        self._num_classes = out.shape[-1] if isinstance(out.shape[-1], int) else None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        dims = [int(d) if isinstance(d, int) else -1 for d in self._shape[1:]]
        if self._nchw:
            c, h, w = dims
            return (h, w, c)
        h, w, c = dims
        return (h, w, c)

    @property
    def num_classes(self) -> int:
        if self._num_classes is None:
            h, w, c = self.input_shape
            self._num_classes = int(self.predict(np.zeros((1, h, w, c), np.float32)).shape[-1])
        return int(self._num_classes)

    def prepare_input(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """NHWC float batch -> the session's feed (transposed for NCHW models)."""
        x = np.ascontiguousarray(batch, dtype=np.float32)
        if self._nchw:
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        return {self._input_name: x}

    def run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """The session alone, on a feed from prepare_input (benchmarks time this part)."""
        return self._session.run(None, feed)[0]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.run(self.prepare_input(batch)), dtype=np.float32)


def _env_providers() -> list[str] | None:
    value = os.environ.get("EDGEEMO_ORT_PROVIDERS")
    return [p.strip() for p in value.split(",") if p.strip()] if value else None


def _is_nchw(shape: list[object]) -> bool:
    # Keras exports NHWC; models from PyTorch are NCHW with 1 or 3 channels first.
    return len(shape) == 4 and shape[1] in (1, 3) and shape[3] not in (1, 3)
