"""The original fer2013.csv: emotion (0..6 in the CSV's own order), pixels (2304 values), Usage."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from edgeemo.data.dataset import LabeledImages
from edgeemo.errors import DataError
from edgeemo.labels import FER2013_CSV_ORDER
from edgeemo.preprocess import PreprocessSpec

__all__ = ["CSV_SPLITS", "load_fer2013_csv"]

CSV_SPLITS = {"train": "Training", "test": "PublicTest", "publictest": "PublicTest", "privatetest": "PrivateTest"}


def load_fer2013_csv(
    path: Path,
    split: str,
    spec: PreprocessSpec,
    *,
    class_names: list[str],
    limit_per_class: int | None = None,
) -> LabeledImages:
    usage = CSV_SPLITS.get(split.lower(), split)
    if usage not in ("Training", "PublicTest", "PrivateTest"):
        raise DataError(f"expected --split train, test or privatetest for fer2013.csv, received {split!r}")
    missing = set(FER2013_CSV_ORDER) - set(class_names)
    if missing:
        raise DataError(f"expected the label set to include {sorted(missing)} for fer2013.csv, received {class_names}")
    images, targets, skipped = [], [], []
    per_class: dict[int, int] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"emotion", "pixels", "Usage"} <= set(reader.fieldnames):
            raise DataError(f"expected columns emotion,pixels,Usage in {path}, received {reader.fieldnames}")
        for row_no, row in enumerate(reader, start=2):
            if row["Usage"] != usage:
                continue
            try:
                target = class_names.index(FER2013_CSV_ORDER[int(row["emotion"])])
                pixels = np.array(row["pixels"].split(), dtype=np.uint8)
                side = int(round(len(pixels) ** 0.5))
                face = pixels.reshape(side, side)
            except (ValueError, IndexError):
                skipped.append(f"{path}:{row_no}")
                continue
            if limit_per_class is not None and per_class.get(target, 0) >= limit_per_class:
                continue
            per_class[target] = per_class.get(target, 0) + 1
            images.append(spec.to_pixels(face))
            targets.append(target)
    stacked = np.stack(images) if images else np.zeros((0, *spec.input_shape), np.uint8)
    return LabeledImages(stacked, np.array(targets, np.int64), list(class_names), len(skipped), f"{path}:{usage}", skipped)
