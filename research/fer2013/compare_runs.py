"""Training runs side by side, epoch by epoch: is a run on course against the one it has to beat?

    python research/fer2013/compare_runs.py RUN RUN [RUN ...] [--every 10] [--json OUT.json] [--plot OUT.png]

Each RUN is an `edgeemo train` folder. history.json and state.json are rewritten after every epoch,
so a run still training (or parked) compares as well as a finished one. Every --every epochs the
table gives each run's best validation accuracy so far (the better of the raw and the --ema
weights, which is what best.keras follows) and its training accuracy at that epoch; below it, the
median seconds per epoch and, for finished runs, the two numbers tools/ship_check.py judges.
Validation accuracy during training is single pass on unsmoothed faces, before the weight average,
BatchNorm re-estimation and flip averaging: it ranks runs, it is not what a run would ship as.

Exit 2 on bad input (a folder without history.json and state.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def read_run(run: Path) -> dict[str, Any]:
    """Best validation accuracy so far and training accuracy per epoch, and what state.json says."""
    history = json.loads((run / "history.json").read_text())
    state = json.loads((run / "state.json").read_text())
    validation = np.asarray(history["val_accuracy"], dtype=float)
    if "val_accuracy_ema" in history:  # --ema: best.keras takes the better of the two each epoch
        validation = np.maximum(validation, np.asarray(history["val_accuracy_ema"], dtype=float))
    finished = "smoothing_val_accuracy_flip_average" in state
    return {
        "run": run.name,
        "epochs_done": int(state["epochs_done"]),
        "best_so_far": np.maximum.accumulate(validation).tolist(),
        "train_accuracy": [float(a) for a in history["accuracy"]],
        "median_epoch_seconds": float(np.median(state["epoch_seconds"])) if state.get("epoch_seconds") else None,
        "single_pass_sigma0": state["smoothing_val_accuracy"]["0.0"] if finished else None,
        "best_flip_averaged": max(state["smoothing_val_accuracy_flip_average"].values()) if finished else None,
    }


def milestones(runs: list[dict[str, Any]], every: int) -> list[int]:
    """Every `every`-th epoch up to the longest run, and each run's last epoch."""
    longest = max(r["epochs_done"] for r in runs)
    return sorted(set(range(every, longest + 1, every)) | {r["epochs_done"] for r in runs if r["epochs_done"]})


def table(runs: list[dict[str, Any]], epochs: list[int]) -> list[str]:
    width = max(len(r["run"]) for r in runs)
    lines = ["best validation so far / training accuracy, by epoch",
             f"{'epoch':>5}  " + "  ".join(f"{r['run']:>{width}}" for r in runs)]
    for epoch in epochs:
        cells = []
        for r in runs:
            cell = "-" if epoch > r["epochs_done"] else \
                f"{100 * r['best_so_far'][epoch - 1]:.2f} / {100 * r['train_accuracy'][epoch - 1]:.0f}"
            cells.append(f"{cell:>{width}}")
        lines.append(f"{epoch:>5}  " + "  ".join(cells))
    for r in runs:
        seconds = f"{r['median_epoch_seconds']:.1f} s per epoch" if r["median_epoch_seconds"] else "no epoch times"
        finished = (f"; finished: single pass at sigma 0 {100 * r['single_pass_sigma0']:.2f}%, best flip-averaged "
                    f"{100 * r['best_flip_averaged']:.2f}%") if r["single_pass_sigma0"] is not None else "; not finished"
        lines.append(f"{r['run']}: {r['epochs_done']} epochs, {seconds}{finished}")
    return lines


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    from edgeemo.plots import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for r in runs:
        epochs = np.arange(1, r["epochs_done"] + 1)
        line, = ax.plot(epochs, 100 * np.asarray(r["best_so_far"]), label=f"{r['run']} (best validation so far)")
        ax.plot(epochs, 100 * np.asarray(r["train_accuracy"]), linestyle=":", color=line.get_color(),
                label=f"{r['run']} (training, augmented)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="`edgeemo train` folders")
    parser.add_argument("--every", type=int, default=10, help="table row every this many epochs (default 10)")
    parser.add_argument("--json", type=Path, help="write the per-epoch numbers as JSON")
    parser.add_argument("--plot", type=Path, help="write the curves as a PNG")
    args = parser.parse_args(argv)
    if args.every < 1:
        print(f"expected --every of 1 or more, received {args.every}", file=sys.stderr)
        return 2
    try:
        runs = [read_run(run) for run in args.runs]
    except (OSError, ValueError, KeyError) as exc:
        print(f"expected `edgeemo train` folders with history.json and state.json, received "
              f"{' '.join(map(str, args.runs))} ({exc.__class__.__name__}: {exc})", file=sys.stderr)
        return 2
    print("\n".join(table(runs, milestones(runs, args.every))))
    if args.json:
        from edgeemo.fileio import write_json

        write_json(args.json, {"runs": runs})
    if args.plot:
        plot(runs, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
