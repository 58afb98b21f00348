"""Does int8 pay for every zoo model on this CPU? fp32 and int8 TFLite of each, timed side by side.

    python benchmarks/zoo_int8_speed.py --data ../shared/datasets/fer2013 [--models a,b] [--input-size 48]

For each zoo model (edgeemo.models.zoo, untrained weights: latency does not depend on their
values, and int8 conversion is calibrated on real FER-2013 faces all the same), `edgeemo
quantize`'s own export writes fp32 and int8 TFLite (int8 I/O, per-channel weights: the
generic-cpu recipe). Then every artifact of every model is timed in one `edgeemo bench` run (1
thread, batch 1, interleaved repeats) and the int8/fp32 ratio of the invoke p50 is reported;
the target is int8 <= 0.6x fp32. Writes JSON + Markdown named after the date and machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.6


def export_model(name: str, work: Path, data: Path, input_size: int, calib_samples: int) -> Path:
    """fp32 + int8 TFLite of the zoo model `name` in work/name/artifacts; returns that folder."""
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.fileio import write_json
    from edgeemo.labels import FER2013_LABELS
    from edgeemo.models.zoo import build_model
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.recipes import load_recipe

    spec = PreprocessSpec(height=input_size, width=input_size)
    model_dir = work / name / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(name, spec.input_shape, len(FER2013_LABELS))
    model.save(model_dir / f"{name}.keras")
    write_json(model_dir / "spec.json", {"labels": list(FER2013_LABELS), "preprocess": spec.model_dump(), "model": name})
    job = QuantizeJob(model=model_dir / f"{name}.keras", out_dir=work / name / "q", calib=data,
                      recipe=load_recipe("generic-cpu"), formats=["tflite"], precisions=["fp32", "int8"],
                      calib_samples=calib_samples, with_detector=False)
    return run_quantize(job).out_dir / "artifacts"


def ratios(result: dict[str, Any]) -> list[dict[str, Any]]:
    p50 = {r["artifact"]: r["invoke"]["p50_ms"] for r in result["results"] if r["threads"] == 1 and r["batch"] == 1}
    rows = []
    for a in result["artifacts"]:
        if a["precision"] != "int8":
            continue
        fp32 = next((b for b in result["artifacts"] if b["group"] == a["group"] and b["precision"] == "fp32"), None)
        if fp32 is None:
            continue
        r = p50[a["name"]] / p50[fp32["name"]]
        rows.append({"model": a["group"], "fp32_ms": round(p50[fp32["name"]], 4), "int8_ms": round(p50[a["name"]], 4),
                     "int8_over_fp32": round(r, 3), "meets_0.6x": r <= TARGET_RATIO, "macs": a.get("macs")})
    return rows


def main(argv: list[str] | None = None) -> int:
    from edgeemo.models.zoo import ZOO

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets" / "fer2013")
    parser.add_argument("--models", default=",".join(ZOO))
    parser.add_argument("--input-size", type=int, default=48)
    parser.add_argument("--calib-samples", type=int, default=128)
    parser.add_argument("--runs", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "zoo-int8")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edgeemo.bench.machine import machine_slug
    from edgeemo.bench.runner import BenchConfig, run_bench

    with tempfile.TemporaryDirectory(prefix="edgeemo-zoo-int8-") as tmp:
        work = Path(tmp)
        folders = [export_model(name, work, args.data, args.input_size, args.calib_samples)
                   for name in args.models.split(",")]
        files = [str(f) for folder in folders for f in sorted(folder.glob("*.tflite"))]
        result = run_bench(files, BenchConfig(threads=[1], batches=[1], runs=args.runs, repeats=args.repeats,
                                              warmup=50, memory=False, peak=False), say=lambda m: print(m, file=sys.stderr))
    rows = ratios(result)
    out = {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": result["machine"],
           "input_size": args.input_size, "target": f"int8 <= {TARGET_RATIO}x fp32, invoke p50, 1 thread, batch 1",
           "rows": rows, "bench": {k: result[k] for k in ("config", "results", "artifacts")}}
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{dt.date.today().isoformat()}-{machine_slug(result['machine'])}-{args.input_size}px"
    (args.out / f"{stem}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    lines = [f"# int8 against fp32 TFLite, zoo at {args.input_size}x{args.input_size}\n",
             f"Machine: {result['machine'].get('cpu_model')}; LiteRT with XNNPACK, 1 thread, batch 1, "
             f"{args.runs} runs in {args.repeats} interleaved repeats; invoke p50.\n",
             "| model | MMACs | fp32 ms | int8 ms | int8/fp32 | <= 0.6x |", "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        macs = f"{r['macs'] / 1e6:.1f}" if r["macs"] else "-"
        lines.append(f"| {r['model']} | {macs} | {r['fp32_ms']} | {r['int8_ms']} | {r['int8_over_fp32']} | "
                     f"{'yes' if r['meets_0.6x'] else 'NO'} |")
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
