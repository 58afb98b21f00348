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
import time
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from edgeemo._lazy import require_tensorflow
from edgeemo.data import LabeledImages, load_split, parse_label_mapping, stratified_folds, stratified_split
from edgeemo.errors import ConfigError, DataError, InputFileNotFound, ModelError
from edgeemo.fileio import atomic_path, write_json
from edgeemo.labels import FER2013_LABELS
from edgeemo.preprocess import SPEC_FILE, PreprocessSpec, spec_beside
from edgeemo.training.augment import Warp
from edgeemo.training.weight_average import WeightAverage

__all__ = ["TrainConfig", "TrainResult", "class_weights", "held_out_indices", "images_loaded", "run_config",
           "saved_config", "split_indices", "stops_early", "train", "with_compute_dtype"]


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: str
    model: str = "mini_xception"
    split: str = "train"
    labels: str | None = None  # --labels mapping for folder-per-class datasets
    class_names: list[str] = Field(default_factory=lambda: list(FER2013_LABELS))
    preprocess: PreprocessSpec = Field(default_factory=PreprocessSpec)
    epochs: int = Field(60, ge=1)
    batch_size: int = Field(64, ge=1)
    learning_rate: float = Field(2e-3, gt=0)
    # adamw: AdamW. sgd: SGD with Nesterov momentum 0.9, what the strongest published FER-2013 nets
    # train with (on the shipped recipe it underfit: EXPERIMENTS.md row 35). Either way Keras
    # decouples the weight decay and scales it by the learning rate.
    optimizer: Literal["adamw", "sgd"] = "adamw"
    weight_decay: float = Field(1e-4, ge=0)
    warmup_epochs: int = Field(2, ge=0)
    label_smoothing: float = Field(0.1, ge=0, lt=1)
    class_weighting: Literal["none", "balanced", "sqrt"] = "sqrt"
    mixup: float = Field(0.0, ge=0)
    cutmix: float = Field(0.0, ge=0)  # CutMix alpha; with mixup too, each batch takes one of the two
    erase: float = Field(0.0, ge=0, le=1)  # random erasing: probability per training image
    # Distillation: teacher .keras models (several are averaged); targets mix the one-hot label
    # with the teachers' probabilities softened by the temperature.
    teachers: list[str] = Field(default_factory=list)
    distill_weight: float = Field(0.5, ge=0, le=1)
    distill_temperature: float = Field(2.0, gt=0)
    # Score each augmented, mixed training batch with the teachers as the student sees it, instead
    # of every clean image once (edgeemo.training.distill): one teacher pass per step and teacher.
    distill_online: bool = False
    # Fine-tuning: start from this .keras model's weights instead of the zoo's random ones ("model"
    # then records its architecture), e.g. the shipped FER-2013 model on a user's own faces.
    init_from: str | None = None
    augment: bool = True
    warp: Warp = "single"  # how flip, rotation, shift and zoom resample each image
    # 0: a refit on every image of the split, no validation. Nothing is chosen on data then: the
    # run goes to its last epoch, best.keras is the final weights (the weight average with
    # --swa-start, else the --ema weights), spec.json keeps preprocess.smoothing_sigma as given.
    # For retraining a recipe already chosen on validation with the validation images added.
    val_fraction: float = Field(0.1, ge=0, lt=1)
    # Seed of the train/validation carve-out; None: `seed`. Runs that differ only in `seed` (init,
    # shuffling, augmentation) but share split_seed can teach one another without leaking.
    split_seed: int | None = None
    # Cross-fitting: with folds N (2 or more), the images left for training after the carve-out are
    # dealt into N stratified folds (seeded by the split seed) and fold holdout_fold is left out too,
    # so the model's outputs on it are out of sample: a teacher for --cross-fit.
    folds: int = Field(0, ge=0)
    holdout_fold: int = Field(0, ge=0)
    # With teachers: each training image takes the mean of only the teachers that never trained on
    # it (from each teacher's config.json), instead of all of them. A teacher's outputs on images it
    # learned are close to their labels, label noise included; on images it never saw they carry
    # its real uncertainty.
    cross_fit: bool = False
    patience: int = Field(15, ge=1)
    # Sharpness-aware minimisation (edgeemo.training.sharpness): each step's gradient is taken this far
    # (in weight space) towards the loss's steepest rise; None: plain steps. Twice the compute per step.
    sam_rho: float | None = Field(None, gt=0)
    # Exponential moving average of the weights, momentum per step (0.999: about the last 1,000 steps).
    # Each epoch both the raw and the averaged weights are scored on validation; early stopping and
    # best.keras follow the better of the two. Training itself goes on from the raw weights.
    ema: float | None = Field(None, gt=0, lt=1)
    # Stochastic weight averaging: from this epoch on, the raw weights at the end of every epoch are
    # averaged (edgeemo.training.weight_average). After training the average, with re-estimated
    # BatchNorm statistics, replaces best.keras when it scores higher on validation. Early stopping
    # stays off from this epoch on: the average wants every epoch to the last.
    swa_start: int | None = Field(None, ge=1)
    # After training, re-estimate best.keras's BatchNorm statistics on plain training faces and keep
    # them if validation accuracy (at the best inference smoothing) rises (edgeemo.training.batchnorm).
    reestimate_batchnorm: bool = True
    # After training, choose PreprocessSpec.smoothing_sigma on validation (edgeemo.evaluation.smoothing).
    tune_smoothing: bool = True
    # mixed_bfloat16: layers compute in bfloat16 (weights, the softmax and best.keras stay float32);
    # faster on CPUs with AVX512_BF16 or AMX (1.2-1.6x measured here) and on recent GPUs, slower on others.
    precision: Literal["float32", "mixed_bfloat16"] = "float32"
    seed: int = 0
    limit_per_class: int | None = None
    demo: bool = False


    @property
    def effective_split_seed(self) -> int:
        return self.seed if self.split_seed is None else self.split_seed

    @property
    def validates(self) -> bool:
        """False for a refit (val_fraction 0): no validation images, nothing chosen on them."""
        return self.val_fraction > 0


