"""The training run's configuration: every option of `edgeemo train`, its default, its range, its
help text and the checks across options, in one place. The command's options are generated from
these fields (edgeemo.cli.train_cmd), and config.json in each run folder is this model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edgeemo.errors import ConfigError
from edgeemo.labels import FER2013_LABELS
from edgeemo.preprocess import PreprocessSpec
from edgeemo.training.augment import Warp

__all__ = ["LEGACY_DEFAULTS", "TrainConfig", "cross_field_problem", "early_stop_report", "images_loaded", "parse_train_config",
           "run_config", "saved_config", "stops_early"]


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: str
    model: str = Field("mini_xception", description="Zoo model (see `edgeemo models`).")
    split: str = Field("train", description="Split to train on; validation is carved from it.")
    labels: str | None = Field(None, description="folder=label mapping (or .json) for folder-per-class datasets.")
    class_names: list[str] = Field(default_factory=lambda: list(FER2013_LABELS))
    preprocess: PreprocessSpec = Field(default_factory=PreprocessSpec)
    epochs: int = Field(60, ge=1)
    batch_size: int = Field(64, ge=1)
    learning_rate: float = Field(2e-3, gt=0, description="Peak learning rate (cosine schedule with warm-up).")
    # Keras decouples the weight decay and scales it by the learning rate, for either optimizer.
    optimizer: Literal["adamw", "sgd"] = Field(
        "adamw", description="adamw: AdamW; sgd: SGD with Nesterov momentum 0.9, which wants its own --lr (e.g. 0.01; "
                             "on the shipped recipe it underfit: research/fer2013/EXPERIMENTS.md row 35).")
    weight_decay: float = Field(
        1e-4, ge=0, description="Decoupled weight decay: each step shrinks the weights by this times the learning rate "
                                "(0.025 at --lr 2e-3 shrinks them as fast as SGD at lr 0.1 with weight decay 5e-4).")
    warmup_epochs: int = Field(2, ge=0, description="Linear warm-up before the cosine decay.")
    label_smoothing: float = Field(0.1, ge=0, lt=1)
    class_weighting: Literal["none", "balanced", "sqrt"] = Field(
        "sqrt", description="Loss weight per class: inverse frequency (balanced), its square root (sqrt), or none.")
    mixup: float = Field(0.0, ge=0, description="Mixup alpha (0: off).")
    cutmix: float = Field(0.0, ge=0, description="CutMix alpha (0: off): a box from another face, targets mixed by area. "
                                                 "With --mixup, each batch takes one.")
    erase: float = Field(0.0, ge=0, le=1, description="Random erasing: the share of training faces with one random box "
                                                      "(2-33% of the face) replaced by noise.")
    soften: float = Field(0.0, ge=0, le=1, description="The share of training faces passed through a lower resolution "
                                                        "(50-90% of the side, once per batch) and back: softer faces, as a "
                                                        "camera's crops are beside FER-2013's sharp, equalised ones.")
    # Distillation: targets mix the one-hot label with the teachers' probabilities (several teachers
    # are averaged) softened by the temperature.
    teachers: list[str] = Field(
        default_factory=list,
        description="Distil from this .keras model (repeat for an ensemble); it must have trained with this run's "
                    "--split-seed and --val-fraction (any split, for a refit with --val-fraction 0).")
    distill_weight: float = Field(0.5, ge=0, le=1, description="Share of the teachers' softened probabilities in the training targets.")
    distill_temperature: float = Field(2.0, gt=0)
    distill_online: bool = Field(
        False, description="Score every training batch with the --teacher models as the student sees it (augmented, mixed) "
                           "instead of each clean image once: consistent targets, one teacher pass per step and teacher.")
    # Fine-tuning: "model" then records the architecture of the model the weights came from.
    init_from: str | None = Field(
        None, description="Fine-tune: start from this .keras model, or 'reference' for the shipped FER-2013 model "
                          "(overrides --model).")
    augment: bool = Field(True, description="Augment the training images (--no-augment for data that is already varied).")
    warp: Warp = Field(
        "single", description="single: flip, rotation, shift and zoom in one bilinear resampling per image; chained: one "
                              "Keras layer after another (three resamplings, softer images: the runs before the shipped model).")
    # A refit (0) chooses nothing on data: it retrains a recipe already chosen on validation with the
    # validation images added.
    val_fraction: float = Field(
        0.1, ge=0, lt=1,
        description="Share of each class carved out for validation. 0: a refit on every image (a recipe already chosen "
                    "on validation, retrained with those images too): no early stopping, best.keras is the final "
                    "weights (the --swa-start average, else the --ema weights), spec.json keeps --smoothing-sigma.")
    # Runs that differ only in `seed` but share split_seed can teach one another without leaking.
    split_seed: int | None = Field(
        None, description="Seed of the validation carve-out (default: --seed); keep it fixed across teachers and student.")
    # Cross-fitting: the images left for training after the carve-out are dealt into stratified
    # folds (seeded by the split seed); the model's outputs on the left-out fold are out of sample.
    folds: int = Field(
        0, ge=0, description="Deal the training images (after the validation carve-out) into this many stratified folds and "
                             "leave --holdout-fold out: a teacher whose outputs on that fold are out of sample (0: off).")
    holdout_fold: int = Field(0, ge=0, description="The fold left out with --folds.")
    # A teacher's outputs on images it learned are close to their labels, label noise included; on
    # images it never saw they carry its real uncertainty.
    cross_fit: bool = Field(
        False, description="Score each training image only with the --teacher models that never trained on it (teachers "
                           "trained with --folds and --holdout-fold; their config.json says which images they saw).")
    patience: int = Field(
        15, ge=1, description="Early stopping on validation accuracy; off from --swa-start on, but it can end a run "
                              "before --swa-start begins.")
    sam_rho: float | None = Field(
        None, gt=0, description="Sharpness-aware minimisation (edgeemo.training.sharpness): take each step's gradient this "
                                "far (in weight space, e.g. 0.05) towards the loss's steepest rise, for flatter minima; "
                                "twice the compute per step. TensorFlow backend.")
    # Training goes on from the raw weights; early stopping and best.keras follow the better of the two.
    ema: float | None = Field(
        None, gt=0, lt=1, description="Keep an exponential moving average of the weights with this momentum per step "
                                      "(e.g. 0.999); each epoch best.keras keeps the better of the raw and the averaged "
                                      "weights on validation.")
    swa_start: int | None = Field(
        None, ge=1, description="Stochastic weight averaging (edgeemo.training.weight_average): from this epoch on, average "
                                "the weights at the end of every epoch; after training, the average (BatchNorm statistics "
                                "re-estimated) replaces best.keras if it scores higher on validation. Early stopping is off "
                                "from this epoch on.")
    reestimate_batchnorm: bool = Field(
        True, description="After training, recompute best.keras's BatchNorm statistics on un-augmented training faces "
                          "(edgeemo.training.batchnorm); kept only if validation accuracy (at the best inference "
                          "smoothing) rises.")
    tune_smoothing: bool = Field(
        False, description="After training, choose the inference blur (spec.json's smoothing_sigma) on validation "
                           "(edgeemo.evaluation.smoothing). Off by default: a blur chosen on FER-2013 validation cost "
                           "2.7 points on real photos through the device path (docs/quantize.md).")
    # Weights, the softmax and best.keras stay float32 either way.
    precision: Literal["float32", "mixed_bfloat16"] = Field(
        "float32", description="mixed_bfloat16: compute in bfloat16, keep weights and the saved model float32; faster on "
                               "CPUs with AVX512_BF16 or AMX (1.2-1.6x measured here) and on recent GPUs, slower on CPUs "
                               "without bfloat16 instructions.")
    seed: int = Field(0, description="Initialisation, shuffling and augmentation.")
    limit_per_class: int | None = Field(None, description="Use at most this many images per class (quick runs).")
    demo: bool = False

    @model_validator(mode="after")
    def _options_fit_together(self) -> TrainConfig:
        problem = cross_field_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def effective_split_seed(self) -> int:
        return self.seed if self.split_seed is None else self.split_seed

    @property
    def validates(self) -> bool:
        """False for a refit (val_fraction 0): no validation images, nothing chosen on them."""
        return self.val_fraction > 0


def cross_field_problem(config: TrainConfig) -> str | None:
    """What is wrong with a combination of options (None when nothing is), in the command's words."""
    if config.folds == 1 or (config.folds and config.holdout_fold >= config.folds):
        return (f"expected --folds of 2 or more and --holdout-fold below it, "
                f"received --folds {config.folds} --holdout-fold {config.holdout_fold}")
    if config.cross_fit and not config.teachers:
        return "expected --teacher models for --cross-fit, received none"
    if config.distill_online and (not config.teachers or config.cross_fit):
        return ("expected --distill-online with --teacher models and without --cross-fit (a batch mixes "
                f"images no one teacher left out), received {len(config.teachers)} teacher(s)"
                f"{' with --cross-fit' if config.cross_fit else ''}")
    if config.swa_start is not None and config.swa_start > config.epochs:
        return f"expected --swa-start at most --epochs ({config.epochs}), received {config.swa_start}"
    return None


def parse_train_config(values: dict[str, Any]) -> TrainConfig:
    """TrainConfig from `values`; a bad value or combination is a ConfigError in one line."""
    try:
        return TrainConfig.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise ConfigError("; ".join(problems)) from None


# Options whose default changed, with the value every run saved before the option existed used.
LEGACY_DEFAULTS: dict[str, Any] = {"warp": "chained"}


def saved_config(saved: dict[str, Any]) -> dict[str, Any]:
    """A run's config.json as it trained: options it predates get the value it ran with."""
    return {**LEGACY_DEFAULTS, **saved}


def run_config(run: Path) -> TrainConfig:
    """The TrainConfig in a run folder's config.json, as the run trained."""
    return parse_train_config(saved_config(json.loads((run / "config.json").read_text())))


def images_loaded(config: TrainConfig) -> dict[str, Any]:
    """What decides which images, in which order, a run loads: equal for two runs, equal indices."""
    return {"data": Path(config.data).name, "split": config.split, "labels": config.labels,
            "limit_per_class": config.limit_per_class}


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
