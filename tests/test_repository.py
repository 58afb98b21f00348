"""The repository stays small: training output lives outside it, only the shipped model is tracked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIMIT_BYTES = 5 * 1024 * 1024
ALLOWED = "edgeemo/assets/"  # the shipped bundle and reference model


def test_no_tracked_file_over_5_mb_outside_the_shipped_assets() -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout: {REPO}")
    too_big = []
    for name in listed.stdout.decode().split("\0"):
        path = REPO / name
        if name and not name.startswith(ALLOWED) and path.is_file() and path.stat().st_size > LIMIT_BYTES:
            too_big.append(f"{name} ({path.stat().st_size / 2**20:.1f} MB)")
    assert not too_big, ("expected no tracked file over 5 MB outside edgeemo/assets/ (training runs and checkpoints "
                         f"belong outside the repository), received: {', '.join(too_big)}")