# Options whose default changed, with the value every run saved before the option existed used.
LEGACY_DEFAULTS: dict[str, Any] = {"warp": "chained"}


def saved_config(saved: dict[str, Any]) -> dict[str, Any]:
    """A run's config.json as it trained: options it predates get the value it ran with."""
    return {**LEGACY_DEFAULTS, **saved}


def run_config(run: Path) -> TrainConfig:
    """The TrainConfig in a run folder's config.json, as the run trained."""
    return TrainConfig.model_validate(saved_config(json.loads((run / "config.json").read_text())))


class TrainResult(BaseModel):
    run_dir: str
    best_model: str
    epochs_done: int
    best_val_accuracy: float | None  # None for a refit (no validation)
    seconds_per_epoch: float
    train_images: int
    val_images: int
    skipped_images: int
    # The inference smoothing written to spec.json, and best.keras's validation accuracy with it.
    smoothing_sigma: float = 0.0
    val_accuracy_smoothed: float | None = None
    # The best of the same grid with flip averaging: what a shipping decision compares.
    flip_average_sigma: float | None = None
    val_accuracy_flip_averaged: float | None = None
    # The BatchNorm re-estimation: validation accuracy before and after, and whether it was kept.
    batchnorm: dict[str, Any] | None = None
    # The weight average (--swa-start): epochs averaged, validation accuracy against best.keras, kept.
    swa: dict[str, Any] | None = None
    # Set when patience ended the run before --epochs (early_stop_report).
    early_stop: dict[str, Any] | None = None


