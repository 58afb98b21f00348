"""Stochastic weight averaging: the plain mean of the weights at the end of several epochs.

Late in training, validation accuracy swings from epoch to epoch while the weights wander around
one minimum; their mean sits nearer its middle than any single epoch does (Izmailov et al., 2018,
"Averaging Weights Leads to Wider Optima and Better Generalization"). Unlike --ema (an exponential
average over about the last 1,000 steps), every epoch from the first averaged one counts the same.
The averaged weights never produced any BatchNorm statistics, so the trainer re-estimates them
(edgeemo.training.batchnorm) before scoring the average.

The running mean lives in RUN_DIR/swa.npz beside last.keras, with the last epoch it includes, so
--resume continues it and an epoch repeated after a kill is not counted twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.fileio import atomic_path

__all__ = ["WeightAverage"]


class WeightAverage:
    """Running mean of a model's trainable weights over epochs, kept in an .npz file."""

    def __init__(self, path: Path, *, start: int = 1) -> None:
        self.path = path
        self.start = start  # the first epoch averaged
        self.mean: list[np.ndarray] = []
        self.count = 0
        self.last_epoch = 0
        if path.is_file():
            with np.load(path) as saved:
                self.count, self.last_epoch = int(saved["count"]), int(saved["last_epoch"])
                self.mean = [saved[f"w{i}"] for i in range(len(saved.files) - 2)]

    def add(self, variables: list[Any], epoch: int) -> None:
        """Fold the weights after `epoch` (1-based) into the mean and save it; an epoch before `start`
        or already in it is skipped."""
        if epoch < self.start or epoch <= self.last_epoch:
            return
        values = [np.asarray(v, dtype=np.float64) for v in variables]
        if not self.mean:
            self.mean = values
        else:
            self.mean = [m + (v - m) / (self.count + 1) for m, v in zip(self.mean, values, strict=True)]
        self.count += 1
        self.last_epoch = epoch
        arrays: dict[str, Any] = {"count": self.count, "last_epoch": self.last_epoch}
        arrays.update({f"w{i}": m for i, m in enumerate(self.mean)})
        with atomic_path(self.path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **arrays)

    def assign_to(self, variables: list[Any]) -> None:
        """Set `variables` (the same model's trainable variables, in order) to the mean."""
        for variable, value in zip(variables, self.mean, strict=True):
            variable.assign(value.astype(np.float32))  # trainable weights stay float32 in mixed precision too
