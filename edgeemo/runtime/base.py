"""The Runtime interface: one loaded model, float batches in, class scores out."""

from __future__ import annotations

import abc
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from edgeemo.preprocess import PreprocessSpec

__all__ = ["Runtime", "as_probabilities", "with_mirrors"]


class Runtime(abc.ABC):
    """A model loaded in one inference engine.

    `predict` takes float32 NxHxWxC already normalised by the bundle's PreprocessSpec and returns
    float32 NxK scores; quantized inputs/outputs are (de)quantized inside the backend so every
    caller sees the same contract whatever the artifact.
    """

    key: ClassVar[str]

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        self.path = Path(path)
        self.threads = threads

    @property
    @abc.abstractmethod
    def input_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) the model expects."""

    @property
    @abc.abstractmethod
    def num_classes(self) -> int: ...

    @property
    def input_dtype(self) -> str:
        """dtype of the model's own input tensor ("float32", "int8", "uint8")."""
        return "float32"

    @abc.abstractmethod
    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 NxHxWxC -> float32 NxK (what the model outputs, dequantized)."""

    def predict_proba(self, batch: np.ndarray, *, flip_average: bool = False) -> np.ndarray:
        """Class probabilities; with flip_average, the mean over each image and its mirror image
        (test-time augmentation: one batch of 2N, so about twice the classify cost)."""
        if not flip_average:
            return as_probabilities(self.predict(batch))
        n = len(batch)
        probs = as_probabilities(self.predict(with_mirrors(batch)))
        return (probs[:n] + probs[n:]) / 2

    def predict_pixels(self, pixels: np.ndarray, spec: PreprocessSpec, *, flip_average: bool = False,
                       batch_size: int = 256) -> np.ndarray:
        """Class probabilities for uint8 NxHxWxC `pixels`, normalised by `spec` one batch at a time
        (a whole dataset as float32 would be four times its uint8 size)."""
        probs = [self.predict_proba(spec.normalize(pixels[i : i + batch_size]), flip_average=flip_average)
                 for i in range(0, len(pixels), batch_size)]
        return np.concatenate(probs) if probs else np.zeros((0, self.num_classes), np.float32)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engine resources; the default has none to release."""

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, threads={self.threads})"


def as_probabilities(scores: np.ndarray) -> np.ndarray:
    """Scores that already look like probabilities pass through; logits get a softmax."""
    scores = np.asarray(scores, dtype=np.float32)
    if scores.size and scores.min() >= -1e-3 and np.allclose(scores.sum(axis=-1), 1.0, atol=0.05):
        return scores
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def with_mirrors(batch: np.ndarray) -> np.ndarray:
    """N images (NxHxWxC) followed by their left-right mirror images: 2N."""
    return np.concatenate([batch, batch[:, :, ::-1]])
