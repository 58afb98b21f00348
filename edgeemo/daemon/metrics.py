"""Counters and per-stage latency histograms, kept in plain Python so the frame loop pays
microseconds, and exported to Prometheus only when /metrics is scraped."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterator
from typing import Any

from edgeemo.daemon.capture import CaptureStats

__all__ = ["LATENCY_BUCKETS_S", "Metrics", "StageHistogram"]

# Seconds; fine at the low end, where detection and classification live on a Pi 5.
LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0,
)
STAGES = ("decode", "detect", "align", "classify", "track", "publish", "loop")


class StageHistogram:
    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS_S) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.count += 1
        self.sum += seconds

    def cumulative(self) -> list[tuple[str, int]]:
        out, acc = [], 0
        for bound, n in zip(self.buckets, self.counts, strict=False):
            acc += n
            out.append((repr(bound), acc))
        out.append(("+Inf", self.count))
        return out

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else 0.0


class Metrics:
    """Everything /status, /metrics and --show-metrics report, for one pipeline run."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.stages = {name: StageHistogram() for name in STAGES}
        self.frames = 0
        self.faces_total = 0
        self.faces_current = 0
        self.publish_errors = 0
        self.fps = 0.0  # exponential moving average of the loop rate
        self._last_t: float | None = None
        self.capture: CaptureStats | None = None
        self.extra: dict[str, float] = {}  # publisher gauges, e.g. mqtt buffer size
        # The application layer: gauges per (app, signal), events per (app, type), failures per app.
        self.app_gauges: dict[tuple[str, str], float] = {}
        self.app_events: dict[tuple[str, str], int] = {}
        self.app_errors: dict[str, int] = {}
        self.lock = threading.Lock()

    def record_frame(self, timings: dict[str, float], faces: int) -> None:
        with self.lock:
            for name, seconds in timings.items():
                hist = self.stages.get(name)
                if hist is None:  # a stage an application added (e.g. landmarks)
                    hist = self.stages[name] = StageHistogram()
                hist.observe(seconds)
            self.frames += 1
            self.faces_total += faces
            self.faces_current = faces
            now = time.monotonic()
            if self._last_t is not None:
                dt = now - self._last_t
                if dt > 0:
                    self.fps = 1.0 / dt if self.fps == 0.0 else 0.9 * self.fps + 0.1 / dt
            self._last_t = now

    def record_app(self, app: str, gauges: dict[str, float], events: list[str]) -> None:
        with self.lock:
            for key, value in gauges.items():
                self.app_gauges[(app, key)] = float(value)
            for kind in events:
                self.app_events[(app, kind)] = self.app_events.get((app, kind), 0) + 1

    def record_app_error(self, app: str) -> int:
        with self.lock:
            self.app_errors[app] = self.app_errors.get(app, 0) + 1
            return self.app_errors[app]

    def stage_share(self) -> dict[str, float]:
        """Fraction of the loop time each stage took (decode runs in the capture thread)."""
        loop = self.stages["loop"].sum
        return {n: (h.sum / loop if loop else 0.0) for n, h in self.stages.items() if n != "loop"}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            cap = self.capture
            elapsed = time.monotonic() - self.started
            return {
                "uptime_s": round(elapsed, 3),
                "frames": self.frames,
                "fps": round(self.fps, 2),
                "fps_mean": round(self.frames / elapsed, 2) if elapsed > 0 else 0.0,
                "faces": self.faces_current,
                "faces_total": self.faces_total,
                "publish_errors": self.publish_errors,
                "stage_ms_mean": {n: round(h.mean * 1000, 3) for n, h in self.stages.items()},
                "source": None if cap is None else {
                    "state": cap.state, "frames": cap.frames, "dropped": cap.dropped,
                    "reconnects": cap.reconnects, "stalls": cap.stalls,
                    "open_failures": cap.open_failures, "read_failures": cap.read_failures,
                    "last_error": cap.last_error,
                },
                **({"extra": dict(self.extra)} if self.extra else {}),
                **({"app_errors": dict(self.app_errors)} if self.app_errors else {}),
            }

    # -- Prometheus ----------------------------------------------------------------------------
    def collect(self) -> Iterator[Any]:
        """prometheus_client custom-collector protocol; imported lazily (device extra)."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        with self.lock:
            yield GaugeMetricFamily("edgeemo_fps", "Frames per second through the pipeline (moving average)", self.fps)
            yield CounterMetricFamily("edgeemo_frames", "Frames processed", self.frames)
            yield GaugeMetricFamily("edgeemo_faces", "Faces in the last processed frame", self.faces_current)
            yield CounterMetricFamily("edgeemo_faces_detected", "Faces seen, summed over frames", self.faces_total)
            yield CounterMetricFamily("edgeemo_publish_errors", "Publisher calls that raised", self.publish_errors)
            h = HistogramMetricFamily("edgeemo_stage_latency_seconds", "Per-stage latency", labels=["stage"])
            for name, hist in self.stages.items():
                h.add_metric([name], hist.cumulative(), hist.sum)
            yield h
            cap = self.capture
            if cap is not None:
                yield CounterMetricFamily("edgeemo_source_frames", "Frames read from the source", cap.frames)
                yield CounterMetricFamily("edgeemo_dropped_frames", "Frames overwritten before processing", cap.dropped)
                yield CounterMetricFamily("edgeemo_source_reconnects", "Successful source reconnects", cap.reconnects)
                yield CounterMetricFamily("edgeemo_source_stalls", "Times no frame came within the stall timeout", cap.stalls)
                yield CounterMetricFamily("edgeemo_source_read_failures", "Failed source reads", cap.read_failures)
                yield CounterMetricFamily("edgeemo_source_open_failures", "Failed source opens", cap.open_failures)
                up = GaugeMetricFamily("edgeemo_source_up", "1 while the source delivers frames", labels=[])
                up.add_metric([], 1.0 if cap.state in ("running", "ended") else 0.0)
                yield up
            for key, value in self.extra.items():
                yield GaugeMetricFamily(f"edgeemo_{key}", key.replace("_", " "), value)
            for (app, key), value in self.app_gauges.items():
                yield GaugeMetricFamily(f"edgeemo_{app}_{key}", f"{app}: {key.replace('_', ' ')}", value)
            if self.app_events or self.app_errors:
                ev = CounterMetricFamily("edgeemo_app_events", "Events the applications emitted", labels=["app", "type"])
                for (app, kind), n in self.app_events.items():
                    ev.add_metric([app, kind], n)
                yield ev
                err = CounterMetricFamily("edgeemo_app_errors", "Frames an application failed on", labels=["app"])
                for app, n in self.app_errors.items():
                    err.add_metric([app], n)
                yield err
