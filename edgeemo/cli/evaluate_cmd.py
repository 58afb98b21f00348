"""`edgeemo evaluate`: artifacts on one dataset split, the same preprocessed images for all."""

from __future__ import annotations

from pathlib import Path

import click

from edgeemo.cli._options import console

__all__ = ["evaluate"]


@click.command()
@click.argument("artifacts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--data", "data_root", required=True, type=click.Path(path_type=Path), help="Dataset root or fer2013.csv.")
@click.option("--split", default=None,
              help="Split folder of --data (default: test, or --data itself when it holds the class folders).")
@click.option("--spec", "spec_file", type=click.Path(path_type=Path), default=None,
              help="spec.json or a bundle's manifest.json giving labels + preprocessing (default: a bundle's, or spec.json beside the first artifact).")
@click.option("--labels", "label_map", default=None, help="folder=label mapping for folder-per-class datasets (or a .json file).")
@click.option("--reference", type=click.Path(path_type=Path), default=None, help="Artifact the drop and agreement are measured against (default: the first).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write results JSON here (Markdown and PNGs beside it).")
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--flip-average/--no-flip-average", default=None,
              help="Average each image with its mirror image (default: as the bundle says with --detect, else off).")
@click.option("--detect", is_flag=True,
              help="Photos of any size through the device's path: find the largest face, align and crop it as the "
                   "bundle's PreprocessSpec says. Photos without a face count as wrong.")
@click.option("--detector", type=click.Choice(["auto", "blazeface", "haar", "yunet"]), default="auto", show_default=True,
              help="With --detect: the face detector (auto: the bundle's BlazeFace).")
def evaluate(artifacts: tuple[Path, ...], data_root: Path, split: str | None, spec_file: Path | None, label_map: str | None,
             reference: Path | None, json_out: Path | None, threads: int, flip_average: bool | None, detect: bool,
             detector: str) -> None:
    """Evaluate ARTIFACT... (.keras/.h5/SavedModel, .tflite, .onnx, or a bundle folder) on --data/--split.

    With --detect, this is what a device makes of your own photos (a household, a car): one face
    per photo, found and framed by the device's own path, the raw label per photo."""
    from edgeemo.data import load_split, parse_label_mapping
    from edgeemo.evaluation.latency import median_latency_ms
    from edgeemo.evaluation.report import evaluate_runtimes, render_markdown, write_report
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.runtime import open_runtime

    if split is None:  # a folder of class folders (photos of a household) is its own split
        split = "all" if data_root.is_dir() and not (data_root / "test").is_dir() else "test"
    paths, spec, labels, bundle = _resolve(list(artifacts), spec_file)
    runtimes = {p.name: open_runtime(p, threads=threads) for p in paths}
    ref = reference.name if reference else paths[0].name
    if reference and reference not in paths:
        runtimes[ref] = open_runtime(reference, threads=threads)
    if spec is None:  # no spec anywhere: the model's own input size with the default normalisation
        height, width, channels = runtimes[paths[0].name].input_shape
        spec = PreprocessSpec(height=height, width=width, channels=channels)
    if flip_average is None:
        flip_average = bool(detect and bundle is not None and bundle.manifest.flip_average)
    cropper = None
    if detect:
        from edgeemo.evaluation.device_path import DeviceFaceCropper

        cropper = DeviceFaceCropper.open(spec, detector_model=bundle.detector_path if bundle else None,
                                         kind=detector, threads=threads)
    try:
        data = load_split(data_root, split, spec, class_names=labels, labels=parse_label_mapping(label_map),
                          face_crop=cropper)
    finally:
        if cropper is not None:
            cropper.close()
    sizes = {p.name: p.stat().st_size for p in paths if p.is_file()}
    results = evaluate_runtimes(runtimes, data, spec, reference=ref, sizes=sizes, flip_average=flip_average)
    timed = {k: rt for k, rt in runtimes.items() if rt.key != "keras"}
    for k, ms in median_latency_ms(timed, spec.normalize(data.images[:1])).items():
        results[k]["latency_ms"] = ms
    notes = [f"data: {data.source} ({len(data)} images, {data.skipped} unreadable skipped)", f"reference: {ref}",
             f"latency: median predict() at batch 1, {threads} thread(s)"]
    if flip_average:
        notes.append("accuracy with flip averaging (each image and its mirror image); latency is for one image")
    if cropper is not None:
        framing = (f"face template {list(spec.face_template)}" if spec.face_template is not None
                   else f"margin {spec.crop_margin}")
        notes.append(f"device path: {type(cropper.detector).__name__}, the largest face per photo, cropped as the "
                     f"spec says ({framing}, align {spec.align}, blur sigma {spec.smoothing_sigma}); "
                     f"face found in {cropper.faces_found} of {cropper.photos} photos "
                     f"({100 * cropper.hit_rate:.1f}%), the others count as wrong")
    out = console()
    out.print(render_markdown(f"edgeemo evaluate ({split})", results, labels, notes))
    if json_out:
        folder = json_out.parent
        write_report(folder, f"edgeemo evaluate ({split})", results, labels, notes, extra={"spec": spec.model_dump()})
        if json_out.name != "report.json":
            (folder / "report.json").replace(json_out)
            (folder / "report.md").replace(json_out.with_suffix(".md"))
        out.print(f"wrote {json_out}")


def _resolve(paths: list[Path], spec_file: Path | None):  # type: ignore[no-untyped-def]
    """Artifacts (a bundle expands to its models) plus the spec and labels they share."""
    from edgeemo.bundle import load_bundle
    from edgeemo.errors import InputFileNotFound
    from edgeemo.labels import FER2013_LABELS
    from edgeemo.preprocess import SPEC_FILE, load_spec_file

    expanded: list[Path] = []
    spec, labels, bundle = None, None, None
    for p in paths:
        if not p.exists():
            raise InputFileNotFound(f"expected an artifact or bundle, received a missing path: {p}")
        if p.is_dir() and (p / "manifest.json").is_file():
            b = load_bundle(p)
            expanded += [b.root / m.file for m in b.manifest.models]
            spec, labels, bundle = spec or b.preprocess, labels or b.labels, bundle or b
        else:
            expanded.append(p)
    # A quantize output folder keeps the manifest in OUT/bundle beside OUT/artifacts.
    candidates = [spec_file] if spec_file else [q.parent / SPEC_FILE for q in expanded] + [
        q.parent.parent / "bundle" / "manifest.json" for q in expanded]
    for c in candidates:
        if spec is None and c is not None and c.is_file():
            data = load_spec_file(c, strict=False)
            spec, labels = data["preprocess"], data.get("labels")
    if spec_file and not spec_file.is_file():
        raise InputFileNotFound(f"expected a spec JSON for --spec, received a missing path: {spec_file}")
    return expanded, spec, list(labels or FER2013_LABELS), bundle
