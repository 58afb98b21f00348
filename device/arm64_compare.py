"""Helpers of device/check-arm64.sh, run with the same code on x86 and in the emulated arm64 system.

    python device/arm64_compare.py predict --data FACES --out preds.json [--bundle DIR]
    python device/arm64_compare.py video OUT.mp4 [--frames 60]
    python device/arm64_compare.py compare X86.json ARM64.json --out summary.json [--min-agreement 0.99]

predict: every model of the bundle (default: the shipped one) on FACES/test/<emotion>/*.jpg, with
the bundle's flip averaging, as each face's top-1 label; compare: per model, the share of faces
whose label is the same on both machines, and each machine's accuracy. Exit 1 below the bound.
Only the device extra is needed (no TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any


def predict(data: Path, out: Path, bundle_path: str | None) -> int:
    import numpy as np

    from edgeemo.daemon.runner import resolve_bundle
    from edgeemo.data import load_split
    from edgeemo.runtime import open_runtime

    bundle = resolve_bundle(bundle_path)
    faces = load_split(data, "test", bundle.preprocess, class_names=bundle.labels, progress=False)
    result: dict[str, Any] = {"machine": platform.machine(), "python": platform.python_version(),
                              "faces": len(faces), "labels": faces.labels.tolist(), "models": {}}
    for entry in bundle.manifest.models:
        with open_runtime(bundle.root / entry.file, threads=1) as rt:
            probs = rt.predict_pixels(faces.images, bundle.preprocess, flip_average=bundle.manifest.flip_average)
        top1 = probs.argmax(axis=1)
        result["models"][entry.file] = {"top1": top1.tolist(),
                                        "accuracy": round(float(np.mean(top1 == faces.labels)), 4)}
    out.write_text(json.dumps(result) + "\n", encoding="utf-8")
    print(f"{platform.machine()}: {len(faces)} faces, " + ", ".join(
        f"{k} accuracy {v['accuracy']:.4f}" for k, v in result["models"].items()))
    return 0


def video(out: Path, frames: int) -> int:
    import cv2
    import numpy as np

    from edgeemo.data.sample_clip import sample_face_photo

    face = cv2.resize(cv2.imread(str(sample_face_photo()))[110:390, 120:400], (200, 200))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (640, 480))
    if not writer.isOpened():
        print(f"expected OpenCV to write mp4v video to {out}, received a writer that did not open", file=sys.stderr)
        return 2
    for i in range(frames):
        frame = np.full((480, 640, 3), 100, np.uint8)
        x = 40 + (i * 5) % 360
        frame[140:340, x : x + 200] = face
        writer.write(frame)
    writer.release()
    return 0


def compare(x86: Path, arm: Path, out: Path, min_agreement: float) -> int:
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (x86, arm))
    if a["labels"] != b["labels"]:
        print(f"expected the same {a['faces']} faces on both machines, received {b['faces']} in another order",
              file=sys.stderr)
        return 1
    rows = {}
    ok = True
    for model, pa in a["models"].items():
        pb = b["models"].get(model)
        if pb is None:
            print(f"expected {model} on {b['machine']} too, received only {sorted(b['models'])}", file=sys.stderr)
            return 1
        same = sum(x == y for x, y in zip(pa["top1"], pb["top1"], strict=True)) / len(pa["top1"])
        rows[model] = {"agreement": round(same, 4), f"accuracy_{a['machine']}": pa["accuracy"],
                       f"accuracy_{b['machine']}": pb["accuracy"], "faces": a["faces"]}
        ok &= same >= min_agreement
        print(f"{model}: {a['machine']} vs {b['machine']} top-1 agreement {100 * same:.2f}% on {a['faces']} faces "
              f"(accuracy {pa['accuracy']:.4f} vs {pb['accuracy']:.4f})")
    summary = {"min_agreement": min_agreement, "passed": ok, "machines": [a["machine"], b["machine"]],
               "python": [a["python"], b["python"]], "models": rows}
    out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("predict")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--bundle", default=None)
    v = sub.add_parser("video")
    v.add_argument("out", type=Path)
    v.add_argument("--frames", type=int, default=60)
    c = sub.add_parser("compare")
    c.add_argument("x86", type=Path)
    c.add_argument("arm64", type=Path)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--min-agreement", type=float, default=0.99)
    args = parser.parse_args(argv)
    if args.cmd == "predict":
        return predict(args.data, args.out, args.bundle)
    if args.cmd == "video":
        return video(args.out, args.frames)
    return compare(args.x86, args.arm64, args.out, args.min_agreement)


if __name__ == "__main__":
    raise SystemExit(main())
