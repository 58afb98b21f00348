"""Bench statistics and graph/probe helpers: exact numbers on known inputs."""

from __future__ import annotations

import numpy as np
import pytest

from edgeemo.bench.stats import latency_summary, p50_spread_pct, stage_summary


def test_latency_summary_percentiles_and_throughput() -> None:
    ns = np.arange(1, 101) * 1_000_000  # 1..100 ms
    s = latency_summary(ns, batch=4)
    assert s["n"] == 100
    assert s["p50_ms"] == pytest.approx(50.5)
    assert s["p90_ms"] == pytest.approx(90.1)
    assert s["p99_ms"] == pytest.approx(99.01)
    assert s["mean_ms"] == pytest.approx(50.5)
    assert s["min_ms"] == 1.0 and s["max_ms"] == 100.0
    assert s["throughput_ips"] == pytest.approx(4 * 1000 / 50.5)


def test_latency_summary_is_order_independent() -> None:
    rng = np.random.default_rng(0)
    ns = rng.integers(1_000, 5_000_000, size=257)
    assert latency_summary(ns) == latency_summary(rng.permutation(ns))


def test_latency_summary_rejects_empty() -> None:
    with pytest.raises(ValueError, match="at least one"):
        latency_summary([])


def test_p50_spread_is_range_over_median_of_repeat_medians() -> None:
    repeats = [[10_000_000] * 5, [11_000_000] * 5, [12_000_000, 12_000_000, 99_000_000]]
    out = p50_spread_pct(repeats)
    assert out["repeat_p50_ms"] == pytest.approx([10.0, 11.0, 12.0])
    assert out["p50_spread_pct"] == pytest.approx(2 / 11 * 100)


def test_p50_spread_zero_for_identical_repeats() -> None:
    assert p50_spread_pct([[5, 6, 7], [7, 6, 5]])["p50_spread_pct"] == 0.0


def test_stage_summary() -> None:
    s = stage_summary([2_000_000, 4_000_000, 6_000_000])
    assert s["p50_ms"] == pytest.approx(4.0)
    assert s["mean_ms"] == pytest.approx(4.0)
    assert s["p99_ms"] == pytest.approx(5.96)
