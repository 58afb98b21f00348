"""`edgeemo bench`: latency, memory and accuracy of artifacts side by side, or the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import click

from edgeemo.errors import ConfigError

__all__ = ["bench"]


def _int_list(value: str, option: str) -> list[int]:
    try:
        items = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        items = []
    if not items or any(v < 1 for v in items):
        raise ConfigError(f"expected {option} as comma-separated positive integers like 1,2,4, received {value!r}")
    return items


def _app_options(values: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """--app fatigue:track_landmarks=false,min_presence=0.6 -> {"fatigue": {...}} (the config
    model validates and converts the values)."""
    out: dict[str, dict[str, str]] = {}
    for value in values:
        name, _, rest = value.partition(":")
        opts: dict[str, str] = {}
        for item in filter(None, rest.split(",")):
            key, eq, val = item.partition("=")
            if not eq or not key:
                raise ConfigError(f"expected --app NAME or NAME:KEY=VALUE,..., received {value!r}")
            opts[key.strip()] = val.strip()
        out[name.strip()] = opts
    return out


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("artifacts", nargs=-1, type=click.Path(path_type=Path))
@click.option("--threads", default="1", show_default=True, help="Thread counts, e.g. 1,2,4.")
@click.option("--batch", "batches", default="1", show_default=True, help="Batch sizes, e.g. 1,8.")
@click.option("--runs", default=200, show_default=True, help="Timed runs per artifact, thread count and batch.")
@click.option("--warmup", default=20, show_default=True, help="Untimed runs before timing.")
@click.option("--repeats", default=5, show_default=True, help="Interleaved repeats the runs are split into (p50 spread).")
@click.option("--data", type=click.Path(path_type=Path), help="Dataset root: real faces as inputs, plus accuracy.")
@click.option("--split", default="test", show_default=True, help="Dataset split with --data.")
@click.option("--limit-per-class", type=int, help="Accuracy on at most this many images per class (quick runs).")
@click.option("--spec", "spec_path", type=click.Path(path_type=Path), help="spec.json (preprocess + labels) for bare model files.")
@click.option("--no-memory", is_flag=True, help="Skip the fresh-process peak-RSS probe.")
@click.option("--no-peak", is_flag=True, help="Skip the matrix-product peak probe.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Write the full result as JSON.")
@click.option("--md", "md_out", type=click.Path(path_type=Path), help="Write a Markdown report.")
@click.option("--plot", "plot_out", type=click.Path(path_type=Path), help="Write PNG plots.")
@click.option("--compare", nargs=2, type=click.Path(path_type=Path), help="Print two bench JSON files side by side.")
@click.option("--pipeline", is_flag=True, help="Time the daemon pipeline stages on --source with --bundle.")
@click.option("--bundle", "bundle_path", type=click.Path(path_type=Path), help="Bundle for --pipeline.")
@click.option("--source", help="Video file, camera or fake:WxH*N for --pipeline.")
@click.option("--frames", default=300, show_default=True, help="Frames to time in --pipeline mode.")
@click.option("--detector", default="auto", show_default=True, help="Face detector for --pipeline.")
@click.option("--app", "apps", multiple=True,
              help="Run an application in --pipeline (repeatable): NAME or NAME:KEY=VALUE,KEY=VALUE "
                   "(its [apps.NAME] options, e.g. fatigue:track_landmarks=false).")
@click.option("--detect-schedule", type=click.Choice(["every_frame", "interval", "roi"]), default="interval",
              show_default=True, help="--pipeline: when the face detector searches the whole frame (see [detector] schedule).")
@click.option("--detect-every", type=click.IntRange(1, 300), default=3, show_default=True,
              help="--pipeline: whole-frame detection at least every N frames while faces are tracked.")
@click.option("--model", "model", default=None,
              help="Model file in --bundle for --pipeline, or 'auto' (default: auto for a bundle of several models).")
def bench(
    artifacts: tuple[Path, ...], threads: str, batches: str, runs: int, warmup: int, repeats: int,
    data: Path | None, split: str, limit_per_class: int | None, spec_path: Path | None, no_memory: bool,
    no_peak: bool, json_out: Path | None, md_out: Path | None, plot_out: Path | None,
    compare: tuple[Path, Path] | None, pipeline: bool, bundle_path: Path | None, source: str | None,
    frames: int, detector: str, apps: tuple[str, ...], detect_schedule: str, detect_every: int, model: str | None,
) -> None:
    """Benchmark ARTIFACT_OR_BUNDLE... (bundles, .tflite/.onnx/.keras files, folders of them, or
    peer-model spec .json files) on the same inputs, interleaved, at each thread count and batch."""
    from edgeemo.bench import report

    console = report.make_console()

    def say(msg: str) -> None:
        console.print(f"[dim]{msg}[/]")

    if compare:
        a, b = (report.load_result(p) for p in compare)
        report.print_compare(a, b, (str(compare[0]), str(compare[1])), console=console)
        return
    thread_list = _int_list(threads, "--threads")
    result: dict
    if pipeline:
        if bundle_path is None or not source:
            raise ConfigError("expected --bundle and --source with --pipeline, received "
                              f"bundle={bundle_path} source={source!r}")
        from edgeemo.bench.machine import machine_info
        from edgeemo.bench.pipeline import pipeline_markdown, run_pipeline_bench
        from edgeemo.bench.runner import BENCH_FORMAT

        p = run_pipeline_bench(bundle_path, source, threads=thread_list[0], frames=frames, warmup=warmup,
                               detector=detector, apps=_app_options(apps), model=model, schedule=detect_schedule,
                               every=detect_every, say=say)
        result = {"format": BENCH_FORMAT, "machine": machine_info(), "pipeline": p, "artifacts": [],
                  "results": [], "peaks": [], "config": {"threads": thread_list[:1], "batches": [1]}}
        console.print(pipeline_markdown(p))
    else:
        if not artifacts:
            raise ConfigError("expected at least one ARTIFACT_OR_BUNDLE (or --compare A.json B.json, or --pipeline), "
                              "received none")
        from edgeemo.bench.runner import BenchConfig, run_bench

        config = BenchConfig(
            threads=thread_list, batches=_int_list(batches, "--batch"), runs=runs, warmup=warmup, repeats=repeats,
            data=data, split=split, limit_per_class=limit_per_class, spec_path=spec_path,
            memory=not no_memory, peak=not no_peak,
        )
        result = run_bench([str(a) for a in artifacts], config, say=say)
        report.print_table(result, console=console)
    plot_names = []
    if plot_out:
        from edgeemo.bench.plots import plot_result

        plot_result(result, plot_out)
        plot_names.append(plot_out.name)
        console.print(f"wrote {plot_out}")
    if json_out:
        report.save_json(result, json_out)
        console.print(f"wrote {json_out}")
    if md_out:
        if pipeline:
            from edgeemo.fileio import write_text

            write_text(md_out, pipeline_markdown(result["pipeline"]))
        else:
            report.save_markdown(result, md_out, plot_names=plot_names)
        console.print(f"wrote {md_out}")
