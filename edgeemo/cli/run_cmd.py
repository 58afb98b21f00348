"""`edgeemo run`: camera -> face -> emotion -> publish in the foreground; Ctrl-C stops cleanly."""

from __future__ import annotations

import json
import sys

import click

from edgeemo.apps.registry import APPS

__all__ = ["START_TIMEOUT_S", "run", "summary"]

# In the foreground a camera that is not there should be said at once, not waited for.
START_TIMEOUT_S = 5.0


def summary(runner: object, frames: int) -> dict[str, object]:
    """End-to-end numbers for --show-metrics: rate over the first-to-last frame wall time, and
    each stage's share of that time (decode runs in the capture thread, beside the others)."""
    metrics = runner.metrics  # type: ignore[attr-defined]
    t0, t1 = getattr(runner, "t_first", None), getattr(runner, "t_last", None)
    wall = (t1 - t0) if t0 is not None and t1 is not None else 0.0
    fps = (frames - 1) / wall if wall > 0 and frames > 1 else 0.0
    snap = metrics.snapshot()
    share = {n: round(h.sum / wall, 4) if wall else 0.0 for n, h in metrics.stages.items() if n != "loop"}
    # From the loop's own time: applications' stages nest inside "apps", so summing shares would
    # count them twice; decode runs in the capture thread, outside the loop.
    stages = metrics.stages
    loop_rest = stages["loop"].sum - sum(stages[k].sum for k in ("detect", "classify") if k in stages)
    outside = loop_rest / wall if wall else 0.0
    info = getattr(runner, "info", {})
    pipeline = getattr(runner, "pipeline", None)
    return {
        "model": info.get("model"),
        "model_choice": info.get("model_choice"),
        "detection_runs": dict(pipeline.schedule.counts) if pipeline is not None else None,
        "frames": frames,
        "wall_s": round(wall, 3),
        "fps": round(fps, 1),
        "stage_ms_mean": snap["stage_ms_mean"],
        "stage_share_of_wall": share,
        "share_outside_decode_detect_classify": round(outside, 4),
        "faces_total": snap["faces_total"],
        "source": snap["source"],
    }


@click.command("run")
@click.option("--bundle", "bundle", type=click.Path(), default=None,
              help="Bundle directory or .tar.gz (default: the bundle shipped with the package).")
@click.option("--source", "source", default="0", show_default=True,
              help="Camera index, /dev/videoN, picamera2[:N], video file, rtsp:// or http(s):// URL, gst:PIPELINE, image folder.")
@click.option("--jsonl", "jsonl", default="-", show_default=True, help="Write JSON Lines here ('-' is stdout).")
@click.option("--max-frames", type=click.IntRange(min=1), default=None, help="Stop after this many frames.")
@click.option("--show-metrics", is_flag=True, help="Print throughput and per-stage timings to stderr at the end.")
@click.option("--threads", type=click.IntRange(1, 64), default=1, show_default=True, help="Inference threads (XNNPACK / ORT).")
@click.option("--model", "model", default=None, help="Model file inside the bundle, or 'auto': time the bundle's models at start-up and keep the "
              "fastest within 1 pp of the most accurate (default: auto for a bundle of several models).")
@click.option("--detector", type=click.Choice(["auto", "blazeface", "haar", "yunet"]), default="auto", show_default=True)
@click.option("--detect-schedule", type=click.Choice(["every_frame", "interval", "roi"]), default="interval",
              show_default=True, help="every_frame: search every whole frame; interval/roi: while faces are tracked, "
              "search the whole frame every --detect-every frames and carry the boxes (interval) or search around them (roi).")
@click.option("--detect-every", type=click.IntRange(1, 300), default=3, show_default=True,
              help="Whole-frame face detection at least every N frames while faces are tracked.")
@click.option("--detector-model", type=click.Path(), default=None, help="YuNet .onnx, or another BlazeFace .tflite.")
@click.option("--loop", is_flag=True, help="Restart a video file or folder at its end.")
@click.option("--http-port", type=click.IntRange(0, 65535), default=None,
              help="Also serve /healthz, /status and /metrics on 127.0.0.1:PORT.")
@click.option("--flip-average/--no-flip-average", default=None,
              help="Average each face with its mirror image (default: as the bundle says). Off halves classify time.")
@click.option("--app", "apps", multiple=True, type=click.Choice(sorted(APPS)),
              help="Run an application on the tracked faces (repeatable); its output joins every frame's JSON.")
@click.option("--wait", "wait", is_flag=True,
              help=f"Keep trying a camera that does not open (default: give up after {START_TIMEOUT_S:g} s and say why).")
def run(bundle: str | None, source: str, jsonl: str, max_frames: int | None, show_metrics: bool, threads: int,
        model: str | None, detector: str, detect_schedule: str, detect_every: int, detector_model: str | None,
        loop: bool, http_port: int | None, flip_average: bool | None, apps: tuple[str, ...], wait: bool) -> None:
    """Run camera -> face -> emotion -> publish in the foreground.

    A camera that cannot be opened at start fails after a few seconds with what was found
    (devices, group video, another process holding it); --wait keeps trying instead. Once
    running, a camera that drops out is reconnected with backoff."""
    from edgeemo.daemon.config import parse_config
    from edgeemo.daemon.runner import Runner
    from edgeemo.daemon.service import Signals

    publish: dict[str, object] = {"jsonl": {"enabled": True, "path": jsonl, "max_bytes": 0}}
    if http_port is not None:
        publish["http"] = {"enabled": True, "port": http_port}
    config = parse_config({
        "bundle": {"path": bundle, "model": model, "threads": threads, "flip_average": flip_average},
        "source": {"uri": source, "loop": loop, "start_timeout_s": 0.0 if wait else START_TIMEOUT_S},
        "detector": {"kind": detector, "model": detector_model, "schedule": detect_schedule, "every": detect_every},
        "publish": publish,
        "apps": {name: {"enabled": True} for name in apps},
    }, where="edgeemo run")
    signals = Signals().install()
    runner = Runner(config)
    try:
        runner.start()
        frames = runner.run(signals.stop, max_frames=max_frames)
        runner.flush()
    finally:
        runner.close()
    if show_metrics:
        click.echo(json.dumps(summary(runner, frames), indent=2), err=True)
    sys.stdout.flush()
