"""OpenCV VideoCapture sources: V4L2 cameras, video files, network streams, GStreamer pipelines."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from edgeemo._lazy import require
from edgeemo.daemon.sources import CameraSource
from edgeemo.errors import SourceError, SourceUnsupported

__all__ = ["GStreamerSource", "OpenCVCameraSource", "StreamSource", "VideoFileSource", "gstreamer_available"]


def _cv2() -> Any:
    return require("cv2", "device", "opencv-python-headless")


def gstreamer_available() -> bool:
    """True when this OpenCV was built with GStreamer (JetPack's is; the PyPI wheels are not)."""
    info = _cv2().getBuildInformation()
    m = re.search(r"GStreamer:\s*(\S+)", info)
    return bool(m and m.group(1).upper() != "NO")


class _CaptureSource(CameraSource):
    api: int = 0  # cv2.CAP_ANY

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri, **options)
        self._cap: Any = None
        self.read_timeout_s: float = float(options.get("read_timeout_s") or 0) or 0.0

    def _target(self) -> str | int:
        return self.uri

    def _params(self) -> list[int]:
        return []

    def open(self) -> None:
        cv2 = _cv2()
        self.close()
        params = self._params()
        cap = cv2.VideoCapture(self._target(), self.api, params) if params else cv2.VideoCapture(self._target(), self.api)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"expected to open {self.key} source {self.describe()}, received a closed capture")
        if self.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        if self.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        if self.fps:
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        self._cap = cap

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        if frame.ndim == 2:
            frame = _cv2().cvtColor(frame, _cv2().COLOR_GRAY2BGR)
        return frame  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class OpenCVCameraSource(_CaptureSource):
    key = "v4l2"

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri, **options)
        self.api = _cv2().CAP_V4L2 if hasattr(_cv2(), "CAP_V4L2") else 0

    def _target(self) -> str | int:
        m = re.fullmatch(r"(?:/dev/video)?(\d+)", self.uri.strip())
        return int(m.group(1)) if m else self.uri

    def open(self) -> None:
        super().open()
        # One buffered frame at most: the capture thread already keeps only the newest.
        self._cap.set(_cv2().CAP_PROP_BUFFERSIZE, 1)


class StreamSource(_CaptureSource):
    """rtsp://, http(s):// and friends through FFmpeg, with open/read timeouts so a dead peer
    makes read() fail (and the grabber reconnect) instead of blocking forever."""

    key = "stream"

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri, **options)
        self.api = _cv2().CAP_FFMPEG
        self.read_timeout_s = self.read_timeout_s or 5.0

    def _params(self) -> list[int]:
        cv2 = _cv2()
        ms = int(self.read_timeout_s * 1000)
        return [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]


class VideoFileSource(_CaptureSource):
    key = "file"
    live = False
    finite = True

    def __init__(self, uri: str, *, loop: bool = False, **options: Any) -> None:
        super().__init__(uri, **options)
        self.loop = loop

    def read(self) -> np.ndarray | None:
        frame = super().read()
        if frame is None and self.loop and self._cap is not None:
            self._cap.set(_cv2().CAP_PROP_POS_FRAMES, 0)
            frame = super().read()
        return frame


class GStreamerSource(_CaptureSource):
    """gst:<pipeline>; the pipeline must end in `appsink` (videoconvert ! video/x-raw,format=BGR ! appsink)."""

    key = "gst"

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri, **options)
        self.api = _cv2().CAP_GSTREAMER

    def _target(self) -> str:
        return self.uri[len("gst:"):].strip()

    def check(self) -> None:
        if not gstreamer_available():
            raise SourceUnsupported(
                f"expected an OpenCV built with GStreamer for {self.uri!r}, received OpenCV "
                f"{_cv2().__version__} whose build information says GStreamer: NO "
                "(JetPack's python3-opencv has it: `sudo apt install python3-opencv` and a venv made with "
                "`python3 -m venv --system-site-packages`, as device/install-jetson.sh does; the PyPI wheels "
                "have no GStreamer)"
            )

    def open(self) -> None:
        self.check()
        super().open()
