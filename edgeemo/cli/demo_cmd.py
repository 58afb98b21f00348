"""`edgeemo demo`: the whole workstation path on the built-in synthetic demo set, in a few minutes.

Generate drawn demo faces -> train a zoo model -> quantize to TFLite/ONNX (fp32..int8) -> verify ->
evaluate -> report -> bundle. No dataset download, no internet. The numbers describe the demo set,
not real faces: use `edgeemo train --data fer2013/` for a real model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edgeemo.cli._options import console

__all__ = ["demo"]


@click.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("demo-run"), show_default=True)
@click.option("--model", "model_name", default="mini_xception", show_default=True, help="Zoo model to train.")
@click.option("--epochs", type=click.IntRange(1), default=10, show_default=True)
@click.option("--per-class", type=click.IntRange(20), default=300, show_default=True, help="Training images per class.")
@click.option("--target", default="generic-cpu", show_default=True, help="Quantization recipe.")
@click.option("--seed", type=int, default=0, show_default=True)
def demo(out_dir: Path, model_name: str, epochs: int, per_class: int, target: str, seed: int) -> None:
    """Run train -> quantize -> evaluate -> bundle on generated demo faces."""
    from edgeemo.cli.quantize_cmd import print_summary
    from edgeemo.data.demo import DEMO_NOTICE, write_demo_dataset
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.recipes import load_recipe
    from edgeemo.training import TrainConfig, train

    out = console()
    out.rule("edgeemo demo")
    out.print(f"[bold]DEMO:[/bold] {DEMO_NOTICE}")
    data_root = out_dir / "data"
    with out.status("generating the demo dataset"):
        write_demo_dataset(data_root, train_per_class=per_class, test_per_class=max(20, per_class // 5), seed=seed)
    out.print(f"1/3 demo dataset: {data_root} (train/ and test/, 7 emotions)")

    # The drawn faces already vary in pose, scale and lighting; extra augmentation only slows a short run.
    config = TrainConfig(data=str(data_root), model=model_name, epochs=epochs, warmup_epochs=1, patience=epochs,
                         learning_rate=3e-3, augment=False, seed=seed, demo=True)
    out.print(f"2/3 training {model_name} for {epochs} epochs")
    result = train(config, out_dir / "train", verbose=1 if sys.stdout.isatty() else 2)
    out.print(f"    best validation accuracy {100 * result.best_val_accuracy:.1f}% "
              f"({result.seconds_per_epoch:.1f} s/epoch); curves: {out_dir / 'train' / 'curves.png'}")

    out.print("3/3 quantizing, verifying and evaluating every artifact on the demo test split")
    job = QuantizeJob(model=Path(result.best_model), out_dir=out_dir / "quantized", calib=data_root,
                      recipe=load_recipe(target), eval_data=data_root, eval_split="test")
    with out.status("quantizing") as status:
        quantized = run_quantize(job, progress=lambda msg: status.update(msg))
    print_summary(out, quantized)
    out.print(f"\nNext: run the bundle on a video with `edgeemo run --bundle {quantized.bundle} --source VIDEO`, "
              "or train on FER-2013 with `edgeemo train --data PATH/fer2013 --model accurate --out runs/accurate`.")
