"""Do the fatigue app's ROI shortcuts pay? Cost and jitter, measured.

    python benchmarks/fatigue_roi.py                 # 120 frames of the sample portrait, noise sigma 4
    python benchmarks/fatigue_roi.py --frames 300 --noise 2

The portrait stands still on a 640x480 frame; each frame adds fresh pixel noise, so any movement
of the landmarks is the method's own jitter. For each mode (track_landmarks on: ROI from the last
frame's points, one mesh pass; off: ROI from this frame's BlazeFace box, a pass to find the eye
line and a second, levelled pass) it prints the landmarks stage p50, the mean per-point standard
deviation of the 468 points and the standard deviation of the eye openness. Single reading per
eye (no mirrored pass) so only the ROI differs.

Then mesh_every (the mesh on every Nth frame, eyes from their previous eyelid contours between)
and eye_alternate_s (eyes taking turns at camera rates): on the sample clip, which pans, zooms
and mirrors the portrait at 30 fps, each setting's mean landmarks + iris cost per frame and how
far its eye openness strays from the mesh and both eyes on every frame (mean and 95th percentile
of the absolute difference; an open eye reads about 0.3, a shut one 0.08).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--noise", type=float, default=4.0, help="pixel noise sigma per frame")
    args = ap.parse_args(argv)
    import cv2

    from edgeemo.apps.fatigue.analyzer import DriverMeasurer
    from edgeemo.apps.fatigue.config import FatigueConfig
    from edgeemo.apps.fatigue.landmarks import FaceMesh, IrisModel
    from edgeemo.apps.fatigue.models import require_landmark_models
    from edgeemo.bundle import default_bundle_path, load_bundle
    from edgeemo.data.sample_clip import sample_face_photo
    from edgeemo.vision.blazeface import BlazeFaceDetector

    path = default_bundle_path()
    if path is None:
        print("no default bundle shipped with this installation", file=sys.stderr)
        return 2
    bundle = load_bundle(path)
    face_path, iris_path = require_landmark_models(bundle)
    mesh, iris = FaceMesh(face_path), IrisModel(iris_path)
    photo = cv2.imread(str(sample_face_photo()))[110:390, 120:400]
    base = np.full((480, 640, 3), 100, np.uint8)
    base[100:380, 180:460] = photo
    rng = np.random.default_rng(0)
    frames = [np.clip(base + rng.normal(0, args.noise, base.shape), 0, 255).astype(np.uint8) for _ in range(args.frames)]
    with BlazeFaceDetector(bundle.detector_path) as det:
        t0 = time.perf_counter()
        boxes = [[float(v) for v in det.detect(f)[0].box] for f in frames]
        detect_ms = (time.perf_counter() - t0) / len(frames) * 1000
    print(f"{args.frames} frames, noise sigma {args.noise}; BlazeFace mean {detect_ms:.2f} ms per frame")
    for track in (True, False):
        measurer = DriverMeasurer(mesh, iris, FatigueConfig(track_landmarks=track, eye_flip_average="never", mesh_every=1))
        points, openness, stage = [], [], []
        for frame, box in zip(frames, boxes, strict=True):
            timings: dict[str, float] = {}
            measured = measurer.measure(frame, box, 1, timings)
            if measured is None:
                continue
            sample, result, _ = measured
            points.append(result.points[:, :2])
            openness.append(sample.openness)
            stage.append(timings["landmarks"])
        pts = np.array(points)
        print(f"track_landmarks={str(track).lower():5s}: landmarks p50 {np.median(stage) * 1000:.2f} ms, "
              f"landmark jitter {pts.std(axis=0).mean():.3f} px, openness std {np.array(openness).std(axis=0).mean():.4f} "
              f"({len(points)} frames measured)")
    between_mesh_runs(mesh, iris, bundle.detector_path, args.frames)
    return 0


def between_mesh_runs(mesh, iris, detector_path, frames: int) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    import cv2

    from edgeemo.apps.fatigue.analyzer import DriverMeasurer
    from edgeemo.apps.fatigue.config import FatigueConfig
    from edgeemo.data.sample_clip import write_sample_clip
    from edgeemo.vision.blazeface import BlazeFaceDetector

    with tempfile.TemporaryDirectory() as tmp:
        write_sample_clip(tmp, frames=frames)
        clip = [cv2.imread(str(p)) for p in sorted(Path(tmp).glob("*.jpg"))]
    with BlazeFaceDetector(detector_path) as det:
        found = [det.detect(f) for f in clip]
    boxes = [[float(v) for v in f[0].box] if f else None for f in found]
    # (mesh_every, eye_alternate_s); at 30 frames/s (2, 0.05) does what the shipped (2, 0.25) does.
    settings = [(1, 0.0), (2, 0.0), (2, 0.05), (3, 0.05)]
    readings: dict[tuple[float, float], list] = {}  # type: ignore[type-arg]
    for every, alternate in settings:
        config = FatigueConfig(mesh_every=every, eye_alternate_s=alternate, eye_flip_average="never")
        measurer = DriverMeasurer(mesh, iris, config)
        cost, openness = [], []
        for i, (frame, box) in enumerate(zip(clip, boxes, strict=True)):
            timings: dict[str, float] = {}
            measured = measurer.measure(frame, box, 1, timings, now=i / 30) if box is not None else None
            cost.append(timings.get("landmarks", 0.0) + timings.get("iris", 0.0))
            openness.append(measured[0].openness if measured else (np.nan, np.nan))
        readings[every, alternate] = openness
        diff = np.abs(np.array(openness) - np.array(readings[settings[0]]))
        diff = diff[~np.isnan(diff)]
        print(f"mesh_every={every} eye_alternate_s={alternate}: landmarks + iris mean {np.mean(cost) * 1000:.2f} ms "
              f"per frame, {len(clip) - measurer.mesh_skipped} mesh runs and {measurer.eye_reads} eye reads in "
              f"{len(clip)} frames; openness vs both on every frame: mean |diff| {diff.mean():.4f}, p95 {np.percentile(diff, 95):.4f}")


if __name__ == "__main__":
    raise SystemExit(main())
