"""What `--model auto` would pick on this machine for each bundle the bench measured.

The same rule the device applies at start-up (edgeemo.runtime.choose.select_model), fed with the
bench's own interleaved p50s (normalise + invoke + dequantize, batch 1) instead of the device's
short warm-up timing, so the table and the choice can be read side by side.
"""

from __future__ import annotations

from typing import Any

from edgeemo.bench.targets import Target
from edgeemo.runtime.choose import DEFAULT_MAX_DROP_PP, recorded_accuracy_pp, select_model

__all__ = ["auto_choices"]


def auto_choices(targets: list[Target], results: list[dict[str, Any]], *,
                 max_drop_pp: float = DEFAULT_MAX_DROP_PP) -> list[dict[str, Any]]:
    """One entry per bundle with several runnable models, per thread count timed at batch 1."""
    by_group: dict[str, list[Target]] = {}
    for t in targets:
        if t.source == "bundle" and t.runtime != "keras":
            by_group.setdefault(t.group, []).append(t)
    out = []
    for group, members in by_group.items():
        if len(members) < 2:
            continue
        names = {t.name: t for t in members}
        for threads in sorted({r["threads"] for r in results}):
            timings = {names[r["artifact"]].path.name: float(r["end_to_end_p50_ms"]) for r in results
                       if r["artifact"] in names and r["threads"] == threads and r["batch"] == 1}
            if len(timings) < 2:
                continue
            accuracy = recorded_accuracy_pp({t.path.name: t.manifest_metrics for t in members
                                             if t.path.name in timings})
            file, eligible, reason = select_model(timings, accuracy, max_drop_pp)
            out.append({"bundle": group, "threads": threads, "batch": 1, "model": file, "eligible": eligible,
                        "max_drop_pp": max_drop_pp, "timings_ms": timings, "accuracy_pp": accuracy,
                        "reason": reason})
    return out
