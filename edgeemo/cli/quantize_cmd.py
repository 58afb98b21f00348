"""`edgeemo quantize`: Keras model -> verified TFLite/ONNX artifacts, a report, and a device bundle."""

from __future__ import annotations

from pathlib import Path

import click

from edgeemo.cli._options import comma_list, console
from edgeemo.recipes import FORMATS, PRECISIONS, list_targets, load_recipe

__all__ = ["quantize"]


@click.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--calib", "calib", required=True, type=click.Path(path_type=Path),
              help="Calibration images: a dataset root (its train/ split is used) or a folder of class folders.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder (replaced atomically).")
@click.option("--target", type=click.Choice(list_targets()), default=None, help="Quantization recipe (quantize/*.toml); default generic-cpu.")
@click.option("--formats", callback=comma_list(FORMATS), help="Comma list of tflite,onnx (default: the recipe's).")
@click.option("--precisions", callback=comma_list(PRECISIONS), help="Comma list of fp32,fp16,dynamic,int8 (default: the recipe's).")
@click.option("--calib-samples", type=click.IntRange(8, 100000), default=None, help="Class-balanced calibration images (default: the recipe's, 300).")
@click.option("--float-io", is_flag=True, help="TFLite int8 with float32 input/output instead of int8 I/O.")
@click.option("--onnx-calibration", type=click.Choice(["minmax", "entropy", "percentile"]), default=None)
@click.option("--spec", "spec_file", type=click.Path(path_type=Path), default=None,
              help="JSON with {labels: [...], preprocess: {normalization, ...}} for a model trained elsewhere.")
@click.option("--normalization", type=click.Choice(["0_1", "-1_1", "0_255"]), default=None, help="Input scaling the model was trained with.")
@click.option("--color-order", type=click.Choice(["rgb", "bgr"]), default=None, help="Channel order of a 3-channel model.")
@click.option("--labels", "labels", default=None, help="Comma list of class names in output order (default: FER-2013's 7).")
@click.option("--eval", "eval_root", type=click.Path(path_type=Path), default=None, help="Dataset root to evaluate every artifact on.")
@click.option("--split", "eval_split", default="test", show_default=True, help="Split of --eval to report on.")
@click.option("--max-drop", type=float, default=None, help="Exit 1 when an int8 artifact loses more than this many pp of top-1.")
@click.option("--archive", is_flag=True, help="Also write the bundle as a single .tar.gz.")
@click.option("--no-detector", is_flag=True, help="Do not put the BlazeFace detector into the bundle.")
@click.option("--flip-average", type=click.Choice(["auto", "on", "off"]), default="off", show_default=True,
              help="Average each face with its mirror image on the device (twice the classify cost). auto: on when the "
                   "validation scores `edgeemo train` recorded beside MODEL gain at least 0.2 pp from it, with the "
                   "inference smoothing chosen for that mode; off without them.")
@click.option("--face-template", type=click.Choice(["auto", "off"]), default="auto", show_default=True,
              help="auto: learn where the bundle's face detector puts its box on the calibration faces, so the device "
                   "frames faces as they were framed in training (a spec that has a template keeps it); off: the "
                   "device crops the box plus the spec's crop_margin.")
def quantize(model: Path, calib: Path, out_dir: Path, target: str | None, formats: list[str] | None,
             precisions: list[str] | None, calib_samples: int | None, float_io: bool, onnx_calibration: str | None,
             spec_file: Path | None, normalization: str | None, color_order: str | None, labels: str | None,
             eval_root: Path | None, eval_split: str, max_drop: float | None, archive: bool, no_detector: bool,
             flip_average: str, face_template: str) -> None:
    """Convert MODEL (.keras, .h5 or SavedModel) to TFLite and ONNX, quantize, verify, report and bundle."""
    from edgeemo.export.job import QuantizeJob, run_quantize

    recipe = load_recipe(target)
    updates: dict[str, object] = {}
    if float_io:
        updates["int8_io"] = False
    if onnx_calibration:
        updates["onnx_calibration"] = onnx_calibration
    recipe = recipe.model_copy(update=updates)
    out = console()
    job = QuantizeJob(model=model, out_dir=out_dir, calib=calib, recipe=recipe, formats=formats, precisions=precisions,
                      calib_samples=calib_samples, spec_file=spec_file, normalization=normalization,
                      color_order=color_order, labels=[s.strip() for s in labels.split(",")] if labels else None,
                      eval_data=eval_root, eval_split=eval_split, archive=archive, with_detector=not no_detector,
                      flip_average=flip_average, face_template=face_template)  # type: ignore[arg-type]
    with out.status("quantizing") as status:
        result = run_quantize(job, progress=lambda msg: status.update(msg))
    print_summary(out, result)
    if max_drop is not None:
        worst = [(k, m["drop_pp"]) for k, m in result.results.items() if k.endswith("int8") and m.get("drop_pp", 0) > max_drop]
        if worst:
            click.echo(f"edgeemo: int8 accuracy drop over --max-drop {max_drop} pp: "
                       + ", ".join(f"{k} {d:+.2f} pp" for k, d in worst), err=True)
            raise SystemExit(1)


def print_summary(out, result) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    table = Table(title=f"quantize: {result.out_dir}" + ("  [DEMO model]" if result.demo else ""))
    for col in ("artifact", "size KB", "vs fp32", "top-1 %", "drop pp", "agreement %", "latency ms", "verified"):
        table.add_column(col, justify="left" if col == "artifact" else "right")
    ref = result.results.get("keras-float")
    if ref:
        table.add_row("keras-float", "-", "-", f"{100 * ref['accuracy']:.2f}", "0.00", "100.0", "-", "reference")
    for a in result.artifacts:
        m = result.results.get(a.key, {})
        table.add_row(
            a.key, f"{a.size_bytes / 1024:.1f}", f"{m['size_ratio_vs_fp32']:.2f}" if "size_ratio_vs_fp32" in m else "-",
            f"{100 * m['accuracy']:.2f}" if m else "-", f"{m['drop_pp']:+.2f}" if m else "-",
            f"{100 * m['agreement']:.1f}" if m else f"{100 * a.verification.get('agreement', 0):.1f} (calib)",
            f"{m['latency_ms']:.3f}" if "latency_ms" in m else "-", "yes",
        )
    out.print(table)
    for note in result.notes:
        out.print(f"note: {note}")
    out.print(f"bundle: {result.bundle} (flip averaging {'on' if result.flip_average else 'off'})")
    choice = result.flip_choice
    if choice is not None:
        out.print(f"flip averaging chosen on validation: single pass {100 * choice.accuracy_plain:.2f}% "
                  f"(sigma {choice.sigma_plain:g}), flip-averaged {100 * choice.accuracy_flip:.2f}% "
                  f"(sigma {choice.sigma_flip:g}); smoothing sigma {choice.smoothing_sigma:g}")
    if result.results:
        out.print(f"report: {result.out_dir / 'report.md'} (+ report.json, confusion_*.png)")
