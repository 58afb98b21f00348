"""Shared helpers for the device tests: a real bundle (the shipped one, copied once per session), face images
and videos with faces pasted at known places."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

__all__ = [
    "FRAME_H",
    "FRAME_W",
    "fer_faces",
    "hopper_face",
    "make_face_frames",
    "device_bundle",
    "write_video",
]

FRAME_W, FRAME_H = 640, 480


@lru_cache(maxsize=1)
def _device_bundle(root: str) -> Path:
    from edgeemo.bundle import default_bundle_path

    shipped = default_bundle_path()
    if shipped is None:
        pytest.skip("the shipped default bundle is missing from edgeemo/assets/")
    out = Path(root) / "bundle"
    shutil.copytree(shipped, out)
    # One pass per face, as in a bundle built without flip averaging: the tests count batches.
    manifest = out / "manifest.json"
    data = json.loads(manifest.read_text())
    data["flip_average"] = False
    manifest.write_text(json.dumps(data, indent=2))
    return out


def device_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped int8 bundle (BlazeFace included) with flip averaging off: a real
    model that needs no TensorFlow and no training in the test session."""
    return _device_bundle(str(tmp_path_factory.getbasetemp() / "device-bundle"))


def hopper_face() -> np.ndarray:
    """A public-domain portrait matplotlib ships (Grace Hopper, US Navy photo), cropped to the
    head: a real face available wherever the device extra is installed."""
    import cv2

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        pytest.skip("matplotlib (device extra) is needed for its sample photo")
    path = Path(spec.origin).parent / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    img = cv2.imread(str(path))
    if img is None:
        pytest.skip(f"sample photo missing: {path}")
    return img[110:390, 120:400]  # 280x280 around the face


def fer_faces(n: int, size: int = 200) -> list[np.ndarray]:
    """n FER-2013 test faces (PublicTest split) upscaled to size x size, BGR; skips without the dataset."""
    import cv2

    root = os.environ.get("EDGEEMO_FER2013")
    if not root or not (Path(root) / "test").is_dir():
        pytest.skip("EDGEEMO_FER2013 is not set to a FER-2013 image folder with a test/ split")
    files = sorted((Path(root) / "test").glob("*/*.jpg"))[:: 7][:n]
    out = []
    for f in files:
        g = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        g = cv2.resize(g, (size, size), interpolation=cv2.INTER_CUBIC)
        out.append(cv2.cvtColor(g, cv2.COLOR_GRAY2BGR))
    return out


def make_face_frames(faces: list[np.ndarray], n_frames: int, *, step: int = 2) -> tuple[list[np.ndarray], list[tuple[int, int, int, int]]]:
    """Frames of FRAME_W x FRAME_H with one face each, sliding right `step` px per frame.
    Returns the frames and the pasted box (x1, y1, x2, y2) of each."""
    frames, boxes = [], []
    for i in range(n_frames):
        face = faces[i % len(faces)]
        h, w = face.shape[:2]
        frame = np.full((FRAME_H, FRAME_W, 3), 96, np.uint8)
        frame[:, :, 1] = 110  # not a flat grey: closer to a real background
        x = 60 + (i * step) % (FRAME_W - w - 120)
        y = (FRAME_H - h) // 2
        frame[y : y + h, x : x + w] = face
        frames.append(frame)
        boxes.append((x, y, x + w, y + h))
    return frames, boxes


def write_video(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        pytest.skip("this OpenCV cannot write mp4v video")
    for f in frames:
        writer.write(f)
    writer.release()
    return path
