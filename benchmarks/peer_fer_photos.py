"""The `fer` package (mini-Xception, its own OpenCV face detector) on a folder of labelled photos,
scored like `edgeemo evaluate --detect`: the largest face per photo, its raw label, a photo
without a face counts as wrong.

`fer` pulls TensorFlow and PyTorch, so it never goes into edgeemo's dependencies: run this with
the Python of a virtual environment of its own, which does not need edgeemo installed.

    python -m venv ~/venvs/fer && ~/venvs/fer/bin/pip install fer tensorflow-cpu
    ~/venvs/fer/bin/python benchmarks/peer_fer_photos.py ../shared/datasets/taiwanese-faces --json fer.json

ROOT holds <class>/<image> folders (or ROOT/test/<class>/...), named with FER-2013's seven labels.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from pathlib import Path

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--json", type=Path, default=None, help="write the scores here")
    parser.add_argument("--mtcnn", action="store_true", help="fer's MTCNN detector instead of its default OpenCV one")
    args = parser.parse_args(argv)
    root = args.root / "test" if (args.root / "test").is_dir() else args.root
    photos = sorted((p, p.parent.name) for p in root.glob("*/*") if p.suffix.lower() in IMAGE_SUFFIXES)
    unknown = sorted({label for _, label in photos} - set(LABELS))
    if not photos or unknown:
        print(f"expected <class>/<image> folders named {', '.join(LABELS)} under {root}, received "
              f"{'no images' if not photos else 'folders ' + ', '.join(unknown)}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import cv2
    from fer.fer import FER  # fer 25.x; older releases also export it from the package

    detector = FER(mtcnn=args.mtcnn)
    per_class: dict[str, list[int]] = {label: [] for label in LABELS}
    found = 0
    for i, (path, label) in enumerate(photos):
        image = cv2.imread(str(path))
        faces = detector.detect_emotions(image) if image is not None else []
        if faces:
            found += 1
            largest = max(faces, key=lambda f: f["box"][2] * f["box"][3])
            predicted = max(largest["emotions"], key=largest["emotions"].get)
        else:
            predicted = None
        per_class[label].append(int(predicted == label))
        if (i + 1) % 100 == 0:
            print(f"{i + 1}/{len(photos)}", file=sys.stderr)
    recall = {label: sum(v) / len(v) for label, v in per_class.items() if v}
    result = {
        "peer": f"fer {importlib.metadata.version('fer')} ({'MTCNN' if args.mtcnn else 'OpenCV Haar'} face detector)",
        "data": str(root),
        "images": len(photos),
        "accuracy": sum(sum(v) for v in per_class.values()) / len(photos),
        "macro_recall": sum(recall.values()) / len(recall),
        "face_hit_rate": found / len(photos),
        "per_class_recall": recall,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
