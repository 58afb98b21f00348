"""The `edgeemo` command: a click group whose subcommands load lazily, one module per command.

Lazy loading keeps `edgeemo --help` fast and keeps TensorFlow out of device-side commands.
Every EdgeEmoError becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import Any

import click

from edgeemo import __version__
from edgeemo.errors import EdgeEmoError

__all__ = ["main", "cli"]

# command name -> (module, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("edgeemo.cli.demo_cmd", "demo", "Run the whole host path on the built-in synthetic demo set."),
    "models": ("edgeemo.cli.models_cmd", "models", "List the model zoo: parameters, MACs, int8 size."),
    "train": ("edgeemo.cli.train_cmd", "train", "Train a zoo model on a FER-2013-style dataset."),
    "quantize": ("edgeemo.cli.quantize_cmd", "quantize", "Convert and quantize a Keras model; verify, report, bundle."),
    "evaluate": ("edgeemo.cli.evaluate_cmd", "evaluate", "Evaluate artifacts on a dataset split."),
    "bench": ("edgeemo.cli.bench_cmd", "bench", "Benchmark latency, memory and accuracy of artifacts or the pipeline."),
    "run": ("edgeemo.cli.run_cmd", "run", "Run camera -> face -> emotion -> publish in the foreground."),
    "daemon": ("edgeemo.cli.daemon_cmd", "daemon", "Run the service (systemd Type=notify) from a TOML config."),
    "eyes": ("edgeemo.cli.eyes_cmd", "eyes", "Score open/closed eye patches with the fatigue app's openness measure."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (mod, _, _) in COMMANDS.items() if importlib.util.find_spec(mod) is not None]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        if importlib.util.find_spec(module) is None:
            return None
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EdgeEmoError as exc:
            click.echo(f"edgeemo: error: {exc}", err=True)
            ctx.exit(2)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help straight from the table, so `--help` imports no command module.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgeemo")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """edgeemo: facial emotion recognition from the workstation to the edge."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from edgeemo._lazy import set_opencv_log_level

    # OpenCV writes its own lines to stderr between edgeemo's (twice per failed camera open);
    # edgeemo's messages already say what failed, so they show only when asked for.
    set_opencv_log_level(("silent", "warning", "info")[min(verbose, 2)])


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="edgeemo")
