"""Keep a finished teacher run in the repository, so that a training chain outlives its machine.

    python research/fer2013/keep_teacher.py RUN_DIR [RUN_DIR ...] [--out research/fer2013/teachers]

Run folders live outside the repository and are lost with the machine that trained them (twice so
far: research/fer2013/EXPERIMENTS.md). A student needs of a teacher only what `edgeemo train --teacher`
reads: best.keras, spec.json (the teacher's preprocessing and blur) and config.json (its
validation split and, for --cross-fit, its fold). This copies those to OUT/NAME, NAME being the
run folder's name, with best.keras loaded and saved again without its optimizer state (a third of
the size), and state.json and history.json beside them for the record (research/fer2013/compare_runs.py
reads those two). `--teacher OUT/NAME/best.keras` then works on
any clone. Only a finished run is kept: a teacher whose training or validation choices are not
done yet would give a student targets that no later run reproduces.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEACHERS = REPO / "research" / "fer2013" / "teachers"
KEPT_FILES = ("spec.json", "config.json", "state.json")
RECORD_FILES = ("history.json",)  # kept when the run has it; nothing reads it to train


def problem(run: Path) -> str | None:
    """What keeps RUN from being kept (one line), or None when it is a finished run."""
    from edgeemo.training.config import run_config, stops_early

    missing = [name for name in ("best.keras", *KEPT_FILES) if not (run / name).is_file()]
    if missing:
        return f"expected a training run folder with best.keras and {', '.join(KEPT_FILES)}, received {run} without {', '.join(missing)}"
    config, state = run_config(run), json.loads((run / "state.json").read_text())
    done = state.get("epochs_done", 0)
    if done < config.epochs and not stops_early(config, done, state.get("wait", 0)):
        reason = f"{done} of {config.epochs} epochs done"
    elif not config.validates and state.get("refit_finished_epoch") != done:
        reason = "its final weight average not written yet"
    elif config.validates and config.tune_smoothing and "smoothing_val_accuracy" not in state:
        reason = "its inference blur not chosen on validation yet"
    else:
        return None
    return f"expected a finished training run, received {run} with {reason}"


def keep(run: Path, out: Path) -> Path:
    """Write OUT/<run name> from a finished run folder (see problem())."""
    return copy_run(run, out / run.name, (*KEPT_FILES, *RECORD_FILES))


def copy_run(run: Path, dest: Path, names: tuple[str, ...]) -> Path:
    """Write DEST (atomically) with RUN's best.keras saved again without its optimizer state, and
    those of `names` that RUN holds copied as they are."""
    import keras

    from edgeemo.fileio import atomic_dir

    model = keras.models.load_model(run / "best.keras", compile=False)
    with atomic_dir(dest) as folder:
        model.save(folder / "best.keras")
        for name in names:
            if (run / name).is_file():
                shutil.copy2(run / name, folder / name)
    return dest


def all_usable(runs: list[Path], problem: Callable[[Path], str | None]) -> bool:
    """Check every run before any is written; print the first problem found."""
    for run in runs:
        reason = problem(run)
        if reason is not None:
            print(f"error: {reason}", file=sys.stderr)
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished `edgeemo train` run folders")
    parser.add_argument("--out", type=Path, default=TEACHERS, help="folder to keep them in (default: research/fer2013/teachers)")
    args = parser.parse_args(argv)
    if not all_usable(args.runs, problem):
        return 2
    for run in args.runs:
        kept = keep(run, args.out)
        before, after = ((folder / "best.keras").stat().st_size / 1e6 for folder in (run, kept))
        print(f"{kept}: best.keras {after:.1f} MB (the run's {before:.1f} MB, with its optimizer state)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
