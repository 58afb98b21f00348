"""Why int8 does or does not pay, op by op: one-op TFLite models at the zoo's shapes, fp32 against
int8 (per-channel and per-tensor weights), timed side by side in LiteRT with XNNPACK.

    python benchmarks/int8_ops.py [--runs 400] [--out benchmarks/results/int8-ops]

The ai-edge-litert wheel has no per-op profiler (benchmark_model --enable_op_profiling is a C++
tool outside it), so each op is isolated instead: a model of that op alone at the exact shape a
zoo model runs it, converted the way `edgeemo quantize` converts (full-integer int8, int8 I/O,
calibrated on random data of the right range). Timing: 1 thread, batch 1, the three variants of
a case interleaved, median of `--runs` invokes. Also the whole zoo nets with int8 vs float I/O.
Needs the host extra (TensorFlow).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent

# (name, input HxWxC, op, argument): the ops of mini_xception and mobilenet at 48x48 inputs.
CASES: list[tuple[str, tuple[int, int, int], str, int]] = [
    ("conv3x3 1->8 (mini_xception stem)", (48, 48, 1), "conv", 8),
    ("conv3x3 1->16", (48, 48, 1), "conv", 16),
    ("conv3x3 1->32 (mobilenet stem)", (48, 48, 1), "conv", 32),
    ("conv3x3 8->8 (mini_xception stem)", (48, 48, 8), "conv", 8),
    ("conv3x3 16->16", (48, 48, 16), "conv", 16),
    ("dw3x3 8ch @48", (48, 48, 8), "dw", 0),
    ("dw3x3 16ch @48", (48, 48, 16), "dw", 0),
    ("dw3x3 32ch @48", (48, 48, 32), "dw", 0),
    ("dw3x3 32ch @24", (24, 24, 32), "dw", 0),
    ("dw3x3 64ch @12", (12, 12, 64), "dw", 0),
    ("dw3x3 128ch @6", (6, 6, 128), "dw", 0),
    ("pw 8->16 @48", (48, 48, 8), "conv1", 16),
    ("pw 16->16 @48", (48, 48, 16), "conv1", 16),
    ("pw 32->64 @24", (24, 24, 32), "conv1", 64),
    ("pw 16->64 @48 (mobilenet expand)", (48, 48, 16), "conv1", 64),
    ("maxpool3x3/2 16ch @48", (48, 48, 16), "maxpool3", 0),
    ("conv1x1 16->16 + add @24", (24, 24, 16), "add", 0),
    ("ReLU capped at 3 @24 (not ReLU6)", (24, 24, 16), "relu3", 0),
]


def one_op_model(shape: tuple[int, int, int], op: str, arg: int) -> Any:
    import keras

    k = keras.layers
    inp = keras.Input(shape)
    if op == "conv":
        x = k.Conv2D(arg, 3, padding="same", activation="relu")(inp)
    elif op == "conv1":
        x = k.Conv2D(arg, 1, activation="relu")(inp)
    elif op == "dw":
        x = k.DepthwiseConv2D(3, padding="same", activation="relu")(inp)
    elif op == "maxpool3":
        x = k.MaxPooling2D(3, strides=2, padding="same")(inp)
    elif op == "add":
        x = k.Add()([k.Conv2D(shape[-1], 1)(inp), k.MaxPooling2D(1)(inp)])  # two int8 scales meet
    elif op == "relu3":
        x = k.ReLU(max_value=3.0)(inp)  # int8 has no fused kernel for this cap: XNNPACK leaves it out
    else:
        raise ValueError(op)
    return keras.Model(inp, x)


def convert(model: Any, path: Path, precision: str, shape: tuple[int, ...], *, per_tensor: bool = False,
            float_io: bool = False) -> Path:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if precision == "int8":
        rng = np.random.default_rng(0)

        def data() -> Any:
            for _ in range(32):
                yield [rng.random((1, *shape), dtype=np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = data
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if not float_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        if per_tensor:
            converter._experimental_disable_per_channel = True  # noqa: SLF001 - the converter's only switch for it
    path.write_bytes(converter.convert())
    return path


def time_interleaved(paths: dict[str, Path], runs: int) -> dict[str, float]:
    from edgeemo.runtime.litert import load_interpreter_class

    _, interp_cls = load_interpreter_class()
    interps = {}
    for name, p in paths.items():
        it = interp_cls(model_path=str(p), num_threads=1)
        it.allocate_tensors()
        d = it.get_input_details()[0]
        it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
        for _ in range(20):
            it.invoke()
        interps[name] = it
    samples: dict[str, list[int]] = {n: [] for n in interps}
    for _ in range(runs):
        for n, it in interps.items():
            t0 = time.perf_counter_ns()
            it.invoke()
            samples[n].append(time.perf_counter_ns() - t0)
    return {n: float(np.median(s)) / 1e3 for n, s in samples.items()}  # microseconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--zoo", default="mini_xception,mobilenet,mini_xception@before,mobilenet@before",
                        help="whole nets for the int8 vs float I/O rows; NAME@before: the widths before issue 39")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "int8-ops")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(REPO))
    from edgeemo.bench.machine import machine_info, machine_slug
    from edgeemo.models.zoo import MOBILENET_BLOCKS, build_model, mini_xception, mobilenet

    before = {  # the zoo's widths before issue 39, built side by side with today's
        "mini_xception": lambda: mini_xception((48, 48, 1), 7, stem=8, widths=(16, 32, 64, 128)),
        "mobilenet": lambda: mobilenet((48, 48, 1), 7, stem=32,
                                       blocks=tuple((4 if t == 6 else t, c, n, st) for t, c, n, st in MOBILENET_BLOCKS)),
    }

    rows = []
    with tempfile.TemporaryDirectory(prefix="edgeemo-int8-ops-") as tmp:
        work = Path(tmp)
        for i, (name, shape, op, arg) in enumerate(CASES):
            model = one_op_model(shape, op, arg)
            paths = {
                "fp32": convert(model, work / f"{i}_fp32.tflite", "fp32", shape),
                "int8": convert(model, work / f"{i}_int8.tflite", "int8", shape),
                "int8_per_tensor": convert(model, work / f"{i}_int8pt.tflite", "int8", shape, per_tensor=True),
            }
            us = time_interleaved(paths, args.runs)
            rows.append({"case": name, "fp32_us": round(us["fp32"], 2), "int8_us": round(us["int8"], 2),
                         "int8_per_tensor_us": round(us["int8_per_tensor"], 2),
                         "int8_over_fp32": round(us["int8"] / us["fp32"], 3)})
            print(rows[-1], file=sys.stderr)
        nets = []
        for name in args.zoo.split(","):
            base, _, variant = name.partition("@")
            model = before[base]() if variant == "before" else build_model(base)
            shape = tuple(model.input_shape[1:])
            paths = {
                "fp32": convert(model, work / f"{base}{variant}_fp32.tflite", "fp32", shape),
                "int8": convert(model, work / f"{base}{variant}_int8.tflite", "int8", shape),
                "int8_float_io": convert(model, work / f"{base}{variant}_int8f.tflite", "int8", shape, float_io=True),
                "int8_per_tensor": convert(model, work / f"{base}{variant}_int8pt.tflite", "int8", shape,
                                           per_tensor=True),
            }
            us = time_interleaved(paths, args.runs)
            nets.append({"model": name, **{f"{k}_us": round(v, 2) for k, v in us.items()},
                         "int8_over_fp32": round(us["int8"] / us["fp32"], 3)})
            print(nets[-1], file=sys.stderr)
    machine = machine_info()
    out = {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine,
           "method": "one-op models, LiteRT XNNPACK, 1 thread, batch 1, variants interleaved, median invoke",
           "ops": rows, "nets": nets}
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{dt.date.today().isoformat()}-{machine_slug(machine)}"
    (args.out / f"{stem}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    lines = ["| op at its zoo shape | fp32 us | int8 us | int8 per-tensor us | int8/fp32 |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['case']} | {r['fp32_us']} | {r['int8_us']} | {r['int8_per_tensor_us']} | {r['int8_over_fp32']} |"
              for r in rows]
    lines += ["", "| net | fp32 us | int8 us | int8 float-I/O us | int8 per-tensor us | int8/fp32 |",
              "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {n['model']} | {n['fp32_us']} | {n['int8_us']} | {n['int8_float_io_us']} | {n['int8_per_tensor_us']} | "
              f"{n['int8_over_fp32']} |" for n in nets]
    (args.out / f"{stem}.md").write_text(f"# int8 op by op, {machine.get('cpu_model')}\n\n" + "\n".join(lines) + "\n",
                                         encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
