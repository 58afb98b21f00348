"""Classification metrics in plain numpy, so the device side can compute them without scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["agreement_metrics", "classification_metrics", "confusion_matrix"]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def classification_metrics(
    y_true: np.ndarray, probs: np.ndarray, class_names: list[str], *, no_face: np.ndarray | None = None
) -> dict[str, Any]:
    """top-1 accuracy, macro-F1, per-class recall and precision, confusion matrix (rows: true class).

    no_face: images where the device path found no face; they count as wrong (in accuracy and
    recall) and stay out of the confusion matrix, which has no column for "no face".
    """
    k = len(class_names)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(probs).argmax(axis=1)
    found = np.ones(len(y_true), bool) if no_face is None else ~np.asarray(no_face, bool)
    cm = confusion_matrix(y_true[found], y_pred[found], k)
    support = np.bincount(y_true, minlength=k)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm).astype(np.float64)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    present = support > 0
    extra = {} if no_face is None else {"face_hit_rate": round(float(found.mean()), 4) if len(found) else 0.0,
                                         "no_face_images": int((~found).sum())}
    return {
        **extra,
        "images": int(len(y_true)),
        "accuracy": float(tp.sum() / max(1, len(y_true))),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "macro_recall": float(recall[present].mean()) if present.any() else 0.0,
        "per_class_recall": {n: round(float(r), 4) for n, r in zip(class_names, recall)},
        "per_class_precision": {n: round(float(p), 4) for n, p in zip(class_names, precision)},
        "support": {n: int(s) for n, s in zip(class_names, support)},
        "confusion": cm.tolist(),
    }


def agreement_metrics(probs: np.ndarray, reference_probs: np.ndarray) -> dict[str, float]:
    """How closely an artifact follows its float reference: top-1 agreement and mean |p - p_ref|."""
    probs = np.asarray(probs, np.float32)
    ref = np.asarray(reference_probs, np.float32)
    return {
        "agreement": float(np.mean(probs.argmax(1) == ref.argmax(1))),
        "mean_abs_prob_diff": float(np.mean(np.abs(probs - ref))),
    }
