"""BatchNorm re-estimation: the moving statistics become the plain average over the faces used."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="needs the host extra (tensorflow)")

from edgeemo.preprocess import PreprocessSpec  # noqa: E402
from edgeemo.training.batchnorm import reestimate_batchnorm  # noqa: E402


def test_statistics_are_the_average_over_the_batches() -> None:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(4, 3, use_bias=False)
    norm = keras.layers.BatchNormalization()
    dropout = keras.layers.Dropout(0.5)
    x = dropout(keras.layers.ReLU()(norm(conv(inputs))))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x)))
    norm.moving_mean.assign(np.full(4, 5.0, np.float32))  # stale statistics from "training"
    norm.moving_variance.assign(np.full(4, 100.0, np.float32))
    norm.momentum = 0.9
    weights = [v.numpy().copy() for v in model.trainable_weights]
    pixels = np.random.default_rng(1).integers(0, 256, (24, 12, 12, 1)).astype(np.uint8)
    spec = PreprocessSpec(height=12, width=12)
    used = reestimate_batchnorm(model, pixels, spec, batches=3, batch_size=8, mirror=False, seed=7)
    assert used == 24
    order = np.random.default_rng(7).choice(24, 24, replace=False)
    features = np.asarray(conv(spec.normalize(pixels[order])))
    batches = features.reshape(3, 8, *features.shape[1:])
    np.testing.assert_allclose(norm.moving_mean.numpy(), batches.mean(axis=(1, 2, 3)).mean(axis=0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(norm.moving_variance.numpy(), batches.var(axis=(1, 2, 3)).mean(axis=0), rtol=1e-3)
    assert norm.momentum == 0.9 and dropout.rate == 0.5  # restored
    for before, after in zip(weights, [v.numpy() for v in model.trainable_weights], strict=True):
        np.testing.assert_array_equal(before, after)  # only the statistics moved


def test_a_model_without_batchnorm_is_left_alone() -> None:
    model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    before = [w.copy() for w in model.get_weights()]
    pixels = np.zeros((4, 12, 12, 1), np.uint8)
    assert reestimate_batchnorm(model, pixels, PreprocessSpec(height=12, width=12)) == 0
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
