"""`edgeemo eyes ROOT`: how well the fatigue app's eye-openness measure separates open from closed
eyes on a folder of real eye patches (ROOT/open, ROOT/closed)."""

from __future__ import annotations

import click

__all__ = ["eyes"]


@click.command("eyes")
@click.argument("root", type=click.Path())
@click.option("--bundle", "bundle", type=click.Path(), default=None,
              help="Bundle with iris_landmark.tflite (default: the bundle shipped with the package).")
@click.option("--json", "json_out", type=click.Path(), default=None,
              help="Write the metrics and every patch's score here (JSON).")
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--flip-average/--no-flip-average", default=True, show_default=True,
              help="Average each patch's reading with its mirror image's, as the app does.")
def eyes(root: str, bundle: str | None, json_out: str | None, threads: int, flip_average: bool) -> None:
    """Score eye patches with the shipped openness measure: ROC AUC, accuracy at the shipped
    closed-eye threshold, and each class's score distribution."""
    from edgeemo.apps.fatigue.config import FatigueConfig
    from edgeemo.apps.fatigue.eyes import score_folders
    from edgeemo.apps.fatigue.landmarks import IrisModel
    from edgeemo.apps.fatigue.models import require_landmark_models
    from edgeemo.daemon.runner import resolve_bundle
    from edgeemo.fileio import write_json

    _, iris_path = require_landmark_models(resolve_bundle(bundle))
    config = FatigueConfig(eye_flip_average="always" if flip_average else "never")
    scores = score_folders(root, IrisModel(iris_path, threads=threads), config)
    report = scores.report()
    click.echo(f"eyes: {report['open']['n']} open, {report['closed']['n']} closed patches from {root}")
    click.echo(f"ROC AUC {report['auc']:.4f}; accuracy {report['accuracy']:.4f} at the shipped closed-eye "
               f"threshold (openness <= {report['threshold']:.4f}): open recall {report['open_recall']:.4f}, "
               f"closed recall {report['closed_recall']:.4f}")
    best = report["best_threshold_on_this_set"]
    click.echo(f"(best threshold on this very set: {best['threshold']:.4f}, accuracy {best['accuracy']:.4f}: optimistic)")
    for name in ("open", "closed"):
        d = report[name]
        click.echo(f"  {name:6s} openness p5 {d['p5']:.3f}  p25 {d['p25']:.3f}  median {d['median']:.3f}  "
                   f"p75 {d['p75']:.3f}  p95 {d['p95']:.3f}")
    if json_out:
        write_json(json_out, report)
        click.echo(f"wrote {json_out}")
