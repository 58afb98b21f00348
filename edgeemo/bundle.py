"""Bundles: what travels from the workstation to the device.

A bundle is a directory (or a .tar.gz of one) holding the models, an optional face detector and
manifest.json with the labels, the PreprocessSpec, quantization parameters, measured metrics and
the sha256 of every file. The device loads nothing else, and refuses a bundle whose files do not
match their hashes.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgeemo.errors import BundleError, InputFileNotFound
from edgeemo.fileio import atomic_dir, atomic_path, sha256_file, write_json
from edgeemo.preprocess import PreprocessSpec

__all__ = [
    "BUNDLE_FORMAT",
    "AuxModelEntry",
    "Bundle",
    "DetectorEntry",
    "Manifest",
    "ModelEntry",
    "default_bundle_path",
    "reference_model_path",
    "load_bundle",
    "write_bundle",
]

BUNDLE_FORMAT: Final = "edgeemo-bundle/1"
MANIFEST = "manifest.json"


class ModelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str
    format: Literal["tflite", "onnx", "keras"]
    precision: str  # fp32, fp16, dynamic, int8
    input_dtype: str = "float32"
    # Input/output (scale, zero_point) for integer I/O, so a device can feed uint8 pixels directly.
    input_quant: tuple[float, int] | None = None
    output_quant: tuple[float, int] | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)


class DetectorEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str
    kind: str  # e.g. "blazeface-short-range"
    source: str = ""


class AuxModelEntry(BaseModel):
    """A model an application runs besides the classifier (e.g. the face mesh for fatigue)."""

    model_config = ConfigDict(extra="forbid")

    file: str
    kind: str  # e.g. "face-landmark", "iris-landmark"
    source: str = ""
    license: str = ""  # SPDX id; the notice file in the bundle says whose work it is
    notice: str | None = None  # a file in the bundle with the licence notice


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["edgeemo-bundle/1"] = BUNDLE_FORMAT
    name: str
    created: str
    labels: list[str]
    preprocess: PreprocessSpec
    models: list[ModelEntry]
    default_model: str
    detector: DetectorEntry | None = None
    aux_models: list[AuxModelEntry] = Field(default_factory=list)
    target: str | None = None
    demo: bool = False  # trained on the synthetic demo set: not a real emotion model
    # Average each face with its mirror image (test-time augmentation): the reported accuracy
    # was measured that way; a device may turn it off to halve classify time.
    flip_average: bool = False
    source: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict)  # relative path -> sha256


class Bundle:
    """A verified bundle on disk."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest

    @property
    def labels(self) -> list[str]:
        return list(self.manifest.labels)

    @property
    def preprocess(self) -> PreprocessSpec:
        return self.manifest.preprocess

    def model(self, file: str | None = None) -> ModelEntry:
        wanted = file or self.manifest.default_model
        for entry in self.manifest.models:
            if entry.file == wanted:
                return entry
        raise BundleError(
            f"expected one of {[m.file for m in self.manifest.models]} in {self.root}, received {wanted!r}"
        )

    def model_path(self, file: str | None = None) -> Path:
        return self.root / self.model(file).file

    @property
    def detector_path(self) -> Path | None:
        det = self.manifest.detector
        return self.root / det.file if det else None

    def aux_path(self, kind: str) -> Path | None:
        """The file of the auxiliary model of this kind, None when the bundle has none."""
        for entry in self.manifest.aux_models:
            if entry.kind == kind:
                return self.root / entry.file
        return None

    def __repr__(self) -> str:
        return f"Bundle({str(self.root)!r}, models={[m.file for m in self.manifest.models]})"


