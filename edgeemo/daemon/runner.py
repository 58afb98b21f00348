"""Build everything a ServiceConfig describes and run the frame loop.

Shared by `edgeemo run` (foreground) and `edgeemo daemon` (systemd): the same loop, the same
stages, so what a user tries at the terminal is what the service does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edgeemo.apps.appset import AppSet
from edgeemo.apps.base import Analyzer, AppContext
from edgeemo.apps.registry import build_analyzers
from edgeemo.bundle import Bundle, default_bundle_path, load_bundle
from edgeemo.daemon.capture import FrameGrabber
from edgeemo.daemon.config import ServiceConfig
from edgeemo.daemon.control import Controls
from edgeemo.daemon.metrics import Metrics
from edgeemo.daemon.pipeline import Pipeline
from edgeemo.daemon.publishers import Publisher, PublisherSet
from edgeemo.daemon.sources import CameraSource, open_source
from edgeemo.errors import BundleError, ModelError
from edgeemo.runtime.choose import ModelChoice
from edgeemo.vision.base import FaceDetector, open_detector
from edgeemo.vision.schedule import DetectionSchedule
from edgeemo.vision.tracking import IoUTracker

__all__ = ["Runner", "build_pipeline", "build_publishers", "resolve_bundle"]

log = logging.getLogger(__name__)


def resolve_bundle(path: str | Path | None) -> Bundle:
    """The bundle at `path`, or the default one shipped in the package; sha256 verified."""
    if path is None:
        default = default_bundle_path()
        if default is None:
            raise BundleError(
                "expected --bundle PATH (or bundle.path in the config): this installation ships no default bundle"
            )
        path = default
    return load_bundle(path, verify=True)


def build_pipeline(config: ServiceConfig, bundle: Bundle, *, detector: FaceDetector | None = None) -> Pipeline:
    from edgeemo.runtime.choose import open_bundle_model

    bc, dc, tc = config.bundle, config.detector, config.tracking
    flip_average = bundle.manifest.flip_average if bc.flip_average is None else bc.flip_average
    choice, runtime = open_bundle_model(bundle, bc.model, threads=bc.threads, providers=bc.providers,
                                        flip_average=flip_average, budget_s=bc.auto_budget_s,
                                        max_drop_pp=bc.auto_max_drop_pp,
                                        runtime_options={"trt_cache_dir": bc.tensorrt_cache_dir,
                                                         "trt_fp16": bc.tensorrt_fp16})
    if tuple(runtime.input_shape) != tuple(bundle.preprocess.input_shape):
        raise ModelError(
            f"expected the model input {bundle.preprocess.input_shape} that the bundle's PreprocessSpec "
            f"describes, received a model taking {runtime.input_shape}"
        )
    if runtime.num_classes != len(bundle.labels):
        raise ModelError(f"expected {len(bundle.labels)} outputs (the bundle's labels), received {runtime.num_classes}")
    if detector is None:
        model = dc.model
        if model is None and dc.kind in ("auto", "blazeface"):
            model = str(bundle.detector_path) if bundle.detector_path else None
        detector = open_detector(
            dc.kind, model_path=model, min_score=dc.min_score, max_faces=dc.max_faces,
            threads=bc.threads, detect_width=dc.detect_width,
        )
    tracker = IoUTracker(
        iou_threshold=tc.iou_threshold, max_missed=tc.max_missed, alpha=tc.ema_alpha,
        margin=tc.hysteresis, hold=tc.hold_frames,
    )
    return Pipeline(detector, runtime, bundle.preprocess, bundle.labels, tracker, max_faces=dc.max_faces,
                    min_face_px=dc.min_face_px, flip_average=flip_average, model_choice=choice,
                    schedule=DetectionSchedule(dc.schedule, dc.every, dc.roi_margin))


def build_publishers(
    config: ServiceConfig, info: dict[str, Any] | None = None, analyzers: Sequence[Analyzer] = (),
    controls: Controls | None = None,
) -> list[Publisher]:
    pc = config.publish
    out: list[Publisher] = []
    if pc.jsonl.enabled:
        from edgeemo.daemon.publish_jsonl import JsonlPublisher

        out.append(JsonlPublisher(pc.jsonl))
    if pc.mqtt.enabled:
        from edgeemo.daemon.publish_mqtt import MqttPublisher

        out.append(MqttPublisher(pc.mqtt, analyzers=analyzers, controls=controls))
    if pc.http.enabled:
        from edgeemo.daemon.publish_http import HttpPublisher

        out.append(HttpPublisher(pc.http, info=info))
    return out


class Runner:
    """Owns one configured pipeline: start() loads and warms up, run() loops, close() flushes."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        source: CameraSource | None = None,
        detector: FaceDetector | None = None,
        publishers: Sequence[Publisher] | None = None,
        analyzers: Sequence[Analyzer] | None = None,
        controls: Controls | None = None,
    ) -> None:
        self.config = config
        # Outlives a reload when the caller keeps it (the daemon does): analysis off stays off.
        self.controls = controls or Controls()
        self._source = source
        self._detector = detector
        self._extra_publishers = list(publishers or [])
        self._extra_analyzers = list(analyzers or [])
        self.metrics = Metrics()
        self.bundle: Bundle | None = None
        self.pipeline: Pipeline | None = None
        self.grabber: FrameGrabber | None = None
        self._source_in_use: CameraSource | None = None
        self.publishers: PublisherSet | None = None
        self.apps: AppSet | None = None

    def start(self) -> Runner:
        """Load the bundle (sha256 checked), build and warm up the stages, start capture and
        publishers. When this returns the service is ready: the caller sends READY=1."""
        cfg = self.config
        sc = cfg.source
        source = self._source or open_source(
            sc.uri, width=sc.width, height=sc.height, fps=sc.fps, pixel_format=sc.format,
            loop=sc.loop, read_timeout_s=sc.read_timeout_s,
        )
        # A missing package or backend is a configuration error: said before the slow loading.
        source.check()
        self.bundle = resolve_bundle(cfg.bundle.path)
        self.pipeline = build_pipeline(cfg, self.bundle, detector=self._detector)
        context = AppContext(bundle=self.bundle, labels=self.bundle.labels, threads=cfg.bundle.threads)
        self.apps = AppSet(build_analyzers(cfg.apps, context) + self._extra_analyzers, self.metrics)
        self.pipeline.warm_up(sc.width or 640, sc.height or 480)
        self.apps.warm_up()
        choice = self.pipeline.model_choice or ModelChoice(self.bundle.model(cfg.bundle.model).file, "fixed", "")
        info = {
            "bundle": str(self.bundle.root), "model": choice.file, "model_choice": choice.to_json(),
            "labels": self.bundle.labels, "source": source.describe(),
            "detector": type(self.pipeline.detector).__name__, "apps": self.apps.names,
        }
        self.info = info
        pubs = build_publishers(cfg, info, self.apps.analyzers, self.controls) + self._extra_publishers
        self.publishers = PublisherSet(pubs, self.metrics)
        self.publishers.start()
        self._source_in_use = source
        if self.controls.analysis:
            self._start_capture().wait_open()
        return self

    def _start_capture(self) -> FrameGrabber:
        if self._source_in_use is None:
            raise RuntimeError("Runner.start() opens the source; call it first")
        sc = self.config.source
        self.grabber = FrameGrabber(
            self._source_in_use, stall_timeout_s=sc.stall_timeout_s, backoff_initial_s=sc.reconnect_initial_s,
            backoff_max_s=sc.reconnect_max_s, start_timeout_s=sc.start_timeout_s,
        )
        self.metrics.capture = self.grabber.stats
        self.grabber.start()
        return self.grabber

    def _idle(self, stop: threading.Event, reload: threading.Event | None, on_tick: Callable[[], Any] | None) -> bool:
        """Analysis off: the camera closed, no model runs, the watchdog still fed. Returns True
        once analysis is on again and capture restarted; False when stopping or reloading."""
        if self.grabber is not None:
            self.grabber.stop()
            self.grabber.stats.state = "paused"
        with self.metrics.lock:
            self.metrics.fps = 0.0
        log.info("analysis off: camera closed, models idle")
        while not self.controls.analysis:
            if stop.is_set() or (reload is not None and reload.is_set()):
                return False
            if on_tick is not None:
                on_tick()
            self.controls.wait_for_analysis(True, 0.5)
        if self.pipeline is not None:
            self.pipeline.tracker.reset()  # the faces it tracked are long gone
        self._start_capture()
        log.info("analysis on: camera reopened")
        return True

    def run(
        self,
        stop: threading.Event,
        *,
        reload: threading.Event | None = None,
        on_tick: Callable[[], Any] | None = None,
        max_frames: int | None = None,
    ) -> int:
        """Process frames until `stop` (or `reload`) is set, a finite source ends, or
        `max_frames` frames were processed. Returns the number processed."""
        assert self.pipeline and self.publishers and self.apps, "start() first"  # noqa: S101
        pipeline, pubs, metrics, apps = self.pipeline, self.publishers, self.metrics, self.apps
        min_period = 1.0 / self.config.max_fps if self.config.max_fps > 0 else 0.0
        n = 0
        self.t_first: float | None = None
        while not stop.is_set() and not (reload is not None and reload.is_set()):
            if on_tick is not None:
                on_tick()
            if not self.controls.analysis or self.grabber is None:
                if not self._idle(stop, reload, on_tick):
                    break
                continue
            grabber = self.grabber
            frame = grabber.get(timeout=0.5)
            if frame is None:
                if grabber.fatal is not None:
                    raise grabber.fatal
                if grabber.ended:
                    break
                continue
            t0 = time.perf_counter()
            if self.t_first is None:
                self.t_first = t0
            result = pipeline.process(frame.image, index=frame.index, wall_time=frame.wall_time)
            result.timings["decode"] = frame.decode_s
            apps.update(result, frame.t_capture, frame.image)
            t1 = time.perf_counter()
            pubs.publish(result, frame.image if pubs.wants_image else None)
            t2 = time.perf_counter()
            result.timings["publish"] = t2 - t1
            result.timings["loop"] = t2 - t0
            metrics.record_frame(result.timings, len(result.faces))
            n += 1
            if max_frames is not None and n >= max_frames:
                break
            if min_period:
                spare = min_period - (time.perf_counter() - t0)
                if spare > 0:
                    stop.wait(spare)
        self.t_last = time.perf_counter()
        return n

    def flush(self) -> None:
        if self.publishers is not None:
            self.publishers.flush()

    def close(self) -> None:
        if self.grabber is not None:
            self.grabber.stop()
        if self.publishers is not None:
            self.publishers.close()
        if self.apps is not None:
            self.apps.close()
        if self.pipeline is not None:
            self.pipeline.close()

    def __enter__(self) -> Runner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
