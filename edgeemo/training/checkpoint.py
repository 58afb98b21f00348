"""Checkpointing: after every epoch, best.keras and last.keras are saved
atomically with the history and state.json, so a run killed at any point resumes (--resume)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo._lazy import require_keras
from edgeemo.fileio import atomic_path, write_json
from edgeemo.training.config import TrainConfig, stops_early
from edgeemo.training.precision import with_compute_dtype
from edgeemo.training.weight_average import WeightAverage

require_keras()  # host only: train() imports this module once TensorFlow is there
import keras  # noqa: E402

__all__ = ["Checkpointer"]


class Checkpointer(keras.callbacks.Callback):  # type: ignore[misc]
    """Saves best.keras and last.keras each epoch, and the history and state with them.

    `state` and `history` are the run's state.json and history.json, updated in place.
    """

    def __init__(self, run: Path, config: TrainConfig, state: dict[str, Any], history: dict[str, list[float]],
                 val_ds: Any, swa: WeightAverage | None) -> None:
        super().__init__()
        self.run, self.config, self.state, self.history, self.val_ds, self.swa = run, config, state, history, val_ds, swa
        self._t0 = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        config, state, run = self.config, self.state, self.run
        logs = logs if logs is not None else {}
        val_acc, keep_average = float(logs.get("val_accuracy", 0.0)), False
        raw_weights: list[np.ndarray] = []
        if config.ema is not None:
            # Score the averaged weights too. They pair with BatchNorm statistics gathered by the
            # raw ones, which hurts them while the weights still move fast, so best.keras takes
            # whichever of the two scores higher (a refit, with nothing to score on, takes the
            # averaged ones). Training goes on from the raw weights.
            raw_weights = [v.numpy() for v in self.model.trainable_variables]
            self.model.optimizer.finalize_variable_values(self.model.trainable_variables)
            keep_average = True
            if self.val_ds is not None:
                logs["val_accuracy_ema"] = self.model.evaluate(self.val_ds, verbose=0, return_dict=True)["accuracy"]
                keep_average = logs["val_accuracy_ema"] >= val_acc
                val_acc = max(val_acc, float(logs["val_accuracy_ema"]))
            if not keep_average:  # best.keras, if saved below, takes the raw weights
                _assign(self.model.trainable_variables, raw_weights)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        state["epoch_seconds"].append(round(time.perf_counter() - self._t0, 2))
        state["epochs_done"] = epoch + 1
        if val_acc > state["best_val_accuracy"] or not config.validates:  # a refit keeps the newest
            state["best_val_accuracy"] = val_acc
            state["best_epoch"] = epoch + 1
            if config.ema is not None:
                state["best_weights"] = "averaged" if keep_average else "raw"
            best = self.model if config.precision == "float32" else with_compute_dtype(self.model, "float32")
            with atomic_path(run / "best.keras") as tmp:
                best.save(tmp)
            state["wait"] = 0
        else:
            state["wait"] = state.get("wait", 0) + 1
        if keep_average:  # back to the raw weights to train on
            _assign(self.model.trainable_variables, raw_weights)
        if self.swa is not None:
            self.swa.add(self.model.trainable_variables, epoch + 1)  # before last.keras: a kill in between repeats the epoch
        with atomic_path(run / "last.keras") as tmp:
            self.model.save(tmp)
        write_json(run / "history.json", self.history)
        write_json(run / "state.json", state)
        if stops_early(config, epoch + 1, state["wait"]):
            self.model.stop_training = True


def _assign(variables: list[Any], values: list[np.ndarray]) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)