def write_bundle(
    out_dir: str | Path,
    *,
    name: str,
    labels: list[str],
    preprocess: PreprocessSpec,
    models: list[tuple[Path, ModelEntry]],
    default_model: str,
    detector: tuple[Path, DetectorEntry] | None = None,
    aux_models: list[tuple[Path, AuxModelEntry]] | None = None,
    notices: dict[str, str] | None = None,
    target: str | None = None,
    demo: bool = False,
    flip_average: bool = False,
    source: dict[str, Any] | None = None,
    archive: bool = False,
) -> Path:
    """Copy the files in, hash them, write the manifest; all or nothing. Returns the bundle path."""
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        entries = []
        for src, entry in models:
            shutil.copy2(src, tmp / entry.file)
            entries.append(entry)
        det_entry = None
        if detector is not None:
            shutil.copy2(detector[0], tmp / detector[1].file)
            det_entry = detector[1]
        for src, aux in aux_models or []:
            shutil.copy2(src, tmp / aux.file)
        for notice_file, text in (notices or {}).items():
            (tmp / notice_file).write_text(text, encoding="utf-8")
        files = {
            p.relative_to(tmp).as_posix(): sha256_file(p)
            for p in sorted(tmp.rglob("*"))
            if p.is_file() and p.name != MANIFEST
        }
        manifest = Manifest(
            name=name,
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            labels=list(labels),
            preprocess=preprocess,
            models=entries,
            default_model=default_model,
            detector=det_entry,
            aux_models=[aux for _, aux in aux_models or []],
            target=target,
            demo=demo,
            flip_average=flip_average,
            source=source or {},
            files=files,
        )
        if default_model not in {e.file for e in entries}:
            raise BundleError(f"expected default_model among {[e.file for e in entries]}, received {default_model!r}")
        write_json(tmp / MANIFEST, manifest.model_dump(mode="json"))
    if archive:
        tar_path = out.with_name(out.name + ".tar.gz")
        with atomic_path(tar_path) as tmp_tar, tarfile.open(tmp_tar, "w:gz") as tar:
            tar.add(out, arcname=out.name)
        return tar_path
    return out


def load_bundle(path: str | Path, *, verify: bool = True) -> Bundle:
    """Open a bundle directory or .tar.gz, check every sha256, and return it."""
    p = Path(path)
    if not p.exists():
        raise InputFileNotFound(f"expected a bundle directory or .tar.gz, received a path that does not exist: {p}")
    if p.is_file():
        p = _extract_archive(p)
    manifest_path = p / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"expected {MANIFEST} inside the bundle {p}, received a folder without one")
    try:
        manifest = Manifest.model_validate_json(manifest_path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise BundleError(f"expected a valid {MANIFEST} in {p}, received {loc}: {first['msg']}") from exc
    if verify:
        for rel, digest in manifest.files.items():
            f = p / rel
            if not f.is_file():
                raise BundleError(f"expected {rel} in bundle {p} (listed in {MANIFEST}), received a missing file")
            actual = sha256_file(f)
            if actual != digest:
                raise BundleError(
                    f"expected sha256 {digest[:12]}... for {rel} in bundle {p}, received {actual[:12]}...: "
                    "the file changed after the bundle was written"
                )
    return Bundle(p, manifest)


# archive (path, size, mtime) -> (temporary folder, bundle root inside it), so a daemon reloading
# the same archive does not unpack a new copy each time (the sha256 check still runs each load).
_EXTRACTED: dict[tuple[str, int, int], tuple[Path, Path]] = {}


def _remove_extracted() -> None:
    for tmp, _ in _EXTRACTED.values():
        shutil.rmtree(tmp, ignore_errors=True)
    _EXTRACTED.clear()


atexit.register(_remove_extracted)


def _extract_archive(archive: Path) -> Path:
    """Unpack into a temporary folder that lives as long as the process: runtimes read model
    files by path long after load_bundle returns. It is removed at exit (Ctrl-C included)."""
    if not tarfile.is_tarfile(archive):
        raise BundleError(f"expected a bundle directory or .tar.gz archive, received {archive}")
    st = archive.stat()
    key = (str(archive.resolve()), st.st_size, st.st_mtime_ns)
    if key in _EXTRACTED and (_EXTRACTED[key][1] / MANIFEST).is_file():
        return _EXTRACTED[key][1]
    dest = Path(tempfile.mkdtemp(prefix="edgeemo-bundle-"))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
        found = [m.parent for m in dest.rglob(MANIFEST)]
        if len(found) != 1:
            raise BundleError(f"expected exactly one {MANIFEST} in {archive}, received {len(found)}")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    _EXTRACTED[key] = (dest, found[0])
    return found[0]


def _assets_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("edgeemo.assets")))


def default_bundle_path() -> Path | None:
    """The embedded default bundle shipped inside the package, when one is shipped."""
    root = _assets_dir() / "default_bundle"
    return root if (root / MANIFEST).is_file() else None


def reference_model_path() -> Path | None:
    """The float Keras model the default bundle was quantized from (for fine-tuning), when shipped."""
    found = sorted((_assets_dir() / "reference_model").glob("*.keras"))
    return found[0] if found else None
