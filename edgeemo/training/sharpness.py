"""Sharpness-aware minimisation (Foret et al., 2021, "Sharpness-Aware Minimization for Efficiently
Improving Generalization"): each step takes its gradient at the worst weights nearby, w + rho * g / ||g||,
and applies it at w, so training settles where the loss is flat around the weights rather than
low at one point. Flat minima hold up better under noisy labels, which FER-2013 has many of; SAM
is part of the recipe of recent facial-expression models. It costs a second forward and backward
pass per step.

The step is bound to the model instance (train_step is Keras' override point for what fit() does
each step), so the saved model stays a plain functional model that every loader reads; --resume
binds it again. TensorFlow backend only.
"""

from __future__ import annotations

import types
from functools import partial
from typing import Any

from edgeemo.errors import ConfigError

__all__ = ["check_backend", "use_sharpness_aware_steps"]


def check_backend() -> None:
    """The step is written with TensorFlow's GradientTape: refuse other Keras backends up front."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ConfigError(f"expected the TensorFlow backend for --sam-rho, received KERAS_BACKEND={keras.backend.backend()}")


def use_sharpness_aware_steps(model: Any, rho: float) -> None:
    """From now on, model.fit() takes sharpness-aware steps of radius `rho` (in weight space)."""
    check_backend()
    model.train_step = types.MethodType(partial(_sharpness_aware_step, rho=rho), model)


def _sharpness_aware_step(model: Any, data: Any, *, rho: float) -> dict[str, Any]:
    import keras
    import tensorflow as tf

    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    weights = model.trainable_variables
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
    gradients = tape.gradient(loss, weights)
    scale = rho / (tf.linalg.global_norm(gradients) + 1e-12)
    ascent = [g * scale for g in gradients]
    for weight, step in zip(weights, ascent, strict=True):
        weight.assign_add(step)
    # The second pass would move the BatchNorm statistics again, with weights that are never kept.
    statistics = [v for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
                  for v in (layer.moving_mean, layer.moving_variance)]
    kept = [tf.identity(v) for v in statistics]
    with tf.GradientTape() as tape:
        loss_nearby = model.compute_loss(x=x, y=y, y_pred=model(x, training=True), sample_weight=sample_weight, training=True)
    sharp_gradients = tape.gradient(loss_nearby, weights)
    for weight, step in zip(weights, ascent, strict=True):
        weight.assign_sub(step)
    for variable, value in zip(statistics, kept, strict=True):
        variable.assign(value)
    model.optimizer.apply(sharp_gradients, weights)
    for metric in model.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
    return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)  # type: ignore[no-any-return]
