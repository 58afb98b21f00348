"""Non-maximum suppression over xyxy boxes: plain (keep the best) and weighted (MediaPipe's blend)."""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "nms", "weighted_nms"]


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box against Nx4 boxes."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, max_out: int | None = None) -> list[int]:
    """Indices kept by greedy NMS, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and (max_out is None or len(keep) < max_out):
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        order = rest[box_iou(boxes[best], boxes[rest]) <= iou_threshold]
    return keep


def weighted_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    points: np.ndarray | None,
    iou_threshold: float,
    max_out: int | None = None,
) -> list[tuple[np.ndarray, float, np.ndarray | None]]:
    """MediaPipe-style blending: each cluster of overlapping boxes becomes their score-weighted mean.

    Blending steadies boxes and keypoints from frame to frame, which the tracker and the eye
    alignment both benefit from. Returns (box, best score, keypoints) per cluster, best first.
    """
    order = np.argsort(-scores, kind="stable")
    out: list[tuple[np.ndarray, float, np.ndarray | None]] = []
    while order.size and (max_out is None or len(out) < max_out):
        best = int(order[0])
        overlap = box_iou(boxes[best], boxes[order]) > iou_threshold
        cluster = order[overlap]
        w = scores[cluster].astype(np.float64)
        w = w / w.sum()
        box = (boxes[cluster] * w[:, None]).sum(axis=0)
        kps = None if points is None else (points[cluster] * w[:, None, None]).sum(axis=0)
        out.append((box.astype(np.float32), float(scores[best]), None if kps is None else kps.astype(np.float32)))
        order = order[~overlap]
    return out
