"""`edgeemo train`: a zoo model on a FER-2013-style dataset, with checkpoints and --resume."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from edgeemo.cli._options import console

__all__ = ["train"]


@click.command()
@click.option("--data", "data_root", type=click.Path(path_type=Path), help="Dataset root (ROOT/train/<class>/...), a class-folder root, or fer2013.csv.")
@click.option("--model", "model_name", default="mini_xception", show_default=True, help="Zoo model (see `edgeemo models`).")
@click.option("--out", "run_dir", required=True, type=click.Path(path_type=Path), help="Run folder for checkpoints, history and curves.")
@click.option("--epochs", type=click.IntRange(1), default=60, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=64, show_default=True)
@click.option("--lr", "learning_rate", type=float, default=2e-3, show_default=True, help="Peak learning rate (cosine schedule with warm-up).")
@click.option("--warmup-epochs", type=click.IntRange(0), default=2, show_default=True, help="Linear warm-up before the cosine decay.")
@click.option("--optimizer", type=click.Choice(["adamw", "sgd"]), default="adamw", show_default=True,
              help="adamw: AdamW; sgd: SGD with Nesterov momentum 0.9, which wants its own --lr (e.g. 0.01; research/fer2013/EXPERIMENTS.md row 35).")
@click.option("--weight-decay", type=click.FloatRange(0), default=1e-4, show_default=True,
              help="Decoupled weight decay: each step shrinks the weights by this times the learning rate "
                   "(0.025 at --lr 2e-3 shrinks them as fast as SGD at lr 0.1 with weight decay 5e-4).")
@click.option("--split", default="train", show_default=True, help="Split to train on; validation is carved from it.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True,
              help="Share of each class carved out for validation. 0: a refit on every image (a recipe already chosen "
                   "on validation, retrained with those images too): no early stopping, best.keras is the final "
                   "weights (the --swa-start average, else the --ema weights), spec.json keeps --smoothing-sigma.")
@click.option("--labels", "label_map", default=None, help="folder=label mapping (or .json) for folder-per-class datasets.")
@click.option("--input-size", type=int, default=48, show_default=True, help="Square input size in pixels.")
@click.option("--color", is_flag=True, help="Train on 3-channel RGB instead of grayscale.")
@click.option("--normalization", type=click.Choice(["0_1", "-1_1", "0_255"]), default="0_1", show_default=True)
@click.option("--class-weighting", type=click.Choice(["none", "balanced", "sqrt"]), default="sqrt", show_default=True)
@click.option("--label-smoothing", type=float, default=0.1, show_default=True)
@click.option("--no-augment", is_flag=True, help="Train without augmentation (data that is already varied).")
@click.option("--warp", type=click.Choice(["single", "chained"]), default="single", show_default=True,
              help="single: flip, rotation, shift and zoom in one bilinear resampling per image; chained: one "
                   "Keras layer after another (three resamplings, softer images: the runs before the shipped model).")
@click.option("--mixup", type=click.FloatRange(0), default=0.0, show_default=True, help="Mixup alpha (0: off).")
@click.option("--cutmix", type=click.FloatRange(0), default=0.0, show_default=True,
              help="CutMix alpha (0: off): a box from another face, targets mixed by area. With --mixup, each batch takes one.")
@click.option("--erase", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Random erasing: the share of training faces with one random box (2-33% of the face) replaced by noise.")
@click.option("--teacher", "teachers", multiple=True, type=click.Path(path_type=Path),
              help="Distil from this .keras model (repeat for an ensemble); it must have trained with this run's --split-seed and --val-fraction (any split, for a refit with --val-fraction 0).")
@click.option("--cross-fit", is_flag=True,
              help="Score each training image only with the --teacher models that never trained on it (teachers "
                   "trained with --folds and --holdout-fold; their config.json says which images they saw).")
@click.option("--distill-weight", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of the teachers' softened probabilities in the training targets.")
@click.option("--distill-temperature", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True)
@click.option("--distill-online", is_flag=True,
              help="Score every training batch with the --teacher models as the student sees it (augmented, mixed) "
                   "instead of each clean image once: consistent targets, one teacher pass per step and teacher.")
@click.option("--init-from", default=None,
              help="Fine-tune: start from this .keras model, or 'reference' for the shipped FER-2013 model (overrides --model).")
@click.option("--precision", type=click.Choice(["float32", "mixed_bfloat16"]), default="float32", show_default=True,
              help="mixed_bfloat16: compute in bfloat16, keep weights and the saved model float32; faster on CPUs "
                   "with AVX512_BF16 or AMX and on recent GPUs, slower on CPUs without bfloat16 instructions.")
@click.option("--sam-rho", type=click.FloatRange(0, min_open=True), default=None,
              help="Sharpness-aware minimisation: take each step's gradient this far (in weight space, e.g. 0.05) "
                   "towards the loss's steepest rise, for flatter minima; twice the compute per step. TensorFlow backend.")
@click.option("--ema", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="Keep an exponential moving average of the weights with this momentum per step (e.g. 0.999); "
                   "each epoch best.keras keeps the better of the raw and the averaged weights on validation.")
@click.option("--swa-start", type=click.IntRange(1), default=None,
              help="Stochastic weight averaging: from this epoch on, average the weights at the end of every epoch; "
                   "after training, the average (BatchNorm statistics re-estimated) replaces best.keras if it scores higher on validation. "
                   "Early stopping is off from this epoch on.")
@click.option("--patience", type=click.IntRange(1), default=15, show_default=True, help="Early stopping on validation accuracy; off from --swa-start on, but it can end a run before --swa-start begins.")
@click.option("--seed", type=int, default=0, show_default=True, help="Initialisation, shuffling and augmentation.")
@click.option("--split-seed", type=int, default=None, help="Seed of the validation carve-out (default: --seed); keep it fixed across teachers and student.")
@click.option("--folds", type=click.IntRange(0), default=0, show_default=True,
              help="Deal the training images (after the validation carve-out) into this many stratified folds and "
                   "leave --holdout-fold out: a teacher whose outputs on that fold are out of sample (0: off).")
@click.option("--holdout-fold", type=click.IntRange(0), default=0, show_default=True, help="The fold left out with --folds.")
@click.option("--limit-per-class", type=int, default=None, help="Use at most this many images per class (quick runs).")
@click.option("--tune-smoothing/--no-tune-smoothing", default=True, show_default=True,
              help="After training, choose the inference blur (spec.json's smoothing_sigma) on validation.")
@click.option("--smoothing-sigma", type=click.FloatRange(0, 3), default=0.0, show_default=True,
              help="Inference blur (px) written to spec.json when it is not tuned (--no-tune-smoothing, --val-fraction 0), "
                   "e.g. the sigma the recipe's validated run chose.")
@click.option("--reestimate-bn/--no-reestimate-bn", "reestimate_bn", default=True, show_default=True,
              help="After training, recompute best.keras's BatchNorm statistics on un-augmented training faces; "
                   "kept only if validation accuracy (at the best inference smoothing) rises.")
@click.option("--resume", is_flag=True, help="Continue RUN_DIR from its last checkpoint with its saved config.")
def train(data_root: Path | None, model_name: str, run_dir: Path, epochs: int, batch_size: int, learning_rate: float, warmup_epochs: int, optimizer: str, weight_decay: float,
          split: str, val_fraction: float, label_map: str | None, input_size: int, color: bool, normalization: str,
          class_weighting: str, label_smoothing: float, no_augment: bool, warp: str, mixup: float, cutmix: float, erase: float, teachers: tuple[Path, ...], cross_fit: bool,
          distill_weight: float, distill_temperature: float, distill_online: bool, init_from: str | None, precision: str, sam_rho: float | None, ema: float | None, swa_start: int | None, patience: int, seed: int, split_seed: int | None, folds: int, holdout_fold: int,
          limit_per_class: int | None, tune_smoothing: bool, smoothing_sigma: float, reestimate_bn: bool, resume: bool) -> None:
    """Train a compact emotion CNN; writes best.keras, last.keras, spec.json, history.json, curves.png."""
    from edgeemo.errors import DataError
    from edgeemo.models import ZOO
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.training import TrainConfig
    from edgeemo.training import train as run_training

    if not resume and data_root is None:
        raise DataError("expected --data ROOT (or --resume with an existing --out), received neither")
    if model_name not in ZOO:
        from edgeemo.errors import ModelError

        raise ModelError(f"expected --model to be one of {', '.join(ZOO)}, received {model_name!r}")
    config = TrainConfig(
        data=str(data_root or ""), model=model_name, split=split, labels=label_map,
        preprocess=PreprocessSpec(height=input_size, width=input_size, channels=3 if color else 1, normalization=normalization,  # type: ignore[arg-type]
                                  smoothing_sigma=smoothing_sigma),
        epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, warmup_epochs=warmup_epochs, optimizer=optimizer, weight_decay=weight_decay, label_smoothing=label_smoothing,
        class_weighting=class_weighting, mixup=mixup, cutmix=cutmix, erase=erase, teachers=[str(t) for t in teachers],
        distill_weight=distill_weight, distill_temperature=distill_temperature, distill_online=distill_online, augment=not no_augment, warp=warp, val_fraction=val_fraction, patience=patience, seed=seed, split_seed=split_seed,  # type: ignore[arg-type]
        folds=folds, holdout_fold=holdout_fold, cross_fit=cross_fit,
        limit_per_class=limit_per_class, init_from=_init_model_path(init_from), tune_smoothing=tune_smoothing, reestimate_batchnorm=reestimate_bn,
        precision=precision, sam_rho=sam_rho, ema=ema, swa_start=swa_start,  # type: ignore[arg-type]
    )
    result = run_training(config, run_dir, resume=resume, verbose=1 if sys.stdout.isatty() else 2)
    out = console()
    scored = "refit, no validation" if result.best_val_accuracy is None else \
        f"best validation accuracy {100 * result.best_val_accuracy:.2f}%"
    out.print(f"{scored} after {result.epochs_done} epochs "
              f"({result.seconds_per_epoch:.1f} s/epoch, {result.train_images} train / {result.val_images} validation images, "
              f"{result.skipped_images} unreadable skipped)")
    if result.early_stop is not None:
        out.print(_early_stop_line(result.epochs_done, result.early_stop))
    if result.best_val_accuracy is None:
        averaged = f"the weight average of {result.swa['epochs']} epochs" if result.swa else "the final weights"
        out.print(f"best.keras: {averaged}, BatchNorm statistics re-estimated on training faces; "
                  f"inference smoothing sigma {result.smoothing_sigma:g} px (spec.json)")
    elif result.batchnorm is not None:
        bn = result.batchnorm
        out.print(f"BatchNorm statistics re-estimated on {bn['faces']} training faces: best validation accuracy "
                  f"{100 * bn['val_accuracy_before']:.2f}% -> {100 * bn['val_accuracy_after']:.2f}% "
                  f"({'kept' if bn['kept'] else 'not kept'})")
    if result.swa is not None and result.best_val_accuracy is not None:
        avg = result.swa
        out.print(f"weight average of {avg['epochs']} epochs (from epoch {avg['first_epoch']}): validation accuracy "
                  f"{100 * avg['val_accuracy']:.2f}% against {100 * avg['val_accuracy_best_checkpoint']:.2f}% for the best "
                  f"checkpoint ({'kept as best.keras' if avg['kept'] else 'not kept; swa.keras holds it'})")
    if result.val_accuracy_smoothed is not None:
        out.print(f"inference smoothing: sigma {result.smoothing_sigma:g} px, validation accuracy "
                  f"{100 * result.val_accuracy_smoothed:.2f}% (written to spec.json)")
    if result.val_accuracy_flip_averaged is not None:
        out.print(f"with flip averaging: validation accuracy {100 * result.val_accuracy_flip_averaged:.2f}% "
                  f"at sigma {result.flip_average_sigma:g} px")
    out.print(f"best model: {result.best_model}   curves: {Path(result.run_dir) / 'curves.png'}")


def _early_stop_line(epochs_done: int, stop: dict[str, Any]) -> str:
    """Why the run ended before --epochs, and what it missed: patience that runs out before
    --swa-start leaves the run without its weight average."""
    patience = stop["patience"]
    line = (f"stopped early at epoch {epochs_done} of {stop['epochs_planned']}: "
            f"no better checkpoint in the last {patience} epoch{'s' if patience > 1 else ''} (--patience)")
    if stop["swa_start"] is not None:
        line += (f"; the weight average (--swa-start {stop['swa_start']}) never began. "
                 f"A --patience of {stop['patience_to_reach_averaging']} or more would have reached it")
    return line


def _init_model_path(init_from: str | None) -> str | None:
    """'reference' names the float model shipped beside the default bundle."""
    if init_from != "reference":
        return init_from
    from edgeemo.bundle import reference_model_path
    from edgeemo.errors import InputFileNotFound

    path = reference_model_path()
    if path is None:
        raise InputFileNotFound("expected the shipped reference model for --init-from reference, received a package without one")
    return str(path)
