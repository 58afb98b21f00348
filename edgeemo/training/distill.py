"""Knowledge distillation with precomputed teacher targets.

The teacher (one model, or several averaged as an ensemble) scores every training image once,
each image averaged with its mirror image. Its probabilities, softened by a temperature, are
mixed with the one-hot label; the student then trains on these soft targets with the same
augmentation, mixup and loss as any run. Scoring once keeps a CPU run's cost at one teacher
pass instead of one per epoch; the price is that the teacher sees the un-augmented image.
Cross-fitted teachers (each trained with one fold of the images left out) score only the images
they never trained on.
Each teacher scores the images as it would at inference: with the preprocessing (normalisation,
smoothing) of the spec.json its run wrote, when there is one.

Consistent distillation (`edgeemo train --distill-online`) scores every training batch instead,
as the student sees it: after augmentation and mixup, so the targets of a mixed face are the
teachers' view of that mix, not a blend of their views of two clean faces (Beyer et al. 2022,
"Knowledge distillation: A good teacher is patient and consistent"). It costs one teacher forward
pass per step and teacher; the teachers see the student's input tensor, without their smoothing
(a training face is already resampled) or flip averaging (flips are part of the augmentation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgeemo.errors import ModelError
from edgeemo.preprocess import PreprocessSpec, spec_beside

__all__ = ["consistent_targets", "soften", "teacher_probabilities", "teacher_targets"]


def teacher_probabilities(teachers: list[str], images: np.ndarray, spec: PreprocessSpec, num_classes: int,
                          batch_size: int = 512, unseen: list[np.ndarray] | None = None) -> np.ndarray:
    """Mean flip-averaged probabilities of the teacher models on uint8 `images` (N x K).

    spec: the student's; a teacher with a spec.json beside it is fed by its own instead.
    unseen: per teacher, a boolean mask of the images it scores (cross-fitting: those it never
    trained on); each image then takes the mean of the teachers whose mask holds it."""
    from edgeemo.runtime.keras_rt import KerasRuntime

    masks = unseen if unseen is not None else [np.ones(len(images), bool)] * len(teachers)
    total = np.zeros((len(images), num_classes), np.float64)
    count = np.zeros(len(images), np.int64)
    for path, mask in zip(teachers, masks, strict=True):
        with KerasRuntime(path) as teacher:
            if tuple(teacher.input_shape) != tuple(spec.input_shape) or teacher.num_classes != num_classes:
                raise ModelError(f"expected a teacher taking {spec.input_shape} with {num_classes} outputs, "
                                 f"received {path} taking {teacher.input_shape} with {teacher.num_classes}")
            if mask.any():
                total[mask] += teacher.predict_pixels(images[mask], spec_beside(path, spec), flip_average=True,
                                                      batch_size=batch_size)
            count += mask
    return (total / np.maximum(count, 1)[:, None]).astype(np.float32)


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) from probabilities: p^(1/T), renormalised."""
    logp = np.log(np.clip(probs, 1e-7, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def teacher_targets(labels: np.ndarray, teacher_probs: np.ndarray, *, weight: float, temperature: float) -> np.ndarray:
    """(1 - weight) * one-hot(label) + weight * softened teacher probabilities."""
    one_hot = np.eye(teacher_probs.shape[1], dtype=np.float32)[labels]
    return (1.0 - weight) * one_hot + weight * soften(teacher_probs, temperature)


def consistent_targets(teachers: list[Any], *, weight: float, temperature: float) -> Any:
    """A tf.data map over (x, y) batches of model inputs and targets: y becomes (1 - weight) * y +
    weight * the teachers' mean probabilities on x itself, softened by the temperature (as
    teacher_targets, with soften's arithmetic). `teachers`: loaded Keras models."""
    import tensorflow as tf

    def with_teachers(x: Any, y: Any) -> tuple[Any, Any]:
        probs = tf.add_n([tf.cast(t(x, training=False), tf.float32) for t in teachers]) / len(teachers)
        softened = tf.nn.softmax(tf.math.log(tf.clip_by_value(probs, 1e-7, 1.0)) / temperature, axis=-1)
        return x, (1.0 - weight) * y + weight * softened

    return with_teachers
