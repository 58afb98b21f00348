"""A short clip of a real face for demos and smoke tests, made on the fly from a photo that
ships with matplotlib (Grace Hopper, U.S. Navy, public domain): no download, no camera.

The frames pan, zoom, change brightness and mirror the photo, so a detector, the aligner and
the tracker see motion and lighting change as they would from a camera.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeemo.errors import MissingDependency

__all__ = ["sample_face_photo", "write_sample_clip"]

PHOTO = "grace_hopper.jpg"


def sample_face_photo() -> Path:
    """Path of the sample portrait inside the installed matplotlib."""
    try:
        from matplotlib import cbook
    except ImportError as exc:
        raise MissingDependency(f"expected matplotlib (it ships the sample photo {PHOTO}), received ImportError: {exc}") from exc
    path = Path(str(cbook.get_sample_data(PHOTO, asfileobj=False)))
    if not path.is_file():
        raise MissingDependency(f"expected {PHOTO} in matplotlib's sample data, received a missing file: {path}")
    return path


def write_sample_clip(folder: str | Path, frames: int = 24, size: tuple[int, int] = (640, 480)) -> Path:
    """Write `frames` JPEGs (frame_0000.jpg ...) into `folder`, a source `edgeemo run` can play."""
    import cv2

    photo_path = sample_face_photo()
    photo = cv2.imread(str(photo_path), cv2.IMREAD_COLOR)
    if photo is None:
        raise MissingDependency(f"expected a JPEG OpenCV can read at {photo_path}, received a file it cannot decode")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    width, height = size
    ph, pw = photo.shape[:2]
    base = min(width / pw, height / ph)
    for i in range(frames):
        t = i / max(1, frames - 1)
        scale = base * (0.8 + 0.3 * t)  # slow zoom in
        dx = width / 2 - pw * scale / 2 + 40 * np.sin(2 * np.pi * t)  # pan left and right
        dy = height / 2 - ph * scale / 2
        matrix = np.array([[scale, 0, dx], [0, scale, dy]], np.float32)
        frame = cv2.warpAffine(photo, matrix, (width, height), borderMode=cv2.BORDER_CONSTANT, borderValue=(40, 40, 40))
        frame = cv2.convertScaleAbs(frame, alpha=0.7 + 0.5 * t)  # from dim to bright
        if i >= frames // 2:
            frame = frame[:, ::-1]
        cv2.imwrite(str(out / f"frame_{i:04d}.jpg"), frame)
    return out
