"""Run a benchmark: accuracy on real faces, interleaved latency, peak, memory -> one result dict.

Fairness on a noisy shared machine: for each thread count every (artifact, batch) cell is loaded
at once, and the timed runs are split into repeats; each repeat visits every cell in turn (the
order rotates by one each repeat) and runs a block of consecutive invokes there. A background
load spike then hits all artifacts alike instead of whichever happened to run during it, and
the per-repeat medians give the run-to-run spread of p50.
"""

from __future__ import annotations

import datetime as _dt
import gc
import importlib.util
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.bench.auto_choice import auto_choices
from edgeemo.bench.machine import machine_info
from edgeemo.bench.memprobe import measure_memory
from edgeemo.bench.probes import measure_peaks, peak_for
from edgeemo.bench.stats import latency_summary, p50_spread_pct, stage_summary
from edgeemo.bench.targets import Target, resolve_targets
from edgeemo.bench.timed import TimedModel, timed_model
from edgeemo.errors import ConfigError, DataError
from edgeemo.labels import FER2013_LABELS
from edgeemo.preprocess import PreprocessSpec
from edgeemo.runtime import open_runtime

__all__ = ["BENCH_FORMAT", "BenchConfig", "run_bench"]

log = logging.getLogger(__name__)

BENCH_FORMAT = "edgeemo-bench/1"
_PRECISION_ORDER = {"fp32": 0, "fp16": 1, "dynamic": 2, "int8": 3}
_RUNTIME_ORDER = {"keras": 0, "litert": 1, "onnxruntime": 2}

METHOD = {
    "timer": "time.perf_counter_ns around the runtime call only (set input, invoke, read output); "
    "pre (normalise + quantize/transpose) and post (dequantize + softmax) timed separately",
    "percentiles": "numpy linear interpolation over all timed runs after warm-up",
    "interleaving": "per thread count, all (artifact, batch) cells loaded together; runs split into "
    "repeats, each repeat visits every cell in rotated order and runs a block of consecutive invokes; "
    "one untimed invoke starts each block; garbage collection paused while timing",
    "p50_spread": "(max - min) / median of the per-repeat p50s, in percent",
    "memory": "fresh subprocess per artifact: peak RSS (VmHWM, else ru_maxrss) after importing the runtime, "
    "and again after loading the model and 10 inferences at batch 1; model_rss_mb is the difference",
    "load_ms": "wall time of opening the model in a fresh process (memory probe), else in the bench process",
    "peak": "a single matrix product (64x1024 by 1024x1024) through the same runtime and thread count; "
    "GMAC/s at its p50; int8 artifacts are set beside the fastest int8 probe of their runtime",
    "gmacs": "MACs per image counted from the converted graph x batch / invoke p50",
}


@dataclass
class BenchConfig:
    threads: list[int] = field(default_factory=lambda: [1])
    batches: list[int] = field(default_factory=lambda: [1])
    runs: int = 200
    warmup: int = 20
    repeats: int = 5
    data: Path | None = None
    split: str = "test"
    limit_per_class: int | None = None  # accuracy on a class-balanced subset (quick runs)
    timing_pool: int = 64  # distinct inputs the timed runs cycle through
    spec_path: Path | None = None
    memory: bool = True
    peak: bool = True
    seed: int = 0

    def validate(self) -> None:
        if not self.threads or any(t < 1 for t in self.threads):
            raise ConfigError(f"expected --threads as positive integers, received {self.threads}")
        if not self.batches or any(b < 1 for b in self.batches):
            raise ConfigError(f"expected --batch as positive integers, received {self.batches}")
        if self.repeats < 1 or self.runs < self.repeats:
            raise ConfigError(f"expected --runs >= --repeats >= 1, received runs={self.runs} repeats={self.repeats}")
        if self.warmup < 0:
            raise ConfigError(f"expected --warmup >= 0, received {self.warmup}")


@dataclass
class _Cell:
    target: Target
    batch: int
    timed: TimedModel
    load_ms: float
    pre: list[int] = field(default_factory=list)
    post: list[int] = field(default_factory=list)
    repeats: list[list[int]] = field(default_factory=list)
    cursor: int = 0


def _spec_key(t: Target) -> str:
    assert t.spec is not None  # filled in before inputs are drawn
    return t.spec.model_dump_json() + "|" + ",".join(t.labels or FER2013_LABELS)


def _fill_spec(t: Target, threads: int) -> None:
    """A model without a spec gets one from its input shape; the note says what was assumed."""
    if t.spec is not None:
        return
    with open_runtime(t.path, threads=threads) as rt:
        h, w, c = rt.input_shape
    t.spec = PreprocessSpec(height=h, width=w, channels=c)
    t.notes.append("no spec.json found: input size from the model, normalisation 0_1 assumed")


