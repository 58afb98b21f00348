"""Does a finished training run clear the bar for replacing the shipped model? (research/fer2013/EXPERIMENTS.md's rule)

    python tools/ship_check.py RUN_DIR

Reads RUN_DIR/state.json (written by `edgeemo train`) and the shipped model's
benchmarks/results/reference-model/report.json, both measured on the same validation split, and
checks the two conditions a candidate must meet before `build_reference_model.py` may score it on test:

1. its shipped configuration (flip-averaged when the build would switch it on, at its best sigma)
   beats the shipped model's by at least one standard error of a validation accuracy;
2. its final model, single pass at sigma 0 (the number with the fewest choices in it), beats the
   shipped model's too.

Exit 0: both met (go on to build_reference_model.py); 1: not met; 2: bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from edgeemo.evaluation.flip_average import (
    flip_averaging_pays,  # one flip rule for the build, quantize and this check
)

SHIPPED_REPORT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "reference-model" / "report.json"


def configuration_accuracy(plain: dict[str, float], flipped: dict[str, float]) -> float:
    """What the run would ship as: the best flip-averaged accuracy if it gains enough over single pass."""
    best_plain, best_flip = max(plain.values()), max(flipped.values())
    return best_flip if flip_averaging_pays(best_plain, best_flip) else best_plain


def check(state: dict[str, Any], shipped: dict[str, Any]) -> list[tuple[str, float, float, str, bool]]:
    """(what, candidate, bar, what the bar is, met) for each condition."""
    ship_config = shipped["val_accuracy_flip_average"] if shipped["flip_average"] else shipped["val_accuracy_plain"]
    standard_error = math.sqrt(ship_config * (1 - ship_config) / shipped["val_images"])
    candidate_config = configuration_accuracy(state["smoothing_val_accuracy"], state["smoothing_val_accuracy_flip_average"])
    candidate_plain = state["smoothing_val_accuracy"]["0.0"]
    ship_plain = shipped["val_accuracy_by_smoothing"]["plain"]["0.0"]
    # A shipped refit has no validation of its own: its numbers are its recipe run's, so the bar is named after that run.
    run = shipped.get("recipe_run") or shipped["run"]
    return [("its shipped configuration", candidate_config, ship_config + standard_error,
             f"{run}'s {100 * ship_config:.2f}% + one standard error", candidate_config >= ship_config + standard_error),
            ("single pass at sigma 0", candidate_plain, ship_plain, f"{run}'s, to beat", candidate_plain > ship_plain)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a finished `edgeemo train` folder")
    parser.add_argument("--shipped", type=Path, default=SHIPPED_REPORT, help="the shipped model's report.json")
    args = parser.parse_args(argv)
    try:
        state = json.loads((args.run / "state.json").read_text())
        shipped = json.loads(args.shipped.read_text())["reference_model"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"expected a run folder with state.json and a reference-model report.json, received {args.run} and "
              f"{args.shipped} ({exc.__class__.__name__}: {exc})", file=sys.stderr)
        return 2
    if "refit_finished_epoch" in state:
        print(f"expected a run with validation, received the refit {args.run} (--val-fraction 0): it has nothing to "
              "check; its recipe run passed or failed this check, and build_reference_model.py --recipe-run ships it", file=sys.stderr)
        return 2
    if "smoothing_val_accuracy_flip_average" not in state:
        print(f"expected a finished run (state.json with the smoothing grids), received {args.run} at epoch "
              f"{state.get('epochs_done')}", file=sys.stderr)
        return 2
    results = check(state, shipped)
    for what, candidate, bar, bar_is, met in results:
        print(f"{'met' if met else 'NOT met'}: {what} {100 * candidate:.2f}% against {100 * bar:.2f}% ({bar_is})")
    return 0 if all(met for *_, met in results) else 1


if __name__ == "__main__":
    sys.exit(main())
