"""Pipeline mode: the daemon's own stages on a video, timed per stage, with end-to-end FPS.

Frames are read synchronously from the source (no latest-frame grabber thread) so decode time
is measured rather than hidden behind the capture thread; the other stages come from
edgeemo.daemon.pipeline.Pipeline, the code the daemon runs.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.bench.stats import stage_summary

__all__ = ["PIPELINE_STAGES", "pipeline_markdown", "run_pipeline_bench"]

# The daemon names its smoothing stage "track" (IoU tracker + EMA + hysteresis).
PIPELINE_STAGES = ("decode", "detect", "align", "classify", "track", "publish")


def _publisher(out_dir: Path) -> tuple[Any, str]:
    try:
        from edgeemo.daemon.publish_jsonl import JsonlPublisher
    except ImportError:
        from edgeemo.daemon.publishers import NullPublisher

        return NullPublisher(), "null publisher (JSONL publisher not installed)"
    pub = JsonlPublisher(enabled=True, path=str(out_dir / "frames.jsonl"), max_bytes=0)
    return pub, "JSON Lines to a local file"


def run_pipeline_bench(
    bundle_path: str | Path,
    source: str,
    *,
    threads: int = 1,
    frames: int = 300,
    warmup: int = 5,
    detector: str = "auto",
    model: str | None = None,
    detector_options: dict[str, Any] | None = None,
    apps: dict[str, dict[str, Any]] | None = None,
    schedule: str = "interval",
    every: int = 3,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Per-stage p50/p99 and end-to-end FPS over up to `frames` frames of `source`. `apps` (name ->
    its [apps.NAME] options) run after tracking as in the daemon; their stages (e.g. landmarks,
    iris) are listed too, timed on the frames they ran."""
    from edgeemo.bundle import load_bundle
    from edgeemo.daemon.pipeline import Pipeline
    from edgeemo.daemon.sources import open_source
    from edgeemo.errors import SourceError
    from edgeemo.runtime.choose import open_bundle_model
    from edgeemo.vision.base import open_detector
    from edgeemo.vision.schedule import DetectionSchedule

    say = say or (lambda _msg: None)
    bundle = load_bundle(bundle_path)
    det = open_detector(detector, model_path=bundle.detector_path, threads=threads, **(detector_options or {}))
    choice, runtime = open_bundle_model(bundle, model, threads=threads)
    plan = DetectionSchedule(schedule, every)
    pipe = Pipeline(det, runtime, bundle.preprocess, bundle.labels, model_choice=choice, schedule=plan)
    app_set = _build_apps(bundle, apps or {}, threads)
    src = open_source(source)
    work = Path(tempfile.mkdtemp(prefix="edgeemo-bench-pipeline-"))
    publisher, publisher_desc = _publisher(work)
    samples: dict[str, list[float]] = {s: [] for s in PIPELINE_STAGES}
    totals: list[float] = []
    faces = 0
    try:
        publisher.start(None)
        src.open()
        first = src.read()
        if first is None:
            raise SourceError(f"expected frames from {src.describe()}, received none")
        say(f"pipeline: warm-up on {first.shape[1]}x{first.shape[0]} frames")
        pipe.warm_up(width=first.shape[1], height=first.shape[0])
        app_set.warm_up()
        for _ in range(warmup):
            warm = pipe.process(first)
            app_set.update(warm, time.monotonic(), first)
            publisher.publish(warm)
        say(f"pipeline: timing up to {frames} frames from {src.describe()}")
        pipe.tracker.reset()
        plan.reset()
        plan.counts = dict.fromkeys(plan.counts, 0)
        wall0 = time.perf_counter()
        index = 0
        misses = 0
        while index < frames:
            t0 = time.perf_counter()
            frame = src.read()
            t1 = time.perf_counter()
            if frame is None:
                misses += 1
                # A live source may drop a read now and then; many in a row means it is gone.
                if src.finite or misses > 100:
                    break
                continue
            misses = 0
            result = pipe.process(frame, index=index)
            app_set.update(result, time.monotonic(), frame)
            t2 = time.perf_counter()
            publisher.publish(result)
            t3 = time.perf_counter()
            samples["decode"].append(t1 - t0)
            for stage in ("detect", "align", "classify", "track"):
                samples[stage].append(result.timings.get(stage, 0.0))
            for stage, seconds in result.timings.items():
                if stage not in PIPELINE_STAGES:  # an app's stage: timed on the frames it ran
                    samples.setdefault(stage, []).append(seconds)
            samples["publish"].append(t3 - t2)
            totals.append(t3 - t0)
            faces += len(result.faces)
            index += 1
        wall = time.perf_counter() - wall0
    finally:
        publisher.close()
        src.close()
        app_set.close()
        pipe.close()
        shutil.rmtree(work, ignore_errors=True)  # the published lines are only there to be timed
    if not totals:
        raise SourceError(f"expected at least one frame after warm-up from {source}, received none")
    stages = {s: stage_summary((np.asarray(v) * 1e9).astype(np.int64)) for s, v in samples.items() if v}
    e2e = stage_summary((np.asarray(totals) * 1e9).astype(np.int64))
    return {
        "bundle": str(bundle_path),
        "model": choice.file,
        "model_choice": choice.to_json(),
        "source": src.describe(),
        "detector": type(det).__name__,
        "detection": {"schedule": schedule, "every": every, "counts": dict(plan.counts)},
        "threads": threads,
        "apps": app_set.names,
        "frames": len(totals),
        "faces_per_frame": faces / len(totals),
        "publisher": publisher_desc,
        "stages": stages,
        "end_to_end": e2e,
        "fps": len(totals) / wall if wall > 0 else float("inf"),
        "method": "frames read synchronously; stage times from the daemon Pipeline's perf_counter stamps; "
        "end-to-end = decode + process + publish per frame; FPS = frames / wall time of the loop",
    }


