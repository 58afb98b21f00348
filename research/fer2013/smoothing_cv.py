"""How much of a run's validation accuracy is the luck of choosing its inference smoothing on the same images.

    python research/fer2013/smoothing_cv.py MODEL.keras [MODEL.keras ...] [--data ../shared/datasets/fer2013]

`edgeemo train` and `reference_model.py` pick the blur sigma with the best flip-averaged accuracy
on the validation split, then quote that accuracy: the maximum of eight noisy readings. This
splits validation in two halves at random, picks sigma on one half, scores it on the other (both
ways, 20 random splits), and prints the mean next to the in-sample maximum; the difference is the
optimism of the choice. Each MODEL must come from a run with the project's carve-out (10% of
train/, split seed 0, as every row of EXPERIMENTS.md). Writes research/fer2013/results/smoothing-cv.json.
Exits 2 on bad input (a missing model, a dataset without train/).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
from validation_split import load_validation, parse_probe_args  # the script beside this one

SPLITS = 20


def cross_validated_choice(correct: dict[float, np.ndarray], splits: int = SPLITS, seed: int = 0) -> float:
    """Mean accuracy on one half of the sigma chosen on the other, over `splits` random halvings.

    correct: {sigma: per-image bool array}; ties go to the least smoothing, as in training."""
    n = len(next(iter(correct.values())))
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(splits):
        order = rng.permutation(n)
        halves = (order[: n // 2], order[n // 2:])
        for choose_on, score_on in (halves, halves[::-1]):
            sigma = max(sorted(correct), key=lambda s: (correct[s][choose_on].mean(), -s))
            scores.append(correct[sigma][score_on].mean())
    return float(np.mean(scores))


def main(argv: list[str] | None = None) -> int:
    args = parse_probe_args(__doc__.split("\n\n")[0], "smoothing-cv.json", argv)
    if args is None:
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edgeemo.evaluation.smoothing import correct_by_smoothing
    from edgeemo.fileio import write_json
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.runtime.keras_rt import KerasRuntime

    spec = PreprocessSpec()
    pixels, labels = load_validation(args.data)
    report: dict[str, Any] = {"data": args.data.name, "validation_images": int(len(labels)), "splits": SPLITS, "models": {}}
    for path in args.models:
        with KerasRuntime(path) as runtime:
            _, correct = correct_by_smoothing(runtime, pixels, labels, spec)  # flip-averaged
        grid = {str(s): float(c.mean()) for s, c in correct.items()}
        held_out = cross_validated_choice(correct)
        name = f"{path.parent.name}/{path.name}"
        report["models"][name] = {"flip_average_by_sigma": grid, "best_in_sample": max(grid.values()),
                                  "chosen_on_the_other_half": held_out}
        print(f"{name}: best sigma in sample {100 * max(grid.values()):.2f}%, chosen on the other half "
              f"{100 * held_out:.2f}% (flip-averaged validation)")
    write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
