"""`edgeemo train`: a zoo model on a FER-2013-style dataset, with checkpoints and --resume."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from edgeemo.cli._config_options import options_from_fields
from edgeemo.cli._options import console
from edgeemo.preprocess import PreprocessSpec
from edgeemo.training.config import TrainConfig

__all__ = ["train"]

_SPEC = PreprocessSpec.model_fields


@click.command()
@click.option("--data", "data_root", type=click.Path(path_type=Path),
              help="Dataset root (ROOT/train/<class>/...), a class-folder root, or fer2013.csv.")
@click.option("--out", "run_dir", required=True, type=click.Path(path_type=Path),
              help="Run folder for checkpoints, history and curves.")
@click.option("--input-size", type=int, default=_SPEC["height"].default, show_default=True, help="Square input size in pixels.")
@click.option("--color", is_flag=True, help="Train on 3-channel RGB instead of grayscale.")
@click.option("--normalization", type=click.Choice(["0_1", "-1_1", "0_255"]), default=_SPEC["normalization"].default,
              show_default=True)
@click.option("--smoothing-sigma", type=click.FloatRange(0, 3), default=_SPEC["smoothing_sigma"].default, show_default=True,
              help="Inference blur (px) written to spec.json when it is not tuned (--no-tune-smoothing, --val-fraction 0), "
                   "e.g. the sigma the recipe's validated run chose.")
@options_from_fields(TrainConfig, skip={"data", "class_names", "preprocess", "demo"},
                     flags={"learning_rate": "--lr", "teachers": "--teacher",
                            "reestimate_batchnorm": "--reestimate-bn/--no-reestimate-bn",
                            "tune_smoothing": "--tune-smoothing/--no-tune-smoothing"})
@click.option("--resume", is_flag=True, help="Continue RUN_DIR from its last checkpoint with its saved config.")
def train(data_root: Path | None, run_dir: Path, input_size: int, color: bool, normalization: str, smoothing_sigma: float,
          resume: bool, **options: Any) -> None:
    """Train a compact emotion CNN; writes best.keras, last.keras, spec.json, history.json, curves.png.

    Every option but --data, --out, --resume and the input ones is a field of TrainConfig
    (edgeemo/training/config.py), which also holds its default and its help.
    """
    from edgeemo.errors import DataError
    from edgeemo.models import ZOO
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.training import train as run_training
    from edgeemo.training.config import parse_train_config

    if not resume and data_root is None:
        raise DataError("expected --data ROOT (or --resume with an existing --out), received neither")
    if options["model"] not in ZOO:
        from edgeemo.errors import ModelError

        raise ModelError(f"expected --model to be one of {', '.join(ZOO)}, received {options['model']!r}")
    preprocess = PreprocessSpec(height=input_size, width=input_size, channels=3 if color else 1,
                                normalization=normalization, smoothing_sigma=smoothing_sigma)  # type: ignore[arg-type]
    config = parse_train_config({**options, "data": str(data_root or ""), "preprocess": preprocess,
                                 "teachers": [str(t) for t in options["teachers"]],
                                 "init_from": _init_model_path(options["init_from"])})
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
        how = "chosen on validation, written to spec.json" if result.smoothing_tuned else "as set; --tune-smoothing chooses it"
        out.print(f"inference smoothing: sigma {result.smoothing_sigma:g} px, validation accuracy "
                  f"{100 * result.val_accuracy_smoothed:.2f}% ({how})")
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
