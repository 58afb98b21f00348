"""What flip averaging gains on validation, sigma by sigma, with the standard error of the gain.

    python research/fer2013/flip_gain.py MODEL.keras [MODEL.keras ...] [--data ../shared/datasets/fer2013] [--held-out]

`edgeemo train` and `reference_model.py` decide on flip averaging by comparing the best single-pass
accuracy over the blur sigmas with the best flip-averaged one, each at its own sigma: the gain they
see is the difference of two noisy maxima. This scores each MODEL on the project's validation
carve-out (10% of train/, split seed 0) at every sigma three ways (the face, its mirror image
alone, the two averaged) and reports the gain at the same sigma with its paired standard error:
both readings come from the same faces, so only the faces on which the two disagree add noise.
It reports the mirror image alone against the face the same way.

With --held-out each MODEL is scored instead on the fold its run left out with `edgeemo train
--folds` (its config.json says which), also out of sample. The folds of one split's fold runs are
disjoint and together cover the training part, 9 times as many faces as validation, so their
results are pooled as well.

Writes research/fer2013/results/flip-gain.json (flip-gain-held-out.json with --held-out). Exits 2 on bad input.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from validation_split import (  # the script beside this one
    load_training_images,
    parse_probe_args,
    validation_indices,
)

# Per face, at one sigma: the face right, its mirror alone right, the two averaged right, both
# giving the same class.
PerFace = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def paired_gain(plain_correct: np.ndarray, averaged_correct: np.ndarray) -> tuple[float, float]:
    """(mean gain, its standard error) of per-face correctness, averaged minus plain, same faces."""
    diff = averaged_correct.astype(np.float64) - plain_correct.astype(np.float64)
    return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff)))


def summarize(plain: np.ndarray, mirror: np.ndarray, averaged: np.ndarray, agree: np.ndarray) -> dict[str, float]:
    gain, standard_error = paired_gain(plain, averaged)
    mirror_minus_face, mirror_standard_error = paired_gain(plain, mirror)
    return {"faces": int(len(plain)), "single_pass": float(plain.mean()), "mirror_only": float(mirror.mean()),
            "flip_averaged": float(averaged.mean()), "gain": gain, "gain_standard_error": standard_error,
            "mirror_minus_face": mirror_minus_face, "mirror_minus_face_standard_error": mirror_standard_error,
            "argmax_agreement": float(agree.mean())}


def fold_run_config(model: Path, data: Path) -> Any:
    """The TrainConfig of the run MODEL came from (config.json beside it) when that run left a fold
    of data/train out; otherwise the line that says why it cannot be scored with --held-out."""
    from edgeemo.training.config import TrainConfig, images_loaded, run_config

    if not (model.parent / "config.json").is_file():
        return f"expected a run's config.json beside every model with --held-out, received {model} without one"
    config = run_config(model.parent)
    expected = images_loaded(TrainConfig(data=str(data)))  # the images load_training_images loads
    loaded = images_loaded(config)
    if not config.folds or loaded != expected:
        return (f"expected models trained with --folds on all of {data.name}'s train/ with --held-out, received {model} "
                f"from a run with --folds {config.folds} on {loaded}")
    return config


def line(name: str, at_zero: dict[str, float], where: str) -> str:
    return (f"{name}: at sigma 0, single {100 * at_zero['single_pass']:.2f}%, mirror only "
            f"{100 * at_zero['mirror_only']:.2f}% ({100 * at_zero['mirror_minus_face']:+.2f} ± "
            f"{100 * at_zero['mirror_minus_face_standard_error']:.2f}), flip-averaged {100 * at_zero['flip_averaged']:.2f}%: "
            f"gain {100 * at_zero['gain']:+.2f} ± {100 * at_zero['gain_standard_error']:.2f} points ({where}, "
            f"{at_zero['faces']} faces)")


def main(argv: list[str] | None = None) -> int:
    args = parse_probe_args(__doc__.split("\n\n")[0], "flip-gain.json", argv, held_out_option=True)
    if args is None:
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edgeemo.evaluation.smoothing import probabilities_by_smoothing
    from edgeemo.fileio import write_json
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.runtime.keras_rt import KerasRuntime
    from edgeemo.training.split import held_out_indices

    configs = [fold_run_config(path, args.data) for path in args.models] if args.held_out else []
    problem = next((c for c in configs if isinstance(c, str)), None)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    images, labels = load_training_images(args.data)
    where = "held-out fold" if args.held_out else "validation"
    report: dict[str, Any] = {"data": args.data.name, "faces": where, "models": {}}
    scored: list[np.ndarray] = []
    per_face: dict[str, list[PerFace]] = {}
    for i, path in enumerate(args.models):
        idx = held_out_indices(configs[i], labels) if args.held_out else validation_indices(labels)
        scored.append(idx)
        truth = labels[idx]
        by_sigma: dict[str, dict[str, float]] = {}
        with KerasRuntime(path) as runtime:
            for sigma, probs, mirror_probs in probabilities_by_smoothing(runtime, images[idx], PreprocessSpec()):
                faces: PerFace = (probs.argmax(1) == truth, mirror_probs.argmax(1) == truth,
                                  (probs + mirror_probs).argmax(1) == truth, probs.argmax(1) == mirror_probs.argmax(1))
                by_sigma[str(sigma)] = summarize(*faces)
                per_face.setdefault(str(sigma), []).append(faces)
        name = f"{path.parent.name}/{path.name}"
        report["models"][name] = by_sigma
        print(line(name, by_sigma["0.0"], where))
    all_faces = np.concatenate(scored)
    if args.held_out and len(scored) > 1 and len(np.unique(all_faces)) == len(all_faces):
        # Disjoint folds: every face is scored once, by the one model that never trained on it.
        report["pooled"] = {sigma: summarize(*(np.concatenate(part) for part in zip(*runs))) for sigma, runs in per_face.items()}
        print(line(f"{len(scored)} held-out folds pooled", report["pooled"]["0.0"], where))
    write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
