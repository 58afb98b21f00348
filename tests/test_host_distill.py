"""Distillation targets: what the student is asked to learn from its teachers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgeemo.training.distill import soften, teacher_probabilities, teacher_targets


def test_soften_keeps_the_ranking_and_flattens() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]], np.float32)
    soft = soften(probs, 2.0)
    assert np.allclose(soft.sum(axis=1), 1.0)
    assert (soft.argmax(1) == probs.argmax(1)).all()
    assert (soft.max(axis=1) < probs.max(axis=1)).all()
    assert np.allclose(soften(probs, 1.0), probs, atol=1e-6)


def test_targets_mix_label_and_teacher() -> None:
    teacher = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], np.float32)
    labels = np.array([0, 0])
    targets = teacher_targets(labels, teacher, weight=0.4, temperature=1.0)
    assert np.allclose(targets.sum(axis=1), 1.0)
    assert np.allclose(targets[0], [0.6 + 0.04, 0.32, 0.04])
    # With weight below 0.5 the true class stays the largest target, so class weights still apply to it.
    assert (targets.argmax(1) == labels).all()
    assert np.allclose(teacher_targets(labels, teacher, weight=0.0, temperature=2.0), np.eye(3)[labels])


def test_each_teacher_scores_with_its_own_spec(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")
    from edgeemo.data.demo import make_demo_images
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.runtime.keras_rt import KerasRuntime
    from edgeemo.testing import train_tiny_model

    teacher = train_tiny_model(tmp_path / "teacher", epochs=1, per_class=10)
    sidecar = tmp_path / "teacher" / "spec.json"
    spec = json.loads(sidecar.read_text())
    spec["preprocess"]["smoothing_sigma"] = 1.0  # as `edgeemo train` writes it after choosing on validation
    sidecar.write_text(json.dumps(spec))
    images = make_demo_images(3, seed=5).images
    student = PreprocessSpec()
    probs = teacher_probabilities([str(teacher)], images, student, 7)
    with KerasRuntime(teacher) as rt:
        smoothed = rt.predict_proba(PreprocessSpec(smoothing_sigma=1.0).normalize(images), flip_average=True)
        sharp = rt.predict_proba(student.normalize(images), flip_average=True)
    np.testing.assert_allclose(probs, smoothed, atol=1e-5)
    assert not np.allclose(probs, sharp, atol=1e-3)


def test_consistent_targets_come_from_the_teachers_view_of_each_batch(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")
    import keras

    from edgeemo.data.demo import make_demo_images
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.testing import train_tiny_model
    from edgeemo.training.augment import make_dataset
    from edgeemo.training.distill import consistent_targets

    teachers = [keras.models.load_model(train_tiny_model(tmp_path / f"t{seed}", epochs=1, per_class=10, seed=seed),
                                        compile=False) for seed in (0, 1)]  # two, averaged
    demo = make_demo_images(4, seed=3)
    batches = make_dataset(demo.images, demo.labels, 7, PreprocessSpec(), batch_size=14, training=True, seed=0, mixup=0.2)
    x, y = next(iter(batches))
    mixed_x, targets = consistent_targets(teachers, weight=0.6, temperature=2.0)(x, y)
    mean = np.mean([t.predict(x.numpy(), verbose=0) for t in teachers], axis=0)
    np.testing.assert_array_equal(mixed_x.numpy(), x.numpy())
    np.testing.assert_allclose(targets.numpy(), 0.4 * y.numpy() + 0.6 * soften(mean, 2.0), atol=1e-5)
    assert not np.allclose(targets.numpy(), y.numpy(), atol=1e-2)  # the teachers moved the targets
