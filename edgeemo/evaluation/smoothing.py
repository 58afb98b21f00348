"""Choose the inference smoothing (PreprocessSpec.smoothing_sigma) on validation images.

Training augmentation resamples every image with bilinear interpolation (rotation, shift, zoom),
so a model never sees a face as sharp as a camera crop or a test image. Blurring its inputs a
little at inference brings them back to what it trained on. With `--warp chained` (three
resamplings per face) a sigma of 0.7 pixels lifted FER-2013 validation accuracy by 2.5-3.7 points
for every model tried; with `--warp single` (one) the faces stay sharper and 0-0.4 px is best
(research/fer2013/EXPERIMENTS.md). The blur is applied in PreprocessSpec.normalize, so every runtime and
the device see the same.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from edgeemo.preprocess import PreprocessSpec
from edgeemo.runtime.base import Runtime

__all__ = ["SMOOTHING_SIGMAS", "choose_smoothing", "choose_smoothing_plain_and_flipped", "correct_by_smoothing",
           "probabilities_by_smoothing"]

# 0 first: on a tie the least smoothing wins.
# Below 0.4 px the kernel's side taps are under 1% of the centre: no change to the image.
SMOOTHING_SIGMAS: tuple[float, ...] = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

Choice = tuple[float, dict[float, float]]  # (sigma with the best accuracy, {sigma: accuracy})


def choose_smoothing(
    runtime: Runtime,
    pixels: np.ndarray,
    labels: np.ndarray,
    spec: PreprocessSpec,
    *,
    flip_average: bool = False,
    sigmas: tuple[float, ...] = SMOOTHING_SIGMAS,
    batch_size: int = 512,
) -> Choice:
    """(sigma with the best accuracy, {sigma: accuracy}) for uint8 validation `pixels`."""
    accuracy: dict[float, float] = {}
    for sigma in sigmas:
        candidate = spec.model_copy(update={"smoothing_sigma": sigma})
        probs = runtime.predict_pixels(pixels, candidate, flip_average=flip_average, batch_size=batch_size)
        accuracy[sigma] = float((probs.argmax(1) == labels).mean())
    return _best(accuracy, sigmas), accuracy


def choose_smoothing_plain_and_flipped(runtime: Runtime, pixels: np.ndarray, labels: np.ndarray, spec: PreprocessSpec, *,
                                       sigmas: tuple[float, ...] = SMOOTHING_SIGMAS,
                                       batch_size: int = 512) -> tuple[Choice, Choice]:
    """choose_smoothing single pass and flip-averaged, from one pass over the images and one over
    their mirrors (two separate calls would run the un-mirrored pass twice)."""
    correct_plain, correct_flipped = correct_by_smoothing(runtime, pixels, labels, spec, sigmas=sigmas, batch_size=batch_size)
    plain = {sigma: float(c.mean()) for sigma, c in correct_plain.items()}
    flipped = {sigma: float(c.mean()) for sigma, c in correct_flipped.items()}
    return (_best(plain, sigmas), plain), (_best(flipped, sigmas), flipped)


def correct_by_smoothing(
    runtime: Runtime,
    pixels: np.ndarray,
    labels: np.ndarray,
    spec: PreprocessSpec,
    *,
    sigmas: tuple[float, ...] = SMOOTHING_SIGMAS,
    batch_size: int = 512,
) -> tuple[dict[float, np.ndarray], dict[float, np.ndarray]]:
    """({sigma: per-image correct}, single pass; the same, flip-averaged) for uint8 `pixels`."""
    plain: dict[float, np.ndarray] = {}
    flipped: dict[float, np.ndarray] = {}
    for sigma, probs, mirror_probs in probabilities_by_smoothing(runtime, pixels, spec, sigmas=sigmas, batch_size=batch_size):
        plain[sigma] = probs.argmax(1) == labels
        flipped[sigma] = (probs + mirror_probs).argmax(1) == labels
    return plain, flipped


def probabilities_by_smoothing(
    runtime: Runtime,
    pixels: np.ndarray,
    spec: PreprocessSpec,
    *,
    sigmas: tuple[float, ...] = SMOOTHING_SIGMAS,
    batch_size: int = 512,
) -> Iterator[tuple[float, np.ndarray, np.ndarray]]:
    """(sigma, probabilities of the faces, of their mirror images) for each sigma, uint8 `pixels`."""
    mirrored = pixels[:, :, ::-1]  # NHWC: mirror the width, as Runtime.predict_proba does
    for sigma in sigmas:
        candidate = spec.model_copy(update={"smoothing_sigma": sigma})
        yield (sigma, runtime.predict_pixels(pixels, candidate, batch_size=batch_size),
               runtime.predict_pixels(mirrored, candidate, batch_size=batch_size))


def _best(accuracy: dict[float, float], sigmas: tuple[float, ...]) -> float:
    best = max(accuracy.values())
    return next(s for s in sigmas if accuracy[s] == best)
