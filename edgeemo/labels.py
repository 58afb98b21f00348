"""Emotion label sets."""

from __future__ import annotations

__all__ = ["FER2013_LABELS", "FER2013_CSV_ORDER"]

# Alphabetical, as the image-folder release names its folders; this is edgeemo's canonical order.
FER2013_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# The original fer2013.csv numbers its classes 0..6 in this order.
FER2013_CSV_ORDER: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
