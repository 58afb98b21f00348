"""The machine's measured peak: one large fp32 and one int8 matrix product through each runtime.

The probe models are written at bench time (TFLite through the flatbuffer schema that ships with
ai-edge-litert, ONNX as a few hand-encoded protobuf messages), so a device without TensorFlow or
the `onnx` package can still measure its own peak. A model's GMAC/s divided by this peak says how
close to the machine's limit it runs; small convolutions rarely get near it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.bench.graphinfo import load_tflite_schema

__all__ = [
    "PROBE_KINDS",
    "PROBE_SHAPE",
    "PeakResult",
    "build_onnx_probe",
    "build_tflite_probe",
    "measure_peak",
    "measure_peaks",
    "peak_for",
]

# M x K times K x N: large enough to be compute bound on a Pi or a workstation core,
# small enough (4 MiB of fp32 weights) to build and run in well under a second.
PROBE_SHAPE = (64, 1024, 1024)
_SCALE_IN, _SCALE_W, _SCALE_OUT = 1.0 / 64, 1.0 / 256, 0.25

# (runtime, kind). TFLite int8 is signed activations x signed weights. ONNX Runtime has two int8
# paths whose speed differs by an order of magnitude on x86 (u8 activations use the VNNI/AVX2
# kernels, s8 activations may not), so both are measured and an artifact is set beside the one
# its QuantizeLinear zero points select.
PROBE_KINDS: tuple[tuple[str, str], ...] = (
    ("litert", "fp32"),
    ("litert", "int8"),
    ("onnxruntime", "fp32"),
    ("onnxruntime", "int8_u8s8"),
    ("onnxruntime", "int8_s8s8"),
)


@dataclass
class PeakResult:
    runtime: str
    precision: str
    threads: int
    macs: int
    p50_ms: float

    @property
    def gmacs(self) -> float:
        return self.macs / (self.p50_ms * 1e6)

    def as_dict(self) -> dict[str, object]:
        return {
            "runtime": self.runtime,
            "precision": self.precision,
            "threads": self.threads,
            "shape_mkn": list(PROBE_SHAPE),
            "macs": self.macs,
            "p50_ms": self.p50_ms,
            "gmacs": self.gmacs,
        }


def _weights(precision: str, k: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    if precision.startswith("int8"):
        return rng.integers(-127, 128, size=(n, k), dtype=np.int8)
    return rng.standard_normal((n, k)).astype(np.float32)


# ---- TFLite: a single FULLY_CONNECTED op --------------------------------------------------------


def build_tflite_probe(precision: str, shape: tuple[int, int, int] = PROBE_SHAPE) -> bytes:
    import flatbuffers

    s = load_tflite_schema()
    m, k, n = shape
    if precision not in ("fp32", "int8"):
        raise ValueError(f"expected a TFLite probe kind fp32 or int8, received {precision!r}")
    int8 = precision == "int8"
    ttype = s.TensorType.INT8 if int8 else s.TensorType.FLOAT32

    def quant(scale: float) -> object | None:
        if not int8:
            return None
        q = s.QuantizationParametersT()
        q.scale, q.zeroPoint = [scale], [0]
        return q

    def tensor(name: str, dims: list[int], buffer: int, scale: float) -> object:
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer, t.quantization = name, dims, ttype, buffer, quant(scale)
        return t

    empty, weights = s.BufferT(), s.BufferT()
    weights.data = np.frombuffer(_weights(precision, k, n).tobytes(), dtype=np.uint8)
    opcode = s.OperatorCodeT()
    opcode.builtinCode = s.BuiltinOperator.FULLY_CONNECTED
    opcode.deprecatedBuiltinCode = s.BuiltinOperator.FULLY_CONNECTED
    opcode.version = 1
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1, -1], [2]
    op.builtinOptionsType = s.BuiltinOptions.FullyConnectedOptions
    op.builtinOptions = s.FullyConnectedOptionsT()
    sub = s.SubGraphT()
    sub.tensors = [
        tensor("x", [m, k], 0, _SCALE_IN),
        tensor("w", [n, k], 1, _SCALE_W),
        tensor("y", [m, n], 0, _SCALE_OUT),
    ]
    sub.inputs, sub.outputs, sub.operators, sub.name = [0], [2], [op], "main"
    model = s.ModelT()
    model.version, model.operatorCodes, model.subgraphs = 3, [opcode], [sub]
    model.buffers, model.description = [empty, weights], "edgeemo peak probe"
    builder = flatbuffers.Builder(k * n * 4 + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# ---- ONNX: a single MatMul / QLinearMatMul, encoded by hand -------------------------------------
# Field numbers follow onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto).

_FLOAT, _UINT8, _INT8 = 1, 2, 3


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _tensor(name: str, array: np.ndarray, data_type: int) -> bytes:
    dims = b"".join(_field(1, int(d)) for d in array.shape)
    return dims + _field(2, data_type) + _field(8, name) + _field(9, array.tobytes())


def _value_info(name: str, data_type: int, dims: list[int]) -> bytes:
    shape = b"".join(_field(1, _field(1, d)) for d in dims)
    tensor_type = _field(1, data_type) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _node(op_type: str, inputs: list[str], outputs: list[str]) -> bytes:
    return b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs) + _field(4, op_type)


def build_onnx_probe(precision: str, shape: tuple[int, int, int] = PROBE_SHAPE) -> bytes:
    m, k, n = shape
    w = np.ascontiguousarray(_weights(precision, k, n).T)  # K x N for MatMul
    if precision in ("int8_u8s8", "int8_s8s8"):
        dtype, act = (_UINT8, np.uint8) if precision == "int8_u8s8" else (_INT8, np.int8)
        inits = [
            _tensor("w", w, _INT8),
            _tensor("a_scale", np.array(_SCALE_IN, np.float32), _FLOAT),
            _tensor("a_zero", np.array(0, act), dtype),
            _tensor("w_scale", np.array(_SCALE_W, np.float32), _FLOAT),
            _tensor("w_zero", np.array(0, np.int8), _INT8),
            _tensor("y_scale", np.array(_SCALE_OUT, np.float32), _FLOAT),
            _tensor("y_zero", np.array(0, act), dtype),
        ]
        node = _node("QLinearMatMul", ["x", "a_scale", "a_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero"], ["y"])
    elif precision == "fp32":
        dtype = _FLOAT
        inits = [_tensor("w", w, _FLOAT)]
        node = _node("MatMul", ["x", "w"], ["y"])
    else:
        raise ValueError(f"expected an ONNX probe kind fp32, int8_u8s8 or int8_s8s8, received {precision!r}")
    graph = (
        _field(1, node)
        + _field(2, "peak_probe")
        + b"".join(_field(5, t) for t in inits)
        + _field(11, _value_info("x", dtype, [m, k]))
        + _field(12, _value_info("y", dtype, [m, n]))
    )
    opset = _field(1, "") + _field(2, 17)
    return _field(1, 8) + _field(2, "edgeemo") + _field(7, graph) + _field(8, opset)


# ---- measurement --------------------------------------------------------------------------------


def _time_p50(fn: object, runs: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()  # type: ignore[operator]
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter_ns() - t0)
    return float(np.median(samples)) / 1e6


def measure_peak(
    runtime: str, precision: str, threads: int, work_dir: Path, *, runs: int = 20, warmup: int = 3
) -> PeakResult:
    """Median time of the probe product; raises ImportError/RuntimeError when it cannot run here."""
    m, k, n = PROBE_SHAPE
    rng = np.random.default_rng(1)
    if precision == "int8_u8s8":
        x = rng.integers(0, 128, size=(m, k), dtype=np.uint8)
    elif precision.startswith("int8"):
        x = rng.integers(-64, 64, size=(m, k), dtype=np.int8)
    else:
        x = rng.standard_normal((m, k)).astype(np.float32)
    work_dir.mkdir(parents=True, exist_ok=True)
    if runtime == "litert":
        from edgeemo.runtime.litert import load_interpreter_class

        path = work_dir / f"peak_{precision}.tflite"
        if not path.exists():
            path.write_bytes(build_tflite_probe(precision))
        _, interpreter_cls = load_interpreter_class()
        interp = interpreter_cls(model_path=str(path), num_threads=threads)
        interp.allocate_tensors()
        in_idx = interp.get_input_details()[0]["index"]
        interp.set_tensor(in_idx, x)

        def run() -> None:
            interp.invoke()
    elif runtime == "onnxruntime":
        import onnxruntime as ort

        path = work_dir / f"peak_{precision}.onnx"
        if not path.exists():
            path.write_bytes(build_onnx_probe(precision))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        feed = {"x": x}

        def run() -> None:
            session.run(None, feed)
    else:
        raise ValueError(f"expected runtime 'litert' or 'onnxruntime', received {runtime!r}")
    p50 = _time_p50(run, runs, warmup)
    return PeakResult(runtime=runtime, precision=precision, threads=threads, macs=m * k * n, p50_ms=p50)


def measure_peaks(runtimes: set[str], threads: int, peaks: list[dict[str, Any]],
                  say: Callable[[str], None]) -> dict[tuple[str, str], float]:
    """Peak GMAC/s of each probe kind of these runtimes, at `threads`; appends each outcome to
    `peaks`. The probe models (about 12 MB, built in well under a second) live in a temporary
    folder removed on the way out, also when the run fails or is interrupted."""
    peak_by_key: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="edgeemo-peak-", ignore_cleanup_errors=True) as probe_name:
        for rt_key, kind in PROBE_KINDS:
            if rt_key not in runtimes:
                continue
            say(f"peak: {rt_key} {kind} at {threads} thread(s)")
            try:
                peak = measure_peak(rt_key, kind, threads, Path(probe_name))
            except Exception as exc:  # a runtime without the op still lets the bench go on
                peaks.append({"runtime": rt_key, "precision": kind, "threads": threads, "error": str(exc)})
                continue
            peaks.append(peak.as_dict())
            peak_by_key[(rt_key, kind)] = peak.gmacs
    return peak_by_key


def peak_for(runtime: str, precision: str, peaks: dict[tuple[str, str], float]) -> tuple[str, str, float] | None:
    """(runtime, probe kind, GMAC/s) an artifact is compared with: its runtime's best path for its precision."""
    if runtime not in ("litert", "onnxruntime"):
        return None
    want_int8 = precision in ("int8", "dynamic")
    best = None
    for (rt_key, kind), gmacs in peaks.items():
        if rt_key == runtime and kind.startswith("int8") == want_int8 and (best is None or gmacs > best[2]):
            best = (rt_key, kind, gmacs)
    return best
