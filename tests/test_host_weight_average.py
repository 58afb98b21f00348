"""Stochastic weight averaging: the running mean equals the plain mean of the epochs it took, survives
a restart from its file, and does not count a repeated epoch twice; early stopping leaves the averaged epochs alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="needs the host extra (tensorflow)")

from edgeemo.training.weight_average import WeightAverage  # noqa: E402


def test_mean_of_the_epochs_resumes_from_its_file_and_skips_repeated_epochs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    epochs = [[rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=5).astype(np.float32)] for _ in range(4)]
    path = tmp_path / "swa.npz"
    average = WeightAverage(path)
    average.add(epochs[0], epoch=3)
    average.add(epochs[1], epoch=4)
    average.add(epochs[2], epoch=4)  # epoch 4 again (a kill before last.keras was saved): already counted
    resumed = WeightAverage(path)  # what --resume finds
    assert (resumed.count, resumed.last_epoch) == (2, 4)
    resumed.add(epochs[3], epoch=5)
    variables = [keras.Variable(np.zeros((3, 4), np.float32)), keras.Variable(np.zeros(5, np.float32))]
    WeightAverage(path).assign_to(variables)
    for i, variable in enumerate(variables):
        expected = np.mean([epochs[0][i], epochs[1][i], epochs[3][i]], axis=0)
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_early_stopping_waits_for_the_averaging_epochs_to_end() -> None:
    from edgeemo.training.config import TrainConfig, stops_early

    plain = TrainConfig(data="/anywhere", epochs=120, patience=30)
    averaged = plain.model_copy(update={"swa_start": 91})
    assert stops_early(plain, 99, 30) and not stops_early(plain, 99, 29)
    assert stops_early(averaged, 90, 30)  # patience ran out before the averaging began
    assert not stops_early(averaged, 91, 30) and not stops_early(averaged, 119, 50)
