"""Face detection every frame against detection off the critical path, side by side.

    python benchmarks/detection_schedule.py [--frames 300] [--repeats 5] [--out benchmarks/results/detection-schedule]

A 640x480 video of a real portrait (the Grace Hopper photo matplotlib ships) moving on a
Lissajous path (up to ~9 px per frame) is written once; then, for each [detector] schedule:

1. in one process, the daemon's own pipeline (edgeemo.daemon.runner.build_pipeline, the shipped
   bundle's int8 TFLite, flip averaging as the bundle says, 1 thread) runs over every frame, with
   synchronous decode; the schedules take turns, `--repeats` passes each in rotated order, so a
   load spike on this shared machine hits all of them alike; FPS = frames / wall time of a pass;
2. `edgeemo run --show-metrics` on the same video, the schedules alternating, `--repeats` times
   each: the command a user runs, with its capture thread.

Face hit rate: the share of frames with a reported face whose box centre lies inside the pasted
portrait. Writes JSON + Markdown named after the date and machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SCHEDULES = (("every_frame", 1), ("interval", 3), ("roi", 3))
W, H = 640, 480


def portrait() -> np.ndarray:
    import cv2
    import matplotlib

    path = Path(matplotlib.__file__).parent / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    img = cv2.imread(str(path))
    if img is None:
        raise SystemExit(f"expected matplotlib's sample photo at {path}, received nothing")
    return cv2.resize(img[110:390, 120:400], (200, 200), interpolation=cv2.INTER_AREA)


def make_video(path: Path, frames: int) -> list[tuple[int, int, int, int]]:
    """The portrait on a textured background moving on a Lissajous path; returns each frame's box."""
    import cv2

    face = portrait()
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(60, 160, (H, W, 3), dtype=np.uint8), (0, 0), 6)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (W, H))
    boxes = []
    fh, fw = face.shape[:2]
    for i in range(frames):
        t = 2 * np.pi * i / 150
        x = int((W - fw) / 2 + (W - fw - 40) / 2 * np.sin(t))
        y = int((H - fh) / 2 + (H - fh - 40) / 2 * np.sin(2 * t + 0.5))
        frame = background.copy()
        frame[y : y + fh, x : x + fw] = face
        writer.write(frame)
        boxes.append((x, y, x + fw, y + fh))
    writer.release()
    return boxes


def hits(faces_per_frame: list[list[list[float]]], boxes: list[tuple[int, int, int, int]]) -> dict[str, float]:
    hit, err = 0, []
    for faces, (x1, y1, x2, y2) in zip(faces_per_frame, boxes, strict=True):
        centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in faces]
        inside = [c for c in centres if x1 <= c[0] <= x2 and y1 <= c[1] <= y2]
        if inside:
            hit += 1
            err.append(min(np.hypot(c[0] - (x1 + x2) / 2, c[1] - (y1 + y2) / 2) for c in inside))
    return {"face_hit_rate": round(hit / len(boxes), 4),
            "centre_error_px_median": round(float(np.median(err)), 2) if err else None}


def in_process(video: Path, boxes: list[tuple[int, int, int, int]], model: str, repeats: int) -> dict[str, Any]:
    from edgeemo.daemon.config import parse_config
    from edgeemo.daemon.runner import build_pipeline, resolve_bundle
    from edgeemo.daemon.sources import open_source

    bundle = resolve_bundle(None)
    pipes = {}
    for mode, every in SCHEDULES:
        cfg = parse_config({"bundle": {"model": model}, "detector": {"schedule": mode, "every": every}})
        pipes[mode] = build_pipeline(cfg, bundle)
        pipes[mode].warm_up(W, H)
    fps: dict[str, list[float]] = {m: [] for m in pipes}
    stats: dict[str, dict[str, Any]] = {}
    names = list(pipes)
    for r in range(repeats):
        for mode in names[r % len(names):] + names[: r % len(names)]:
            pipe = pipes[mode]
            pipe.tracker.reset()
            pipe.schedule.reset()
            pipe.schedule.counts = dict.fromkeys(pipe.schedule.counts, 0)
            src = open_source(str(video))
            src.open()
            faces, detect_ms = [], []
            t0 = time.perf_counter()
            while (frame := src.read()) is not None:
                res = pipe.process(frame)
                faces.append([f.box for f in res.faces])
                detect_ms.append(res.timings["detect"] * 1000)
            wall = time.perf_counter() - t0
            src.close()
            fps[mode].append(len(faces) / wall)
            stats[mode] = {**hits(faces, boxes), "detection_runs": dict(pipe.schedule.counts),
                           "detect_ms_mean": round(float(np.mean(detect_ms)), 3)}
    for p in pipes.values():
        p.close()
    base = float(np.median(fps["every_frame"]))
    return {m: {"fps_median": round(float(np.median(v)), 1), "fps_per_pass": [round(x, 1) for x in v],
                "speedup_vs_every_frame": round(float(np.median(v)) / base, 3), **stats[m]} for m, v in fps.items()}


