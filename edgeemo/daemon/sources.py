"""The CameraSource interface and the registry that turns a --source string into a source.

    0, 1, /dev/video0         V4L2 camera through OpenCV (live)
    picamera2, picamera2:1    Raspberry Pi camera through picamera2 (live)
    rtsp://..., http(s)://... network stream through OpenCV/FFmpeg (live)
    gst:<pipeline>            GStreamer pipeline ending in appsink (needs OpenCV built with GStreamer)
    a video file              every frame, in order (not live)
    an image folder           every image, sorted by name (not live)
    fake:WxH[@FPS][*N]        generated frames, the shipped fake (tests, demos)

Every source yields BGR uint8 HxWx3 frames, as OpenCV does.
"""

from __future__ import annotations

import abc
import importlib
import re
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import numpy as np

from edgeemo.errors import SourceError

__all__ = ["SOURCES", "CameraSource", "open_source", "source_key_for"]


class CameraSource(abc.ABC):
    """One frame producer. check() raises when the source can never work here; open() may
    raise SourceError; read() returns None on a failed read.

    live: frames arrive in real time, so only the newest matters and older ones are dropped.
    finite: None from read() after open means the end (a file), not a fault to reconnect from.
    """

    key: ClassVar[str]
    # Class defaults; a source whose nature depends on its arguments sets them per instance.
    live: bool = True
    finite: bool = False

    def __init__(self, uri: str, *, width: int | None = None, height: int | None = None,
                 fps: float | None = None, **_: Any) -> None:
        self.uri = uri
        self.width = width
        self.height = height
        self.fps = fps

    def check(self) -> None:  # noqa: B027 - optional hook
        """Raise MissingDependency or SourceUnsupported when this installation can never open
        the source, whatever the camera does (a package not installed, a backend OpenCV was
        built without). Opens nothing; a camera that is merely absent now passes."""

    @abc.abstractmethod
    def open(self) -> None:
        """Start capturing; raise SourceError when the source cannot be opened now."""

    @abc.abstractmethod
    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None on a failed read (or at the end of a finite source)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop capturing; safe to call twice, and open() may follow."""

    def describe(self) -> str:
        """The source for logs and /status, without credentials in URLs."""
        return re.sub(r"//[^/@]*@", "//***@", self.uri)

    def __enter__(self) -> CameraSource:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


SOURCES: dict[str, str] = {
    "v4l2": "edgeemo.daemon.source_opencv:OpenCVCameraSource",
    "stream": "edgeemo.daemon.source_opencv:StreamSource",
    "file": "edgeemo.daemon.source_opencv:VideoFileSource",
    "gst": "edgeemo.daemon.source_opencv:GStreamerSource",
    "picamera2": "edgeemo.daemon.source_picamera2:Picamera2Source",
    "folder": "edgeemo.daemon.source_folder:ImageFolderSource",
    "fake": "edgeemo.daemon.source_fake:FakeSource",
}


def source_key_for(uri: str) -> str:
    s = uri.strip()
    if s.startswith("fake:") or s == "fake":
        return "fake"
    if s.startswith("gst:"):
        return "gst"
    if s == "picamera2" or s.startswith("picamera2:"):
        return "picamera2"
    if s.isdigit() or re.fullmatch(r"/dev/video\d+", s):
        return "v4l2"
    if re.match(r"^(rtsp|rtsps|rtmp|http|https|udp|tcp)://", s):
        return "stream"
    p = Path(s).expanduser()
    if p.is_dir():
        return "folder"
    if p.is_file():
        return "file"
    raise SourceError(
        "expected a camera index, /dev/videoN, picamera2[:N], a video file, an rtsp:// or http(s):// URL, "
        f"gst:<pipeline>, an image folder or fake:WxH, received {uri!r} (no such file or folder)"
    )


def source_class(key: str) -> type[CameraSource]:
    module, _, attr = SOURCES[key].partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def open_source(uri: str, **options: Any) -> CameraSource:
    """Build (not yet open) the source a --source string names."""
    return source_class(source_key_for(uri))(uri, **options)
