"""Measurements from the landmark points: eye openness, mouth opening and head pose.

Eye openness uses the iris model's eyelid contour, not the mesh's own lid points (those are known
not to close fully: mediapipe issues 965, 1538, 1919). Contour points 0-8 run along the lower lid
from the outer to the inner corner, 9-15 along the upper lid (mesh 33, 7, 163, 144, 145, 153, 154,
155, 133 and 246, 161, 160, 159, 158, 157, 173); three lid-to-lid distances over the corner-to-
corner width, like the eye aspect ratio of Soukupova and Cech (2016), measured across the corner
line (a slanted pair of points does not read as open). Each eye is read twice, as cropped and
mirrored, and the two readings averaged: the model's errors on the two views differ.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["CONTOUR_CORNERS", "HeadPose", "euler_from_rvec", "eye_openness", "eye_openness_averaged", "mouth_opening", "saturation"]

# (upper, lower) contour pairs across the middle of the eye: mesh 160/144, 159/145, 158/153.
LID_PAIRS = ((11, 3), (12, 4), (13, 5))
CONTOUR_CORNERS = (0, 8)  # outer, inner corner
# Inner lips (mesh 13 upper, 14 lower) over the mouth corners (61, 291).
INNER_LIPS = (13, 14)
MOUTH_CORNERS = (61, 291)

# A generic head for solvePnP, in millimetres, camera axes (x right, y down, z away from the
# camera), origin at the nose tip: the six-point model widely used with OpenCV's solvePnP.
POSE_INDICES = (1, 152, 33, 263, 61, 291)  # nose tip, chin, eye outer corners, mouth corners
POSE_MODEL = np.array([
    [0.0, 0.0, 0.0],
    [0.0, 330.0, 65.0],
    [-225.0, -170.0, 135.0],
    [225.0, -170.0, 135.0],
    [-150.0, 150.0, 125.0],
    [150.0, 150.0, 125.0],
], np.float64)


def eye_openness(contour: np.ndarray) -> float:
    """Mean lid-to-lid gap, measured across the corner-to-corner line, over the eye's width
    (about 0.3 open and under 0.13 shut on faces at camera resolution)."""
    axis = contour[CONTOUR_CORNERS[1], :2] - contour[CONTOUR_CORNERS[0], :2]
    width = float(np.linalg.norm(axis))
    if width <= 1e-6:
        return 0.0
    normal = np.array([-axis[1], axis[0]]) / width
    gaps = [abs(float(np.dot(contour[u, :2] - contour[lo, :2], normal))) for u, lo in LID_PAIRS]
    return sum(gaps) / len(gaps) / width


def eye_openness_averaged(contours: list[np.ndarray]) -> float:
    """The mean openness over the passes of one eye (the crop and its mirror image)."""
    return sum(eye_openness(c) for c in contours) / len(contours)


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over mouth width (about 0.05 closed, 0.5 and more in a yawn)."""
    width = float(np.linalg.norm(points[MOUTH_CORNERS[0], :2] - points[MOUTH_CORNERS[1], :2]))
    gap = float(np.linalg.norm(points[INNER_LIPS[0], :2] - points[INNER_LIPS[1], :2]))
    return gap / width if width > 1e-6 else 0.0


def saturation(crop: np.ndarray) -> float:
    """Share of pixels at the ends of the range (IR glare on glasses, or a black eye region)."""
    sub = crop[::2, ::2]  # every other pixel is plenty for a share, at a quarter of the cost
    gray = sub.mean(axis=2) if sub.ndim == 3 else sub
    return float(np.mean((gray >= 250) | (gray <= 5)))


class HeadPose:
    """Pitch (head up +), yaw (face turned towards the image's right +) and roll (clockwise in the
    image +), degrees, from six mesh points with cv2.solvePnP (SQPnP: the global minimum, no
    mirrored solutions, about 0.02 ms) and a pinhole camera whose focal length is the frame width
    (no calibration needed for angles relative to a baseline)."""

    def __call__(self, points: np.ndarray, width: int, height: int) -> tuple[float, float, float] | None:
        import cv2

        image_pts = np.ascontiguousarray(points[list(POSE_INDICES), :2], np.float64)
        f = float(width)
        cam = np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])
        try:
            ok, rvec, tvec = cv2.solvePnP(POSE_MODEL, image_pts, cam, None, flags=cv2.SOLVEPNP_SQPNP)
        except cv2.error:  # degenerate points (a collapsed mesh)
            return None
        if not ok or float(tvec[2, 0]) <= 0:  # behind the camera
            return None
        return euler_from_rvec(rvec)

    def reset(self) -> None:
        """Nothing is carried between frames (kept for callers that reset per track)."""


def euler_from_rvec(rvec: np.ndarray) -> tuple[float, float, float]:
    """(pitch, yaw, roll) degrees of the head rotation R = Rz(roll) Ry(yaw) Rx(-pitch)."""
    import cv2

    r, _ = cv2.Rodrigues(rvec)
    # R = Rz Ry Rx: yaw from r[2,0], the others from the rest of its first column and last row.
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -float(r[2, 0])))))
    tilt = math.degrees(math.atan2(float(r[2, 1]), float(r[2, 2])))
    roll = math.degrees(math.atan2(float(r[1, 0]), float(r[0, 0])))
    return -tilt, -yaw, roll
