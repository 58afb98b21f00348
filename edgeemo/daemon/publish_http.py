"""HTTP endpoint: /healthz, /status (JSON), /metrics (Prometheus) and an opt-in MJPEG preview.

Bound to 127.0.0.1 by default; by default no image leaves the device: /preview.mjpg exists only
with `preview = true`, and frames are encoded only while a client is watching.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from edgeemo.daemon.metrics import Metrics
from edgeemo.daemon.pipeline import FrameResult
from edgeemo.daemon.publishers import Publisher

__all__ = ["HttpConfig", "HttpPublisher", "annotate"]

log = logging.getLogger(__name__)


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8750, ge=0, le=65535)  # 0 picks a free port (tests)
    preview: bool = False
    preview_fps: float = Field(5.0, gt=0.0, le=30.0)
    # Healthy means a frame was processed within this many seconds and the source is up.
    stale_after_s: float = Field(10.0, gt=0.0)


def annotate(image: np.ndarray, result: FrameResult) -> np.ndarray:
    import cv2

    out = image.copy()
    for f in result.faces:
        x1, y1, x2, y2 = (int(v) for v in f.box)
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 200, 0), 2)
        cv2.putText(out, f"#{f.id} {f.label} {f.score:.2f}", (x1, max(12, y1 - 6)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 200, 0), 1, cv2.LINE_AA)
    return out


class HttpPublisher(Publisher):
    key = "http"

    def __init__(self, config: HttpConfig | None = None, *, info: dict[str, Any] | None = None, **overrides: Any) -> None:
        self.config = (config or HttpConfig(enabled=True)).model_copy(update=overrides)
        self.wants_image = self.config.preview
        self.info = info or {}
        self.metrics: Metrics | None = None
        self.last: FrameResult | None = None
        self._last_at: float | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._jpeg: bytes | None = None
        self._jpeg_cond = threading.Condition()
        self._viewers = 0
        self._last_jpeg_t = 0.0
        self._registry: Any = None

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self.config.port

    def start(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        from prometheus_client import CollectorRegistry

        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self.metrics)
        handler = type("EdgeEmoHandler", (_Handler,), {"publisher": self})
        self._server = ThreadingHTTPServer((self.config.host, self.config.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="edgeemo-http", daemon=True)
        self._thread.start()
        log.info("HTTP: serving on http://%s:%d/", self.config.host, self.port)

    def health(self) -> tuple[bool, dict[str, Any]]:
        cap = self.metrics.capture if self.metrics else None
        state = cap.state if cap else "unknown"
        age = None if self._last_at is None else time.monotonic() - self._last_at
        # "paused": analysis switched off on purpose (camera closed), not a fault.
        source_ok = state in ("running", "ended", "paused")
        fresh = age is not None and age <= self.config.stale_after_s
        ok = source_ok and (fresh or state in ("ended", "paused"))
        return ok, {
            "status": "ok" if ok else "degraded",
            "source": state,
            "last_frame_age_s": None if age is None else round(age, 3),
        }

    def status(self) -> dict[str, Any]:
        ok, health = self.health()
        return {
            **health,
            **self.info,
            "metrics": self.metrics.snapshot() if self.metrics else {},
            "last": self.last.to_json() if self.last else None,
        }

    def metrics_text(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self._registry)  # type: ignore[no-any-return]

    def publish(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        self.last = result
        self._last_at = time.monotonic()
        if image is not None and self._viewers > 0:
            now = time.monotonic()
            if now - self._last_jpeg_t >= 1.0 / self.config.preview_fps:
                import cv2

                ok, buf = cv2.imencode(".jpg", annotate(image, result), [cv2.IMWRITE_JPEG_QUALITY, 70])
                if ok:
                    with self._jpeg_cond:
                        self._jpeg = buf.tobytes()
                        self._jpeg_cond.notify_all()
                self._last_jpeg_t = now

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._jpeg_cond:
            self._jpeg_cond.notify_all()


class _Handler(BaseHTTPRequestHandler):
    publisher: HttpPublisher
    server_version = "edgeemo"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("HTTP: " + format, *args)

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj).encode() + b"\n", "application/json")

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        pub = self.publisher
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            ok, health = pub.health()
            self._json(200 if ok else 503, health)
        elif path == "/status":
            self._json(200, pub.status())
        elif path == "/metrics":
            from prometheus_client import CONTENT_TYPE_LATEST

            self._send(200, pub.metrics_text(), CONTENT_TYPE_LATEST)
        elif path == "/preview.mjpg" and pub.config.preview:
            self._mjpeg()
        else:
            self._json(404, {"error": f"no such endpoint {path}", "endpoints": ["/healthz", "/status", "/metrics"]})

    def _mjpeg(self) -> None:
        pub = self.publisher
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        pub._viewers += 1
        try:
            last = None
            while pub._server is not None:
                with pub._jpeg_cond:
                    pub._jpeg_cond.wait(1.0)
                    jpeg = pub._jpeg
                if jpeg is None or jpeg is last:
                    continue
                last = jpeg
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                 + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            pub._viewers -= 1
