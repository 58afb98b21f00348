"""Shared fixtures: tiny real artifacts built once per session, and the FER-2013 location for `-m dataset`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fer2013_root() -> Path:
    """FER-2013 (image-folder layout) from EDGEEMO_FER2013; skips the test when it is not there."""
    value = os.environ.get("EDGEEMO_FER2013")
    if not value:
        pytest.skip("EDGEEMO_FER2013 is not set: FER-2013 tests need the dataset")
    root = Path(value)
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        pytest.skip(f"EDGEEMO_FER2013={root} has no train/ and test/ folders")
    return root


@pytest.fixture(scope="session")
def tiny_artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny CNN trained for seconds on demo faces, exported to TFLite and ONNX fp32/int8, plus a bundle."""
    pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")
    from edgeemo.testing import make_tiny_artifacts

    return make_tiny_artifacts(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo dataset (train/ and test/, 30 and 15 faces per class)."""
    from edgeemo.data.demo import write_demo_dataset

    return write_demo_dataset(tmp_path_factory.mktemp("demo") / "data", train_per_class=30, test_per_class=15)
