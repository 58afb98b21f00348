"""One PNG per bench run: accuracy vs latency, latency distributions, per-stage bars (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgeemo._lazy import require
from edgeemo.fileio import atomic_path

__all__ = ["plot_result"]


def _first_cells(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells at the first thread count and batch: what the plots compare."""
    cfg = result["config"]
    t0, b0 = cfg["threads"][0], cfg["batches"][0]
    return [r for r in result["results"] if r["threads"] == t0 and r["batch"] == b0]


def plot_result(result: dict[str, Any], path: str | Path) -> Path:
    matplotlib = require("matplotlib", "device")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = _first_cells(result)
    arts = {a["name"]: a for a in result["artifacts"]}
    pipeline = result.get("pipeline")
    has_acc = any((arts[c["artifact"]].get("accuracy") or {}).get("accuracy") is not None for c in cells)
    panels = ["dist", "stages"] + (["acc"] if has_acc else []) + (["pipeline"] if pipeline else [])
    if not cells:
        panels = ["pipeline"] if pipeline else []
    if not panels:
        raise ValueError("expected latency results or a pipeline result to plot, received neither")
    height = max(3.0, 0.35 * len(cells) + 1.5)
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, height * len(panels)), squeeze=False)
    cfg = result["config"]
    where = f"{cfg['threads'][0]} thread(s), batch {cfg['batches'][0]}" if cells else ""
    names = [c["artifact"] for c in cells]
    for ax, panel in zip(axes[:, 0], panels):
        if panel == "dist":
            data = [c["samples_ms"] for c in cells]
            ax.boxplot(data, vert=False, showfliers=True, whis=(1, 99), flierprops={"markersize": 2})
            ax.set_yticks(range(1, len(names) + 1), names)
            ax.set_xlabel("invoke latency (ms); box = p25-p75, whiskers = p1-p99")
            ax.set_title(f"Latency distribution, {where}")
            ax.invert_yaxis()
        elif panel == "stages":
            pre = [c["pre"]["p50_ms"] for c in cells]
            inv = [c["invoke"]["p50_ms"] for c in cells]
            post = [c["post"]["p50_ms"] for c in cells]
            y = range(len(names))
            ax.barh(y, pre, label="pre (normalise, quantize)")
            ax.barh(y, inv, left=pre, label="invoke")
            ax.barh(y, post, left=[a + b for a, b in zip(pre, inv)], label="post (dequantize, softmax)")
            ax.set_yticks(list(y), names)
            ax.invert_yaxis()
            ax.set_xlabel("p50 per stage (ms)")
            ax.set_title(f"Per-stage p50, {where}")
            ax.legend(loc="lower right", fontsize="small")
        elif panel == "acc":
            for c in cells:
                acc = (arts[c["artifact"]].get("accuracy") or {}).get("accuracy")
                if acc is None:
                    continue
                ax.scatter(c["invoke"]["p50_ms"], acc * 100)
                ax.annotate(c["artifact"], (c["invoke"]["p50_ms"], acc * 100), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
            ax.set_xlabel("invoke p50 (ms)")
            ax.set_ylabel("top-1 accuracy (%)")
            ax.set_xscale("log")
            ax.set_title(f"Accuracy vs latency, {where}")
            ax.grid(True, alpha=0.3)
        elif panel == "pipeline" and pipeline:
            stages = pipeline["stages"]
            labels = list(stages)
            p50 = [stages[s]["p50_ms"] for s in labels]
            p99 = [stages[s]["p99_ms"] for s in labels]
            y = range(len(labels))
            ax.barh(y, p99, color="#cccccc", label="p99")
            ax.barh(y, p50, label="p50")
            ax.set_yticks(list(y), labels)
            ax.invert_yaxis()
            ax.set_xlabel("ms per frame")
            ax.set_title(f"Pipeline stages; end-to-end {pipeline['fps']:.1f} FPS")
            ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    out = Path(path)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return out
