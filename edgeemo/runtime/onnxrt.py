"""ONNX Runtime backend (.onnx). Providers: EDGEEMO_ORT_PROVIDERS or the `providers` argument,
else TensorRT, CUDA, CPU in that order, keeping those this onnxruntime build offers.

TensorRT builds an engine for the model the first time it loads it, which takes minutes on a
Jetson; the engine (and TensorRT's timing cache) is kept in the service's state directory
($STATE_DIRECTORY, which systemd's StateDirectory= sets; else ~/.cache/edgeemo) so a restart
reuses it. fp16 engines by default: every Jetson GPU runs fp16, and Nano-class GPUs have no int8
tensor cores; a QDQ int8 model still gets TensorRT's int8 path from its own Q/DQ nodes."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from edgeemo._lazy import require
from edgeemo.errors import ModelError
from edgeemo.runtime.base import Runtime

__all__ = ["OnnxRuntime", "PREFERRED_PROVIDERS", "TENSORRT", "tensorrt_cache_dir", "with_provider_options"]

log = logging.getLogger(__name__)

TENSORRT = "TensorrtExecutionProvider"
PREFERRED_PROVIDERS = (TENSORRT, "CUDAExecutionProvider", "CPUExecutionProvider")


def tensorrt_cache_dir(explicit: str | Path | None = None) -> Path:
    """Where TensorRT engines are kept: `explicit`, else $STATE_DIRECTORY/tensorrt, else ~/.cache/edgeemo/tensorrt."""
    if explicit:
        return Path(explicit)
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(state) / "tensorrt" if state else Path.home() / ".cache" / "edgeemo" / "tensorrt"


def with_provider_options(providers: list[str], *, cache_dir: Path, fp16: bool = True) -> list[str | tuple[str, dict[str, str]]]:
    """The provider list ONNX Runtime is given, TensorRT with its engine cache and precision options."""
    out: list[str | tuple[str, dict[str, str]]] = []
    for p in providers:
        if p == TENSORRT:
            opts = {"trt_engine_cache_enable": "True", "trt_engine_cache_path": str(cache_dir),
                    "trt_timing_cache_enable": "True", "trt_timing_cache_path": str(cache_dir),
                    "trt_fp16_enable": str(bool(fp16))}
            out.append((p, opts))
        else:
            out.append(p)
    return out


class OnnxRuntime(Runtime):
    key = "onnxruntime"

    def __init__(
        self, path: str | Path, *, threads: int | None = None, providers: list[str] | None = None,
        trt_cache_dir: str | Path | None = None, trt_fp16: bool = True,
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
        self.trt_cache_dir: Path | None = None
        if TENSORRT in wanted:
            self.trt_cache_dir = tensorrt_cache_dir(trt_cache_dir)
            try:
                self.trt_cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ModelError(f"expected a writable TensorRT engine cache folder, received {self.trt_cache_dir}: {exc}") from exc
            log.info("ONNX Runtime: TensorRT engines cached in %s (fp16 %s)", self.trt_cache_dir, "on" if trt_fp16 else "off")
        session_providers = with_provider_options(wanted, cache_dir=self.trt_cache_dir or Path(), fp16=trt_fp16)
        try:
            self._session = ort.InferenceSession(str(self.path), sess_options=options, providers=session_providers)
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
