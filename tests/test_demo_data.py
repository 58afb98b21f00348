"""The synthetic demo dataset: shapes, determinism, on-disk layout and learnability."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeemo.data import load_split
from edgeemo.data.demo import DEMO_NOTICE, make_demo_images, render_face, write_demo_dataset
from edgeemo.errors import DataError
from edgeemo.labels import FER2013_LABELS
from edgeemo.preprocess import PreprocessSpec


def test_notice_says_synthetic_and_not_real() -> None:
    text = DEMO_NOTICE.lower()
    assert "synthetic" in text and "cartoon" in text and "real" in text


@pytest.mark.parametrize("emotion", FER2013_LABELS)
def test_render_face_shape_and_range(emotion: str) -> None:
    img = render_face(emotion, np.random.default_rng(0))
    assert img.shape == (48, 48) and img.dtype == np.uint8
    # A face, not a flat patch: features give real contrast.
    assert int(img.max()) - int(img.min()) > 60
    assert render_face(emotion, np.random.default_rng(0), size=64).shape == (64, 64)


def test_render_face_rejects_unknown_emotion() -> None:
    with pytest.raises(DataError, match="contempt"):
        render_face("contempt", np.random.default_rng(0))


def test_make_demo_images_shapes_and_balance() -> None:
    data = make_demo_images(5, seed=1)
    assert data.images.shape == (35, 48, 48, 1) and data.images.dtype == np.uint8
    assert data.labels.dtype == np.int64
    assert data.class_names == list(FER2013_LABELS)
    assert set(data.class_counts().values()) == {5}
    # Shuffled, so the first few already mix classes.
    assert len(set(data.labels[:14].tolist())) > 2


def test_make_demo_images_follows_spec_and_class_names() -> None:
    spec = PreprocessSpec(height=40, width=56, channels=3)
    data = make_demo_images(2, spec=spec, class_names=("happy", "sad"))
    assert data.images.shape == (4, 40, 56, 3)
    assert data.class_names == ["happy", "sad"]
    assert sorted(data.labels.tolist()) == [0, 0, 1, 1]
    with pytest.raises(DataError):
        make_demo_images(2, class_names=("happy", "contempt"))


def test_deterministic_per_seed_and_seeds_differ() -> None:
    a, b, c = make_demo_images(4, seed=3), make_demo_images(4, seed=3), make_demo_images(4, seed=4)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)


def test_images_are_not_copies() -> None:
    data = make_demo_images(10, seed=5)
    flat = data.images.reshape(len(data), -1).astype(np.int16)
    for cls in range(len(data.class_names)):
        group = flat[data.labels == cls]
        diffs = np.abs(group[:, None] - group[None]).mean(-1)
        off_diag = diffs[~np.eye(len(group), dtype=bool)]
        assert off_diag.min() > 5.0  # mean absolute pixel difference between any two faces of a class


def _pixel_features(images: np.ndarray) -> np.ndarray:
    small = np.stack([cv2.resize(i, (24, 24), interpolation=cv2.INTER_AREA) for i in images[..., 0]])
    x = small.reshape(len(small), -1).astype(np.float64)
    return (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-6)


def test_classes_learnable_but_not_trivial() -> None:
    train, test = make_demo_images(60, seed=10), make_demo_images(30, seed=11)
    a, b = _pixel_features(train.images), _pixel_features(test.images)
    a1, b1 = np.c_[a, np.ones(len(a))], np.c_[b, np.ones(len(b))]
    # Ridge regression onto one-hot labels: a linear baseline on raw pixels.
    weights = np.linalg.solve(a1.T @ a1 + 100.0 * np.eye(a1.shape[1]), a1.T @ np.eye(7)[train.labels])
    accuracy = float((np.argmax(b1 @ weights, 1) == test.labels).mean())
    chance = 1 / 7
    assert accuracy > 2 * chance, accuracy
    # Pose, lighting and intensity vary enough that pixels alone do not solve it.
    assert accuracy < 0.9, accuracy


def test_write_demo_dataset_loads_with_load_split(tmp_path: Path) -> None:
    root = write_demo_dataset(tmp_path / "demo", train_per_class=6, test_per_class=3, seed=2)
    assert root == tmp_path / "demo"
    assert DEMO_NOTICE in (root / "README.txt").read_text(encoding="utf-8")
    assert (root / "train" / "happy" / "demo_0.png").is_file()
    train = load_split(root, "train", PreprocessSpec(), progress=False)
    test = load_split(root, "test", PreprocessSpec(), progress=False)
    assert train.class_counts() == dict.fromkeys(FER2013_LABELS, 6)
    assert test.class_counts() == dict.fromkeys(FER2013_LABELS, 3)
    assert train.skipped == 0 and train.images.shape == (42, 48, 48, 1)
    # Disjoint streams: no test face repeats a training face.
    tr = train.images.reshape(len(train), -1)
    assert not any((tr == t).all(1).any() for t in test.images.reshape(len(test), -1))
    # Same seed, same files.
    again = write_demo_dataset(tmp_path / "again", train_per_class=6, test_per_class=3, seed=2)
    assert np.array_equal(load_split(again, "train", PreprocessSpec(), progress=False).images, train.images)


def test_write_demo_dataset_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_demo_dataset(tmp_path / "demo", train_per_class=2, test_per_class=1)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    calls = {"n": 0}
    real_imwrite = cv2.imwrite

    def flaky(path: str, img: np.ndarray) -> bool:
        calls["n"] += 1
        return calls["n"] < 5 and real_imwrite(path, img)

    monkeypatch.setattr(cv2, "imwrite", flaky)
    with pytest.raises(DataError):
        write_demo_dataset(tmp_path / "demo", train_per_class=4, test_per_class=2)
    # The earlier complete dataset survives untouched and no temporary folder is left behind.
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]
