"""Latency statistics: percentiles over many runs and the spread of the median across repeats.

Percentiles use numpy's default linear interpolation between order statistics. The spread is
(max - min) / median of the per-repeat medians, in percent: it says how far one run of this
benchmark can move the p50 on this machine, which is the noise floor any comparison must beat.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["latency_summary", "p50_spread_pct", "stage_summary"]

PERCENTILES = (50, 90, 99)


def latency_summary(samples_ns: Sequence[int] | np.ndarray, *, batch: int = 1) -> dict[str, float]:
    """Milliseconds: p50/p90/p99/mean/std/min/max, and throughput in images per second at the mean."""
    ns = np.asarray(samples_ns, dtype=np.float64)
    if ns.size == 0:
        raise ValueError("expected at least one latency sample, received none")
    ms = ns / 1e6
    p50, p90, p99 = np.percentile(ms, PERCENTILES)
    mean = float(ms.mean())
    return {
        "n": int(ms.size),
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
        "mean_ms": mean,
        "std_ms": float(ms.std(ddof=1)) if ms.size > 1 else 0.0,
        "min_ms": float(ms.min()),
        "max_ms": float(ms.max()),
        "throughput_ips": float(batch * 1000.0 / mean) if mean > 0 else float("inf"),
    }


def p50_spread_pct(repeats_ns: Sequence[Sequence[int] | np.ndarray]) -> dict[str, object]:
    """Per-repeat medians (ms) and their spread in percent of the median of medians."""
    medians = [float(np.median(np.asarray(r, dtype=np.float64))) / 1e6 for r in repeats_ns if len(r)]
    if not medians:
        raise ValueError("expected at least one non-empty repeat, received none")
    centre = float(np.median(medians))
    spread = (max(medians) - min(medians)) / centre * 100.0 if centre > 0 else 0.0
    return {"repeat_p50_ms": medians, "p50_spread_pct": float(spread)}


def stage_summary(samples_ns: Sequence[int] | np.ndarray) -> dict[str, float]:
    """Short form for a pipeline stage or pre/post step: p50, p99 and mean in milliseconds."""
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    if ms.size == 0:
        raise ValueError("expected at least one sample, received none")
    p50, p99 = np.percentile(ms, (50, 99))
    return {"n": int(ms.size), "p50_ms": float(p50), "p99_ms": float(p99), "mean_ms": float(ms.mean())}