def _build_apps(bundle: Any, apps: dict[str, dict[str, Any]], threads: int) -> Any:
    from edgeemo.apps.appset import AppSet
    from edgeemo.apps.base import AppContext
    from edgeemo.apps.registry import build_analyzers
    from edgeemo.daemon.config import parse_config
    from edgeemo.daemon.metrics import Metrics

    config = parse_config({"apps": {name: {**opts, "enabled": True} for name, opts in apps.items()}},
                          where="edgeemo bench --app")
    context = AppContext(bundle=bundle, labels=bundle.labels, threads=threads)
    return AppSet(build_analyzers(config.apps, context), Metrics())


def pipeline_markdown(p: dict[str, Any]) -> str:
    lines = [
        "## Pipeline\n",
        f"{p['frames']} frames from {p['source']}, bundle model {p['model']}"
        + (f" ({p['model_choice']['mode']}: {p['model_choice']['reason']})" if p.get("model_choice") else "")
        + f", detector {p['detector']}"
        + (f" ({p['detection']['schedule']}, every {p['detection']['every']}: {p['detection']['counts']})"
           if p.get("detection") else "") + ", "
        f"{p['threads']} thread(s), publisher: {p['publisher']}; {p['faces_per_frame']:.2f} faces per frame"
        + (f"; apps: {', '.join(p['apps'])}" if p.get("apps") else "") + ".\n",
        "| stage | p50 ms | p99 ms | mean ms |",
        "|---|---:|---:|---:|",
    ]
    for name, s in p["stages"].items():
        lines.append(f"| {name} | {s['p50_ms']:.3f} | {s['p99_ms']:.3f} | {s['mean_ms']:.3f} |")
    e = p["end_to_end"]
    lines.append(f"| **end to end** | {e['p50_ms']:.3f} | {e['p99_ms']:.3f} | {e['mean_ms']:.3f} |")
    lines.append(f"\nEnd-to-end throughput: **{p['fps']:.1f} FPS**.\n")
    return "\n".join(lines)
