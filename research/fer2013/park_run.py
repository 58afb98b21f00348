"""Park an unfinished training run in the repository, so that it resumes on another machine.

    python research/fer2013/park_run.py RUN_DIR [--out research/fer2013/parked]

Run folders live outside the repository and go with the machine that trained them; twice so far a
run hours from its end went that way (research/fer2013/EXPERIMENTS.md, rows 12 and 26). A student of the
cross-fit chain takes longer than one stop on two cores, so it has to outlive one. This copies what
`edgeemo train --resume` reads to OUT/NAME (NAME: the run folder's name): last.keras with its
optimizer state (the resume point), best.keras without it (a third of the size: only its weights
are read again), the teachers' cached probabilities, the running weight average once it has begun,
and the run's config, spec, state and history. Stop the run first (its last finished epoch is what
resumes): a copy taken while an epoch is being saved could pair one epoch's state with the next
one's weights. On the next machine:

    cp -r research/fer2013/parked/NAME /work/runs/NAME && edgeemo train --out /work/runs/NAME --resume

run from the repository root, as the run started (its config.json may name the data and the
teachers by relative paths). Only while the original folder is gone: it is as far along as the copy
or further. Delete the parked copy once the run has finished. A finished run is refused: keep a
teacher with keep_teacher.py, or ship a model with reference_model.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# The script beside this one: one finished-run rule, one way to check runs and copy one without its optimizer state.
from keep_teacher import all_usable, copy_run
from keep_teacher import problem as unfinished_because

REPO = Path(__file__).resolve().parents[2]
PARKED = REPO / "research" / "fer2013" / "parked"
REQUIRED = ("config.json", "spec.json", "state.json", "history.json", "last.keras", "best.keras")
OPTIONAL = ("teacher_probs.npy", "swa.npz")  # present with --teacher, and from --swa-start on


def problem(run: Path) -> str | None:
    """What keeps RUN from being parked (one line), or None when it is an unfinished run that can resume."""
    missing = [name for name in REQUIRED if not (run / name).is_file()]
    if missing:
        return f"expected a training run folder with {', '.join(REQUIRED)}, received {run} without {', '.join(missing)}"
    if unfinished_because(run) is None:
        return (f"expected an unfinished training run, received {run}, which has finished: keep a teacher with "
                "keep_teacher.py, or ship it with reference_model.py")
    return None


def park(run: Path, out: Path) -> Path:
    """Write OUT/<run name> from an unfinished run folder (see problem())."""
    return copy_run(run, out / run.name, tuple(n for n in (*REQUIRED, *OPTIONAL) if n != "best.keras"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="unfinished `edgeemo train` run folders")
    parser.add_argument("--out", type=Path, default=PARKED, help="folder to park them in (default: research/fer2013/parked)")
    args = parser.parse_args(argv)
    if not all_usable(args.runs, problem):
        return 2
    for run in args.runs:
        parked = park(run, args.out)
        size = sum(f.stat().st_size for f in parked.iterdir()) / 1e6
        print(f"{parked}: {size:.1f} MB, resumes from epoch {_epochs_done(parked)}")
    return 0


def _epochs_done(run: Path) -> int:
    return int(json.loads((run / "state.json").read_text()).get("epochs_done", 0))


if __name__ == "__main__":
    sys.exit(main())
