"""Read MACs, parameter count and precision straight from a .tflite or .onnx graph.

Counting from the converted file (not the Keras model) works on a device without TensorFlow
and for peer models edgeemo did not build. .tflite files are read with the flatbuffer schema
that ships with ai-edge-litert (or TensorFlow); .onnx files need the `onnx` package and are
reported without MACs when it is missing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GraphInfo", "inspect_graph", "load_tflite_schema"]

_SCHEMA_MODULES = (
    "ai_edge_litert.schema_py_generated",
    "tflite_runtime.schema_py_generated",
    "tensorflow.lite.python.schema_py_generated",
)


@dataclass
class GraphInfo:
    macs: int | None = None  # multiply-accumulates for one image
    params: int | None = None
    precision: str | None = None  # fp32, fp16, dynamic, int8
    input_dtype: str | None = None
    # ONNX int8 only: "uint8" or "int8" activations, which select different kernels.
    activation_dtype: str | None = None
    notes: list[str] = field(default_factory=list)


def load_tflite_schema() -> Any:
    """The generated TFLite flatbuffer schema module from whichever package provides it."""
    errors = []
    for name in _SCHEMA_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise ImportError("no TFLite schema module found (" + "; ".join(errors) + ")")


def inspect_graph(path: str | Path) -> GraphInfo:
    p = Path(path)
    try:
        if p.suffix == ".tflite":
            return _inspect_tflite(p)
        if p.suffix == ".onnx":
            return _inspect_onnx(p)
    except ImportError as exc:
        return GraphInfo(notes=[f"graph not inspected: {exc}"])
    return GraphInfo(notes=[f"graph inspection supports .tflite and .onnx, not {p.suffix}"])


def _prod(values: Any) -> int:
    return int(np.prod([int(v) for v in values])) if len(values) else 1


def _inspect_tflite(path: Path) -> GraphInfo:
    schema = load_tflite_schema()
    model = schema.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    sub = model.subgraphs[0]
    tensors = sub.tensors
    ops = schema.BuiltinOperator
    names = {v: k for k, v in vars(ops).items() if not k.startswith("_")}
    ttype = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}

    def shape(i: int) -> list[int]:
        return [int(d) for d in (tensors[i].shape if tensors[i].shape is not None else [])]

    in_shape = shape(sub.inputs[0])
    batch = in_shape[0] if in_shape and in_shape[0] > 0 else 1
    macs = 0
    weight_types: set[str] = set()
    act_types: set[str] = set()
    has_dequantize_fp16 = False
    for op in sub.operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "")
        ins = [i for i in (op.inputs if op.inputs is not None else []) if i >= 0]
        outs = list(op.outputs if op.outputs is not None else [])
        if name == "DEQUANTIZE" and ins and ttype.get(tensors[ins[0]].type) == "FLOAT16":
            has_dequantize_fp16 = True
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL"):
            if len(ins) >= 2:
                weight_types.add(ttype.get(tensors[ins[1]].type, "?"))
                act_idx = ins[0] if name != "TRANSPOSE_CONV" else ins[2]
                act_types.add(ttype.get(tensors[act_idx].type, "?"))
            out = shape(outs[0]) if outs else []
            if name == "CONV_2D" and len(out) == 4:
                w = shape(ins[1])  # [Cout, kh, kw, Cin]
                macs += _prod(out[1:]) * _prod(w[1:])
            elif name == "DEPTHWISE_CONV_2D" and len(out) == 4:
                w = shape(ins[1])  # [1, kh, kw, Cout]
                macs += _prod(out[1:]) * w[1] * w[2]
            elif name == "FULLY_CONNECTED":
                w = shape(ins[1])  # [units, in]
                rows = _prod(shape(ins[0])) // max(w[1], 1)
                macs += rows * w[0] * w[1] // batch
            elif name == "TRANSPOSE_CONV" and len(ins) >= 3:
                w = shape(ins[1])  # [Cout, kh, kw, Cin]
                macs += _prod(shape(ins[2])[1:]) * _prod(w[:3])
            elif name == "BATCH_MATMUL":
                a, b = shape(ins[0]), shape(ins[1])
                if len(a) >= 2 and len(b) >= 2:
                    macs += _prod(a) * b[-1] // batch
    params = 0
    for t in tensors:
        if t.buffer and _has_data(model, t.buffer):
            params += _prod(t.shape if t.shape is not None else [])
    info = GraphInfo(macs=int(macs) if macs else None, params=params or None)
    info.input_dtype = ttype.get(tensors[sub.inputs[0]].type, "?").lower()
    if "INT8" in weight_types and act_types <= {"INT8", "UINT8", "INT16"}:
        info.precision = "int8"
    elif "INT8" in weight_types:
        info.precision = "dynamic"
    elif "FLOAT16" in weight_types or has_dequantize_fp16:
        info.precision = "fp16"
    elif weight_types:
        info.precision = "fp32"
    return info


def _has_data(model: Any, buffer_index: int) -> bool:
    buf = model.buffers[buffer_index]
    return (buf.data is not None and len(buf.data) > 0) or int(getattr(buf, "size", 0) or 0) > 0


def _inspect_onnx(path: Path) -> GraphInfo:
    onnx = importlib.import_module("onnx")
    model = onnx.load(str(path))
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception as exc:  # shape inference is best effort; MACs need it
        return GraphInfo(notes=[f"onnx shape inference failed: {exc}"])
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    shapes: dict[str, list[int]] = {}
    for vi in list(graph.value_info) + list(graph.output) + list(graph.input):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.dim_value > 0 else 1 for d in dims]

    def wshape(name: str) -> list[int]:
        if name in inits:
            return list(inits[name].dims)
        return shapes.get(name, [])

    # Weights may reach a Conv through DequantizeLinear (QDQ) or a Transpose; follow one hop back.
    producers = {o: n for n in graph.node for o in n.output}

    def source_shape(name: str) -> list[int]:
        if name in inits:
            return list(inits[name].dims)
        node = producers.get(name)
        if node is not None and node.op_type in ("DequantizeLinear", "Cast", "Identity") and node.input[0] in inits:
            return list(inits[node.input[0]].dims)
        return shapes.get(name, [])

    in_dims = shapes.get(graph.input[0].name, [1])
    batch = in_dims[0] if in_dims else 1
    macs = 0
    op_types = {n.op_type for n in graph.node}
    for node in graph.node:
        op = node.op_type
        if op in ("Conv", "ConvInteger", "QLinearConv"):
            w_name = node.input[3] if op == "QLinearConv" else node.input[1]
            out_name = node.output[0]
            w, out = source_shape(w_name), shapes.get(out_name, [])
            if len(w) == 4 and len(out) == 4:
                macs += _prod(out[1:]) * _prod(w[1:])  # out C*H*W x (Cin/g)*kh*kw
        elif op in ("MatMul", "MatMulInteger", "QLinearMatMul", "Gemm"):
            b_name = node.input[3] if op == "QLinearMatMul" else node.input[1]
            b = source_shape(b_name)
            out = shapes.get(node.output[0], [])
            if len(b) >= 2 and out:
                k = b[-2] if not (op == "Gemm" and _attr(node, "transB")) else b[-1]
                macs += _prod(out) * k // max(batch, 1)
    params = sum(_prod(i.dims) for i in graph.initializer if len(i.dims) >= 1)
    info = GraphInfo(macs=int(macs) if macs else None, params=params or None)
    elem = graph.input[0].type.tensor_type.elem_type
    info.input_dtype = onnx.helper.tensor_dtype_to_np_dtype(elem).name if elem else None
    if "DynamicQuantizeLinear" in op_types:
        info.precision = "dynamic"
    elif op_types & {"QuantizeLinear", "QLinearConv", "ConvInteger", "MatMulInteger", "QLinearMatMul"}:
        info.precision = "int8"
        for node in graph.node:
            if node.op_type == "QuantizeLinear" and len(node.input) > 2 and node.input[2] in inits:
                zp_type = inits[node.input[2]].data_type
                info.activation_dtype = "uint8" if zp_type == onnx.TensorProto.UINT8 else "int8"
                break
    elif any(i.data_type == onnx.TensorProto.FLOAT16 for i in graph.initializer):
        info.precision = "fp16"
    else:
        info.precision = "fp32"
    return info


def _attr(node: Any, name: str) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(a.i)
    return 0
