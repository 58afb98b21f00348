"""The model zoo: compact CNNs that quantize cleanly to int8 (foldable BatchNorm, ReLU/ReLU6 only)."""

from __future__ import annotations

from edgeemo.models.zoo import ZOO, ZooModel, build_model, count_macs, count_params

__all__ = ["ZOO", "ZooModel", "build_model", "count_macs", "count_params"]
