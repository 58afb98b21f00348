"""The steps after the last epoch: the inference smoothing chosen on validation, BatchNorm
statistics re-estimated on plain faces, the weight average offered against the best checkpoint,
and a refit's final weights. Each replaces best.keras only where validation says it pays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.fileio import atomic_path, write_json
from edgeemo.preprocess import SPEC_FILE, PreprocessSpec
from edgeemo.training.config import TrainConfig
from edgeemo.training.weight_average import WeightAverage

__all__ = ["Finished", "finish_run", "write_spec"]

# (sigma, {sigma: single-pass accuracy}, flip-averaged sigma, {sigma: flip-averaged accuracy}) on validation
Grids = tuple[float, dict[float, float], float, dict[float, float]]


@dataclass
class Finished:
    """The inference smoothing written to spec.json, and best.keras's validation accuracy with it,
    single pass and (at its own best sigma) flip-averaged; None where nothing was scored."""

    smoothing_sigma: float
    val_accuracy_smoothed: float | None = None
    flip_average_sigma: float | None = None
    val_accuracy_flip_averaged: float | None = None


def write_spec(run: Path, config: TrainConfig, spec: PreprocessSpec) -> None:
    write_json(run / SPEC_FILE, {"labels": config.class_names, "preprocess": spec.model_dump(),
                                 "model": config.model, "demo": config.demo})


def finish_run(run: Path, config: TrainConfig, state: dict[str, Any], swa: WeightAverage | None,
               train_pixels: np.ndarray, val_pixels: np.ndarray, val_labels: np.ndarray) -> Finished:
    """Everything after training, once per finished run; updates `state` and writes state.json."""
    import keras

    finished = Finished(config.preprocess.smoothing_sigma)
    if not (run / "best.keras").is_file():
        return finished
    if not config.validates:
        if state["epochs_done"] >= config.epochs:
            _finish_refit(run, swa, config, train_pixels, state)
            write_json(run / "state.json", state)
        return finished
    best_model = keras.models.load_model(run / "best.keras")
    grids = _score_smoothing(run, best_model, config, val_pixels, val_labels)
    if config.reestimate_batchnorm:
        grids, state["batchnorm_reestimation"] = _reestimate_batchnorm(
            run, best_model, config, train_pixels, val_pixels, val_labels, grids)
    # Once per average: on a later --resume of the finished run, best.keras may already be it.
    if swa is not None and swa.count and state.get("swa", {}).get("epochs") != swa.count:
        grids, state["swa"] = _weight_average_candidate(run, swa, config, train_pixels, val_pixels, val_labels, grids)
        if state["swa"]["kept"]:
            state["best_weights"] = "weight average"
    sigma, accuracy, flip_sigma, flipped = grids
    finished = Finished(sigma, flip_average_sigma=flip_sigma)
    if config.tune_smoothing:
        write_spec(run, config, config.preprocess.model_copy(update={"smoothing_sigma": sigma}))
    # Recorded either way (one sigma without tuning): `quantize --flip-average auto` and run
    # comparisons read them.
    finished.val_accuracy_smoothed, finished.val_accuracy_flip_averaged = accuracy[sigma], flipped[flip_sigma]
    state["smoothing_val_accuracy"] = {str(s): a for s, a in accuracy.items()}
    state["smoothing_val_accuracy_flip_average"] = {str(s): a for s, a in flipped.items()}
    write_json(run / "state.json", state)
    return finished


def _score_smoothing(run: Path, model: Any, config: TrainConfig, pixels: np.ndarray, labels: np.ndarray) -> Grids:
    """The inference smoothing grid on validation (only the spec's sigma with --no-tune-smoothing).

    The flip-averaged grid comes with it, so runs can be compared by the configuration each would
    ship as (edgeemo.evaluation.flip_average decides flip averaging).
    """
    from edgeemo.evaluation.smoothing import SMOOTHING_SIGMAS, choose_smoothing_plain_and_flipped
    from edgeemo.runtime.keras_rt import KerasRuntime

    sigmas = SMOOTHING_SIGMAS if config.tune_smoothing else (config.preprocess.smoothing_sigma,)
    with KerasRuntime(run / "best.keras", model=model) as runtime:
        (sigma, accuracy), (flip_sigma, flipped) = choose_smoothing_plain_and_flipped(
            runtime, pixels, labels, config.preprocess, sigmas=sigmas)
    return sigma, accuracy, flip_sigma, flipped


def _reestimate_batchnorm(run: Path, model: Any, config: TrainConfig, train_pixels: np.ndarray, val_pixels: np.ndarray,
                          val_labels: np.ndarray, grids: Grids) -> tuple[Grids, dict[str, Any]]:
    """Re-estimate best.keras's BatchNorm statistics (in `model`, changed in place) on plain training
    faces. The new statistics replace the old in best.keras when their best smoothing scores higher
    on validation: a blur and the re-estimation both answer the soft training faces, and a model
    keeps whichever works better."""
    faces = _reestimate_on_plain_faces(model, train_pixels, config)
    grids, before, after = _replace_best_if_higher(run, model, config, val_pixels, val_labels, grids)
    return grids, {"val_accuracy_before": before, "val_accuracy_after": after, "kept": after > before, "faces": faces}


def _finish_refit(run: Path, swa: WeightAverage | None, config: TrainConfig, train_pixels: np.ndarray,
                  state: dict[str, Any]) -> None:
    """A refit's best.keras once training is over: the weight average (with --swa-start), else the
    last weights, with BatchNorm statistics re-estimated for them. Without validation nothing
    decides whether the re-estimation pays; the recipe was chosen on a run where it did. Once per
    finished length: a --resume of a finished refit leaves best.keras as it is, one that trained
    further (more --epochs in config.json) finishes again."""
    import keras

    if state.get("refit_finished_epoch") == state["epochs_done"]:
        return
    if swa is not None and swa.count:
        model, faces = _weight_average_model(run, swa, config, train_pixels)
        state["swa"] = {"epochs": swa.count, "first_epoch": swa.start, "kept": True}
        state["best_weights"] = "weight average"
        state["batchnorm_reestimation"] = {"faces": faces, "kept": True}
    else:
        model = keras.models.load_model(run / "best.keras")
        if config.reestimate_batchnorm:
            state["batchnorm_reestimation"] = {"faces": _reestimate_on_plain_faces(model, train_pixels, config), "kept": True}
    with atomic_path(run / "best.keras") as tmp:
        model.save(tmp)
    state["refit_finished_epoch"] = state["epochs_done"]


def _weight_average_candidate(run: Path, swa: WeightAverage, config: TrainConfig, train_pixels: np.ndarray,
                              val_pixels: np.ndarray, val_labels: np.ndarray, grids: Grids) -> tuple[Grids, dict[str, Any]]:
    """best.keras's architecture with the averaged weights and BatchNorm statistics re-estimated for
    them (they never produced any), saved as swa.keras; it replaces best.keras when its best
    smoothing scores higher on validation than best.keras's does."""
    model, _ = _weight_average_model(run, swa, config, train_pixels)
    grids, before, after = _replace_best_if_higher(run, model, config, val_pixels, val_labels, grids)
    return grids, {"epochs": swa.count, "first_epoch": swa.start, "val_accuracy_best_checkpoint": before,
                   "val_accuracy": after, "kept": after > before}


def _weight_average_model(run: Path, swa: WeightAverage, config: TrainConfig, train_pixels: np.ndarray) -> tuple[Any, int]:
    """(best.keras's architecture with the averaged weights and BatchNorm statistics re-estimated for
    them, since they never produced any; the faces used), saved as swa.keras."""
    import keras

    model = keras.models.load_model(run / "best.keras")
    swa.assign_to(model.trainable_variables)
    faces = _reestimate_on_plain_faces(model, train_pixels, config)
    with atomic_path(run / "swa.keras") as tmp:
        model.save(tmp)
    return model, faces


def _reestimate_on_plain_faces(model: Any, train_pixels: np.ndarray, config: TrainConfig) -> int:
    """BatchNorm statistics of `model` re-estimated on unblurred training faces (edgeemo.training.batchnorm):
    the inference blur is chosen (or, in a refit, given) on top of them. Returns the faces used."""
    from edgeemo.training.batchnorm import reestimate_batchnorm

    unblurred = config.preprocess.model_copy(update={"smoothing_sigma": 0.0})
    return reestimate_batchnorm(model, train_pixels, unblurred, seed=config.seed)


def _replace_best_if_higher(run: Path, model: Any, config: TrainConfig, val_pixels: np.ndarray, val_labels: np.ndarray,
                            grids: Grids) -> tuple[Grids, float, float]:
    """Score `model`'s smoothing grid on validation; it replaces best.keras when its best single-pass
    accuracy beats that of `grids` (best.keras's). Returns the grids now in force, and both accuracies."""
    new_grids = _score_smoothing(run, model, config, val_pixels, val_labels)
    before, after = grids[1][grids[0]], new_grids[1][new_grids[0]]
    if after > before:
        with atomic_path(run / "best.keras") as tmp:
            model.save(tmp)
    return (new_grids if after > before else grids), before, after
