"""Keras float model as a Runtime: the reference every converted artifact is compared with (host only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.runtime.base import Runtime

__all__ = ["KerasRuntime"]


class KerasRuntime(Runtime):
    key = "keras"

    def __init__(self, path: str | Path, *, threads: int | None = None, model: Any = None) -> None:
        super().__init__(path, threads=threads)
        if model is None:
            from edgeemo.models.io import load_keras_model

            model = load_keras_model(self.path)
        self.model = model

    @property
    def input_shape(self) -> tuple[int, int, int]:
        _, h, w, c = self.model.inputs[0].shape
        return (int(h), int(w), int(c))

    @property
    def num_classes(self) -> int:
        return int(self.model.outputs[0].shape[-1])

    def predict(self, batch: np.ndarray) -> np.ndarray:
        out = self.model.predict(np.asarray(batch, np.float32), batch_size=256, verbose=0)
        return np.asarray(out, dtype=np.float32)
