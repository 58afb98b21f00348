"""train(): one run directory with the best and last checkpoints, history, curves and run facts.

RUN_DIR/
  config.json     the TrainConfig (read back by --resume; --teacher/--init-from check their split in it)
  teacher_probs.npy  with --teacher: the teachers' probabilities on the training images (computed once;
                  none with --distill-online, which scores every batch)
  spec.json       labels + PreprocessSpec: what `edgeemo quantize` reads beside the model; after
                  training it carries the inference smoothing chosen on validation
  best.keras      best validation accuracy so far; after training, with BatchNorm statistics
                  re-estimated on plain training faces when that scores higher. With
                  --val-fraction 0 (a refit on every image, no validation): the newest weights
                  (the averaged ones with --ema), or after training the weight average
  last.keras      end of the last finished epoch, with optimizer state (resume point)
  swa.npz, swa.keras  with --swa-start: the running mean of the weights (resume point) and, after
                  training, the averaged model with re-estimated BatchNorm statistics
  state.json      epochs done, best validation accuracy, seconds per epoch
  history.json, curves.png
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from edgeemo._lazy import require_tensorflow
from edgeemo.data import LabeledImages, load_split, parse_label_mapping
from edgeemo.errors import DataError, InputFileNotFound, ModelError
from edgeemo.fileio import atomic_path, write_json
from edgeemo.preprocess import spec_beside
from edgeemo.training.config import TrainConfig, early_stop_report, run_config, stops_early
from edgeemo.training.finish import finish_run, write_spec
from edgeemo.training.precision import with_compute_dtype
from edgeemo.training.split import check_source_models, class_weights, split_indices, unseen_by_teachers
from edgeemo.training.weight_average import WeightAverage

__all__ = ["TrainResult", "train"]


class TrainResult(BaseModel):
    run_dir: str
    best_model: str
    epochs_done: int
    best_val_accuracy: float | None  # None for a refit (no validation)
    seconds_per_epoch: float
    train_images: int
    val_images: int
    skipped_images: int
    # The inference smoothing written to spec.json, and best.keras's validation accuracy with it;
    # the best of the same grid with flip averaging: what a shipping decision compares (edgeemo.training.finish).
    smoothing_sigma: float = 0.0
    smoothing_tuned: bool = False  # chosen on validation (--tune-smoothing), or as set
    val_accuracy_smoothed: float | None = None
    flip_average_sigma: float | None = None
    val_accuracy_flip_averaged: float | None = None
    # The BatchNorm re-estimation: validation accuracy before and after, and whether it was kept.
    batchnorm: dict[str, Any] | None = None
    # The weight average (--swa-start): epochs averaged, validation accuracy against best.keras, kept.
    swa: dict[str, Any] | None = None
    # Set when patience ended the run before --epochs (early_stop_report).
    early_stop: dict[str, Any] | None = None


def train(config: TrainConfig, run_dir: str | Path, *, resume: bool = False, verbose: int = 1,
          data: LabeledImages | None = None) -> TrainResult:
    tf = require_tensorflow()
    import keras

    from edgeemo.plots import plot_training_curves
    from edgeemo.training.augment import make_dataset
    from edgeemo.training.checkpoint import Checkpointer

    run = Path(run_dir)
    state: dict[str, Any] = {"epochs_done": 0, "best_val_accuracy": 0.0, "epoch_seconds": []}
    if resume:
        if not (run / "last.keras").is_file():
            raise InputFileNotFound(f"expected {run / 'last.keras'} to resume from, received a run folder without it")
        config = run_config(run)
        state = json.loads((run / "state.json").read_text())
    check_source_models(config)
    if config.sam_rho is not None:
        from edgeemo.training.sharpness import check_backend

        check_backend()
    keras.utils.set_random_seed(config.seed + state["epochs_done"])
    initial = _initial_model(config, config.init_from) if config.init_from and not resume else None
    if initial is not None:
        config = config.model_copy(update={"model": initial.name})
    if data is None:
        data = load_split(config.data, config.split, config.preprocess, class_names=config.class_names,
                          labels=parse_label_mapping(config.labels), limit_per_class=config.limit_per_class)
    num_classes = len(config.class_names)
    train_idx, val_idx = split_indices(config, data.labels)
    if config.validates and len(val_idx) == 0:
        raise DataError(f"expected enough images for a validation split, received {len(data)}")
    unseen = unseen_by_teachers(config, data.labels, train_idx) if config.cross_fit else None
    run.mkdir(parents=True, exist_ok=True)
    write_json(run / "config.json", config.model_dump(mode="json"))
    write_spec(run, config, config.preprocess)

    targets = data.labels[train_idx]
    if config.teachers and not config.distill_online:
        targets = _distill_targets(config, run, data.images[train_idx], targets, num_classes, unseen)
    train_ds = make_dataset(data.images[train_idx], targets, num_classes, config.preprocess,
                            batch_size=config.batch_size, training=True, seed=config.seed, mixup=config.mixup, cutmix=config.cutmix,
                            augment=config.augment, warp=config.warp, erase=config.erase,
                            soften=config.soften)
    if config.distill_online:
        train_ds = _with_online_teachers(config, train_ds, num_classes)
    val_ds = make_dataset(data.images[val_idx], data.labels[val_idx], num_classes, config.preprocess,
                          batch_size=256, training=False) if config.validates else None
    steps_per_epoch = max(1, len(train_idx) // config.batch_size)

    if resume:
        model = keras.models.load_model(run / "last.keras")
    else:
        model = initial if initial is not None else _zoo_model(config, num_classes)
        if config.precision != "float32":
            model = with_compute_dtype(model, config.precision)
        _compile(model, config, steps_per_epoch)
    if config.sam_rho is not None:  # bound to the instance, so again after --resume loads last.keras
        from edgeemo.training.sharpness import use_sharpness_aware_steps

        use_sharpness_aware_steps(model, config.sam_rho)

    history: dict[str, list[float]] = {}
    swa = WeightAverage(run / "swa.npz", start=config.swa_start) if config.swa_start is not None else None
    if (run / "history.json").is_file() and resume:
        history = json.loads((run / "history.json").read_text())
    # Keras warns that shuffle=True is ignored for a tf.data input: the pipeline already shuffles.
    warnings.filterwarnings("ignore", message=".*shuffle=True.*", category=UserWarning)
    tf.get_logger().setLevel("ERROR")
    if state["epochs_done"] < config.epochs and not stops_early(config, state["epochs_done"], state.get("wait", 0)):
        model.fit(
            train_ds, validation_data=val_ds, epochs=config.epochs, initial_epoch=state["epochs_done"],
            class_weight=class_weights(data.labels[train_idx], num_classes, config.class_weighting),
            callbacks=[Checkpointer(run, config, state, history, val_ds, swa)], verbose=verbose,
        )
    if history:
        plot_training_curves(history, f"{config.model} on {Path(config.data).name}", run / "curves.png")
    finished = finish_run(run, config, state, swa, data.images[train_idx], data.images[val_idx], data.labels[val_idx])
    seconds = state["epoch_seconds"]
    return TrainResult(
        run_dir=str(run),
        best_model=str(run / "best.keras"),
        epochs_done=state["epochs_done"],
        best_val_accuracy=state["best_val_accuracy"] if config.validates else None,
        seconds_per_epoch=float(np.median(seconds)) if seconds else 0.0,
        train_images=int(len(train_idx)),
        val_images=int(len(val_idx)),
        skipped_images=data.skipped,
        smoothing_sigma=finished.smoothing_sigma,
        smoothing_tuned=config.tune_smoothing,
        val_accuracy_smoothed=finished.val_accuracy_smoothed,
        flip_average_sigma=finished.flip_average_sigma,
        val_accuracy_flip_averaged=finished.val_accuracy_flip_averaged,
        batchnorm=state.get("batchnorm_reestimation"),
        swa=state.get("swa"),
        early_stop=early_stop_report(config, state["epochs_done"], state.get("wait", 0)),
    )


def _zoo_model(config: TrainConfig, num_classes: int) -> Any:
    from edgeemo.models import build_model

    return build_model(config.model, config.preprocess.input_shape, num_classes)


def _compile(model: Any, config: TrainConfig, steps_per_epoch: int) -> None:
    """The optimizer (AdamW or Nesterov SGD, with --ema averaging) on a warm-up then cosine schedule, and the loss."""
    import keras

    total = steps_per_epoch * config.epochs
    warmup = min(steps_per_epoch * config.warmup_epochs, total // 2)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else config.learning_rate, decay_steps=max(1, total - warmup), alpha=0.01,
        warmup_target=config.learning_rate if warmup else None, warmup_steps=warmup,
    )
    averaging = {"use_ema": config.ema is not None, "ema_momentum": config.ema or 0.99}
    if config.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True,
                                         weight_decay=config.weight_decay, **averaging)
    else:
        optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay, **averaging)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )


def _initial_model(config: TrainConfig, path: str) -> Any:
    """The --init-from model at `path`, checked against this run's input and classes."""
    from edgeemo.models.io import load_keras_model

    model = load_keras_model(path)
    expected = tuple(config.preprocess.input_shape)
    if tuple(model.input_shape[1:]) != expected:
        raise ModelError(f"expected an --init-from model taking {expected} (this run's input), "
                         f"received {path} taking {tuple(model.input_shape[1:])}")
    if model.output_shape[-1] != len(config.class_names):
        raise ModelError(f"expected an --init-from model with {len(config.class_names)} outputs ({', '.join(config.class_names)}), "
                         f"received {path} with {model.output_shape[-1]}")
    return model


