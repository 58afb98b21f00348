"""Sharpness-aware steps: one fit() step applies the gradient taken at w + rho * g / ||g|| to w
(checked against the same computation done by hand), and the BatchNorm statistics move once per step."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="needs the host extra (tensorflow)")
tf = pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")

from edgeemo.training.sharpness import use_sharpness_aware_steps  # noqa: E402


def _net() -> keras.Model:
    keras.utils.set_random_seed(0)
    faces = keras.Input((4,))
    x = keras.layers.Dense(5, use_bias=False)(faces)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
    return keras.Model(faces, keras.layers.Dense(3, activation="softmax")(x))


def _gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    with tf.GradientTape() as tape:
        loss = keras.losses.CategoricalCrossentropy()(y, model(x, training=True))
    return [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]


def test_one_step_applies_the_gradient_taken_at_the_worst_nearby_weights() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    rho, lr = 0.5, 0.1

    by_hand = _net()
    start = [v.numpy() for v in by_hand.trainable_variables]
    gradients = _gradients(by_hand, x, y)  # this forward pass is the one that moves the statistics
    statistics = [v.numpy() for v in by_hand.non_trainable_variables]
    norm = np.sqrt(sum(float((g ** 2).sum()) for g in gradients))
    for variable, g in zip(by_hand.trainable_variables, gradients, strict=True):
        variable.assign_add(rho * g / norm)
    sharp = _gradients(by_hand, x, y)
    expected = [w - lr * g for w, g in zip(start, sharp, strict=True)]
    plain = [w - lr * g for w, g in zip(start, gradients, strict=True)]

    model = _net()
    model.compile(keras.optimizers.SGD(lr), "categorical_crossentropy", metrics=["accuracy"])
    use_sharpness_aware_steps(model, rho)
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    after = [v.numpy() for v in model.trainable_variables]
    for got, want in zip(after, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert max(float(np.abs(a - p).max()) for a, p in zip(after, plain, strict=True)) > 1e-3  # not a plain step
    for got, want in zip([v.numpy() for v in model.non_trainable_variables], statistics, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert set(history) == {"loss", "accuracy"} and np.isfinite(history["loss"][0])
