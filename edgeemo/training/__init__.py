"""Training compact emotion CNNs with Keras (host side)."""

from __future__ import annotations

from edgeemo.training.trainer import TrainConfig, TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "train"]
