"""Choosing the inference smoothing on validation images."""

from __future__ import annotations

import numpy as np

from edgeemo.evaluation.smoothing import SMOOTHING_SIGMAS, choose_smoothing
from edgeemo.preprocess import PreprocessSpec
from edgeemo.runtime.base import Runtime


class SharpnessJudge(Runtime):
    """Says class 1 ("soft") when neighbouring pixels differ by less than `limit` on average, else 0:
    a model whose accuracy on soft-labelled noise rises with the blur."""

    key = "sharpness-judge"

    def __init__(self, limit: float) -> None:
        super().__init__("sharpness-judge")
        self.limit = limit

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (48, 48, 1)

    @property
    def num_classes(self) -> int:
        return 2

    def predict(self, batch: np.ndarray) -> np.ndarray:
        roughness = np.abs(np.diff(batch, axis=2)).mean(axis=(1, 2, 3))
        soft = (roughness < self.limit).astype(np.float32)
        return np.stack([1.0 - soft, soft], axis=1)


def test_the_least_smoothing_that_reaches_the_best_accuracy_wins() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (20, 48, 48, 1), dtype=np.uint8)
    labels = np.ones(20, np.int64)
    spec = PreprocessSpec()
    roughness = {s: np.abs(np.diff(spec.model_copy(update={"smoothing_sigma": s}).normalize(noise), axis=2)).mean()
                 for s in SMOOTHING_SIGMAS}
    assert all(roughness[a] > roughness[b] for a, b in zip(SMOOTHING_SIGMAS, SMOOTHING_SIGMAS[1:]))
    # The judge calls an image soft from sigma 0.7 on: 0.7 is the least blur with every image right.
    limit = (roughness[0.6] + roughness[0.7]) / 2
    sigma, accuracy = choose_smoothing(SharpnessJudge(limit), noise, labels, spec, batch_size=8)
    assert sigma == 0.7 and accuracy[0.7] == accuracy[1.0] == 1.0 and accuracy[0.0] == 0.0
    assert list(accuracy) == list(SMOOTHING_SIGMAS)
    # A model that needs no blur keeps sigma 0.
    sigma, accuracy = choose_smoothing(SharpnessJudge(np.inf), noise, labels, spec)
    assert sigma == 0.0 and set(accuracy.values()) == {1.0}


class LeftHalfJudge(SharpnessJudge):
    """Judges sharpness on the left half only, with a soft score: mirroring changes its answer."""

    def predict(self, batch: np.ndarray) -> np.ndarray:
        roughness = np.abs(np.diff(batch[:, :, :24], axis=2)).mean(axis=(1, 2, 3))
        soft = 1.0 / (1.0 + np.exp((roughness - self.limit) * 50))
        return np.stack([1.0 - soft, soft], axis=1)


def test_plain_and_flipped_in_one_go_equal_two_separate_choices() -> None:
    from edgeemo.evaluation.smoothing import choose_smoothing_plain_and_flipped

    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (30, 48, 48, 1), dtype=np.uint8)
    pixels[:15, :, :24] //= 4  # a calm left half on some faces, so mirroring matters
    labels = rng.integers(0, 2, 30)
    spec = PreprocessSpec()
    judge = LeftHalfJudge(0.05)
    plain, flipped = choose_smoothing_plain_and_flipped(judge, pixels, labels, spec, batch_size=7)
    assert plain == choose_smoothing(judge, pixels, labels, spec)
    assert flipped == choose_smoothing(judge, pixels, labels, spec, flip_average=True)
    assert plain[1] != flipped[1]  # the mirror changed something, so the check above means something
