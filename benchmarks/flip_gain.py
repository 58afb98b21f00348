"""What flip averaging gains on validation, sigma by sigma, with the standard error of the gain.

    python benchmarks/flip_gain.py MODEL.keras [MODEL.keras ...] [--data ../shared/datasets/fer2013]

`edgeemo train` and `reference_model.py` decide on flip averaging by comparing the best single-pass
accuracy over the blur sigmas with the best flip-averaged one, each at its own sigma: the gain they
see is the difference of two noisy maxima. This scores each MODEL on the project's validation
carve-out (10% of train/, split seed 0) at every sigma three ways (the face, its mirror image
alone, the two averaged) and reports the gain at the same sigma with its paired standard error:
both readings come from the same faces, so only the faces on which the two disagree add noise.
Writes benchmarks/results/flip-gain.json. Exits 2 on bad input.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np
from validation_split import load_validation, parse_probe_args  # the script beside this one


def paired_gain(plain_correct: np.ndarray, averaged_correct: np.ndarray) -> tuple[float, float]:
    """(mean gain, its standard error) of per-face correctness, averaged minus plain, same faces."""
    diff = averaged_correct.astype(np.float64) - plain_correct.astype(np.float64)
    return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff)))


def main(argv: list[str] | None = None) -> int:
    args = parse_probe_args(__doc__.split("\n\n")[0], "flip-gain.json", argv)
    if args is None:
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edgeemo.evaluation.smoothing import probabilities_by_smoothing
    from edgeemo.fileio import write_json
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.runtime.keras_rt import KerasRuntime

    pixels, labels = load_validation(args.data)
    report: dict[str, Any] = {"data": args.data.name, "validation_images": int(len(labels)), "models": {}}
    for path in args.models:
        by_sigma: dict[str, dict[str, float]] = {}
        with KerasRuntime(path) as runtime:
            for sigma, probs, mirror_probs in probabilities_by_smoothing(runtime, pixels, PreprocessSpec()):
                plain = probs.argmax(1) == labels
                averaged = (probs + mirror_probs).argmax(1) == labels
                gain, standard_error = paired_gain(plain, averaged)
                by_sigma[str(sigma)] = {
                    "single_pass": float(plain.mean()), "mirror_only": float((mirror_probs.argmax(1) == labels).mean()),
                    "flip_averaged": float(averaged.mean()), "gain": gain, "gain_standard_error": standard_error,
                    "argmax_agreement": float((probs.argmax(1) == mirror_probs.argmax(1)).mean())}
        name = f"{path.parent.name}/{path.name}"
        report["models"][name] = by_sigma
        at_zero = by_sigma["0.0"]
        print(f"{name}: at sigma 0, single {100 * at_zero['single_pass']:.2f}%, mirror only "
              f"{100 * at_zero['mirror_only']:.2f}%, flip-averaged {100 * at_zero['flip_averaged']:.2f}%: gain "
              f"{100 * at_zero['gain']:+.2f} ± {100 * at_zero['gain_standard_error']:.2f} points (validation)")
    write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
