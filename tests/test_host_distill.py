"""Distillation targets: what the student is asked to learn from its teachers."""

from __future__ import annotations

import numpy as np

from edgeemo.training.distill import soften, teacher_targets


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
