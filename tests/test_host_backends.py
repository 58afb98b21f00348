"""Training under Keras 3's JAX backend (what a GPU machine runs) gives a model the TensorFlow
side converts as usual."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeemo.cli import cli

pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")
pytest.importorskip("jax", reason="needs the jax extra (pip install -e '.[host,jax]')")
pytestmark = pytest.mark.slow  # `edgeemo train` in a JAX process


def test_jax_trained_model_converts_to_int8(tmp_path: Path) -> None:
    from edgeemo.data.demo import write_demo_dataset

    data = write_demo_dataset(tmp_path / "data", train_per_class=20, test_per_class=5)
    run = tmp_path / "run"
    env = dict(os.environ, KERAS_BACKEND="jax")
    train = subprocess.run([sys.executable, "-m", "edgeemo", "train", "--data", str(data), "--model", "mini_xception",
                            "--epochs", "1", "--batch-size", "32", "--out", str(run)],
                           env=env, capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stderr[-2000:]
    assert (run / "best.keras").is_file()
    result = CliRunner().invoke(cli, ["quantize", str(run / "best.keras"), "--calib", str(data), "--formats", "tflite",
                                      "--out", str(tmp_path / "q")])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "q" / "bundle" / "manifest.json").is_file()


def test_sharpness_aware_steps_under_jax_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    from edgeemo.data.demo import write_demo_dataset

    data = write_demo_dataset(tmp_path / "data", train_per_class=5, test_per_class=1)
    run = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "edgeemo", "train", "--data", str(data), "--epochs", "1", "--out", str(run),
                           "--sam-rho", "0.05"], env=dict(os.environ, KERAS_BACKEND="jax"), capture_output=True, text=True,
                          timeout=600)
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "expected" in line]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert "expected the TensorFlow backend for --sam-rho, received KERAS_BACKEND=jax" in lines[0]
    assert not run.exists()
