"""research/fer2013/compare_runs.py: best validation so far (raw or --ema weights) and training accuracy
by epoch for finished and unfinished runs, a JSON and a PNG; bad input is one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "research" / "fer2013" / "compare_runs.py"


def _run(folder: Path, history: dict[str, list[float]], state: dict[str, object]) -> Path:
    folder.mkdir(parents=True)
    (folder / "history.json").write_text(json.dumps(history))
    (folder / "state.json").write_text(json.dumps(state))
    return folder


def _compare(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_runs_compare_by_best_so_far_with_their_finished_numbers(tmp_path: Path) -> None:
    finished = _run(tmp_path / "finished", {
        "val_accuracy": [0.50, 0.60, 0.55, 0.58], "val_accuracy_ema": [0.40, 0.62, 0.61, 0.64],
        "accuracy": [0.40, 0.55, 0.60, 0.66]},
        {"epochs_done": 4, "epoch_seconds": [60, 62, 70, 61],
         "smoothing_val_accuracy": {"0.0": 0.6321, "0.5": 0.6400},
         "smoothing_val_accuracy_flip_average": {"0.0": 0.6500, "0.5": 0.6612}})
    running = _run(tmp_path / "running", {"val_accuracy": [0.52, 0.51, 0.57], "accuracy": [0.41, 0.50, 0.54]},
                   {"epochs_done": 3, "epoch_seconds": [130, 135, 140]})
    proc = _compare(finished, running, "--every", "2", "--json", tmp_path / "out.json", "--plot", tmp_path / "out.png")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines() if line.split()[0].isdigit()}
    # Epoch 2: the averaged weights' 62% beat the raw 60%; the other run's best so far is its first epoch's.
    assert rows["2"] == ["62.00", "/", "55", "52.00", "/", "50"]
    assert rows["3"] == ["62.00", "/", "60", "57.00", "/", "54"]  # its last epoch gets a row of its own
    assert rows["4"] == ["64.00", "/", "66", "-"]
    assert "finished: 4 epochs, 61.5 s per epoch; finished: single pass at sigma 0 63.21%, best flip-averaged 66.12%" \
        in proc.stdout
    assert "running: 3 epochs, 135.0 s per epoch; not finished" in proc.stdout
    saved = {r["run"]: r for r in json.loads((tmp_path / "out.json").read_text())["runs"]}
    assert saved["finished"]["best_so_far"] == [0.50, 0.62, 0.62, 0.64]
    assert (tmp_path / "out.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_folder_that_is_not_a_run_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = _compare(tmp_path / "empty", "--json", tmp_path / "out.json")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "expected `edgeemo train` folders" in lines[0], proc.stderr
    assert not (tmp_path / "out.json").exists()