def _with_online_teachers(config: TrainConfig, train_ds: Any, num_classes: int) -> Any:
    """train_ds with its targets mixed with the teachers' outputs on each batch (--distill-online)."""
    import keras
    import tensorflow as tf

    from edgeemo.training.distill import consistent_targets

    teachers = []
    for path in config.teachers:
        theirs = spec_beside(path, config.preprocess)
        teacher = keras.models.load_model(path, compile=False)
        if (theirs.input_shape, theirs.normalization) != (config.preprocess.input_shape, config.preprocess.normalization) \
                or teacher.output_shape[-1] != num_classes:
            raise ModelError(f"expected a teacher taking this run's inputs {config.preprocess.input_shape} normalised "
                             f"{config.preprocess.normalization} with {num_classes} outputs, received {path} taking "
                             f"{theirs.input_shape} normalised {theirs.normalization} with {teacher.output_shape[-1]}")
        teachers.append(teacher if config.precision == "float32" else with_compute_dtype(teacher, config.precision))
    print(f"distilling from {len(teachers)} teacher(s), each training batch scored as the student sees it")
    mix = consistent_targets(teachers, weight=config.distill_weight, temperature=config.distill_temperature)
    return train_ds.map(mix).prefetch(tf.data.AUTOTUNE)


def _distill_targets(config: TrainConfig, run: Path, images: np.ndarray, labels: np.ndarray, num_classes: int,
                     unseen: list[np.ndarray] | None) -> np.ndarray:
    """Soft targets from the teachers (with `unseen`, from those that never trained on each image);
    their probabilities are cached in the run so --resume skips the pass."""
    from edgeemo.training.distill import teacher_probabilities, teacher_targets

    cache = run / "teacher_probs.npy"
    probs = np.load(cache) if cache.is_file() else None
    if probs is None or probs.shape != (len(images), num_classes):
        probs = teacher_probabilities(config.teachers, images, config.preprocess, num_classes, unseen=unseen)
        with atomic_path(cache) as tmp:
            np.save(tmp, probs)
    agreement = float((probs.argmax(1) == labels).mean())
    how = ", each image scored by the teachers that never trained on it" if unseen is not None else ""
    print(f"distilling from {len(config.teachers)} teacher(s){how}: they agree with {100 * agreement:.1f}% of the training labels")
    return teacher_targets(labels, probs, weight=config.distill_weight, temperature=config.distill_temperature)
