"""export_artifact(): convert one format, re-load it in its runtime, check it against the float model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.errors import ModelError, VerificationError
from edgeemo.evaluation.metrics import agreement_metrics
from edgeemo.export._quiet import quiet_fds
from edgeemo.export.formats import EXPORTS, ExportOptions
from edgeemo.runtime import open_runtime

__all__ = ["CONFIDENT_MARGIN", "ExportedArtifact", "compare_probabilities", "export_artifact", "verify_artifact"]

CONFIDENT_MARGIN = 0.1  # top-1 minus top-2 probability of the float model
MIN_CONFIDENT_IMAGES = 10  # fewer confident images than this: top-1 agreement is not judged


@dataclass
class ExportedArtifact:
    key: str
    fmt: str
    precision: str
    path: Path
    size_bytes: int
    convert_seconds: float
    input_dtype: str
    input_quant: tuple[float, int] | None
    output_quant: tuple[float, int] | None
    verification: dict[str, Any] = field(default_factory=dict)


def export_artifact(
    model: Any,
    key: str,
    out: Path,
    options: ExportOptions,
    *,
    reference_probs: np.ndarray | None = None,
    check_images: np.ndarray | None = None,
) -> ExportedArtifact:
    """Write `out` for the format `key` (e.g. "tflite-int8") and verify it; raises VerificationError."""
    if key not in EXPORTS:
        raise ModelError(f"expected a format among {', '.join(EXPORTS)}, received {key!r}")
    spec = EXPORTS[key]
    t0 = time.perf_counter()
    with quiet_fds():
        spec.convert(model, out, options)
    seconds = time.perf_counter() - t0
    verification: dict[str, Any] = {}
    if reference_probs is not None and check_images is not None:
        verification = verify_artifact(out, key, check_images, reference_probs, num_classes=reference_probs.shape[1])
    input_dtype, in_q, out_q = _io_quantization(out)
    return ExportedArtifact(key, spec.fmt, spec.precision, out, out.stat().st_size, round(seconds, 2),
                            input_dtype, in_q, out_q, verification)


def verify_artifact(
    path: Path, key: str, images: np.ndarray, reference_probs: np.ndarray, *, num_classes: int
) -> dict[str, Any]:
    """Re-load `path` in its own runtime and compare with the float model's probabilities."""
    spec = EXPORTS[key]
    with open_runtime(path, threads=2) as rt:
        if rt.num_classes != num_classes:
            raise VerificationError(f"expected {num_classes} outputs from {path.name}, received {rt.num_classes}")
        probs = rt.predict_proba(images)
    if probs.shape != reference_probs.shape:
        raise VerificationError(f"expected output shape {reference_probs.shape} from {path.name}, received {probs.shape}")
    result = compare_probabilities(probs, reference_probs)
    result.update(min_agreement=spec.min_agreement, max_mean_abs_diff=spec.max_mean_abs_diff)
    confident_agreement, mean_abs = result["confident_agreement"], result["mean_abs_prob_diff"]
    if (confident_agreement is not None and confident_agreement < spec.min_agreement) or mean_abs > spec.max_mean_abs_diff:
        agreement_text = "not judged" if confident_agreement is None else f"{confident_agreement:.1%}"
        raise VerificationError(
            f"expected {path.name} to agree with the float model on >= {spec.min_agreement:.0%} of the calibration "
            f"images it is confident on, with mean |dp| <= {spec.max_mean_abs_diff}, "
            f"received {agreement_text} and {mean_abs:.4f}"
        )
    return result


def compare_probabilities(probs: np.ndarray, reference_probs: np.ndarray) -> dict[str, Any]:
    """Top-1 agreement (overall and where the float model is sure) and mean |dp| of `probs` against the float model's."""
    # Near-ties of an undertrained model flip under any rounding; quantization must not flip the
    # decisions the float model is sure of, so agreement is judged where its top-2 margin is clear.
    # A float model sure of almost nothing has no decisions to protect: then only mean |dp| is judged.
    top2 = np.sort(reference_probs, axis=1)[:, -2:]
    confident = (top2[:, 1] - top2[:, 0]) >= CONFIDENT_MARGIN
    judged = int(confident.sum()) >= MIN_CONFIDENT_IMAGES
    overall = agreement_metrics(probs, reference_probs)
    return {"images": int(len(probs)), "agreement": round(overall["agreement"], 4),
            "confident_images": int(confident.sum()),
            "confident_agreement": round(agreement_metrics(probs[confident], reference_probs[confident])["agreement"], 4)
            if judged else None,
            "mean_abs_prob_diff": round(overall["mean_abs_prob_diff"], 5)}


def _io_quantization(path: Path) -> tuple[str, tuple[float, int] | None, tuple[float, int] | None]:
    if path.suffix != ".tflite":
        return "float32", None, None
    from edgeemo.runtime.litert import LiteRTRuntime

    rt = LiteRTRuntime(path, threads=1)
    if rt.input_dtype == "float32":
        return "float32", None, None
    return rt.input_dtype, rt.input_quantization, rt.output_quantization
