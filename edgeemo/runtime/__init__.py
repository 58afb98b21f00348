"""Inference engines behind one interface: LiteRT (.tflite), ONNX Runtime (.onnx), Keras (host)."""

from __future__ import annotations

from pathlib import Path

from edgeemo.errors import InputFileNotFound, ModelError
from edgeemo.runtime.base import Runtime, as_probabilities

__all__ = ["Runtime", "as_probabilities", "open_runtime", "runtime_key_for"]

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def runtime_key_for(path: str | Path) -> str:
    p = Path(path)
    if p.suffix == ".tflite":
        return "litert"
    if p.suffix == ".onnx":
        return "onnxruntime"
    if p.suffix in KERAS_SUFFIXES or (p.is_dir() and (p / "saved_model.pb").exists()):
        return "keras"
    raise ModelError(
        f"expected a .tflite, .onnx, .keras, .h5 file or a SavedModel directory, received {str(p)!r}"
    )


def open_runtime(path: str | Path, *, threads: int | None = None, providers: list[str] | None = None,
                 trt_cache_dir: str | Path | None = None, trt_fp16: bool = True) -> Runtime:
    """Load `path` in the runtime its format needs; heavy engines are imported only here.
    trt_*: ONNX Runtime's TensorRT engine cache folder and precision (edgeemo.runtime.onnxrt)."""
    p = Path(path)
    if not p.exists():
        raise InputFileNotFound(f"expected a model file, received a path that does not exist: {p}")
    key = runtime_key_for(p)
    if key == "litert":
        from edgeemo.runtime.litert import LiteRTRuntime

        return LiteRTRuntime(p, threads=threads)
    if key == "onnxruntime":
        from edgeemo.runtime.onnxrt import OnnxRuntime

        return OnnxRuntime(p, threads=threads, providers=providers, trt_cache_dir=trt_cache_dir, trt_fp16=trt_fp16)
    from edgeemo.runtime.keras_rt import KerasRuntime

    return KerasRuntime(p, threads=threads)
