"""A quick, fair latency figure for reports: batch 1, runtimes interleaved, median of many invokes.

The full method (percentiles, thread sweeps, memory) lives in `edgeemo bench`; this gives `quantize`
and `evaluate` the one number a report needs, measured side by side in one run.
"""

from __future__ import annotations

import time

import numpy as np

from edgeemo.runtime import Runtime

__all__ = ["median_latency_ms"]


def median_latency_ms(runtimes: dict[str, Runtime], sample: np.ndarray, *, runs: int = 100, warmup: int = 10) -> dict[str, float]:
    """Median milliseconds of predict() on one preprocessed image, per runtime, round-robin."""
    one = np.ascontiguousarray(sample[:1], dtype=np.float32)
    for rt in runtimes.values():
        for _ in range(warmup):
            rt.predict(one)
    times: dict[str, list[int]] = {name: [] for name in runtimes}
    for _ in range(runs):
        for name, rt in runtimes.items():
            t0 = time.perf_counter_ns()
            rt.predict(one)
            times[name].append(time.perf_counter_ns() - t0)
    return {name: round(float(np.median(ts)) / 1e6, 4) for name, ts in times.items()}