def _load_inputs(targets: list[Target], config: BenchConfig, say: Callable[[str], None]) -> dict[str, Any]:
    """Per distinct (spec, labels): the dataset split when --data is given, else seeded random pixels."""
    sets: dict[str, Any] = {}
    for t in targets:
        key = _spec_key(t)
        if key in sets:
            continue
        assert t.spec is not None
        if config.data is not None:
            from edgeemo.data import load_split

            say(f"loading {config.data} split {config.split!r} at {t.spec.height}x{t.spec.width}x{t.spec.channels}")
            data = load_split(
                config.data, config.split, t.spec, class_names=t.labels or list(FER2013_LABELS),
                limit_per_class=config.limit_per_class, progress=False,
            )
            if len(data) == 0:
                raise DataError(f"expected images in {config.data} split {config.split!r}, received none")
            sets[key] = data
        else:
            rng = np.random.default_rng(config.seed)
            sets[key] = rng.integers(0, 256, size=(config.timing_pool, *t.spec.input_shape), dtype=np.uint8)
    return sets


def _timing_pixels(inputs: Any, config: BenchConfig) -> np.ndarray:
    if isinstance(inputs, np.ndarray):
        return inputs
    # Folder loaders return images grouped by class; draw across classes.
    rng = np.random.default_rng(config.seed)
    n = len(inputs)
    idx = rng.choice(n, size=min(config.timing_pool, n), replace=False)
    return inputs.images[np.sort(idx)]


def _reference_for(group: list[Target]) -> Target | None:
    """Keras float first, then fp32 TFLite, then fp32 ONNX."""
    for runtime in ("keras", "litert", "onnxruntime"):
        for t in group:
            if t.runtime == runtime and t.precision == "fp32":
                return t
    return None


def _accuracy(targets: list[Target], sets: dict[str, Any], threads: int, say: Callable[[str], None]) -> dict[str, dict]:
    from edgeemo.evaluation.metrics import agreement_metrics, classification_metrics

    probs: dict[str, np.ndarray] = {}
    results: dict[str, dict] = {}
    for t in targets:
        data = sets[_spec_key(t)]
        say(f"accuracy: {t.name} on {len(data)} images")
        with open_runtime(t.path, threads=threads) as rt:
            assert t.spec is not None
            p = rt.predict_pixels(data.images, t.spec, batch_size=64)
        probs[t.name] = p
        metrics = classification_metrics(data.labels, p, data.class_names)
        results[t.name] = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
                           "images": metrics["images"], "per_class_recall": metrics["per_class_recall"],
                           "skipped_images": int(getattr(data, "skipped", 0))}
    groups: dict[str, list[Target]] = {}
    for t in targets:
        groups.setdefault(t.group, []).append(t)
    for members in groups.values():
        ref = _reference_for(members)
        for t in members:
            r = results[t.name]
            r["reference"] = ref.name if ref else None
            if ref is None or ref is t or probs[ref.name].shape != probs[t.name].shape:
                r["drop_pp"] = 0.0 if ref is t else None
                r["agreement"] = 1.0 if ref is t else None
                continue
            r["drop_pp"] = (results[ref.name]["accuracy"] - r["accuracy"]) * 100.0
            r.update(agreement_metrics(probs[t.name], probs[ref.name]))
    return results


def _run_cells(cells: list[_Cell], pixels: dict[str, np.ndarray], config: BenchConfig) -> None:
    per_repeat = math.ceil(config.runs / config.repeats)

    def step(cell: _Cell, record: bool) -> None:
        spec = cell.target.spec
        assert spec is not None
        pool = pixels[_spec_key(cell.target)]
        idx = (cell.cursor + np.arange(cell.batch)) % len(pool)
        cell.cursor = (cell.cursor + cell.batch) % len(pool)
        t0 = time.perf_counter_ns()
        model_input = cell.timed.prepare(spec.normalize(pool[idx]))
        t1 = time.perf_counter_ns()
        raw = cell.timed.invoke(model_input)
        t2 = time.perf_counter_ns()
        cell.timed.finish(raw)
        t3 = time.perf_counter_ns()
        if record:
            cell.pre.append(t1 - t0)
            cell.repeats[-1].append(t2 - t1)
            cell.post.append(t3 - t2)

    for cell in cells:
        for _ in range(config.warmup):
            step(cell, record=False)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(config.repeats):
            order = cells[r % len(cells):] + cells[: r % len(cells)]
            for cell in order:
                cell.repeats.append([])
                step(cell, record=False)
                for _ in range(per_repeat):
                    step(cell, record=True)
    finally:
        if gc_was_enabled:
            gc.enable()


def _sort_key(t: Target) -> tuple[Any, ...]:
    return (t.group, _RUNTIME_ORDER.get(t.runtime, 9), _PRECISION_ORDER.get(t.precision, 9), t.name)


