"""An image folder as a finite source: every image, sorted by name, once (or looping)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgeemo._lazy import require
from edgeemo.daemon.sources import CameraSource
from edgeemo.errors import SourceError

__all__ = ["IMAGE_SUFFIXES", "ImageFolderSource"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".ppm", ".tif", ".tiff")


class ImageFolderSource(CameraSource):
    key = "folder"
    live = False
    finite = True

    def __init__(self, uri: str, *, loop: bool = False, **options: Any) -> None:
        super().__init__(uri, **options)
        self.loop = loop
        self.files: list[Path] = []
        self._i = 0

    def open(self) -> None:
        root = Path(self.uri).expanduser()
        self.files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise SourceError(f"expected images ({', '.join(IMAGE_SUFFIXES)}) in {root}, received none")
        self._i = 0

    def read(self) -> np.ndarray | None:
        cv2 = require("cv2", "device", "opencv-python-headless")
        while True:
            if self._i >= len(self.files):
                if not self.loop:
                    return None
                self._i = 0
            path = self.files[self._i]
            self._i += 1
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if img is not None:
                return img  # type: ignore[no-any-return]
