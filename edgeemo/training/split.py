"""Which images a run trains and validates on, and the checks that no model it learns from has
seen its validation images (a leak would flatter every number chosen on them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgeemo.data import stratified_folds, stratified_split
from edgeemo.errors import DataError, InputFileNotFound
from edgeemo.training.config import TrainConfig, images_loaded, run_config

__all__ = ["check_source_models", "check_same_split", "class_weights", "held_out_indices", "split_indices",
           "unseen_by_teachers"]


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


def check_source_models(config: TrainConfig) -> None:
    """Teachers (and the --init-from model) must exist and, where their run's config.json says, share
    this run's validation split: a model that trained on this run's validation images would leak them
    into the targets or the weights. A refit has no validation images to leak into."""
    for role, path in [("a teacher model (.keras) for --teacher", t) for t in config.teachers] + (
            [("a model (.keras) for --init-from", config.init_from)] if config.init_from else []):
        if not Path(path).exists():
            raise InputFileNotFound(f"expected {role}, received a missing path: {path}")
        if config.validates:
            check_same_split(Path(path), config)


def check_same_split(model_path: Path, config: TrainConfig) -> None:
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


def unseen_by_teachers(config: TrainConfig, labels: np.ndarray, train_idx: np.ndarray) -> list[np.ndarray]:
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