def run_bench(inputs: list[str], config: BenchConfig, *, say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure every artifact named by `inputs`; returns the JSON-ready result."""
    say = say or (lambda msg: log.info("%s", msg))
    config.validate()
    machine = machine_info()
    targets, skipped = resolve_targets(inputs, spec_path=config.spec_path)
    if not targets:
        raise ConfigError("expected at least one artifact this machine can run, received only skipped ones: "
                          + "; ".join(f"{s['path']}: {s['reason']}" for s in skipped))
    targets.sort(key=_sort_key)
    keras_threads = config.threads[0]
    notes: list[str] = []
    if any(t.runtime == "keras" for t in targets):
        # Must happen before TensorFlow starts its pools, i.e. before any Keras model is opened.
        _pin_tensorflow_threads(keras_threads)
        if len(config.threads) > 1:
            notes.append(f"Keras timed at {keras_threads} thread(s) only: TensorFlow fixes its pool at start-up")
    # Artifacts of one model share its MAC count; fill gaps (Keras, ONNX without `onnx`) from siblings.
    group_macs = {t.group: t.info.macs for t in targets if t.info.macs}
    for t in targets:
        _fill_spec(t, config.threads[0])
    sets = _load_inputs(targets, config, say)
    pixels = {k: _timing_pixels(v, config) for k, v in sets.items()}
    if config.data is None:
        notes.append("no --data: latency measured on seeded random pixels; no accuracy")

    accuracy: dict[str, dict] = {}
    if config.data is not None:
        accuracy = _accuracy(targets, sets, max(config.threads), say)

    memory: dict[str, dict] = {}
    if config.memory:
        for t in targets:
            say(f"memory: {t.name} in a fresh process")
            memory[t.name] = measure_memory(t.path, threads=config.threads[0])

    peaks: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for threads in config.threads:
        peak_by_key = measure_peaks({t.runtime for t in targets}, threads, peaks, say) if config.peak else {}
        cells: list[_Cell] = []
        for t in targets:
            if t.runtime == "keras" and threads != keras_threads:
                continue
            for batch in config.batches:
                t0 = time.perf_counter()
                rt = open_runtime(t.path, threads=threads)
                load_ms = (time.perf_counter() - t0) * 1000
                cells.append(_Cell(t, batch, timed_model(rt), load_ms))
        say(f"timing {len(cells)} cells at {threads} thread(s): {config.runs} runs in {config.repeats} repeats each")
        try:
            _run_cells(cells, pixels, config)
        finally:
            for cell in cells:
                cell.timed.close()
        for cell in cells:
            t = cell.target
            samples = [s for rep in cell.repeats for s in rep]
            invoke = latency_summary(samples, batch=cell.batch)
            spread = p50_spread_pct(cell.repeats)
            macs = t.info.macs or group_macs.get(t.group)
            gmacs = macs * cell.batch / (invoke["p50_ms"] * 1e6) if macs else None
            pk = peak_for(t.runtime, t.precision, peak_by_key)
            peak_gmacs = pk[2] if pk else None
            pre, post = stage_summary(cell.pre), stage_summary(cell.post)
            results.append({
                "artifact": t.name,
                "threads": threads,
                "batch": cell.batch,
                "load_ms": cell.load_ms,
                "invoke": invoke,
                "pre": pre,
                "post": post,
                "end_to_end_p50_ms": pre["p50_ms"] + invoke["p50_ms"] + post["p50_ms"],
                **spread,
                "gmacs": gmacs,
                "peak": {"runtime": pk[0], "kind": pk[1], "gmacs": peak_gmacs} if pk else None,
                "fraction_of_peak": gmacs / peak_gmacs if gmacs and peak_gmacs else None,
                "samples_ms": [round(s / 1e6, 5) for s in samples],
            })

    artifacts = []
    for t in targets:
        macs = t.info.macs or group_macs.get(t.group)
        artifacts.append({
            "name": t.name,
            "path": str(t.path),
            "format": t.format,
            "runtime": t.runtime,
            "precision": t.precision,
            "group": t.group,
            "source": t.source,
            "file_bytes": t.file_bytes,
            "macs": macs,
            "macs_from": "graph" if t.info.macs else ("group" if macs else None),
            "params": t.info.params,
            "input_dtype": t.info.input_dtype,
            "onnx_activation_dtype": t.info.activation_dtype,
            "preprocess": t.spec.model_dump() if t.spec else None,
            "labels": t.labels,
            "memory": memory.get(t.name),
            "accuracy": accuracy.get(t.name),
            "manifest_metrics": t.manifest_metrics or None,
            "notes": t.notes,
        })
    data_desc = None
    if config.data is not None:
        first = next(iter(sets.values()))
        data_desc = {"root": str(config.data), "split": config.split, "images": len(first),
                     "limit_per_class": config.limit_per_class}
    return {
        "format": BENCH_FORMAT,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "config": {
            "threads": config.threads, "batches": config.batches, "runs": config.runs, "warmup": config.warmup,
            "repeats": config.repeats, "timing_pool": config.timing_pool, "data": data_desc,
            "inputs": "dataset faces" if config.data is not None else "seeded random pixels",
        },
        "method": METHOD,
        "peaks": peaks,
        "artifacts": artifacts,
        "results": results,
        "skipped": skipped,
        "notes": notes,
        "auto_choice": auto_choices(targets, results),
    }


def _pin_tensorflow_threads(threads: int) -> None:
    if importlib.util.find_spec("tensorflow") is None:
        return
    from edgeemo._lazy import require_tensorflow

    tf = require_tensorflow()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        log.warning("TensorFlow already initialised; Keras thread count not pinned")
