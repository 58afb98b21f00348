"""Every artifact is re-loaded in its own runtime and follows the float model within stated tolerances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeemo.bundle import load_bundle
from edgeemo.runtime import open_runtime

pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")


@pytest.fixture(scope="module")
def check_images() -> np.ndarray:
    from edgeemo.data.demo import make_demo_images
    from edgeemo.preprocess import PreprocessSpec

    return PreprocessSpec().normalize(make_demo_images(30, seed=7).images)


@pytest.fixture(scope="module")
def float_probs(tiny_artifacts: dict[str, Path], check_images: np.ndarray) -> np.ndarray:
    with open_runtime(tiny_artifacts["keras"]) as rt:
        return rt.predict_proba(check_images)


@pytest.mark.parametrize(
    ("key", "max_mean_abs_diff", "min_agreement"),
    [("tflite-fp32", 1e-4, 0.999), ("onnx-fp32", 1e-4, 0.999), ("tflite-int8", 0.03, 0.85), ("onnx-int8", 0.03, 0.85)],
)
def test_artifact_follows_float_model(tiny_artifacts: dict[str, Path], check_images: np.ndarray, float_probs: np.ndarray,
                                      key: str, max_mean_abs_diff: float, min_agreement: float) -> None:
    with open_runtime(tiny_artifacts[key], threads=1) as rt:
        probs = rt.predict_proba(check_images)
    assert probs.shape == float_probs.shape
    assert np.abs(probs - float_probs).mean() <= max_mean_abs_diff
    assert np.mean(probs.argmax(1) == float_probs.argmax(1)) >= min_agreement


def test_int8_tflite_has_integer_io_and_batches(tiny_artifacts: dict[str, Path], check_images: np.ndarray) -> None:
    with open_runtime(tiny_artifacts["tflite-int8"]) as rt:
        assert rt.input_dtype == "int8"
        one = rt.predict(check_images[:1])
        many = rt.predict(check_images[:5])
    assert np.allclose(one[0], many[0], atol=1e-6)  # resizing the batch does not change results


def test_bundle_lists_int8_models_with_quant_params(tiny_artifacts: dict[str, Path]) -> None:
    bundle = load_bundle(tiny_artifacts["bundle"])
    entries = {m.file: m for m in bundle.manifest.models}
    assert bundle.model().precision == "int8"
    tflite = next(m for m in entries.values() if m.format == "tflite" and m.precision == "int8")
    assert tflite.input_quant is not None and tflite.metrics["verification"]["agreement"] >= 0.85
    assert bundle.detector_path is not None and bundle.detector_path.stat().st_size > 10_000
    # The fatigue app's MediaPipe models travel with BlazeFace, hashed, with their licence notice.
    for kind in ("face-landmark", "iris-landmark"):
        path = bundle.aux_path(kind)
        assert path is not None and path.name in bundle.manifest.files and path.stat().st_size > 1_000_000
    assert "Apache License" in (bundle.root / "NOTICE-mediapipe.txt").read_text()


def test_agreement_is_judged_only_where_the_float_model_is_sure() -> None:
    from edgeemo.export.convert import MIN_CONFIDENT_IMAGES, compare_probabilities

    sure = np.tile([0.7, 0.2, 0.1], (MIN_CONFIDENT_IMAGES, 1))
    torn = np.tile([0.34, 0.33, 0.33], (40, 1))
    reference = np.vstack([sure, torn])
    flipped_ties = np.vstack([sure, np.tile([0.33, 0.34, 0.33], (40, 1))])
    result = compare_probabilities(flipped_ties, reference)
    assert result["agreement"] == 0.2 and result["confident_images"] == MIN_CONFIDENT_IMAGES
    assert result["confident_agreement"] == 1.0  # flipped near-ties do not count against the artifact
    flipped_sure = flipped_ties.copy()
    flipped_sure[0] = [0.2, 0.7, 0.1]
    assert compare_probabilities(flipped_sure, reference)["confident_agreement"] == 0.9

    # A float model sure of too few images has no decisions to protect: only mean |dp| is left to judge.
    few_sure = compare_probabilities(flipped_ties[MIN_CONFIDENT_IMAGES - 1:], reference[MIN_CONFIDENT_IMAGES - 1:])
    assert few_sure["confident_images"] == 1 and few_sure["confident_agreement"] is None
    assert few_sure["mean_abs_prob_diff"] == pytest.approx(0.02 / 3 * 40 / 41, abs=1e-5)
