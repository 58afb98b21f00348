"""Small real artifacts for tests and demos: a tiny CNN trained briefly on the synthetic demo set,
then converted and bundled through the same code path users run (host extra needed)."""

from __future__ import annotations

from pathlib import Path

from edgeemo.labels import FER2013_LABELS
from edgeemo.preprocess import SPEC_FILE, PreprocessSpec

__all__ = ["make_tiny_artifacts", "make_tiny_bundle", "train_tiny_model"]


def train_tiny_model(out_dir: Path, *, epochs: int = 3, per_class: int = 60, seed: int = 0,
                     spec: PreprocessSpec | None = None, labels: tuple[str, ...] | list[str] = FER2013_LABELS) -> Path:
    """A ~5k-parameter CNN fitted for a few seconds: confident enough that int8 agreement is meaningful.
    Writes out_dir/tiny.keras and spec.json; returns the .keras path."""
    import numpy as np

    from edgeemo._lazy import require_keras

    keras = require_keras()

    from edgeemo.data.demo import make_demo_images
    from edgeemo.fileio import write_json

    spec = spec or PreprocessSpec()
    keras.utils.set_random_seed(seed)
    data = make_demo_images(per_class, seed=seed, spec=spec, class_names=tuple(labels))
    k = keras.layers
    inp = keras.Input(spec.input_shape, name="face")
    x = inp
    for filters in (8, 16, 32):
        x = k.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = k.BatchNormalization()(x)
        x = k.ReLU()(x)
        x = k.MaxPooling2D(2)(x)
    x = k.GlobalAveragePooling2D()(x)
    out = k.Dense(len(labels), activation="softmax", name="probabilities")(x)
    model = keras.Model(inp, out, name="tiny")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(spec.normalize(data.images), data.labels.astype(np.int64), epochs=epochs, batch_size=32, verbose=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "tiny.keras"
    model.save(path)
    write_json(out_dir / SPEC_FILE, {"labels": list(labels), "preprocess": spec.model_dump(), "model": "tiny", "demo": True})
    return path


def make_tiny_artifacts(out_dir: Path, *, formats: tuple[str, ...] = ("tflite", "onnx"),
                        precisions: tuple[str, ...] = ("fp32", "int8")) -> dict[str, Path]:
    """{"keras": ..., "tflite-fp32": ..., "tflite-int8": ..., "onnx-fp32": ..., "onnx-int8": ..., "bundle": ...}"""
    from edgeemo.data.demo import make_demo_images
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.recipes import load_recipe

    model_path = train_tiny_model(out_dir / "model")
    calib = make_demo_images(20, seed=1)
    job = QuantizeJob(model=model_path, out_dir=out_dir / "quantized", calib=calib, recipe=load_recipe("generic-cpu"),
                      formats=list(formats), precisions=list(precisions), calib_samples=64)
    result = run_quantize(job)
    paths = {"keras": model_path, "bundle": result.bundle}
    paths.update({a.key: a.path for a in result.artifacts})
    return paths


def make_tiny_bundle(out_dir: Path, *, labels: tuple[str, ...] | list[str] = FER2013_LABELS, int8: bool = True,
                     with_detector: bool = True) -> Path:
    """A real bundle (int8 or fp32 TFLite, plus BlazeFace when installed) of the tiny demo model."""
    from edgeemo.data.demo import make_demo_images
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.recipes import load_recipe

    model_path = train_tiny_model(out_dir / "model", labels=labels)
    precision = "int8" if int8 else "fp32"
    recipe = load_recipe("generic-cpu").model_copy(update={"default_artifact": f"tflite-{precision}"})
    job = QuantizeJob(model=model_path, out_dir=out_dir / "quantized", calib=make_demo_images(20, seed=1, class_names=tuple(labels)),
                      recipe=recipe, formats=["tflite"], precisions=[precision], calib_samples=64,
                      labels=list(labels), with_detector=with_detector)
    return run_quantize(job).bundle
