"""What `--model auto` picks on this machine, how long it takes, and whether `edgeemo bench` agrees.

    python benchmarks/model_choice.py BUNDLE... [--trials 5] [--out benchmarks/results/model-choice]

Default BUNDLE: the shipped one. For each bundle: `--trials` fresh start-up choices exactly as the
daemon makes them (edgeemo.runtime.choose.choose_model: open every model, time one face round-robin
within bundle.auto_budget_s, flip averaging as the bundle says, 1 thread), each with its wall time;
then one `edgeemo bench` run of the bundle (interleaved repeats, batch 1, 1 thread) and the choice
the same rule makes from the bench's p50s. A mini-Xception bundle to try it on (64x64 grayscale,
depthwise-separable, 8-128 channels as the `fer` package's; the zoo's mini_xception had those
widths before commit 64d2e0a, so train it from that commit's parent, or build it with
edgeemo.models.zoo.mini_xception(..., widths=(16, 32, 64, 128)) and save it):

    edgeemo train --data FER --model mini_xception --input-size 64 --epochs 4 --limit-per-class 1500 --out mx64
    edgeemo quantize mx64/best.keras --calib FER --eval FER --formats tflite,onnx --precisions fp32,int8 --out mx64q
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def trials(bundle_path: str, n: int, budget_s: float) -> list[dict[str, Any]]:
    from edgeemo.bundle import load_bundle
    from edgeemo.runtime.choose import choose_model

    bundle = load_bundle(bundle_path)
    out = []
    for _ in range(n):
        choice, runtime = choose_model(bundle, threads=1, flip_average=bundle.manifest.flip_average, budget_s=budget_s)
        runtime.close()
        out.append(choice.to_json())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundles", nargs="*")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--budget-s", type=float, default=0.3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "model-choice")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from edgeemo.bench.machine import machine_info, machine_slug
    from edgeemo.bench.runner import BenchConfig, run_bench
    from edgeemo.bundle import default_bundle_path

    bundles = args.bundles or [str(default_bundle_path())]
    rows = []
    for b in bundles:
        t = trials(b, args.trials, args.budget_s)
        bench = run_bench([b], BenchConfig(runs=300, repeats=5, warmup=30, memory=False, peak=False))
        p50 = {Path(a["path"]).name: r["end_to_end_p50_ms"] for a in bench["artifacts"] for r in bench["results"]
               if r["artifact"] == a["name"]}
        rows.append({"bundle": b, "start_up_choices": [c["file"] for c in t],
                     "start_up_spent_s": [c["spent_s"] for c in t], "start_up_timings_ms": [c["timings_ms"] for c in t],
                     "reason_last": t[-1]["reason"], "bench_p50_ms": p50, "bench_auto_choice": bench["auto_choice"]})
        print(f"{b}: start-up choices {rows[-1]['start_up_choices']} in {rows[-1]['start_up_spent_s']} s; "
              f"bench p50 {p50}; bench says {[c['model'] for c in bench['auto_choice']]}")
    machine = machine_info()
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{dt.date.today().isoformat()}-{machine_slug(machine)}"
    result = {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine,
              "budget_s": args.budget_s, "threads": 1, "bundles": rows}
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
