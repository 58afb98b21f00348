"""The peak probes are real models: their outputs must be the matrix product they claim to time."""

from __future__ import annotations

import numpy as np
import pytest

from edgeemo.bench import probes

SHAPE = (4, 32, 16)


def _w(precision: str) -> np.ndarray:
    return probes._weights(precision, SHAPE[1], SHAPE[2])  # N x K


@pytest.fixture(scope="module")
def interpreter_cls():
    pytest.importorskip("ai_edge_litert")
    from edgeemo.runtime.litert import load_interpreter_class

    return load_interpreter_class()[1]


def _run_tflite(interpreter_cls, blob: bytes, x: np.ndarray) -> np.ndarray:
    interp = interpreter_cls(model_content=blob, num_threads=1)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def test_tflite_fp32_probe_computes_x_times_w(interpreter_cls) -> None:
    x = np.random.default_rng(0).standard_normal(SHAPE[:2]).astype(np.float32)
    y = _run_tflite(interpreter_cls, probes.build_tflite_probe("fp32", SHAPE), x)
    np.testing.assert_allclose(y, x @ _w("fp32").T, rtol=1e-4, atol=1e-4)


def test_tflite_int8_probe_computes_requantized_product(interpreter_cls) -> None:
    x = np.random.default_rng(0).integers(-64, 64, size=SHAPE[:2], dtype=np.int8)
    y = _run_tflite(interpreter_cls, probes.build_tflite_probe("int8", SHAPE), x)
    acc = x.astype(np.int64) @ _w("int8").astype(np.int64).T
    ref = np.clip(np.round(acc * probes._SCALE_IN * probes._SCALE_W / probes._SCALE_OUT), -128, 127)
    assert y.dtype == np.int8
    assert np.max(np.abs(y.astype(np.int64) - ref)) <= 1  # one step of output rounding


@pytest.mark.parametrize("kind", ["fp32", "int8_u8s8", "int8_s8s8"])
def test_onnx_probe_computes_product(kind: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(probes.build_onnx_probe(kind, SHAPE), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    w = _w(kind).T  # K x N
    if kind == "fp32":
        x = rng.standard_normal(SHAPE[:2]).astype(np.float32)
        np.testing.assert_allclose(sess.run(None, {"x": x})[0], x @ w, rtol=1e-4, atol=1e-4)
        return
    dtype, lo, hi = (np.uint8, 0, 255) if kind == "int8_u8s8" else (np.int8, -128, 127)
    x = rng.integers(0, 64, size=SHAPE[:2]).astype(dtype)
    acc = x.astype(np.int64) @ w.astype(np.int64)
    ref = np.clip(np.round(acc * probes._SCALE_IN * probes._SCALE_W / probes._SCALE_OUT), lo, hi)
    y = sess.run(None, {"x": x})[0]
    assert y.dtype == dtype
    assert np.max(np.abs(y.astype(np.int64) - ref)) <= 1


def test_probe_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="expected an ONNX probe kind"):
        probes.build_onnx_probe("fp64", SHAPE)


def test_measure_peak_reports_positive_rate(tmp_path) -> None:
    pytest.importorskip("ai_edge_litert")
    r = probes.measure_peak("litert", "fp32", 1, tmp_path, runs=3, warmup=1)
    assert r.macs == np.prod(probes.PROBE_SHAPE)
    assert r.p50_ms > 0 and r.gmacs > 0
    assert r.as_dict()["shape_mkn"] == list(probes.PROBE_SHAPE)
