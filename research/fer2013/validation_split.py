"""What the validation-only probes share: their command line, its checks, and the project's carve-out.

Every row of EXPERIMENTS.md holds out the same validation images: a stratified 10% of train/,
split seed 0. A probe that scores trained models on them (smoothing_cv.py, tta_views.py, flip_gain.py) takes
MODEL.keras paths, --data and --out, and refuses bad input with one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
VAL_FRACTION, SPLIT_SEED = 0.1, 0


def parse_probe_args(description: str, default_out: str, argv: list[str] | None, *,
                     held_out_option: bool = False) -> argparse.Namespace | None:
    """models, --data, --out (and with held_out_option, --held-out); None (after one line on stderr)
    when a model or the dataset is missing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("models", type=Path, nargs="+", help=".keras models trained with the 10%%, seed-0 carve-out")
    parser.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "datasets" / "fer2013")
    parser.add_argument("--out", type=Path, help=f"default: results/{default_out}")
    if held_out_option:
        parser.add_argument("--held-out", action="store_true",
                            help="score each model on the fold its run left out with --folds instead of on validation "
                                 "(default --out: results/NAME-held-out.json)")
    args = parser.parse_args(argv)
    if args.out is None:
        name = default_out.replace(".json", "-held-out.json") if getattr(args, "held_out", False) else default_out
        args.out = HERE / "results" / name
    missing = [str(m) for m in args.models if not m.is_file()]
    if missing or not (args.data / "train").is_dir():
        problem = f"models that do not exist: {', '.join(missing)}" if missing else f"{args.data} without train/"
        print(f"expected .keras models and a dataset folder with train/, received {problem}", file=sys.stderr)
        return None
    return args


def load_training_images(data: Path) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 faces, labels) of data/train, the images every carve-out and fold is taken from."""
    from edgeemo.data import load_split
    from edgeemo.preprocess import PreprocessSpec

    train = load_split(data, "train", PreprocessSpec(), progress=False)
    return train.images, train.labels


def validation_indices(labels: np.ndarray) -> np.ndarray:
    """Indices into data/train of the project's validation carve-out."""
    from edgeemo.data import stratified_split

    return stratified_split(labels, VAL_FRACTION, SPLIT_SEED)[1]


def load_validation(data: Path) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 faces, labels) of the project's validation carve-out from data/train."""
    images, labels = load_training_images(data)
    val_idx = validation_indices(labels)
    return images[val_idx], labels[val_idx]
