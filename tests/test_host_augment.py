"""Training augmentation: the single-resampling warp does what its matrix says, and both warps feed training."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")

from edgeemo.preprocess import PreprocessSpec  # noqa: E402
from edgeemo.training.augment import affine_transforms, make_dataset  # noqa: E402


def _warp(images: np.ndarray, angle: float, scale: float, shift_x: float, shift_y: float, flip: int) -> tuple[np.ndarray, np.ndarray]:
    n, height, width = images.shape[:3]

    def column(value: float) -> object:
        return tf.fill([n], tf.constant(value, tf.float32))

    transforms = affine_transforms(tf, column(angle), column(scale), column(shift_x), column(shift_y),
                                   tf.fill([n], flip), height, width)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.constant(images), transforms=transforms, output_shape=tf.constant([height, width]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")
    return out.numpy(), transforms.numpy()[0]


@pytest.fixture()
def faces() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1)).astype(np.float32)


def test_identity_and_flip_are_exact(faces: np.ndarray) -> None:
    same, _ = _warp(faces, 0.0, 1.0, 0.0, 0.0, 0)
    mirrored, _ = _warp(faces, 0.0, 1.0, 0.0, 0.0, 1)
    np.testing.assert_array_equal(same, faces)
    np.testing.assert_array_equal(mirrored, faces[:, :, ::-1])


def test_rotation_zoom_and_shift_match_opencv(faces: np.ndarray) -> None:
    cv2 = pytest.importorskip("cv2")
    warped, row = _warp(faces, 0.2, 1.1, 2.3, -1.7, 0)
    matrix = np.array([row[0:3], row[3:6]], np.float32)  # output pixel -> input pixel
    expected = cv2.warpAffine(faces[0, ..., 0], matrix, (48, 48), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT)
    np.testing.assert_allclose(warped[0, ..., 0], expected, atol=0.01)
    # The centre maps to itself plus the shift, rotated and scaled about the centre.
    centre = np.array([23.5, 23.5, 1.0])
    np.testing.assert_allclose(matrix @ centre, [23.5 + 2.3, 23.5 - 1.7], atol=1e-4)
    assert np.isclose(np.hypot(row[0], row[3]), 1.1) and np.isclose(np.arctan2(row[3], row[0]), 0.2)


@pytest.mark.parametrize("warp", ["single", "chained"])
def test_training_batches_are_warped_and_in_range(warp: str) -> None:
    # Mid-grey noise: brightness and contrast alone never clip it, so they leave each image perfectly
    # correlated with its source; only a geometric warp decorrelates noise.
    faces = np.random.default_rng(1).integers(80, 177, (64, 48, 48, 1)).astype(np.uint8)
    labels = np.arange(64) % 7
    spec = PreprocessSpec()
    x, y = next(iter(make_dataset(faces, labels, 7, spec, batch_size=64, training=True, seed=3, warp=warp)))
    x = x.numpy()
    assert x.shape == (64, 48, 48, 1) and x.min() >= 0.0 and x.max() <= 1.0
    sources = np.concatenate([faces, faces[:, :, ::-1]]).reshape(128, -1).astype(np.float64)
    flat = x.reshape(64, -1).astype(np.float64)
    correlation = np.corrcoef(flat, sources)[:64, 64:]
    assert correlation.max(axis=1).max() < 0.95
    assert sorted(np.asarray(y).argmax(1).tolist()) == sorted(labels.tolist())
    # Without augmentation the same pipeline hands back each image (shuffled), mirrored or not.
    x_plain, _ = next(iter(make_dataset(faces, labels, 7, spec, batch_size=64, training=True, seed=3, augment=False)))
    plain = np.corrcoef(x_plain.numpy().reshape(64, -1).astype(np.float64), sources)[:64, 64:]
    assert plain.max(axis=1).min() > 0.999


@pytest.mark.parametrize("mixup", [0.0, 0.2])
def test_cutmix_targets_match_the_pixels_each_face_shows(mixup: float) -> None:
    # Face i is filled with the value i and labelled class i, so every output pixel names the face it
    # came from: a CutMix target must equal the share of pixels from each face (mixup batches, taken
    # half the time when both are on, blend values and are recognised by their non-integer pixels).
    # One pass of 20 batches: the random draws advance from batch to batch within one iterator.
    n, size = 16, 24
    labels = np.tile(np.arange(n), 20)
    faces = (labels.astype(np.uint8) * 10)[:, None, None, None] * np.ones((1, size, size, 1), np.uint8)
    spec = PreprocessSpec(normalization="0_255")
    pipeline = make_dataset(faces, labels, n, spec, batch_size=n, training=True, seed=1, augment=False,
                            mixup=mixup, cutmix=1.0)
    batches = {"cutmix": 0, "mixup": 0, "pasted": 0}
    for x, y in ((x.numpy(), y.numpy()) for x, y in pipeline):
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-6)
        source = x[..., 0] / 10.0
        if not np.allclose(source, np.round(source)):
            batches["mixup"] += 1
            continue
        batches["cutmix"] += 1
        shares = np.stack([(np.round(source) == k).mean(axis=(1, 2)) for k in range(n)], axis=1)
        np.testing.assert_allclose(y, shares, atol=1e-6)
        batches["pasted"] += int((y.max(axis=1) < 1).any())
    assert batches["pasted"] >= 1  # boxes really are pasted (an empty box would also match its target)
    assert (batches["mixup"] > 0) == (mixup > 0) and batches["cutmix"] > 0


@pytest.mark.parametrize("erase", [0.0, 0.5, 1.0])
def test_random_erasing_replaces_one_box_per_chosen_face(erase: float) -> None:
    # Flat faces stay flat under the warp, brightness and contrast, so the pixels that differ from
    # the face's own value are exactly the erased box.
    n, size = 64, 48
    faces = np.full((n, size, size, 1), 120, np.uint8)
    spec = PreprocessSpec(normalization="0_255")
    x, _ = next(iter(make_dataset(faces, np.zeros(n, int), 7, spec, batch_size=n, training=True, seed=2, erase=erase)))
    x = x.numpy()[..., 0]
    changed = np.abs(x - np.median(x, axis=(1, 2), keepdims=True)) > 1e-3
    shares = changed.mean(axis=(1, 2))
    erased = shares > 0
    if erase == 0.0:
        assert not erased.any()
        return
    assert (erased.mean() == 1.0) if erase == 1.0 else (0.25 < erased.mean() < 0.75)
    assert shares[erased].max() <= 0.34 and shares[erased].min() >= 0.005
    for mask in changed[erased]:  # each box is one axis-aligned rectangle
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        box = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        assert box.mean() > 0.98  # noise may land on the face's own value by chance, rarely


@pytest.mark.parametrize("probability", [0.0, 0.5, 1.0])
def test_softening_blurs_the_chosen_faces_and_leaves_the_others(probability: float) -> None:
    from edgeemo.training.augment import random_soften

    n, size = 64, 48
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (n, size, size, 1)).astype(np.float32)  # all detail, no flat area
    out = random_soften(tf, tf.constant(faces), probability).numpy()
    assert out.shape == faces.shape
    unchanged = np.all(out == faces, axis=(1, 2, 3))
    soft = ~unchanged
    assert soft.mean() == pytest.approx(probability, abs=0.2)
    if soft.any():  # less pixel-to-pixel detail, same brightness
        detail = np.abs(np.diff(out[soft], axis=2)).mean() / np.abs(np.diff(faces[soft], axis=2)).mean()
        assert detail < 0.8
        assert np.abs(out[soft].mean() - faces[soft].mean()) < 2.0
