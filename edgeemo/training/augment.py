"""Augmentation and batching as a tf.data pipeline, on uint8 faces, normalised by the PreprocessSpec."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from edgeemo._lazy import require_tensorflow
from edgeemo.preprocess import NORMALIZATIONS, PreprocessSpec

__all__ = ["Warp", "affine_transforms", "make_dataset", "random_erase", "random_soften", "random_warp"]

# How the geometric augmentation resamples an image:
#   "single":  flip, rotation, shift and zoom composed into one bilinear resampling per image;
#   "chained": Keras's RandomFlip/RandomRotation/RandomTranslation/RandomZoom one after another,
#              three bilinear resamplings (the runs before "single" existed).
# Every bilinear resampling softens the face; test faces are never resampled, so the fewer the
# better. "single" also takes less than half the time (benchmarks/augment_speed.py).
Warp = Literal["single", "chained"]

# Small geometric changes only: faces are already roughly aligned by the detector on the device.
ROTATION = 0.04 * 2 * math.pi  # +-14.4 degrees (Keras RandomRotation(0.04))
SHIFT = 0.1  # of the image size, each axis
ZOOM = 0.15  # scale 0.85-1.15
# Random erasing (Zhong et al. 2017, as torchvision's RandomErasing): a box of 2-33% of the face,
# aspect ratio 0.3-3.3, filled with noise, so the model cannot lean on one region (a hand over
# the mouth, glasses, a shadow).
ERASE_AREA = (0.02, 0.33)
ERASE_ASPECT = (0.3, 3.3)
# Softening: down to this share of the side (area averaging) and back up (bilinear).
SOFTEN_SIDE = (0.5, 0.9)


def _augmentation_layers(seed: int, warp: Warp) -> list[Any]:
    import keras

    layers = keras.layers
    # Applied one by one, not as a keras.Sequential: each preprocessing layer switches itself to
    # TensorFlow inside tf.data, so training also runs under the JAX or PyTorch backend.
    geometric = [
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(ROTATION / (2 * math.pi), fill_mode="reflect", seed=seed + 1),
        layers.RandomTranslation(SHIFT, SHIFT, fill_mode="reflect", seed=seed + 2),
        layers.RandomZoom((-ZOOM, ZOOM), fill_mode="reflect", seed=seed + 3),
    ] if warp == "chained" else []
    return geometric + [
        layers.RandomBrightness(0.2, value_range=(0.0, 255.0), seed=seed + 4),
        layers.RandomContrast(0.3, value_range=(0.0, 255.0), seed=seed + 5),
    ]


def affine_transforms(tf: Any, angle: Any, scale: Any, shift_x: Any, shift_y: Any, flip: Any,
                      height: int, width: int) -> Any:
    """Per-image (N x 8) ImageProjectiveTransform rows mapping output pixels to input pixels.

    input = centre + scale * R(angle) * F * (output - centre) + shift, where F mirrors x when
    flip is 1; shifts are in pixels. A pure flip maps pixel centres onto pixel centres, so it
    stays exact, as does the identity.
    """
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    mirror = 1.0 - 2.0 * tf.cast(flip, tf.float32)
    cos, sin = tf.cos(angle) * scale, tf.sin(angle) * scale
    a0, a1 = cos * mirror, -sin
    b0, b1 = sin * mirror, cos
    a2 = cx - a0 * cx - a1 * cy + shift_x
    b2 = cy - b0 * cx - b1 * cy + shift_y
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def random_warp(tf: Any, x: Any, seed: int) -> Any:
    """Flip, rotation, shift and zoom of a (N, H, W, C) float batch in one bilinear resampling."""
    n, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]

    def uniform(limit: float, offset: int) -> Any:
        return tf.random.uniform([n], -limit, limit, seed=seed + offset)

    transforms = affine_transforms(
        tf, uniform(ROTATION, 1), 1.0 + uniform(ZOOM, 3), uniform(SHIFT * width, 2), uniform(SHIFT * height, 4),
        tf.random.uniform([n], 0, 2, dtype=tf.int32, seed=seed), height, width)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=transforms, output_shape=tf.constant([height, width], tf.int32),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")


def random_erase(tf: Any, x: Any, probability: float) -> Any:
    """Replace one random box per image of a (N, H, W, C) 0-255 batch with uniform noise, for each
    image with the given probability; boxes that would not fit are clipped at the border."""
    n, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
    area = tf.random.uniform([n], *ERASE_AREA) * height * width
    aspect = tf.exp(tf.random.uniform([n], math.log(ERASE_ASPECT[0]), math.log(ERASE_ASPECT[1])))
    box_h = tf.minimum(tf.sqrt(area * aspect), float(height))
    box_w = tf.minimum(tf.sqrt(area / aspect), float(width))
    top = tf.random.uniform([n]) * (height - box_h)
    left = tf.random.uniform([n]) * (width - box_w)
    rows = tf.range(height, dtype=tf.float32)[None, :]
    cols = tf.range(width, dtype=tf.float32)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < (top + box_h)[:, None])
    in_cols = (cols >= left[:, None]) & (cols < (left + box_w)[:, None])
    erased = tf.random.uniform([n]) < probability
    box = in_rows[:, :, None] & in_cols[:, None, :] & erased[:, None, None]
    return tf.where(box[..., None], tf.random.uniform(tf.shape(x), 0.0, 255.0), x)


def random_soften(tf: Any, x: Any, probability: float) -> Any:
    """Pass each image of a (N, H, W, C) batch, with the given probability, through a lower
    resolution and back: one random side per batch (SOFTEN_SIDE of the original)."""
    n, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
    share = tf.random.uniform([], *SOFTEN_SIDE)
    small = tf.cast(tf.round(share * [height, width]), tf.int32)
    soft = tf.image.resize(tf.image.resize(x, small, method="area"), [height, width], method="bilinear")
    chosen = tf.random.uniform([n]) < probability
    return tf.where(chosen[:, None, None, None], soft, x)


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
    cutmix: float = 0.0,
    augment: bool = True,
    warp: Warp = "single",
    erase: float = 0.0,
    soften: float = 0.0,
) -> Any:
    """(x, one-hot y) batches; augmented and shuffled when training, optional mixup and CutMix (alpha each;
    with both, every batch takes one of the two at random).

    labels: class indices (N,), or soft targets (N x num_classes) such as a teacher's.
    erase: probability of random erasing per training image (with augmentation on).
    soften: probability of softening (random_soften) per training image (with augmentation on).
    """
    tf = require_tensorflow()
    scale, offset = NORMALIZATIONS[spec.normalization]
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    if training:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=training)
    augmented = training and augment
    augmentation = _augmentation_layers(seed, warp) if augmented else []

    def to_model_input(x: Any, y: Any) -> tuple[Any, Any]:
        x = tf.cast(x, tf.float32)
        if augmented and warp == "single":
            x = random_warp(tf, x, seed)
        for layer in augmentation:
            x = layer(x, training=True)
        if augmentation:
            x = tf.clip_by_value(x, 0.0, 255.0)
        if augmented and soften > 0:
            x = random_soften(tf, x, soften)
        if augmented and erase > 0:
            x = random_erase(tf, x, erase)
        target = tf.one_hot(y, num_classes) if labels.ndim == 1 else tf.cast(y, tf.float32)
        return x * scale + offset, target

    ds = ds.map(to_model_input, num_parallel_calls=tf.data.AUTOTUNE)
    if training and (mixup > 0 or cutmix > 0):
        ds = ds.map(lambda x, y: _mix_batch(tf, x, y, mixup, cutmix), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _mix_batch(tf: Any, x: Any, y: Any, mixup: float, cutmix: float) -> tuple[Any, Any]:
    if cutmix <= 0:
        return _mixup(tf, x, y, mixup)
    if mixup <= 0:
        return _cutmix(tf, x, y, cutmix)
    return tf.cond(tf.random.uniform([]) < 0.5, lambda: _mixup(tf, x, y, mixup), lambda: _cutmix(tf, x, y, cutmix))


def _beta(tf: Any, alpha: float) -> Any:
    # Beta(alpha, alpha) from two Gammas; one draw per batch keeps it cheap.
    g1 = tf.random.gamma([], alpha)
    g2 = tf.random.gamma([], alpha)
    return g1 / (g1 + g2)


def _mixup(tf: Any, x: Any, y: Any, alpha: float) -> tuple[Any, Any]:
    lam = _beta(tf, alpha)
    idx = tf.random.shuffle(tf.range(tf.shape(x)[0]))
    return lam * x + (1 - lam) * tf.gather(x, idx), lam * y + (1 - lam) * tf.gather(y, idx)


def _cutmix(tf: Any, x: Any, y: Any, alpha: float) -> tuple[Any, Any]:
    """Paste a box from another face of the batch into each face; the targets mix by the share of
    pixels each face shows. One box per batch: area 1 - Beta(alpha, alpha), centre uniform, clipped
    at the border (so the pasted share is measured, not assumed)."""
    height, width = x.shape[1], x.shape[2]
    side = tf.sqrt(1.0 - _beta(tf, alpha))
    half_h = tf.cast(side * height / 2, tf.int32)
    half_w = tf.cast(side * width / 2, tf.int32)
    cy = tf.random.uniform([], 0, height, dtype=tf.int32)
    cx = tf.random.uniform([], 0, width, dtype=tf.int32)
    rows, cols = tf.range(height), tf.range(width)
    in_rows = (rows >= cy - half_h) & (rows < cy + half_h)
    in_cols = (cols >= cx - half_w) & (cols < cx + half_w)
    box = tf.cast(in_rows[:, None] & in_cols[None, :], x.dtype)[None, :, :, None]
    pasted = tf.reduce_mean(box)
    idx = tf.random.shuffle(tf.range(tf.shape(x)[0]))
    return x * (1 - box) + tf.gather(x, idx) * box, (1 - pasted) * y + pasted * tf.gather(y, idx)