def split_indices(config: TrainConfig, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices into the split's images for this config: the validation
    carve-out, then with --folds the held-out fold taken out of training as well."""
    if config.validates:
        train_idx, val_idx = stratified_split(labels, config.val_fraction, config.effective_split_seed)
    else:
        train_idx, val_idx = np.arange(len(labels)), np.arange(0)
    if config.folds:
        fold = stratified_folds(labels[train_idx], config.folds, config.effective_split_seed)
        train_idx = train_idx[fold != config.holdout_fold]
    return train_idx, val_idx


def held_out_indices(config: TrainConfig, labels: np.ndarray) -> np.ndarray:
    """The images a --folds run left out of training besides the validation carve-out (its held-out
    fold, sorted): its outputs on them are out of sample, as on validation."""
    training_part, _ = split_indices(config.model_copy(update={"folds": 0}), labels)
    train_idx, _ = split_indices(config, labels)
    return np.setdiff1d(training_part, train_idx)


def class_weights(labels: np.ndarray, num_classes: int, mode: str) -> dict[int, float] | None:
    """Inverse-frequency weights (mode "balanced"), or their square root (milder, "sqrt")."""
    if mode == "none":
        return None
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (num_classes * np.maximum(counts, 1)), 0.0)
    if mode == "sqrt":
        weights = np.sqrt(weights)
    return {i: float(w) for i, w in enumerate(weights)}


def train(config: TrainConfig, run_dir: str | Path, *, resume: bool = False, verbose: int = 1,
          data: LabeledImages | None = None) -> TrainResult:
    tf = require_tensorflow()
    import keras

    from edgeemo.models import build_model
    from edgeemo.plots import plot_training_curves

    run = Path(run_dir)
    state_path = run / "state.json"
    state: dict[str, Any] = {"epochs_done": 0, "best_val_accuracy": 0.0, "epoch_seconds": []}
    if resume:
        if not (run / "last.keras").is_file():
            raise InputFileNotFound(f"expected {run / 'last.keras'} to resume from, received a run folder without it")
        config = run_config(run)
        state = json.loads(state_path.read_text())
    _check_source_models(config)
    if config.folds == 1 or (config.folds and config.holdout_fold >= config.folds):
        raise ConfigError(f"expected --folds of 2 or more and --holdout-fold below it, "
                          f"received --folds {config.folds} --holdout-fold {config.holdout_fold}")
    if config.cross_fit and not config.teachers:
        raise ConfigError("expected --teacher models for --cross-fit, received none")
    if config.distill_online and (not config.teachers or config.cross_fit):
        raise ConfigError("expected --distill-online with --teacher models and without --cross-fit (a batch mixes "
                          f"images no one teacher left out), received {len(config.teachers)} teacher(s)"
                          f"{' with --cross-fit' if config.cross_fit else ''}")
    if config.sam_rho is not None:
        from edgeemo.training.sharpness import check_backend

        check_backend()
    if config.swa_start is not None and config.swa_start > config.epochs:
        raise ConfigError(f"expected --swa-start at most --epochs ({config.epochs}), received {config.swa_start}")
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
    unseen = _unseen_by_teachers(config, data.labels, train_idx) if config.cross_fit else None
    run.mkdir(parents=True, exist_ok=True)
    write_json(run / "config.json", config.model_dump(mode="json"))
    _write_spec(run, config, config.preprocess)
    from edgeemo.training.augment import make_dataset

    targets = data.labels[train_idx]
    if config.teachers and not config.distill_online:
        targets = _distill_targets(config, run, data.images[train_idx], targets, num_classes, unseen)
    train_ds = make_dataset(data.images[train_idx], targets, num_classes, config.preprocess,
                            batch_size=config.batch_size, training=True, seed=config.seed, mixup=config.mixup, cutmix=config.cutmix,
                            augment=config.augment, warp=config.warp, erase=config.erase)
    if config.distill_online:
        train_ds = _with_online_teachers(config, train_ds, num_classes)
    val_ds = make_dataset(data.images[val_idx], data.labels[val_idx], num_classes, config.preprocess,
                          batch_size=256, training=False) if config.validates else None
    steps_per_epoch = max(1, len(train_idx) // config.batch_size)

    if resume:
        model = keras.models.load_model(run / "last.keras")
    else:
        model = initial if initial is not None else build_model(config.model, config.preprocess.input_shape, num_classes)
        if config.precision != "float32":
            model = with_compute_dtype(model, config.precision)
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
    if config.sam_rho is not None:  # bound to the instance, so again after --resume loads last.keras
        from edgeemo.training.sharpness import use_sharpness_aware_steps

        use_sharpness_aware_steps(model, config.sam_rho)

    history: dict[str, list[float]] = {}
    swa = WeightAverage(run / "swa.npz", start=config.swa_start) if config.swa_start is not None else None
    if (run / "history.json").is_file() and resume:
        history = json.loads((run / "history.json").read_text())

    class Checkpointer(keras.callbacks.Callback):
        """Saves best.keras and last.keras atomically each epoch, so a kill at any point can resume."""

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
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
                if val_ds is not None:
                    logs["val_accuracy_ema"] = self.model.evaluate(val_ds, verbose=0, return_dict=True)["accuracy"]
                    keep_average = logs["val_accuracy_ema"] >= val_acc
                    val_acc = max(val_acc, float(logs["val_accuracy_ema"]))
                if not keep_average:  # best.keras, if saved below, takes the raw weights
                    _assign(self.model.trainable_variables, raw_weights)
            for key, value in logs.items():
                history.setdefault(key, []).append(float(value))
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
            if swa is not None:
                swa.add(self.model.trainable_variables, epoch + 1)  # before last.keras: a kill in between repeats the epoch
            with atomic_path(run / "last.keras") as tmp:
                self.model.save(tmp)
            write_json(run / "history.json", history)
            write_json(state_path, state)
            if stops_early(config, epoch + 1, state["wait"]):
                self.model.stop_training = True

    cb = [Checkpointer()]
    # Keras warns that shuffle=True is ignored for a tf.data input: the pipeline already shuffles.
    warnings.filterwarnings("ignore", message=".*shuffle=True.*", category=UserWarning)
    tf.get_logger().setLevel("ERROR")
    if state["epochs_done"] < config.epochs and not stops_early(config, state["epochs_done"], state.get("wait", 0)):
        model.fit(
            train_ds, validation_data=val_ds, epochs=config.epochs, initial_epoch=state["epochs_done"],
            class_weight=class_weights(data.labels[train_idx], num_classes, config.class_weighting),
            callbacks=cb, verbose=verbose,
        )
    if history:
        plot_training_curves(history, f"{config.model} on {Path(config.data).name}", run / "curves.png")
    sigma, smoothed, flip_sigma, flip_accuracy = config.preprocess.smoothing_sigma, None, None, None
    if not config.validates:
        if (run / "best.keras").is_file() and state["epochs_done"] >= config.epochs:
            _finish_refit(run, swa, config, data.images[train_idx], state)
            write_json(state_path, state)
    elif (run / "best.keras").is_file() and (config.tune_smoothing or config.reestimate_batchnorm or swa is not None):
        val_pixels, val_labels = data.images[val_idx], data.labels[val_idx]
        best_model = keras.models.load_model(run / "best.keras")
        grids = _score_smoothing(run, best_model, config, val_pixels, val_labels)
        if config.reestimate_batchnorm:
            grids, state["batchnorm_reestimation"] = _reestimate_batchnorm(
                run, best_model, config, data.images[train_idx], val_pixels, val_labels, grids)
        # Once per average: on a later --resume of the finished run, best.keras may already be it.
        if swa is not None and swa.count and state.get("swa", {}).get("epochs") != swa.count:
            grids, state["swa"] = _weight_average_candidate(
                run, swa, config, data.images[train_idx], val_pixels, val_labels, grids)
            if state["swa"]["kept"]:
                state["best_weights"] = "weight average"
        sigma, accuracy, flip_sigma, flipped = grids
        if config.tune_smoothing:
            _write_spec(run, config, config.preprocess.model_copy(update={"smoothing_sigma": sigma}))
            smoothed, flip_accuracy = accuracy[sigma], flipped[flip_sigma]
            state["smoothing_val_accuracy"] = {str(s): a for s, a in accuracy.items()}
            state["smoothing_val_accuracy_flip_average"] = {str(s): a for s, a in flipped.items()}
        write_json(state_path, state)
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
        smoothing_sigma=sigma,
        val_accuracy_smoothed=smoothed,
        flip_average_sigma=flip_sigma,
        val_accuracy_flip_averaged=flip_accuracy,
        batchnorm=state.get("batchnorm_reestimation"),
        swa=state.get("swa"),
        early_stop=early_stop_report(config, state["epochs_done"], state.get("wait", 0)),
    )


# (sigma, {sigma: single-pass accuracy}, flip-averaged sigma, {sigma: flip-averaged accuracy}) on validation
Grids = tuple[float, dict[float, float], float, dict[float, float]]


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


def stops_early(config: TrainConfig, epochs_done: int, wait: int) -> bool:
    """Patience has run out (`wait` epochs without a better checkpoint), outside the averaging epochs:
    from --swa-start on the run goes to its last epoch, since the weight average wants all of them.
    A refit has no validation to lose patience with."""
    averaging = config.swa_start is not None and epochs_done >= config.swa_start
    return config.validates and wait >= config.patience and not averaging


def early_stop_report(config: TrainConfig, epochs_done: int, wait: int) -> dict[str, Any] | None:
    """None unless patience ended the run before --epochs; else its planned epochs and patience and,
    with --swa-start, the patience that would have reached the averaging epochs (an early stop always
    comes before them)."""
    if epochs_done >= config.epochs or not stops_early(config, epochs_done, wait):
        return None
    to_average = None if config.swa_start is None else config.swa_start - epochs_done + config.patience
    return {"epochs_planned": config.epochs, "patience": config.patience, "swa_start": config.swa_start,
            "patience_to_reach_averaging": to_average}


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


def _write_spec(run: Path, config: TrainConfig, spec: PreprocessSpec) -> None:
    write_json(run / SPEC_FILE, {"labels": config.class_names, "preprocess": spec.model_dump(),
                                 "model": config.model, "demo": config.demo})


def _check_source_models(config: TrainConfig) -> None:
    """Teachers (and the --init-from model) must exist and, where their run's config.json says, share
    this run's validation split: a model that trained on this run's validation images would leak them
    into the targets or the weights. A refit has no validation images to leak into."""
    for role, path in [("a teacher model (.keras) for --teacher", t) for t in config.teachers] + (
            [("a model (.keras) for --init-from", config.init_from)] if config.init_from else []):
        if not Path(path).exists():
            raise InputFileNotFound(f"expected {role}, received a missing path: {path}")
        if config.validates:
            _check_same_split(Path(path), config)


def _check_same_split(model_path: Path, config: TrainConfig) -> None:
    their_config = model_path.parent / "config.json"
    if not their_config.is_file():
        return
    theirs = json.loads(their_config.read_text())
    # Only a run on the same dataset (by folder name) can have seen this run's validation images.
    if Path(theirs.get("data", "")).name != Path(config.data).name:
        return
    theirs["split_seed"] = theirs.get("seed") if theirs.get("split_seed") is None else theirs["split_seed"]
    mine = {"split": config.split, "val_fraction": config.val_fraction, "split_seed": config.effective_split_seed}
    differs = {k: theirs.get(k) for k, v in mine.items() if theirs.get(k) != v}
    if differs:
        raise DataError(f"expected {model_path} trained with this run's validation split {mine}, received {differs}")


def _assign(variables: list[Any], values: list[np.ndarray]) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def with_compute_dtype(model: Any, dtype: str) -> Any:
    """A copy of `model` whose layers compute in `dtype` ("float32" or "mixed_bfloat16"), same weights.

    The output layer stays float32: a softmax in bfloat16 (8-bit mantissa) would blunt the loss.
    """
    import keras

    output_layer = model.layers[-1]

    def rebuild(layer: Any) -> Any:
        layer_config = layer.get_config()
        layer_config["dtype"] = "float32" if layer is output_layer else dtype
        return layer.__class__.from_config(layer_config)

    copy = keras.models.clone_model(model, clone_function=rebuild)
    copy.set_weights(model.get_weights())
    return copy


def _initial_model(config: TrainConfig, path: str) -> Any:
    """The --init-from model at `path`, checked against this run's input and classes."""
    from edgeemo.export.model_io import load_keras_model

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


def _unseen_by_teachers(config: TrainConfig, labels: np.ndarray, train_idx: np.ndarray) -> list[np.ndarray]:
    """For each teacher, which of this run's training images it never trained on, as its config.json
    has it; every image must be new to at least one teacher."""
    unseen = []
    mine = images_loaded(config)
    for path in config.teachers:
        if not (Path(path).parent / "config.json").is_file():
            raise DataError(f"expected a run's config.json beside each --cross-fit teacher, received {path} without one")
        theirs = run_config(Path(path).parent)
        differs = {k: v for k, v in images_loaded(theirs).items() if v != mine[k]}
        if differs:
            raise DataError(f"expected --cross-fit teachers trained on this run's images {mine}, received {path} with {differs}")
        their_train, _ = split_indices(theirs, labels)
        unseen.append(~np.isin(train_idx, their_train))
    seen_by_all = int((~np.any(unseen, axis=0)).sum())
    if seen_by_all:
        raise DataError(f"expected every training image to be new to at least one --cross-fit teacher (teachers trained "
                        f"with --folds), received {seen_by_all} of {len(train_idx)} that every teacher trained on")
    return unseen


def images_loaded(config: TrainConfig) -> dict[str, Any]:
    """What decides which images, in which order, a run loads: equal for two runs, equal indices."""
    return {"data": Path(config.data).name, "split": config.split, "labels": config.labels,
            "limit_per_class": config.limit_per_class}


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
