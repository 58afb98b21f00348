"""Turn the command line's ARTIFACT_OR_BUNDLE arguments into a list of things to measure.

Accepted: a bundle (directory or .tar.gz), a model file (.tflite/.onnx/.keras) with a spec.json
beside it (what `edgeemo train` writes) or given with --spec, a folder of model files, and a
peer-model spec: a small JSON file {"model": ..., "preprocess": {...}, "labels": [...]} that
lets anyone's model be measured on exactly the same inputs.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeemo.bench.graphinfo import GraphInfo, inspect_graph
from edgeemo.errors import ConfigError, InputFileNotFound, ModelError
from edgeemo.preprocess import PreprocessSpec, load_spec_file
from edgeemo.runtime import KERAS_SUFFIXES, runtime_key_for

__all__ = ["Target", "load_spec_file", "resolve_targets"]

MODEL_SUFFIXES = (".tflite", ".onnx", *KERAS_SUFFIXES)
_PRECISION_WORDS = ("fp32", "float32", "fp16", "float16", "int8", "dynamic", "dyn", "qdq", "uint8", "float", "quant")
_PRECISION_RE = re.compile(r"(^|[_.-])(" + "|".join(_PRECISION_WORDS) + r")(?=$|[_.-])", re.IGNORECASE)
_CANONICAL = {"float32": "fp32", "float": "fp32", "float16": "fp16", "dyn": "dynamic", "qdq": "int8", "quant": "int8",
              "uint8": "int8"}


@dataclass
class Target:
    """One artifact to measure and everything needed to feed it."""

    path: Path
    runtime: str  # litert, onnxruntime, keras
    precision: str
    group: str  # artifacts of one trained model share a group: drop and agreement are within it
    spec: PreprocessSpec | None
    labels: list[str] | None
    source: str  # bundle, file, peer
    info: GraphInfo = field(default_factory=GraphInfo)
    manifest_metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    name: str = ""

    @property
    def format(self) -> str:
        return {"litert": "tflite", "onnxruntime": "onnx"}.get(self.runtime, "keras")

    @property
    def file_bytes(self) -> int:
        if self.path.is_dir():
            return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
        return self.path.stat().st_size

    @property
    def is_float_reference(self) -> bool:
        return self.precision == "fp32"


def _precision_from_name(path: Path) -> str | None:
    found = _PRECISION_RE.findall(path.stem)
    if not found:
        return None
    word = found[-1][1].lower()
    return _CANONICAL.get(word, word)


def _group_from_name(path: Path) -> str:
    stem = _PRECISION_RE.sub("", path.stem).strip("_.-")
    if stem.lower() in ("", "model", "best", "last", "artifact"):
        return path.parent.name or stem or "model"
    return stem


def _file_target(path: Path, spec_data: dict[str, Any] | None, source: str) -> Target:
    runtime = runtime_key_for(path)
    info = inspect_graph(path) if runtime != "keras" else GraphInfo()
    named = _precision_from_name(path)
    # The file name states what the user asked for; the graph says what the converter produced.
    precision = named or info.precision or "fp32"
    group = str((spec_data or {}).get("group") or (spec_data or {}).get("name") or _group_from_name(path))
    target = Target(
        path=path,
        runtime=runtime,
        precision=precision,
        group=group,
        spec=(spec_data or {}).get("preprocess"),
        labels=(spec_data or {}).get("labels"),
        source=source,
        info=info,
    )
    target.notes.extend(info.notes)
    if named and info.precision and named != info.precision:
        target.notes.append(f"named {named} but the graph looks {info.precision} (e.g. weights too small to quantize)")
    return target


def _bundle_targets(path: Path) -> list[Target]:
    from edgeemo.bundle import load_bundle

    bundle = load_bundle(path)
    out = []
    for entry in bundle.manifest.models:
        model_path = bundle.root / entry.file
        t = _file_target(model_path, None, "bundle")
        t.precision = entry.precision
        t.group = bundle.manifest.name
        t.spec = bundle.preprocess
        t.labels = bundle.labels
        t.manifest_metrics = dict(entry.metrics)
        if bundle.manifest.demo:
            t.notes.append("bundle trained on the synthetic demo set, not a real emotion model")
        out.append(t)
    return out


def _sibling_spec(path: Path) -> dict[str, Any] | None:
    for candidate in (path.parent / "spec.json", path.parent.parent / "spec.json"):
        if candidate.is_file():
            data = load_spec_file(candidate, strict=False)
            data.pop("name", None)  # a training run's name is not the artifact group
            return data
    return None


def resolve_targets(inputs: list[str], *, spec_path: Path | None = None) -> tuple[list[Target], list[dict[str, str]]]:
    """(targets, skipped). Keras artifacts are skipped with a note when TensorFlow is missing."""
    forced = load_spec_file(spec_path) if spec_path else None
    targets: list[Target] = []
    skipped: list[dict[str, str]] = []
    for raw in inputs:
        path = Path(raw)
        if not path.exists():
            raise InputFileNotFound(f"expected a model file, bundle or spec JSON, received a missing path: {path}")
        if path.suffix == ".json":
            data = load_spec_file(path)
            if "model" not in data:
                raise ConfigError(f"expected a 'model' key naming the peer model file in {path}, received none")
            model = (path.parent / str(data["model"])).resolve()
            if not model.exists():
                raise InputFileNotFound(f"expected the peer model {model} named in {path}, received a missing path")
            data.setdefault("name", model.stem)
            targets.append(_file_target(model, data, "peer"))
        elif (path / "manifest.json").is_file() or path.name.endswith((".tar.gz", ".tgz")):
            targets.extend(_bundle_targets(path))
        elif path.is_dir() and not (path / "saved_model.pb").exists():
            files = sorted(p for p in path.iterdir() if p.suffix in MODEL_SUFFIXES and p.name != "last.keras")
            if not files:
                raise ModelError(f"expected model files ({', '.join(MODEL_SUFFIXES)}) in {path}, received none")
            spec = forced or _sibling_spec(files[0])
            targets.extend(_file_target(f, spec, "file") for f in files)
        else:
            targets.append(_file_target(path, forced or _sibling_spec(path), "file"))
    kept = []
    has_tf = importlib.util.find_spec("tensorflow") is not None
    for t in targets:
        if t.runtime == "keras" and not has_tf:
            skipped.append({"path": str(t.path), "reason": "Keras model needs TensorFlow (pip install 'edgeemo[host]')"})
            continue
        kept.append(t)
    _name_targets(kept)
    return kept, skipped


def _name_targets(targets: list[Target]) -> None:
    seen: dict[str, int] = {}
    for t in targets:
        base = f"{t.group}/{t.precision}-{t.format}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        t.name = base if n == 0 else f"{base}#{n + 1}"