def edgeemo_run(video: Path, boxes: list[tuple[int, int, int, int]], model: str, repeats: int,
                work: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    fps: dict[str, list[float]] = {m: [] for m, _ in SCHEDULES}
    stats: dict[str, dict[str, Any]] = {}
    for r in range(repeats):
        order = SCHEDULES[r % len(SCHEDULES):] + SCHEDULES[: r % len(SCHEDULES)]
        for mode, every in order:
            out = work / f"{mode}.jsonl"
            out.unlink(missing_ok=True)  # the JSON Lines publisher appends
            cmd = [sys.executable, "-m", "edgeemo", "run", "--source", str(video), "--model", model,
                   "--detect-schedule", mode, "--detect-every", str(every), "--jsonl", str(out), "--show-metrics"]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
            metrics = json.loads(proc.stderr[proc.stderr.rindex("\n{") + 1:] if "\n{" in proc.stderr else proc.stderr)
            fps[mode].append(float(metrics["fps"]))
            records = [json.loads(line) for line in out.read_text().splitlines()]
            stats[mode] = {**hits([[f["box"] for f in rec["faces"]] for rec in records], boxes),
                           "detection_runs": metrics.get("detection_runs"), "frames": metrics["frames"]}
    base = float(np.median(fps["every_frame"]))
    return {m: {"fps_median": round(float(np.median(v)), 1), "fps_per_run": v,
                "speedup_vs_every_frame": round(float(np.median(v)) / base, 3), **stats[m]} for m, v in fps.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default="fer2013_reference_int8.tflite", help="model file of the shipped bundle")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "detection-schedule")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from edgeemo.bench.machine import machine_info, machine_slug

    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="edgeemo-detsched-") as tmp:
        work = Path(tmp)
        video = work / "moving_face.mp4"
        boxes = make_video(video, args.frames)
        result = {
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine,
            "video": f"{W}x{H}, {args.frames} frames, one 200x200 portrait on a Lissajous path",
            "model": args.model, "threads": 1, "repeats": args.repeats,
            "pipeline_in_process": in_process(video, boxes, args.model, args.repeats),
        }
        print(json.dumps(result["pipeline_in_process"]), file=sys.stderr)
        result |= {
            "edgeemo_run": edgeemo_run(video, boxes, args.model, args.repeats, work),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{dt.date.today().isoformat()}-{machine_slug(machine)}"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [f"# Detection schedule: {result['video']}\n", f"Machine: {machine.get('cpu_model')}; model {args.model}, "
             f"1 thread; {args.repeats} interleaved passes each.\n",
             "| way | schedule | FPS (median) | x every_frame | face hit rate | centre error px | detector runs |",
             "|---|---|---:|---:|---:|---:|---|"]
    for way in ("pipeline_in_process", "edgeemo_run"):
        for mode, r in result[way].items():
            lines.append(f"| {way} | {mode} | {r['fps_median']} | {r['speedup_vs_every_frame']} | "
                         f"{r['face_hit_rate']} | {r['centre_error_px_median']} | {r['detection_runs']} |")
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
