"""Bundles are all-or-nothing on write and refuse tampered files on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeemo.bundle import AuxModelEntry, ModelEntry, load_bundle, write_bundle
from edgeemo.errors import BundleError, InputFileNotFound
from edgeemo.preprocess import PreprocessSpec


def _bundle(tmp_path: Path, archive: bool = False) -> Path:
    model = tmp_path / "m.tflite"
    model.write_bytes(b"\x00" * 64)
    return write_bundle(tmp_path / "bundle", name="m", labels=["a", "b"], preprocess=PreprocessSpec(),
                        models=[(model, ModelEntry(file="m.tflite", format="tflite", precision="int8"))],
                        default_model="m.tflite", archive=archive)


def test_round_trip(tmp_path: Path) -> None:
    bundle = load_bundle(_bundle(tmp_path))
    assert bundle.labels == ["a", "b"] and bundle.model_path().name == "m.tflite"
    assert set(bundle.manifest.files) == {"m.tflite"}


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    path = _bundle(tmp_path)
    (path / "m.tflite").write_bytes(b"\x01" * 64)
    with pytest.raises(BundleError, match="sha256"):
        load_bundle(path)


def test_archive_round_trip(tmp_path: Path) -> None:
    archive = _bundle(tmp_path, archive=True)
    assert archive.name.endswith(".tar.gz")
    assert load_bundle(archive).manifest.name == "m"


def test_bad_default_leaves_nothing(tmp_path: Path) -> None:
    model = tmp_path / "m.tflite"
    model.write_bytes(b"x")
    with pytest.raises(BundleError):
        write_bundle(tmp_path / "bundle", name="m", labels=["a"], preprocess=PreprocessSpec(),
                     models=[(model, ModelEntry(file="m.tflite", format="tflite", precision="int8"))],
                     default_model="other.tflite")
    assert not (tmp_path / "bundle").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m.tflite"]


def test_missing_and_manifestless(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFound):
        load_bundle(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="manifest.json"):
        load_bundle(tmp_path / "empty")


def test_auxiliary_models_and_notices_are_hashed_and_the_name_kept(tmp_path: Path) -> None:
    model, aux = tmp_path / "m.tflite", tmp_path / "mesh.tflite"
    model.write_bytes(b"model")
    aux.write_bytes(b"mesh")
    out = write_bundle(tmp_path / "b", name="mine", labels=["a", "b"], preprocess=PreprocessSpec(),
                       models=[(model, ModelEntry(file="m.tflite", format="tflite", precision="fp32"))],
                       default_model="m.tflite",
                       aux_models=[(aux, AuxModelEntry(file="mesh.tflite", kind="face-landmark", license="Apache-2.0",
                                                       notice="NOTICE.txt"))],
                       notices={"NOTICE.txt": "whose work it is"})
    bundle = load_bundle(out)
    assert bundle.manifest.name == "mine"
    assert set(bundle.manifest.files) == {"m.tflite", "mesh.tflite", "NOTICE.txt"}
    assert bundle.aux_path("face-landmark") == out / "mesh.tflite" and bundle.aux_path("iris-landmark") is None
