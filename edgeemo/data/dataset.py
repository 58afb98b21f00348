"""Loading a split, carving validation out of train, and drawing class-balanced samples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeemo.errors import DataError, InputFileNotFound
from edgeemo.fileio import read_json
from edgeemo.labels import FER2013_LABELS
from edgeemo.preprocess import PreprocessSpec

__all__ = ["LabeledImages", "balanced_sample", "load_split", "parse_label_mapping", "stratified_folds", "stratified_split"]


@dataclass
class LabeledImages:
    """uint8 images NxHxWxC at the spec's size and int64 labels indexing class_names."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    skipped: int = 0
    source: str = ""
    skipped_files: list[str] = field(default_factory=list)
    # Photos read through the device path (evaluate --detect) where no face was found: their
    # image is blank and they count as wrong. None when faces were not detected.
    no_face: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index: np.ndarray) -> LabeledImages:
        no_face = None if self.no_face is None else self.no_face[index]
        return LabeledImages(self.images[index], self.labels[index], self.class_names, 0, self.source, no_face=no_face)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(c) for name, c in zip(self.class_names, counts)}


def parse_label_mapping(value: str | None) -> dict[str, str] | None:
    """`--labels` as "folder=label,..." or a JSON file {"folder": "label"}; "-" as label skips a folder."""
    if not value:
        return None
    path = Path(value)
    if path.suffix == ".json":
        data = read_json(path, "a JSON label mapping file (folder -> label)", DataError)
        if not isinstance(data, dict):
            raise DataError(f"expected a JSON object folder->label in {path}, received {type(data).__name__}")
        return {str(k): str(v) for k, v in data.items()}
    mapping = {}
    for item in value.split(","):
        if "=" not in item:
            raise DataError(f"expected --labels as folder=label[,folder=label...] or a .json file, received {item!r}")
        folder, label = (s.strip() for s in item.split("=", 1))
        mapping[folder] = label
    return mapping


def load_split(
    root: str | Path,
    split: str | None,
    spec: PreprocessSpec,
    *,
    class_names: list[str] | tuple[str, ...] = FER2013_LABELS,
    labels: dict[str, str] | None = None,
    limit_per_class: int | None = None,
    progress: bool = True,
    face_crop: Callable[[np.ndarray], np.ndarray | None] | None = None,
) -> LabeledImages:
    """Load one split of a dataset (folder layout or fer2013.csv) at the spec's size.

    Corrupt or unreadable images are skipped and counted; an unknown class folder or an empty
    split raises DataError. face_crop (image folders only) finds the face in each photo first.
    """
    path = Path(root)
    if not path.exists():
        raise InputFileNotFound(f"expected a dataset folder or fer2013.csv, received a missing path: {path}")
    names = list(class_names)
    if path.is_file() or (path / "fer2013.csv").is_file():
        from edgeemo.data.fer_csv import load_fer2013_csv

        csv_path = path if path.is_file() else path / "fer2013.csv"
        if face_crop is not None:
            raise DataError(f"expected an image folder to detect faces in, received fer2013.csv ({csv_path}): "
                            "its 48x48 faces are already cropped")
        data = load_fer2013_csv(csv_path, split or "train", spec, class_names=names, limit_per_class=limit_per_class)
    else:
        from edgeemo.data.folder import load_image_folder

        data = load_image_folder(
            path, split, spec, class_names=names, labels=labels, limit_per_class=limit_per_class, progress=progress,
            face_crop=face_crop,
        )
    if len(data) == 0:
        raise DataError(
            f"expected images in split {split!r} of {path}, received none"
            + (f" ({data.skipped} unreadable)" if data.skipped else "")
        )
    return data


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_index, val_index), the same fraction of every class in validation, seeded."""
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"expected a validation fraction between 0 and 1, received {val_fraction}")
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        n_val = int(round(len(idx) * val_fraction)) if len(idx) > 1 else 0
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    return np.sort(np.concatenate(train_idx)), np.sort(np.concatenate(val_idx))


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """The fold (0 .. folds - 1) of each image, seeded: every class is dealt out evenly across the
    folds, one dealing carrying on from class to class so that the folds' sizes differ by one at most."""
    if folds < 2:
        raise DataError(f"expected at least 2 folds, received {folds}")
    rng = np.random.default_rng([seed, folds])  # its own stream: not the validation carve-out's
    fold = np.empty(len(labels), np.int64)
    dealt = 0
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        fold[idx] = (dealt + np.arange(len(idx))) % folds
        dealt += len(idx)
    return fold


def balanced_sample(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Up to n indices drawn as evenly across classes as the class sizes allow (calibration sets)."""
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n and any(depth < len(p) for p in pools):
        for pool in pools:
            if depth < len(pool) and len(chosen) < n:
                chosen.append(int(pool[depth]))
        depth += 1
    return np.array(sorted(chosen), dtype=np.int64)
