"""How many validation and test faces have a near-copy among the training faces (FER-2013 repeats faces).

    python research/fer2013/near_duplicates.py --data ../shared/datasets/fer2013 [--val-fraction 0.1 --split-seed 0]

The validation split is carved out of train/ exactly as `edgeemo train` does; the rest of train/
is the reference set. Each face is compared by cosine similarity of its pixels after removing the
face's mean brightness (so a brighter copy still matches), and the nearest training face counts.
A copy in training makes a face easy to get right: if validation had many more than test, its
accuracy would overstate test's. Writes research/fer2013/results/near-duplicates.json and prints, per
similarity threshold, the share of each split with a copy and how often the copy's label agrees.
Exits 2 on bad input (no train/ or test/ folder).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
THRESHOLDS = (0.95, 0.99, 0.999)


def centred_unit_rows(images: np.ndarray) -> np.ndarray:
    """Each image as a row with its mean removed and unit length (a flat image stays all zero)."""
    rows = images.reshape(len(images), -1).astype(np.float32)
    rows -= rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def nearest(queries: np.ndarray, references: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, index) of the most similar reference row for every query row, in chunks to bound memory."""
    best = np.empty(len(queries), np.float32)
    index = np.empty(len(queries), np.int64)
    for start in range(0, len(queries), chunk):
        similarity = queries[start:start + chunk] @ references.T
        index[start:start + chunk] = similarity.argmax(axis=1)
        best[start:start + chunk] = similarity.max(axis=1)
    return best, index


def summarize(similarity: np.ndarray, labels: np.ndarray, copy_labels: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    for threshold in THRESHOLDS:
        has_copy = similarity > threshold
        agree = float((labels[has_copy] == copy_labels[has_copy]).mean()) if has_copy.any() else None
        rows.append({"threshold": threshold, "with_copy": int(has_copy.sum()), "share": float(has_copy.mean()),
                     "same_label": agree})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "datasets" / "fer2013")
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "near-duplicates.json")
    args = parser.parse_args(argv)
    missing = [name for name in ("train", "test") if not (args.data / name).is_dir()]
    if missing:
        print(f"expected a dataset folder with train/ and test/, received {args.data} without {' or '.join(f'{m}/' for m in missing)}",
              file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edgeemo.bench.machine import machine_info
    from edgeemo.data import load_split, stratified_split
    from edgeemo.fileio import write_json
    from edgeemo.preprocess import PreprocessSpec

    spec = PreprocessSpec()
    train = load_split(args.data, "train", spec)
    test = load_split(args.data, "test", spec)
    train_idx, val_idx = stratified_split(train.labels, args.val_fraction, args.split_seed)
    references = centred_unit_rows(train.images[train_idx])
    reference_labels = train.labels[train_idx]
    report: dict[str, Any] = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "data": args.data.name, "val_fraction": args.val_fraction, "split_seed": args.split_seed,
        "training_images": int(len(train_idx)), "machine": machine_info(), "splits": {},
    }
    for name, images, labels in (("validation", train.images[val_idx], train.labels[val_idx]),
                                 ("test", test.images, test.labels)):
        similarity, index = nearest(centred_unit_rows(images), references)
        report["splits"][name] = {"images": int(len(images)),
                                  "by_threshold": summarize(similarity, labels, reference_labels[index])}
        for row in report["splits"][name]["by_threshold"]:
            agree = "-" if row["same_label"] is None else f"{100 * row['same_label']:.1f}%"
            print(f"{name:>10}  similarity > {row['threshold']}: {100 * row['share']:5.2f}% "
                  f"({row['with_copy']} of {len(images)}), same label {agree}")
    write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
