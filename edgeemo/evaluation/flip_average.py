"""Whether a bundle averages each face with its mirror image, decided on validation images.

Flip averaging doubles the classify cost (a face and its mirror in one batch), so it is switched
on only when validation accuracy gains at least FLIP_MIN_GAIN_PP from it. Each mode keeps its own
inference smoothing (PreprocessSpec.smoothing_sigma): the shipped spec takes the chosen mode's.
The test split plays no part in the choice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeemo.evaluation.smoothing import choose_smoothing_plain_and_flipped
from edgeemo.preprocess import PreprocessSpec
from edgeemo.runtime.base import Runtime

__all__ = ["FLIP_MIN_GAIN_PP", "FlipChoice", "choose_flip_average", "flip_averaging_pays", "flip_choice_from_grids",
           "recorded_flip_choice"]

FLIP_MIN_GAIN_PP = 0.2
STATE_FILE = "state.json"  # what `edgeemo train` writes beside best.keras, with the grids scored on validation


def flip_averaging_pays(val_plain: float, val_flip: float) -> bool:
    """Flip averaging doubles the classify cost: it ships only when validation gains FLIP_MIN_GAIN_PP from it."""
    return 100 * (val_flip - val_plain) >= FLIP_MIN_GAIN_PP


@dataclass(frozen=True)
class FlipChoice:
    """The decision and the validation numbers behind it."""

    flip_average: bool
    sigma_plain: float
    sigma_flip: float
    by_sigma_plain: dict[float, float]  # {smoothing sigma: single-pass validation accuracy}
    by_sigma_flip: dict[float, float]  # the same, flip-averaged

    @property
    def accuracy_plain(self) -> float:
        return self.by_sigma_plain[self.sigma_plain]

    @property
    def accuracy_flip(self) -> float:
        return self.by_sigma_flip[self.sigma_flip]

    @property
    def smoothing_sigma(self) -> float:
        """The inference smoothing of the chosen mode."""
        return self.sigma_flip if self.flip_average else self.sigma_plain

    def apply(self, spec: PreprocessSpec) -> PreprocessSpec:
        return spec.model_copy(update={"smoothing_sigma": self.smoothing_sigma})


def flip_choice_from_grids(by_sigma_plain: dict[float, float], by_sigma_flip: dict[float, float]) -> FlipChoice:
    """The choice from validation accuracy by smoothing sigma, single pass and flip-averaged
    (on a tie the least smoothing wins, as in edgeemo.evaluation.smoothing)."""
    sigma_plain = _best(by_sigma_plain)
    sigma_flip = _best(by_sigma_flip)
    pays = flip_averaging_pays(by_sigma_plain[sigma_plain], by_sigma_flip[sigma_flip])
    return FlipChoice(pays, sigma_plain, sigma_flip, dict(by_sigma_plain), dict(by_sigma_flip))


def choose_flip_average(runtime: Runtime, pixels: np.ndarray, labels: np.ndarray, spec: PreprocessSpec) -> FlipChoice:
    """Score uint8 validation `pixels` over the smoothing grid with and without flip averaging, and decide."""
    (_, plain), (_, flipped) = choose_smoothing_plain_and_flipped(runtime, pixels, labels, spec)
    return flip_choice_from_grids(plain, flipped)


def recorded_flip_choice(model: Path) -> FlipChoice | None:
    """The choice from the grids `edgeemo train` scored on its validation split (state.json beside
    the model); None when there are none (a refit without validation, a model trained elsewhere)."""
    state_file = (model if model.is_dir() else model.parent) / STATE_FILE
    try:
        state = json.loads(state_file.read_text())
        plain, flipped = state["smoothing_val_accuracy"], state["smoothing_val_accuracy_flip_average"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return flip_choice_from_grids({float(s): float(a) for s, a in plain.items()},
                                  {float(s): float(a) for s, a in flipped.items()})


def _best(accuracy: dict[float, float]) -> float:
    best = max(accuracy.values())
    return min(s for s, a in accuracy.items() if a == best)
