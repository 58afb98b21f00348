"""Loaders, splits and the PreprocessSpec on real files written by the tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeemo.data import balanced_sample, load_split, parse_label_mapping, stratified_folds, stratified_split
from edgeemo.errors import DataError, InputFileNotFound
from edgeemo.labels import FER2013_CSV_ORDER, FER2013_LABELS
from edgeemo.preprocess import PreprocessSpec


def _write_folder(root: Path, split: str | None, per_class: dict[str, int], size: int = 48) -> None:
    rng = np.random.default_rng(0)
    for name, n in per_class.items():
        folder = root / split / name if split else root / name
        folder.mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 255, (size, size), dtype=np.uint8))


def test_spec_normalizations_cover_the_documented_ranges() -> None:
    pixels = np.array([[[[0]], [[255]]]], dtype=np.uint8)
    assert PreprocessSpec(normalization="0_1").normalize(pixels).ravel().tolist() == pytest.approx([0.0, 1.0])
    assert PreprocessSpec(normalization="-1_1").normalize(pixels).ravel().tolist() == pytest.approx([-1.0, 1.0])
    assert PreprocessSpec(normalization="0_255").normalize(pixels).ravel().tolist() == pytest.approx([0.0, 255.0])


def test_spec_smoothing_is_opencvs_gaussian_blur_and_keeps_shapes() -> None:
    rng = np.random.default_rng(3)
    faces = rng.integers(0, 256, (4, 48, 48, 1), dtype=np.uint8)
    sharp, soft = PreprocessSpec(), PreprocessSpec(smoothing_sigma=0.7)
    x = soft.normalize(faces)
    expected = np.stack([cv2.GaussianBlur(f[:, :, 0].astype(np.float32) / 255, (7, 7), 0.7)[:, :, None] for f in faces])
    np.testing.assert_allclose(x, expected, atol=1e-6)
    assert x.std() < sharp.normalize(faces).std()  # noise is what a blur removes
    assert soft.normalize(faces[0]).shape == (48, 48, 1) and soft.normalize(faces[:0]).shape == (0, 48, 48, 1)
    flat = np.full((1, 48, 48, 1), 77, np.uint8)
    np.testing.assert_allclose(soft.normalize(flat), sharp.normalize(flat), atol=1e-6)
    # Symmetric kernel and mirrored edges: flip averaging sees the same pair with or without the blur.
    np.testing.assert_allclose(soft.normalize(faces[:, :, ::-1]), x[:, :, ::-1], atol=1e-6)
    color = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    assert PreprocessSpec(height=16, width=16, channels=3, smoothing_sigma=1.0).normalize(color).shape == (2, 16, 16, 3)


def test_spec_converts_color_and_size() -> None:
    bgr = np.zeros((100, 80, 3), np.uint8)
    bgr[:, :, 2] = 200  # pure red in OpenCV's BGR order
    rgb = PreprocessSpec(height=64, width=64, channels=3, color_order="rgb").to_pixels(bgr)
    assert rgb.shape == (64, 64, 3) and rgb[0, 0, 0] == 200 and rgb[0, 0, 2] == 0
    gray = PreprocessSpec().to_pixels(bgr)
    assert gray.shape == (48, 48, 1)


def test_folder_loader_skips_corrupt_and_resizes(tmp_path: Path) -> None:
    _write_folder(tmp_path, "train", {"happy": 3, "sad": 2}, size=64)
    (tmp_path / "train" / "sad" / "broken.jpg").write_bytes(b"not a jpeg")
    data = load_split(tmp_path, "train", PreprocessSpec(), progress=False)
    assert data.images.shape == (5, 48, 48, 1)
    assert data.skipped == 1
    assert data.class_counts()["happy"] == 3 and data.class_counts()["sad"] == 2
    assert sorted(set(data.labels.tolist())) == [FER2013_LABELS.index("happy"), FER2013_LABELS.index("sad")]


def test_unknown_class_folder_is_a_clear_error(tmp_path: Path) -> None:
    _write_folder(tmp_path, "train", {"happy": 1, "contempt": 1})
    with pytest.raises(DataError, match="contempt"):
        load_split(tmp_path, "train", PreprocessSpec(), progress=False)


def test_label_mapping_renames_and_skips_folders(tmp_path: Path) -> None:
    _write_folder(tmp_path, None, {"anger": 2, "happiness": 1, "contempt": 4})
    mapping = parse_label_mapping("anger=angry,happiness=happy,contempt=-")
    data = load_split(tmp_path, None, PreprocessSpec(), labels=mapping, progress=False)
    assert len(data) == 3 and data.class_counts()["angry"] == 2


def test_missing_split_and_empty_split(tmp_path: Path) -> None:
    _write_folder(tmp_path, "train", {"happy": 1})
    with pytest.raises(DataError, match="'test'"):
        load_split(tmp_path, "test", PreprocessSpec(), progress=False)
    (tmp_path / "empty" / "happy").mkdir(parents=True)
    with pytest.raises(DataError):
        load_split(tmp_path, "empty", PreprocessSpec(), progress=False)
    with pytest.raises(InputFileNotFound):
        load_split(tmp_path / "nope", "train", PreprocessSpec())


def test_fer2013_csv_uses_the_csv_label_order(tmp_path: Path) -> None:
    rows = ["emotion,pixels,Usage"]
    for emotion, usage in ((3, "Training"), (6, "Training"), (0, "PublicTest"), (4, "PrivateTest")):
        rows.append(f"{emotion},{' '.join(['128'] * 2304)},{usage}")
    rows.append(f"2,{' '.join(['1'] * 10)},Training")  # malformed pixels: skipped and counted
    csv_path = tmp_path / "fer2013.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    train = load_split(csv_path, "train", PreprocessSpec())
    assert [FER2013_LABELS[i] for i in train.labels] == [FER2013_CSV_ORDER[3], FER2013_CSV_ORDER[6]]
    assert train.skipped == 1
    test = load_split(tmp_path, "test", PreprocessSpec())
    assert [FER2013_LABELS[i] for i in test.labels] == ["angry"]


def test_stratified_split_keeps_class_shares_and_is_seeded() -> None:
    labels = np.array([0] * 90 + [1] * 10)
    train_idx, val_idx = stratified_split(labels, 0.2, seed=1)
    assert set(train_idx).isdisjoint(val_idx) and len(train_idx) + len(val_idx) == 100
    assert np.bincount(labels[val_idx]).tolist() == [18, 2]
    assert np.array_equal(val_idx, stratified_split(labels, 0.2, seed=1)[1])
    assert not np.array_equal(val_idx, stratified_split(labels, 0.2, seed=2)[1])


def test_stratified_folds_deal_every_class_evenly_and_are_seeded() -> None:
    labels = np.array([0] * 90 + [1] * 10 + [2] * 3)
    fold = stratified_folds(labels, 4, seed=1)
    assert set(fold.tolist()) == {0, 1, 2, 3}
    for cls in (0, 1, 2):
        per_fold = np.bincount(fold[labels == cls], minlength=4)
        assert per_fold.max() - per_fold.min() <= 1, (cls, per_fold)  # 22-23, 2-3, 0-1 images per fold
    assert sorted(np.bincount(fold).tolist()) == [25, 26, 26, 26]  # 103 images: the folds differ by one at most
    assert np.array_equal(fold, stratified_folds(labels, 4, seed=1))
    assert not np.array_equal(fold, stratified_folds(labels, 4, seed=2))
    with pytest.raises(DataError, match="at least 2 folds, received 1"):
        stratified_folds(labels, 1, seed=0)


def test_balanced_sample_spreads_over_classes() -> None:
    labels = np.array([0] * 500 + [1] * 20 + [2] * 100)
    idx = balanced_sample(labels, 90, seed=0)
    assert np.bincount(labels[idx]).tolist() == [35, 20, 35]
