"""`edgeemo models`: the zoo with parameters, MACs and the expected int8 size."""

from __future__ import annotations

import click

from edgeemo.cli._options import console

__all__ = ["models"]


@click.command()
@click.option("--input-size", type=int, default=48, show_default=True)
@click.option("--channels", type=click.Choice(["1", "3"]), default="1", show_default=True)
def models(input_size: int, channels: str) -> None:
    """List the zoo models."""
    from rich.table import Table

    from edgeemo.bundle import default_bundle_path, load_bundle, reference_model_path
    from edgeemo.models import ZOO, count_macs, count_params

    table = Table(title=f"edgeemo model zoo ({input_size}x{input_size}x{channels}, 7 classes)")
    for col in ("name", "params", "MMACs", "int8 size KB (est.)", "fp32 size KB (est.)", "summary"):
        table.add_column(col, justify="left" if col in ("name", "summary") else "right")
    for name, entry in ZOO.items():
        model = entry.build((input_size, input_size, int(channels)), 7)
        params = count_params(model)
        # One byte per int8 weight plus flatbuffer overhead; four for fp32 (BatchNorm folds into convs).
        table.add_row(name, f"{params:,}", f"{count_macs(model) / 1e6:.1f}", f"{params / 1024 + 12:.0f}",
                      f"{4 * params / 1024 + 8:.0f}", entry.summary)
    out = console()
    out.print(table)
    bundle_path = default_bundle_path()
    if bundle_path is not None:
        bundle = load_bundle(bundle_path, verify=False)
        source = bundle.manifest.source
        accuracy = bundle.model().metrics.get("fer2013_test_accuracy")
        out.print(f"Shipped reference model ({source.get('train_model', '?')}"
                  + (f", FER-2013 test {100 * accuracy:.1f}% int8" if accuracy is not None else "") + "; MODEL_CARD.md):")
        # soft_wrap: a long path stays on one line, so it can be copied.
        out.print(f"  default bundle: {bundle_path}", soft_wrap=True)
        float_model = reference_model_path()
        if float_model is not None:
            out.print(f"  float model:    {float_model}   (fine-tune it: edgeemo train --init-from reference)", soft_wrap=True)
