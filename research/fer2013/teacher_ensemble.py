"""Which runs make the best teacher ensemble: every combination scored on the runs' shared validation split.

    python research/fer2013/teacher_ensemble.py RUN RUN [RUN ...] [--data ../shared/datasets/fer2013]

Each RUN is an `edgeemo train` folder (best.keras, spec.json, config.json). All must share one
validation carve-out (dataset, split, fraction, split seed): the script loads it once, scores each
run's best.keras on it exactly as `edgeemo train --teacher` would (flip-averaged, through the run's
own spec.json, smoothing included), then averages the probabilities of every combination of two or
more runs. These are the images the runs chose their checkpoints and smoothing on, so every number
is a little optimistic; they rank teacher sets, they are not a result to report.

Writes research/fer2013/results/ensembles/<date>-<machine>.json and prints the best ensemble of each size.
Exits 2 on bad input (a folder that is not a run, runs with different validation splits).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RUN_FILES = ("best.keras", "spec.json", "config.json")
SPLIT_KEYS = ("split", "val_fraction", "split_seed")
MAX_RUNS = 12


def read_split(run: Path) -> dict[str, Any]:
    """The run's validation carve-out, as `edgeemo train` made it."""
    config = json.loads((run / "config.json").read_text())
    seed = config.get("seed", 0) if config.get("split_seed") is None else config["split_seed"]
    return {"data": config.get("data"), "split": config.get("split", "train"), "val_fraction": config.get("val_fraction", 0.1),
            "split_seed": seed, "class_names": config.get("class_names"), "limit_per_class": config.get("limit_per_class"),
            "labels": config.get("labels")}


def check_runs(runs: list[Path]) -> str | None:
    """One line saying what is wrong with the runs, or None."""
    if not 2 <= len(runs) <= MAX_RUNS:
        return f"expected 2 to {MAX_RUNS} run folders (every combination is scored), received {len(runs)}"
    if len({run.name for run in runs}) != len(runs):  # the results name runs by folder name
        return f"expected run folders with distinct names, received {' '.join(map(str, runs))}"
    for run in runs:
        missing = [name for name in RUN_FILES if not (run / name).is_file()]
        if missing:
            return f"expected an `edgeemo train` folder with {', '.join(RUN_FILES)}, received {run} without {', '.join(missing)}"
    try:
        splits = [read_split(run) for run in runs]
    except (OSError, ValueError, AttributeError) as exc:
        return f"expected each run's config.json to hold a JSON object, received {exc}"
    first = splits[0]
    for run, theirs in zip(runs[1:], splits[1:], strict=True):
        differs = {k: theirs[k] for k in (*SPLIT_KEYS, "class_names") if theirs[k] != first[k]}
        if differs:
            mine = {k: first[k] for k in differs}
            return f"expected every run to share {runs[0].name}'s validation split {mine}, received {run.name} with {differs}"
    return None


def score_ensembles(probs: dict[str, np.ndarray], labels: np.ndarray) -> list[dict[str, Any]]:
    """Accuracy of every combination of one or more runs (mean of their probabilities), best first within a size."""
    names = list(probs)
    scored = []
    for size in range(1, len(names) + 1):
        by_size = [{"runs": list(combo), "accuracy": float((sum(probs[n] for n in combo).argmax(1) == labels).mean())}
                   for combo in itertools.combinations(names, size)]
        scored += sorted(by_size, key=lambda entry: -entry["accuracy"])
    return scored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="`edgeemo train` folders sharing one validation split")
    parser.add_argument("--data", type=Path, default=None, help="dataset root (default: the first run's config.json)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ensembles")
    args = parser.parse_args()
    runs = [run.resolve() for run in args.runs]
    problem = check_runs(runs)
    split = read_split(runs[0]) if problem is None else {}
    data = args.data or (Path(split["data"]) if split.get("data") else None)
    if problem is None and (data is None or not (data / split["split"]).is_dir()):
        problem = f"expected a dataset with a {split['split']}/ folder (--data or the run's config.json), received {data}"
    if problem:
        print(problem, file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from rich.console import Console

    from edgeemo.bench.machine import machine_info, machine_slug
    from edgeemo.data import load_split, parse_label_mapping, stratified_split
    from edgeemo.fileio import write_json
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.training.distill import teacher_probabilities

    out = Console(stderr=True)
    spec = PreprocessSpec()  # each run's own spec.json replaces it in teacher_probabilities
    with out.status(f"loading {data / split['split']}"):
        images = load_split(data, split["split"], spec, class_names=split["class_names"], labels=parse_label_mapping(split["labels"]),
                            limit_per_class=split["limit_per_class"], progress=False)
        _, val_idx = stratified_split(images.labels, split["val_fraction"], split["split_seed"])
        pixels, labels = images.images[val_idx], images.labels[val_idx]
    probs: dict[str, np.ndarray] = {}
    for i, run in enumerate(runs, 1):
        with out.status(f"scoring {run.name} ({i}/{len(runs)}) on {len(labels)} validation images"):
            probs[run.name] = teacher_probabilities([str(run / "best.keras")], pixels, spec, len(images.class_names))
    ensembles = score_ensembles(probs, labels)

    result = {"data": str(data), "validation": {k: split[k] for k in SPLIT_KEYS}, "validation_images": int(len(labels)),
              "runs": [str(run) for run in runs], "ensembles": ensembles, "machine": machine_info()}
    path = args.out / f"{dt.date.today().isoformat()}-{machine_slug(result['machine'])}.json"
    write_json(path, result)
    for size in range(1, len(runs) + 1):
        best = next(e for e in ensembles if len(e["runs"]) == size)
        print(f"{size} run(s): {100 * best['accuracy']:.2f}%  {' + '.join(best['runs'])}")
    print(f"{len(ensembles)} combinations on {len(labels)} validation images (flip-averaged, each run's own spec.json) -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
