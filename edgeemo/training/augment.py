"""Augmentation and batching as a tf.data pipeline, on uint8 faces, normalised by the PreprocessSpec."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgeemo._lazy import require_tensorflow
from edgeemo.preprocess import NORMALIZATIONS, PreprocessSpec

__all__ = ["make_dataset"]


def _augmentation_layers(seed: int) -> list[Any]:
    import keras

    layers = keras.layers
    # Small geometric changes only: faces are already roughly aligned by the detector on the device.
    # Applied one by one, not as a keras.Sequential: each preprocessing layer switches itself to
    # TensorFlow inside tf.data, so training also runs under the JAX or PyTorch backend.
    return [
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(0.04, fill_mode="reflect", seed=seed + 1),  # ~ +-15 degrees
        layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 2),
        layers.RandomZoom((-0.15, 0.15), fill_mode="reflect", seed=seed + 3),
        layers.RandomBrightness(0.2, value_range=(0.0, 255.0), seed=seed + 4),
        layers.RandomContrast(0.3, value_range=(0.0, 255.0), seed=seed + 5),
    ]


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    spec: PreprocessSpec,
    *,
    batch_size: int,
    training: bool,
    seed: int = 0,
    mixup: float = 0.0,
    augment: bool = True,
) -> Any:
    """(x, one-hot y) batches; augmented and shuffled when training, optional mixup (alpha).

    labels: class indices (N,), or soft targets (N x num_classes) such as a teacher's.
    """
    tf = require_tensorflow()
    scale, offset = NORMALIZATIONS[spec.normalization]
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    if training:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=training)
    augmentation = _augmentation_layers(seed) if training and augment else []

    def to_model_input(x: Any, y: Any) -> tuple[Any, Any]:
        x = tf.cast(x, tf.float32)
        for layer in augmentation:
            x = layer(x, training=True)
        if augmentation:
            x = tf.clip_by_value(x, 0.0, 255.0)
        target = tf.one_hot(y, num_classes) if labels.ndim == 1 else tf.cast(y, tf.float32)
        return x * scale + offset, target

    ds = ds.map(to_model_input, num_parallel_calls=tf.data.AUTOTUNE)
    if training and mixup > 0:
        ds = ds.map(lambda x, y: _mixup(tf, x, y, mixup), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _mixup(tf: Any, x: Any, y: Any, alpha: float) -> tuple[Any, Any]:
    # Beta(alpha, alpha) from two Gammas; one mixing weight per batch keeps it cheap.
    g1 = tf.random.gamma([], alpha)
    g2 = tf.random.gamma([], alpha)
    lam = g1 / (g1 + g2)
    idx = tf.random.shuffle(tf.range(tf.shape(x)[0]))
    return lam * x + (1 - lam) * tf.gather(x, idx), lam * y + (1 - lam) * tf.gather(y, idx)
