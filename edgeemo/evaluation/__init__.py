"""Accuracy, agreement and latency of artifacts on the same preprocessed images; reports."""

from __future__ import annotations

from edgeemo.evaluation.metrics import agreement_metrics, classification_metrics

__all__ = ["agreement_metrics", "classification_metrics"]
