"""Reproduce the published table: every zoo model x every precision x both runtimes on FER-2013 test.

    python benchmarks/run_fer2013.py                       # trained runs found under ./runs
    python benchmarks/run_fer2013.py --runs-dir /path/runs --threads 1,2,4
    python benchmarks/run_fer2013.py --untrained           # fresh zoo models: latency only

For each zoo model the best trained run (highest best_val_accuracy in state.json) is converted
with the generic-cpu recipe (TFLite fp32/fp16/dynamic/int8, ONNX fp32/int8, calibrated on the
train split) and everything is measured in one interleaved `edgeemo bench` run on the test split.
Writes benchmarks/results/<date>-<machine>.{json,md,png}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _find_run(runs_dir: Path, model: str) -> Path | None:
    best, best_acc = None, -1.0
    for spec_path in sorted(runs_dir.glob("*/spec.json")):
        run = spec_path.parent
        try:
            spec = json.loads(spec_path.read_text())
            state = json.loads((run / "state.json").read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if spec.get("model") != model or spec.get("demo") or not (run / "best.keras").is_file():
            continue
        acc = float(state.get("best_val_accuracy") or 0.0)
        if acc > best_acc:
            best, best_acc = run, acc
    return best


def _prepare_model(name: str, run: Path | None, work: Path) -> Path:
    """<work>/<name>/<name>.keras with spec.json beside it, so every artifact shares the group <name>."""
    from edgeemo.fileio import write_json
    from edgeemo.labels import FER2013_LABELS
    from edgeemo.preprocess import PreprocessSpec

    out = work / name
    out.mkdir(parents=True, exist_ok=True)
    keras_path = out / f"{name}.keras"
    if run is not None:
        shutil.copy2(run / "best.keras", keras_path)
        shutil.copy2(run / "spec.json", out / "spec.json")
        return keras_path
    from edgeemo.models.zoo import build_model

    spec = PreprocessSpec()
    model = build_model(name, spec.input_shape, len(FER2013_LABELS))
    model.save(keras_path)
    write_json(out / "spec.json", {"labels": list(FER2013_LABELS), "preprocess": spec.model_dump(), "model": name,
                                   "untrained": True})
    return keras_path


def _export_untrained(keras_path: Path, data: Path, calib_samples: int) -> Path:
    """Every generic-cpu artifact of an untrained model, without the float-agreement check: an
    untrained network's near-uniform outputs make agreement meaningless, while its latency is real."""
    from edgeemo.export.convert import export_artifact
    from edgeemo.export.formats import EXPORTS, ExportOptions, artifact_key, artifact_name
    from edgeemo.export.job import load_calibration
    from edgeemo.labels import FER2013_LABELS
    from edgeemo.models.io import load_keras_model
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.recipes import load_recipe

    out = keras_path.parent / "artifacts"
    if out.is_dir() and any(out.iterdir()) and out.stat().st_mtime > keras_path.stat().st_mtime:
        return out
    out.mkdir(exist_ok=True)
    recipe = load_recipe("generic-cpu")
    spec = PreprocessSpec()
    calib = spec.normalize(load_calibration(data, spec, list(FER2013_LABELS), calib_samples, 0))
    options = ExportOptions(calibration=calib, int8_io=recipe.int8_io, onnx_calibration=recipe.onnx_calibration,
                            onnx_per_channel=recipe.onnx_per_channel)
    model = load_keras_model(keras_path)
    for fmt in recipe.formats:
        for precision in recipe.precisions:
            key = artifact_key(fmt, precision)
            if key in EXPORTS:
                print(f"  {keras_path.stem}: converting {key} (untrained: not verified)", flush=True)
                export_artifact(model, key, out / artifact_name(keras_path.stem, fmt, precision), options)
    return out


def _export(keras_path: Path, data: Path, calib_samples: int, untrained: bool) -> Path:
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.recipes import load_recipe

    if untrained:
        return _export_untrained(keras_path, data, calib_samples)

    out = keras_path.parent / "quantized"
    bundle = out / "bundle"
    if (bundle / "manifest.json").is_file() and bundle.stat().st_mtime > keras_path.stat().st_mtime:
        return bundle
    job = QuantizeJob(model=keras_path, out_dir=out, calib=data, recipe=load_recipe("generic-cpu"),
                      calib_samples=calib_samples, with_detector=False)
    return run_quantize(job, progress=lambda msg: print(f"  {keras_path.stem}: {msg}", flush=True)).bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("EDGEEMO_FER2013", "datasets/fer2013")))
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument("--models", default="mini_xception,mobilenet,accurate,accurate_wide,accurate_deep")
    parser.add_argument("--untrained", action="store_true", help="Build fresh zoo models where no trained run exists.")
    parser.add_argument("--threads", default="1")
    parser.add_argument("--batch", default="1")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--limit-per-class", type=int, default=None, help="Accuracy on a class-balanced subset.")
    parser.add_argument("--calib-samples", type=int, default=300)
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work"))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)

    from edgeemo.bench.machine import machine_info, machine_slug
    from edgeemo.bench.plots import plot_result
    from edgeemo.bench.report import make_console, print_table, save_json, save_markdown
    from edgeemo.bench.runner import BenchConfig, run_bench

    if not args.data.is_dir():
        print(f"error: expected the FER-2013 folder (train/ and test/) at {args.data}; set --data or EDGEEMO_FER2013",
              file=sys.stderr)
        return 2
    inputs: list[str] = []
    provenance: dict[str, str] = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        run = _find_run(args.runs_dir, name) if args.runs_dir.is_dir() else None
        if run is None and not args.untrained:
            print(f"skip {name}: no trained run under {args.runs_dir} (train one, or pass --untrained)")
            continue
        provenance[name] = str(run) if run else "untrained (fresh zoo model: latency only, accuracy is chance)"
        print(f"{name}: {provenance[name]}", flush=True)
        keras_path = _prepare_model(name, run, args.work)
        inputs.append(str(_export(keras_path, args.data, args.calib_samples, untrained=run is None)))
        inputs.append(str(keras_path))
    if not inputs:
        print("error: nothing to measure", file=sys.stderr)
        return 2
    config = BenchConfig(
        threads=[int(t) for t in args.threads.split(",")], batches=[int(b) for b in args.batch.split(",")],
        runs=args.runs, warmup=args.warmup, repeats=args.repeats, data=args.data, split="test",
        limit_per_class=args.limit_per_class,
    )
    result = run_bench(inputs, config, say=lambda m: print(m, flush=True))
    result["provenance"] = provenance
    if any("untrained" in v for v in provenance.values()):
        result["notes"].append("some models are untrained fresh zoo models: their latency is real, accuracy is chance")
    stem = f"{dt.date.today().isoformat()}-{machine_slug(machine_info())}"
    args.out.mkdir(parents=True, exist_ok=True)
    png = plot_result(result, args.out / f"{stem}.png")
    save_json(result, args.out / f"{stem}.json")
    save_markdown(result, args.out / f"{stem}.md", plot_names=[png.name])
    print_table(result, console=make_console())
    print(f"wrote {args.out / stem}.{{json,md,png}}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
