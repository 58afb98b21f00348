"""Evaluate artifacts on the same images and write JSON + Markdown + confusion-matrix PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.data import LabeledImages
from edgeemo.evaluation.metrics import agreement_metrics, classification_metrics
from edgeemo.fileio import write_json, write_text
from edgeemo.preprocess import PreprocessSpec
from edgeemo.runtime import Runtime

__all__ = ["evaluate_runtimes", "render_markdown", "write_report"]


def evaluate_runtimes(
    runtimes: dict[str, Runtime],
    data: LabeledImages,
    spec: PreprocessSpec,
    *,
    reference: str | None = None,
    sizes: dict[str, int] | None = None,
    batch_size: int = 256,
    flip_average: bool = False,
) -> dict[str, dict[str, Any]]:
    """Metrics per runtime name; with `reference`, drop in pp and agreement against that runtime.

    flip_average: score each image as the mean over it and its mirror image.
    """
    x = spec.normalize(data.images)
    probs: dict[str, np.ndarray] = {}
    results: dict[str, dict[str, Any]] = {}
    for name, rt in runtimes.items():
        probs[name] = np.concatenate([rt.predict_proba(x[i : i + batch_size], flip_average=flip_average) for i in range(0, len(x), batch_size)])
        metrics = classification_metrics(data.labels, probs[name], data.class_names, no_face=data.no_face)
        metrics["file"] = str(rt.path)
        if sizes and name in sizes:
            metrics["size_bytes"] = sizes[name]
        results[name] = metrics
    if reference is not None and reference in results:
        ref_acc = results[reference]["accuracy"]
        for name, metrics in results.items():
            metrics["drop_pp"] = round(100.0 * (ref_acc - metrics["accuracy"]), 3)
            metrics.update({k: round(v, 5) for k, v in agreement_metrics(probs[name], probs[reference]).items()})
    return results


def render_markdown(title: str, results: dict[str, dict[str, Any]], class_names: list[str], notes: list[str]) -> str:
    lines = [f"# {title}", ""]
    lines += [f"- {n}" for n in notes]
    lines += ["", "| artifact | size KB | top-1 % | macro-F1 | drop pp | agreement % | mean abs dp | latency ms (1 thr, b1) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, m in results.items():
        size = f"{m['size_bytes'] / 1024:.1f}" if "size_bytes" in m else "-"
        lines.append(
            f"| {name} | {size} | {100 * m['accuracy']:.2f} | {m['macro_f1']:.3f} | {m.get('drop_pp', 0.0):+.2f} | "
            f"{100 * m.get('agreement', 1.0):.1f} | {m.get('mean_abs_prob_diff', 0.0):.4f} | {m.get('latency_ms', '-')} |"
        )
    lines += ["", "Per-class recall (%):", "", "| artifact | " + " | ".join(class_names) + " | macro |",
              "|---|" + "---:|" * (len(class_names) + 1)]
    for name, m in results.items():
        recalls = " | ".join(f"{100 * m['per_class_recall'][c]:.1f}" for c in class_names)
        lines.append(f"| {name} | {recalls} | {100 * m.get('macro_recall', 0.0):.1f} |")
    lines += ["", "Confusion matrices: confusion_<artifact>.png (rows: true class, row-normalised)."]
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path, title: str, results: dict[str, dict[str, Any]], class_names: list[str],
                 notes: list[str], extra: dict[str, Any] | None = None) -> dict[str, Path]:
    from edgeemo.plots import plot_confusion

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": write_json(out_dir / "report.json", {"title": title, "notes": notes, **(extra or {}), "artifacts": results}),
             "md": write_text(out_dir / "report.md", render_markdown(title, results, class_names, notes))}
    for name, m in results.items():
        acc = 100 * m["accuracy"]
        paths[f"png:{name}"] = plot_confusion(np.array(m["confusion"]), class_names, f"{name}: top-1 {acc:.1f}%",
                                              out_dir / f"confusion_{name}.png")
    return paths
