"""Re-estimate a trained model's BatchNorm statistics on un-augmented training faces.

During training every BatchNormalization layer tracks the mean and variance of what it sees:
augmented faces, mixed by mixup, under weights that keep moving (and, with --ema, the averaged
weights never produced any of them). Test faces are none of these. Recomputing the statistics
once with the final weights, on plain training faces (mirrored at random, as flip averaging sees
them), removes that mismatch. No weight changes and no validation image is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgeemo.preprocess import PreprocessSpec

__all__ = ["reestimate_batchnorm"]


def reestimate_batchnorm(model: Any, pixels: np.ndarray, spec: PreprocessSpec, *, batches: int = 100,
                         batch_size: int = 64, mirror: bool = True, seed: int = 0) -> int:
    """Replace every BatchNormalization layer's moving statistics by their average over `batches`
    batches of `pixels` (uint8 faces), drawn at random; returns the number of faces used."""
    import keras

    norms = [layer for layer in _layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return 0
    rng = np.random.default_rng(seed)
    count = min(len(pixels), batches * batch_size)
    faces = spec.normalize(pixels[rng.choice(len(pixels), count, replace=False)])
    if mirror:
        flip = rng.random(count) < 0.5
        faces[flip] = faces[flip][:, :, ::-1]
    dropouts = [layer for layer in _layers(model) if isinstance(layer, keras.layers.Dropout)]
    saved = [layer.momentum for layer in norms], [layer.rate for layer in dropouts]
    try:
        for layer in dropouts:  # training mode, but nothing dropped: only the statistics should change
            layer.rate = 0.0
        for step, start in enumerate(range(0, count, batch_size)):
            for layer in norms:  # momentum k/(k+1): after k+1 batches, the plain average of their statistics
                layer.momentum = step / (step + 1)
            model(faces[start:start + batch_size], training=True)
    finally:
        for layer, momentum in zip(norms, saved[0], strict=True):
            layer.momentum = momentum
        for layer, rate in zip(dropouts, saved[1], strict=True):
            layer.rate = rate
    return count


def _layers(model: Any) -> list[Any]:
    """Every layer, including those inside nested models."""
    found = []
    for layer in model.layers:
        found.extend(_layers(layer) if hasattr(layer, "layers") else [layer])
    return found
