"""research/fer2013/near_duplicates.py finds planted copies (brighter or not) and nothing in unrelated faces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from research_support import load_script

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "research" / "fer2013" / "near_duplicates.py"


def test_planted_copies_are_found_with_their_labels() -> None:
    nd = load_script("near_duplicates")
    rng = np.random.default_rng(0)
    training = rng.integers(0, 256, size=(50, 48, 48), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(4, 48, 48), dtype=np.uint8)
    queries[1] = training[7]
    queries[3] = np.clip(training[20].astype(int) + 20, 0, 255)  # the same face, brighter
    similarity, index = nd.nearest(nd.centred_unit_rows(queries), nd.centred_unit_rows(training), chunk=3)
    assert index[1] == 7 and index[3] == 20
    assert similarity[1] > 0.999 and similarity[3] > 0.99
    assert similarity[0] < 0.2 and similarity[2] < 0.2  # random faces share nothing
    labels, copy_labels = np.array([0, 1, 2, 3]), np.array([5, 1, 5, 4])
    at_099 = {row["threshold"]: row for row in nd.summarize(similarity, labels, copy_labels)}[0.99]
    assert (at_099["with_copy"], at_099["same_label"]) == (2, 0.5)


def test_a_folder_without_splits_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"expected a dataset folder with train/ and test/, received {tmp_path} without train/ or test/"]
