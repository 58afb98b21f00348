"""Raspberry Pi cameras through picamera2 (from apt: python3-picamera2; a venv needs
--system-site-packages to see it).

picamera2 names formats after libcamera/DRM, whose names give the channel order of a
little-endian word, so the bytes in memory run the other way: "RGB888" arrays are B,G,R (what
OpenCV wants), "BGR888" arrays are R,G,B, "XBGR8888" arrays are R,G,B,X and "XRGB8888" arrays
are B,G,R,X. Each is turned into BGR here.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Any

import numpy as np

from edgeemo.daemon.sources import CameraSource
from edgeemo.errors import ConfigError, MissingDependency, SourceError

__all__ = ["PICAMERA2_FORMATS", "PICAMERA2_HINT", "Picamera2Source", "import_picamera2", "to_bgr"]

PICAMERA2_FORMATS = ("RGB888", "BGR888", "XRGB8888", "XBGR8888")

# pip cannot build libcamera's bindings, so `edgeemo[device]` does not bring picamera2.
PICAMERA2_HINT = (
    "on Raspberry Pi OS install it with `sudo apt install python3-picamera2` and make the venv with "
    "`python3 -m venv --system-site-packages` so it sees that package (device/install-rpi.sh does both); "
    "other machines: use a USB camera (--source 0) or a video file instead"
)


def import_picamera2() -> ModuleType:
    """The picamera2 module, or MissingDependency saying how a Pi gets it (apt, not pip)."""
    try:
        return importlib.import_module("picamera2")
    except ImportError as exc:
        raise MissingDependency(
            f"expected the Python package picamera2 for a picamera2 source, received ImportError: {exc}; "
            + PICAMERA2_HINT
        ) from exc


def to_bgr(array: np.ndarray, fmt: str) -> np.ndarray:
    """A picamera2 main-stream array in `fmt` -> BGR uint8 HxWx3."""
    if fmt == "RGB888":
        return array
    if fmt == "XRGB8888":
        return np.ascontiguousarray(array[:, :, :3])
    if fmt == "BGR888":
        return np.ascontiguousarray(array[:, :, ::-1])
    if fmt == "XBGR8888":
        return np.ascontiguousarray(array[:, :, 2::-1])
    raise ConfigError(f"expected source format one of {', '.join(PICAMERA2_FORMATS)}, received {fmt!r}")


class Picamera2Source(CameraSource):
    key = "picamera2"

    def __init__(self, uri: str, *, pixel_format: str = "RGB888", **options: Any) -> None:
        super().__init__(uri, **options)
        m = re.fullmatch(r"picamera2(?::(\d+))?", uri.strip())
        self.camera_num = int(m.group(1)) if m and m.group(1) else 0
        if pixel_format not in PICAMERA2_FORMATS:
            raise ConfigError(f"expected source.format one of {', '.join(PICAMERA2_FORMATS)}, received {pixel_format!r}")
        self.pixel_format = pixel_format
        self._cam: Any = None

    def check(self) -> None:
        import_picamera2()

    def open(self) -> None:
        mod = import_picamera2()
        self.close()
        try:
            cam = mod.Picamera2(self.camera_num)
            size = (self.width or 640, self.height or 480)
            controls = {"FrameRate": float(self.fps)} if self.fps else {}
            config = cam.create_video_configuration(
                main={"size": size, "format": self.pixel_format}, controls=controls, buffer_count=2
            )
            cam.configure(config)
            cam.start()
        except (RuntimeError, IndexError, OSError) as exc:
            raise SourceError(f"expected to open Raspberry Pi camera {self.camera_num}, received: {exc}") from exc
        self._cam = cam

    def read(self) -> np.ndarray | None:
        if self._cam is None:
            return None
        try:
            array = self._cam.capture_array("main")
        except (RuntimeError, OSError):
            return None
        return to_bgr(array, self.pixel_format)

    def close(self) -> None:
        if self._cam is not None:
            try:
                self._cam.stop()
                self._cam.close()
            finally:
                self._cam = None
