"""The reference model shipped inside the package: intact, small, and working on a real face."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeemo.bundle import default_bundle_path, load_bundle
from edgeemo.cli import cli
from edgeemo.labels import FER2013_LABELS

pytest.importorskip("cv2", reason="needs OpenCV (device extra)")


@pytest.fixture(scope="module")
def bundle():  # type: ignore[no-untyped-def]
    path = default_bundle_path()
    assert path is not None, "the package must ship edgeemo/assets/default_bundle"
    return load_bundle(path, verify=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from edgeemo.data.sample_clip import write_sample_clip

    return write_sample_clip(tmp_path_factory.mktemp("clip"), frames=12)


def test_shipped_bundle_is_complete_and_small(bundle) -> None:  # type: ignore[no-untyped-def]
    manifest = bundle.manifest
    assert manifest.labels == list(FER2013_LABELS)
    assert not manifest.demo
    default = bundle.model()
    assert default.format == "tflite" and default.precision == "int8"
    assert bundle.model_path().stat().st_size <= 1024 * 1024  # the limit for the int8 model
    assert {m.format for m in manifest.models} == {"tflite", "onnx"}
    assert bundle.detector_path is not None and bundle.detector_path.is_file()
    for entry in manifest.models:
        assert 0.0 < entry.metrics["fer2013_test_accuracy"] <= 1.0
    card = (Path(__file__).resolve().parent.parent / "MODEL_CARD.md").read_text()
    shipped = 100 * default.metrics["fer2013_test_accuracy"]
    assert f"int8 TFLite {shipped:.1f}%" in card  # the card describes the model that is shipped


def test_flip_average_scores_a_face_and_its_mirror_the_same(bundle) -> None:  # type: ignore[no-untyped-def]
    from edgeemo.runtime import open_runtime

    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (3, *bundle.preprocess.input_shape), dtype=np.uint8)
    x = bundle.preprocess.normalize(faces)
    with open_runtime(bundle.model_path(), threads=1) as runtime:
        averaged = runtime.predict_proba(x, flip_average=True)
        averaged_mirror = runtime.predict_proba(x[:, :, ::-1], flip_average=True)
        single, single_mirror = runtime.predict_proba(x), runtime.predict_proba(x[:, :, ::-1])
    assert np.allclose(averaged, averaged_mirror, atol=1e-6)
    assert np.allclose(averaged, (single + single_mirror) / 2, atol=1e-6)
    assert not np.allclose(single, single_mirror, atol=1e-3)


def test_pipeline_flip_average_batches_faces_with_their_mirrors(bundle) -> None:  # type: ignore[no-untyped-def]
    """Three faces are padded to a bucket of 4 and sent with their mirrors (8); each face gets the mean of itself and its mirror."""
    import cv2

    from edgeemo.daemon.pipeline import Pipeline
    from edgeemo.data.sample_clip import sample_face_photo
    from edgeemo.runtime import open_runtime
    from edgeemo.vision.align import crop_faces
    from edgeemo.vision.fake import FakeDetector

    photo = cv2.imread(str(sample_face_photo()))
    detector = FakeDetector(boxes=[(166, 143, 366, 343), (150, 120, 390, 360), (180, 160, 350, 330)])
    with open_runtime(bundle.model_path(), threads=1) as runtime:
        pipeline = Pipeline(detector, runtime, bundle.preprocess, bundle.labels, flip_average=True)
        result = pipeline.process(photo)
        crops = crop_faces(photo, detector.detect(photo), bundle.preprocess)
        expected = runtime.predict_proba(bundle.preprocess.normalize(crops), flip_average=True)
    got = {tuple(round(v) for v in f.box): [f.probs[k] for k in bundle.labels] for f in result.faces}
    for box, probs in zip(detector.boxes, expected, strict=True):
        assert np.allclose(got[tuple(box)], probs, atol=2e-3)


def test_edgeemo_run_without_bundle_uses_the_shipped_model(clip: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--source", str(clip), "--jsonl", "-"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(records) == 12
    with_face = [r for r in records if r["faces"]]
    assert len(with_face) >= 10  # a clear frontal portrait: BlazeFace finds it in (nearly) every frame
    for r in with_face:
        face = r["faces"][0]
        assert face["label"] in FER2013_LABELS
        assert abs(sum(face["probs"].values()) - 1.0) < 0.02


def test_demo_no_train_runs_the_shipped_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--no-train", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.stderr
    assert "shipped reference model" in result.stdout
    lines = (tmp_path / "demo" / "reference_run.jsonl").read_text().splitlines()
    assert len(lines) == 24 and any(json.loads(line)["faces"] for line in lines)


@pytest.mark.dataset
def test_shipped_accuracy_reproduces_on_fer2013_test(bundle, fer2013_root: Path) -> None:  # type: ignore[no-untyped-def]
    """The numbers in the manifest and MODEL_CARD.md come back when the shipped files are re-run."""
    from edgeemo.data import load_split
    from edgeemo.evaluation.report import evaluate_runtimes
    from edgeemo.runtime import open_runtime

    data = load_split(fer2013_root, "test", bundle.preprocess, class_names=bundle.labels, progress=False)
    assert len(data) == 3589
    runtimes = {m.file: open_runtime(bundle.root / m.file, threads=2) for m in bundle.manifest.models}
    results = evaluate_runtimes(runtimes, data, bundle.preprocess, flip_average=bundle.manifest.flip_average)
    for entry in bundle.manifest.models:
        assert results[entry.file]["accuracy"] == pytest.approx(entry.metrics["fer2013_test_accuracy"], abs=0.002)
    for rt in runtimes.values():
        rt.close()
