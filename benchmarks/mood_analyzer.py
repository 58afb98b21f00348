"""What the room mood app adds to each frame, in microseconds (target: under 100 us).

    python benchmarks/mood_analyzer.py [--frames 20000] [--repeats 5] [--out benchmarks/results/mood-analyzer.json]

Times MoodAnalyzer.update alone and the whole application step the frame loop runs (AppSet:
the analyzer, its gauges and events into the metrics) on scripted frames with 0, 1, 4 and 8
tracked faces at 15 frames/s: faces that count (past the dwell time), noisy smoothed
probabilities, the room moving between moods. Each frame is timed on its own
(perf_counter_ns); the report gives the median, p90 and p99 over all frames of all repeats and
the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.apps.appset import AppSet
from edgeemo.apps.clock import FakeClock
from edgeemo.apps.mood.analyzer import MoodAnalyzer
from edgeemo.apps.mood.config import MoodConfig
from edgeemo.bench.machine import machine_info
from edgeemo.daemon.metrics import Metrics
from edgeemo.daemon.pipeline import FaceResult, FrameResult
from edgeemo.labels import FER2013_LABELS

LABELS = list(FER2013_LABELS)


def scripted_frames(n_faces: int, frames: int, seed: int) -> tuple[list[FrameResult], list[float]]:
    rng = np.random.default_rng(seed)
    clock = FakeClock(start=0.0)
    times = list(clock.frames(frames / 15.0, 15.0))
    out = []
    for i, _ in enumerate(times):
        leaning = (i // 300) % len(LABELS)  # the room changes its leaning every 20 s
        faces = []
        for tid in range(1, n_faces + 1):
            p = rng.dirichlet(np.ones(len(LABELS)))
            p[leaning] += 2.0
            p /= p.sum()
            probs = dict(zip(LABELS, p.tolist(), strict=True))
            label = LABELS[int(p.argmax())]
            h = 60.0 + 20.0 * tid
            faces.append(FaceResult(id=tid, box=[10.0 * tid, 50.0, 10.0 * tid + h * 0.8, 50.0 + h], det_score=0.9,
                                    label=label, score=float(p.max()), probs=probs, raw_label=label))
        out.append(FrameResult(index=i, wall_time=1.7e9 + times[i], width=640, height=480, faces=faces))
    return out, times


def time_frames(step: Any, frames: list[FrameResult], times: list[float]) -> list[float]:
    samples = []
    for result, now in zip(frames, times, strict=True):
        t0 = time.perf_counter_ns()
        step(result, now)
        samples.append((time.perf_counter_ns() - t0) / 1000.0)
    return samples


def summarize(samples: list[float]) -> dict[str, float]:
    q = np.percentile(samples, [50, 90, 99])
    return {"median_us": round(float(q[0]), 2), "p90_us": round(float(q[1]), 2), "p99_us": round(float(q[2]), 2),
            "mean_us": round(statistics.fmean(samples), 2), "frames": len(samples)}


def run(frames: int, repeats: int) -> dict[str, Any]:
    config = MoodConfig(enabled=True, min_dwell_s=1.0, min_hold_s=5.0, tau_s=5.0)
    report: dict[str, Any] = {"target_us": 100.0, "fps": 15.0, "scenarios": {}}
    for n_faces in (0, 1, 4, 8):
        alone: list[float] = []
        appset: list[float] = []
        for r in range(repeats):
            script, times = scripted_frames(n_faces, frames, seed=r)
            analyzer = MoodAnalyzer(config, LABELS)
            alone += time_frames(analyzer.update, script, times)
            for f in script:  # fresh results: the AppSet writes into them
                f.apps.clear()
                f.events.clear()
                f.changed_apps.clear()
            apps = AppSet([MoodAnalyzer(config, LABELS)], Metrics())
            appset += time_frames(apps.update, script, times)
        report["scenarios"][f"{n_faces}_faces"] = {"analyzer": summarize(alone), "appset": summarize(appset)}
    worst = max(s["analyzer"]["median_us"] for s in report["scenarios"].values())
    report["worst_median_us"] = worst
    report["within_target"] = worst < report["target_us"]
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "mood-analyzer.json")
    args = ap.parse_args(argv)
    if args.frames < 100 or args.repeats < 1:
        print(f"expected --frames >= 100 and --repeats >= 1, received {args.frames} and {args.repeats}", file=sys.stderr)
        return 2
    report = {"command": "python benchmarks/mood_analyzer.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": machine_info(), **run(args.frames, args.repeats)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, s in report["scenarios"].items():
        a, b = s["analyzer"], s["appset"]
        print(f"{name:>8}: analyzer median {a['median_us']:6.1f} us  p99 {a['p99_us']:6.1f} us | "
              f"app step median {b['median_us']:6.1f} us  p99 {b['p99_us']:6.1f} us")
    print(f"worst median {report['worst_median_us']} us (target < {report['target_us']} us); wrote {args.out}")
    return 0 if report["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
