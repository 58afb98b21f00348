"""`edgeemo demo`: what edgeemo does, end to end, in a few minutes with nothing to download.

1. The shipped reference model (the default bundle: int8 TFLite + BlazeFace) runs through the
   device pipeline on a clip made from a real photo, exactly as `edgeemo run` would.
2. The workstation path on the built-in synthetic demo set: generate drawn faces -> train a zoo
   model -> quantize to TFLite/ONNX (fp32..int8) -> verify -> evaluate -> report -> bundle. These
   numbers describe the demo set, not real faces: use `edgeemo train --data fer2013/` for a real model.

`--no-train` stops after step 1, which needs no TensorFlow (it runs on a device install).
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from edgeemo.cli._options import console

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["demo"]


@click.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("demo-run"), show_default=True)
@click.option("--model", "model_name", default="mini_xception", show_default=True, help="Zoo model to train.")
@click.option("--epochs", type=click.IntRange(1), default=10, show_default=True)
@click.option("--per-class", type=click.IntRange(20), default=300, show_default=True, help="Training images per class.")
@click.option("--target", default="generic-cpu", show_default=True, help="Quantization recipe.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-train", is_flag=True, help="Only run the shipped reference model on the sample clip (no TensorFlow needed).")
def demo(out_dir: Path, model_name: str, epochs: int, per_class: int, target: str, seed: int, no_train: bool) -> None:
    """Run the shipped model on a sample clip, then train -> quantize -> evaluate -> bundle on generated faces."""
    out = console()
    out.rule("edgeemo demo")
    run_reference_model(out, out_dir, step="1/1" if no_train else "1/4")
    if no_train:
        return

    from edgeemo.cli.quantize_cmd import print_summary
    from edgeemo.data.demo import DEMO_NOTICE, write_demo_dataset
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.recipes import load_recipe
    from edgeemo.training import TrainConfig, train

    out.print(f"\n[bold]DEMO:[/bold] {DEMO_NOTICE}")
    data_root = out_dir / "data"
    with out.status("generating the demo dataset"):
        write_demo_dataset(data_root, train_per_class=per_class, test_per_class=max(20, per_class // 5), seed=seed)
    out.print(f"2/4 demo dataset: {data_root} (train/ and test/, 7 emotions)")

    # The drawn faces already vary in pose, scale and lighting; extra augmentation only slows a short run.
    config = TrainConfig(data=str(data_root), model=model_name, epochs=epochs, warmup_epochs=1, patience=epochs,
                         learning_rate=3e-3, augment=False, seed=seed, demo=True)
    out.print(f"3/4 training {model_name} for {epochs} epochs")
    result = train(config, out_dir / "train", verbose=1 if sys.stdout.isatty() else 2)
    assert result.best_val_accuracy is not None  # the demo carves out validation
    out.print(f"    best validation accuracy {100 * result.best_val_accuracy:.1f}% "
              f"({result.seconds_per_epoch:.1f} s/epoch); curves: {out_dir / 'train' / 'curves.png'}")

    out.print("4/4 quantizing, verifying and evaluating every artifact on the demo test split")
    job = QuantizeJob(model=Path(result.best_model), out_dir=out_dir / "quantized", calib=data_root,
                      recipe=load_recipe(target), eval_data=data_root, eval_split="test")
    with out.status("quantizing") as status:
        quantized = run_quantize(job, progress=lambda msg: status.update(msg))
    print_summary(out, quantized)
    out.print(f"\nNext: run the bundle on a video with `edgeemo run --bundle {quantized.bundle} --source VIDEO`, "
              "or train on FER-2013 with `edgeemo train --data PATH/fer2013 --model accurate --out runs/accurate`.")


def run_reference_model(out: Console, out_dir: Path, step: str = "1/4") -> None:
    """Step 1: the default bundle through the same Runner as `edgeemo run`, on the sample clip."""
    from edgeemo.cli.run_cmd import summary
    from edgeemo.daemon.config import parse_config
    from edgeemo.daemon.runner import Runner
    from edgeemo.data.sample_clip import write_sample_clip

    clip = write_sample_clip(out_dir / "sample_clip")
    jsonl = out_dir / "reference_run.jsonl"
    # The publisher appends (right for a service's log); this report must describe this run only.
    jsonl.unlink(missing_ok=True)
    config = parse_config({
        "source": {"uri": str(clip)},
        "publish": {"jsonl": {"enabled": True, "path": str(jsonl), "max_bytes": 0}},
    }, where="edgeemo demo")
    runner = Runner(config)
    try:
        runner.start()
        frames = runner.run(threading.Event())
        runner.flush()
    finally:
        runner.close()
    assert runner.bundle is not None  # noqa: S101 - set by start()
    manifest = runner.bundle.manifest
    entry = runner.bundle.model()
    accuracy = entry.metrics.get("fer2013_test_accuracy")
    stats = summary(runner, frames)
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = Counter(face["label"] for r in records for face in r["faces"])
    with_face = sum(1 for r in records if r["faces"])
    out.print(f"{step} shipped reference model [bold]{manifest.name}[/bold] ({entry.file}"
              + (f", FER-2013 test {100 * accuracy:.1f}%" if accuracy is not None else "")
              + f", flip averaging {'on' if manifest.flip_average else 'off'}"
              + f", smoothing sigma {manifest.preprocess.smoothing_sigma:g} px; see MODEL_CARD.md)")
    out.print(f"    sample clip {clip} ({frames} frames, a public-domain portrait): a face in {with_face}, "
              f"labels {dict(labels.most_common())}")
    ms = cast("dict[str, float]", stats["stage_ms_mean"])
    out.print(f"    {stats['fps']} frames/s end to end; ms per frame: detect {ms.get('detect', 0):.2f}, "
              f"align {ms.get('align', 0):.2f}, classify {ms.get('classify', 0):.2f}; JSON Lines: {jsonl}")
