"""Split one inference into prepare / invoke / finish so only the engine call sits inside the timer.

prepare: the normalised float batch -> the model's own input (quantize, NCHW transpose).
invoke:  the runtime call alone (set input, run, read output) - what the latency numbers mean.
finish:  raw output -> probabilities (dequantize, softmax when the model emits logits).
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from edgeemo.runtime.base import Runtime, as_probabilities

__all__ = ["TimedModel", "timed_model"]


class TimedModel(abc.ABC):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @abc.abstractmethod
    def prepare(self, batch: np.ndarray) -> Any: ...

    @abc.abstractmethod
    def invoke(self, model_input: Any) -> Any: ...

    def finish(self, raw: Any) -> np.ndarray:
        return as_probabilities(np.asarray(raw, dtype=np.float32))

    def close(self) -> None:
        self.runtime.close()


class _LiteRT(TimedModel):
    def prepare(self, batch: np.ndarray) -> np.ndarray:
        return self.runtime.quantize_input(batch)  # type: ignore[attr-defined]

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        return self.runtime.invoke(model_input)  # type: ignore[attr-defined]

    def finish(self, raw: np.ndarray) -> np.ndarray:
        return as_probabilities(self.runtime.dequantize_output(raw))  # type: ignore[attr-defined]


class _Onnx(TimedModel):
    # The NHWC->NCHW transpose happens in prepare_input, so it counts as preprocessing.

    def prepare(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        return self.runtime.prepare_input(batch)  # type: ignore[attr-defined]

    def invoke(self, model_input: dict[str, np.ndarray]) -> np.ndarray:
        return self.runtime.run(model_input)  # type: ignore[attr-defined]


class _Keras(TimedModel):
    # A traced tf.function avoids model.predict's per-call dataset set-up and eager dispatch,
    # which would otherwise dominate the latency of a small network.
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        from edgeemo._lazy import require_tensorflow

        tf = require_tensorflow()
        model = runtime.model  # type: ignore[attr-defined]
        self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def prepare(self, batch: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(batch, dtype=np.float32)

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        return self._fn(model_input).numpy()


class _Generic(TimedModel):
    def prepare(self, batch: np.ndarray) -> np.ndarray:
        return batch

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        return self.runtime.predict(model_input)


def timed_model(runtime: Runtime) -> TimedModel:
    """The adapter for this runtime; an unknown backend is timed through predict() as a whole."""
    key = getattr(runtime, "key", "")
    if key == "litert":
        return _LiteRT(runtime)
    if key == "onnxruntime":
        return _Onnx(runtime)
    if key == "keras":
        return _Keras(runtime)
    return _Generic(runtime)
