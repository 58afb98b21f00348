"""The host commands as a user runs them, through click's CliRunner, including bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_support import assert_one_line_error, invoke

pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")


def test_quantize_with_eval_writes_report_and_bundle(tiny_artifacts: dict[str, Path], demo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "q"
    code, stdout, stderr = invoke("quantize", tiny_artifacts["keras"], "--calib", demo_root, "--out", out,
                                  "--formats", "tflite", "--precisions", "fp32,int8", "--calib-samples", "32",
                                  "--eval", demo_root, "--target", "rpi4", "--archive")
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    assert set(report["artifacts"]) == {"keras-float", "tflite-fp32", "tflite-int8"}
    assert report["artifacts"]["tflite-int8"]["images"] == 105
    assert (out / "confusion_tflite-int8.png").stat().st_size > 1000
    assert (out / "bundle" / "manifest.json").is_file() and (out / "bundle.tar.gz").is_file()
    assert "tflite-int8" in stdout
    # BlazeFace finds the drawn demo faces too: the bundle frames faces as they sit in them.
    x1, y1, x2, y2 = json.loads((out / "bundle" / "manifest.json").read_text())["preprocess"]["face_template"]
    assert 0 <= x1 < x2 <= 1.2 and 0 <= y1 < y2 <= 1.2
    assert any(note.startswith("face template: the detector's box sits at") for note in report["notes"])


def test_max_drop_fails_the_run(tiny_artifacts: dict[str, Path], demo_root: Path, tmp_path: Path) -> None:
    code, _, stderr = invoke("quantize", tiny_artifacts["keras"], "--calib", demo_root, "--out", tmp_path / "q",
                             "--formats", "tflite", "--precisions", "int8", "--calib-samples", "16",
                             "--eval", demo_root, "--max-drop", "-100")
    assert code == 1 and "--max-drop" in stderr


def test_external_64px_model_scaled_to_minus_one_one(demo_root: Path, tmp_path: Path) -> None:
    """A model trained elsewhere: 64x64 RGB input, [-1,1] scaling, given by flags."""
    import keras

    from edgeemo.data.demo import make_demo_images
    from edgeemo.preprocess import PreprocessSpec

    spec = PreprocessSpec(height=64, width=64, channels=3, normalization="-1_1")
    data = make_demo_images(20, seed=3, spec=spec)
    inp = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(7, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(spec.normalize(data.images), data.labels, epochs=2, verbose=0)
    model.save(tmp_path / "external.h5")
    out = tmp_path / "q"
    code, _, stderr = invoke("quantize", tmp_path / "external.h5", "--calib", demo_root, "--out", out,
                             "--formats", "tflite,onnx", "--precisions", "int8", "--normalization", "-1_1",
                             "--calib-samples", "16", "--no-detector")
    assert code == 0, stderr
    manifest = json.loads((out / "bundle" / "manifest.json").read_text())
    assert manifest["preprocess"]["height"] == 64 and manifest["preprocess"]["channels"] == 3
    assert manifest["preprocess"]["normalization"] == "-1_1"
    # Alone, without spec.json or a manifest, evaluate takes the input size from the model itself.
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy2(next((out / "artifacts").glob("*_int8.tflite")), bare / "external.tflite")
    code, _, stderr = invoke("evaluate", bare / "external.tflite", "--data", demo_root)
    assert code == 0, stderr


def test_bad_inputs_are_one_line_exit_2(tiny_artifacts: dict[str, Path], demo_root: Path, tmp_path: Path) -> None:
    import keras

    out = tmp_path / "q"
    code, _, err = invoke("quantize", tmp_path / "missing.keras", "--calib", demo_root, "--out", out)
    assert_one_line_error(code, err, "missing.keras")
    (tmp_path / "corrupt.keras").write_bytes(b"garbage")
    code, _, err = invoke("quantize", tmp_path / "corrupt.keras", "--calib", demo_root, "--out", out)
    assert_one_line_error(code, err, "corrupt.keras")
    seq = keras.Model(inp := keras.Input((100,)), keras.layers.Dense(7)(inp))
    seq.save(tmp_path / "vector.keras")
    code, _, err = invoke("quantize", tmp_path / "vector.keras", "--calib", demo_root, "--out", out)
    assert_one_line_error(code, err, "face crop cannot feed it")
    (tmp_path / "empty_calib").mkdir()
    code, _, err = invoke("quantize", tiny_artifacts["keras"], "--calib", tmp_path / "empty_calib", "--out", out)
    assert_one_line_error(code, err, "empty_calib")
    code, _, err = invoke("quantize", tiny_artifacts["keras"], "--calib", demo_root, "--out", out, "--precisions", "int4")
    assert code == 2 and "int4" in err
    assert not out.exists()  # nothing half-written by any of the failures


def test_evaluate_bundle_and_artifacts(tiny_artifacts: dict[str, Path], demo_root: Path, tmp_path: Path) -> None:
    code, stdout, stderr = invoke("evaluate", tiny_artifacts["tflite-fp32"], tiny_artifacts["tflite-int8"],
                                  "--data", demo_root, "--json", tmp_path / "eval.json")
    assert code == 0, stderr
    results = json.loads((tmp_path / "eval.json").read_text())["artifacts"]
    assert abs(results["tiny_int8.tflite"]["drop_pp"]) < 15
    assert results["tiny_fp32.tflite"]["agreement"] == 1.0
    assert np.isclose(sum(results["tiny_fp32.tflite"]["support"].values()), 105)


def test_models_lists_the_zoo() -> None:
    code, stdout, _ = invoke("models")
    assert code == 0
    for name in ("mini_xception", "mobilenet", "accurate", "accurate_wide", "accurate_deep"):
        assert name in stdout
    assert "Shipped reference model" in stdout and "fer2013_reference.keras" in stdout
