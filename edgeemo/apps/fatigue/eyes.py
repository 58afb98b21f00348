"""Scoring eye patches with the shipped openness measure: ROC AUC and accuracy on open/closed
folders (`edgeemo eyes`). A patch is an eye cut out tight; it is upscaled into the iris model's
64x64 input with a replicated border, so the eye spans about as much of the input as the app's
eye ROI (2.3x the corner-to-corner width) makes it span on a camera frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.apps.fatigue.config import FatigueConfig
from edgeemo.apps.fatigue.landmarks import IrisModel
from edgeemo.apps.fatigue.signals import eye_openness_averaged
from edgeemo.errors import DataError, InputFileNotFound

__all__ = ["EYE_FILL", "EyeScores", "patch_crop", "roc_auc", "score_folders"]

EYE_FILL = 0.8  # share of the 64x64 input the upscaled patch covers (the rest: replicated border)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def patch_crop(patch: np.ndarray, size: int = 64, fill: float = EYE_FILL) -> np.ndarray:
    """A grey or BGR eye patch -> the BGR size x size input the iris model reads."""
    import cv2

    if patch.ndim == 2:
        patch = cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR)
    n = max(8, int(round(size * fill)))
    up = cv2.resize(patch, (n, n), interpolation=cv2.INTER_CUBIC)
    a = (size - n) // 2
    b = size - n - a
    return np.ascontiguousarray(cv2.copyMakeBorder(up, a, b, a, b, cv2.BORDER_REPLICATE))


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve for label 1 scoring higher (Mann-Whitney U, ties counted half)."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise DataError(f"expected both classes to compute ROC AUC, received {n_pos} positive and {n_neg} negative")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]  # tied scores share their mean rank
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _summary(values: np.ndarray) -> dict[str, float]:
    p = np.percentile(values, [5, 25, 50, 75, 95])
    return {"n": int(len(values)), "mean": round(float(values.mean()), 4), "p5": round(float(p[0]), 4),
            "p25": round(float(p[1]), 4), "median": round(float(p[2]), 4), "p75": round(float(p[3]), 4),
            "p95": round(float(p[4]), 4)}


@dataclass
class EyeScores:
    files: list[str]
    labels: np.ndarray  # 1 open, 0 closed
    scores: np.ndarray  # openness
    threshold: float
    flip_average: bool

    def report(self) -> dict[str, Any]:
        predicted_open = self.scores > self.threshold
        accuracy = float(np.mean(predicted_open == self.labels.astype(bool)))
        # The accuracy the best threshold would give on this very set: optimistic, for reference.
        cands = np.unique(self.scores)
        best_t, best_acc = self.threshold, accuracy
        for t in cands[:: max(1, len(cands) // 500)]:
            acc = float(np.mean((self.scores > t) == self.labels.astype(bool)))
            if acc > best_acc:
                best_t, best_acc = float(t), acc
        return {
            "auc": round(roc_auc(self.labels, self.scores), 4),
            "accuracy": round(accuracy, 4),
            "threshold": round(self.threshold, 4),
            "open_recall": round(float(np.mean(predicted_open[self.labels == 1])), 4),
            "closed_recall": round(float(np.mean(~predicted_open[self.labels == 0])), 4),
            "best_threshold_on_this_set": {"threshold": round(best_t, 4), "accuracy": round(best_acc, 4)},
            "open": _summary(self.scores[self.labels == 1]),
            "closed": _summary(self.scores[self.labels == 0]),
            "measure": "mean lid gap across the corner line over eye width (iris model contour)"
                       + (", averaged with the mirrored patch" if self.flip_average else ""),
            "fill": EYE_FILL,
            "scores": [{"file": f, "label": "open" if y else "closed", "openness": round(float(s), 5)}
                       for f, y, s in zip(self.files, self.labels, self.scores, strict=True)],
        }


def score_folders(root: str | Path, iris: IrisModel, config: FatigueConfig | None = None, *,
                  progress: Callable[[int, int], None] | None = None) -> EyeScores:
    """Openness of every image in ROOT/open and ROOT/closed."""
    import cv2

    config = config or FatigueConfig()
    base = Path(root)
    if not base.is_dir():
        raise InputFileNotFound(f"expected a folder with open/ and closed/ eye patches, received a missing path: {base}")
    for name in ("open", "closed"):
        if not (base / name).is_dir():
            raise DataError(f"expected {base / name} (a folder of {name}-eye images), received no such folder")
    items: list[tuple[Path, int]] = []
    for name, label in (("open", 1), ("closed", 0)):
        folder = base / name
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise DataError(f"expected images in {folder}, received none")
        items += [(p, label) for p in found]
    scores = np.empty(len(items), np.float64)
    for i, (path, _) in enumerate(items):
        patch = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if patch is None:
            raise DataError(f"expected an image OpenCV can read, received {path}")
        crop = patch_crop(patch)
        contour, _ = iris.run_crop(crop)
        # No driver baseline here: "auto" reads every patch twice, as the app does until calibrated.
        flip = config.eye_flip_average != "never"
        contours = [contour, iris.run_crop_flipped(crop)] if flip else [contour]
        scores[i] = eye_openness_averaged(contours)
        if progress is not None:
            progress(i + 1, len(items))
    return EyeScores([p.relative_to(base).as_posix() for p, _ in items], np.array([y for _, y in items]),
                     scores, config.closed_threshold, config.eye_flip_average != "never")
