"""Classification metrics in plain numpy, so the device side can compute them without scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["agreement_metrics", "classification_metrics", "confusion_matrix"]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """top-1 accuracy, macro-F1, per-class recall and precision, confusion matrix (rows: true class)."""
    k = len(class_names)
    y_pred = np.asarray(probs).argmax(axis=1)
    cm = confusion_matrix(np.asarray(y_true), y_pred, k)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm).astype(np.float64)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    present = support > 0
    return {
        "images": int(len(y_true)),
        "accuracy": float(tp.sum() / max(1, len(y_true))),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
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
