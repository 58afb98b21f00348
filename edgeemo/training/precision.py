"""Mixed precision for training: a model copy whose layers compute in bfloat16, same weights."""

from __future__ import annotations

from typing import Any

__all__ = ["with_compute_dtype"]


def with_compute_dtype(model: Any, dtype: str) -> Any:
    """A copy of `model` whose layers compute in `dtype` ("float32" or "mixed_bfloat16"), same weights.

    The output layer stays float32: a softmax in bfloat16 (8-bit mantissa) would blunt the loss.
    """
    import keras

    output_layer = model.layers[-1]

    def rebuild(layer: Any) -> Any:
        layer_config = layer.get_config()
        layer_config["dtype"] = "float32" if layer is output_layer else dtype
        return layer.__class__.from_config(layer_config)

    copy = keras.models.clone_model(model, clone_function=rebuild)
    copy.set_weights(model.get_weights())
    return copy
