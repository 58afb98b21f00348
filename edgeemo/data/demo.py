"""A synthetic demo dataset: procedurally drawn cartoon faces in FER-2013's layout.

A fresh machine has neither FER-2013 nor internet, yet `edgeemo demo` must run the whole path
(train, quantize, evaluate, bundle). These faces give it something learnable: each emotion has
class-typical cues (mouth shape, brows, eye opening) drawn with random intensity, pose,
lighting, noise and blur, and confusable pairs (fear/surprise, angry/disgust, sad/neutral)
share part of their cues so confusion matrices are not trivially diagonal.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeemo.data.dataset import LabeledImages
from edgeemo.errors import DataError
from edgeemo.fileio import atomic_dir
from edgeemo.labels import FER2013_LABELS
from edgeemo.preprocess import PreprocessSpec

__all__ = ["DEMO_NOTICE", "make_demo_images", "render_face", "write_demo_dataset"]

DEMO_NOTICE = (
    "This is a synthetic demo dataset of procedurally drawn cartoon faces, not photographs of real "
    "people, and accuracy on it says nothing about how well a model recognises real emotions."
)

# Sub-pixel drawing: OpenCV takes fixed-point coordinates with this many fractional bits.
_SHIFT = 4
_ONE = 1 << _SHIFT
# Faces are drawn at this multiple of the output size and shrunk with INTER_AREA (anti-aliasing).
_SUPERSAMPLE = 2
_MOUTH_X = np.linspace(-1.0, 1.0, 15)


@dataclass
class _Expr:
    """Expression parameters in face units (head half-width = 1, +y is down)."""

    mouth_w: float = 0.26  # half-width of the mouth
    mouth_curve: float = 0.0  # corner height relative to centre; negative = corners up (smile)
    mouth_open: float = 0.0  # gap between the lips
    mouth_round: float = 0.0  # 1 = an "O" (surprise), 0 = lips following the curve
    mouth_tilt: float = 0.0  # one corner up, the other down
    lip_raise: float = 0.0  # one-sided raised upper lip (disgust snarl)
    mouth_thick: float = 1.0  # line weight multiplier; >1 = pressed lips
    brow_raise: float = 0.0  # negative = raised
    brow_inner: float = 0.0  # inner ends: positive = down (V, anger), negative = up (sadness)
    eye_open: float = 1.0  # eye height multiplier
    wrinkles: float = 0.0  # nose wrinkle strength (disgust)

    def blend(self, other: _Expr, t: float) -> _Expr:
        """The expression t of the way from self to other."""
        return _Expr(**{k: (1 - t) * v + t * getattr(other, k) for k, v in vars(self).items()})


_NEUTRAL = _Expr()

# Full-intensity prototypes; each sample moves a random fraction of the way from neutral.
_PROTOTYPES: dict[str, _Expr] = {
    "neutral": _NEUTRAL,
    "happy": _Expr(mouth_w=0.33, mouth_curve=-0.14, eye_open=0.8, brow_raise=-0.02),
    "sad": _Expr(mouth_w=0.24, mouth_curve=0.11, brow_inner=-0.12, brow_raise=0.01, eye_open=0.8),
    "surprise": _Expr(
        mouth_w=0.14, mouth_open=0.26, mouth_round=1.0, brow_raise=-0.15, eye_open=1.6, brow_inner=-0.02
    ),
    "fear": _Expr(
        mouth_w=0.31, mouth_curve=0.05, mouth_open=0.10, brow_raise=-0.10, brow_inner=-0.08, eye_open=1.45
    ),
    "angry": _Expr(
        mouth_w=0.19, mouth_curve=0.03, mouth_thick=1.9, brow_raise=0.07, brow_inner=0.15, eye_open=0.75
    ),
    "disgust": _Expr(
        mouth_w=0.24,
        mouth_curve=0.04,
        mouth_tilt=0.07,
        lip_raise=0.09,
        brow_raise=0.07,
        brow_inner=0.07,
        eye_open=0.5,
        wrinkles=1.0,
    ),
}

# Look-alikes: a sample sometimes borrows part of its partner's cues, as real faces do.
_CONFUSABLE: dict[str, tuple[str, ...]] = {
    "fear": ("surprise", "sad"),
    "surprise": ("fear", "happy"),
    "angry": ("disgust", "sad"),
    "disgust": ("angry", "sad"),
    "sad": ("neutral", "fear", "angry"),
    "neutral": ("sad", "happy"),
    "happy": ("neutral", "surprise"),
}


def _expression(emotion: str, rng: np.random.Generator) -> _Expr:
    proto = _PROTOTYPES[emotion]
    if emotion == "neutral":
        expr = _NEUTRAL.blend(_PROTOTYPES[str(rng.choice(_CONFUSABLE[emotion]))], rng.uniform(0.0, 0.3))
    else:
        expr = _NEUTRAL.blend(proto, rng.uniform(0.55, 1.2))
        if rng.random() < 0.25:
            expr = expr.blend(_PROTOTYPES[str(rng.choice(_CONFUSABLE[emotion]))], rng.uniform(0.1, 0.4))
    # Per-face jitter on every cue so no single threshold separates the classes.
    jitter = {
        "mouth_w": 0.03,
        "mouth_curve": 0.025,
        "mouth_open": 0.015,
        "mouth_tilt": 0.015,
        "brow_raise": 0.03,
        "brow_inner": 0.03,
        "eye_open": 0.12,
    }
    for key, sd in jitter.items():
        setattr(expr, key, getattr(expr, key) + rng.normal(0.0, sd))
    expr.mouth_open = max(expr.mouth_open, 0.0)
    expr.mouth_w = max(expr.mouth_w, 0.09)
    expr.eye_open = float(np.clip(expr.eye_open, 0.25, 2.0))
    # Happy faces sometimes grin with the mouth open (teeth showing).
    if emotion == "happy" and rng.random() < 0.4:
        expr.mouth_open = rng.uniform(0.06, 0.14)
    return expr


class _Canvas:
    """Draws in face units, mapped through a random similarity transform onto a pixel grid."""

    def __init__(self, img: np.ndarray, center: tuple[float, float], scale: float, angle_deg: float) -> None:
        self.img = img
        self.cx, self.cy = center
        self.s = scale
        self.angle = angle_deg
        a = math.radians(angle_deg)
        self.cos, self.sin = math.cos(a), math.sin(a)

    def pts(self, xy: np.ndarray) -> np.ndarray:
        m = np.array([[self.cos, self.sin], [-self.sin, self.cos]]) * (self.s * _ONE)
        return np.rint(xy @ m + (self.cx * _ONE, self.cy * _ONE)).astype(np.int32)

    def pt(self, x: float, y: float) -> tuple[int, int]:
        # Scalar path: ellipses are most of the calls and numpy overhead dominates for one point.
        px = self.cx + self.s * (x * self.cos - y * self.sin)
        py = self.cy + self.s * (x * self.sin + y * self.cos)
        return round(px * _ONE), round(py * _ONE)

    def thick(self, t: float) -> int:
        return max(1, int(round(t)))

    def ellipse(
        self,
        c: tuple[float, float],
        axes: tuple[float, float],
        color: int,
        thickness: float,
        *,
        angle: float = 0.0,
        start: float = 0.0,
        end: float = 360.0,
    ) -> None:
        import cv2

        center = self.pt(c[0], c[1])
        ax = (max(1, int(round(axes[0] * self.s * _ONE))), max(1, int(round(axes[1] * self.s * _ONE))))
        th = -1 if thickness < 0 else self.thick(thickness)
        cv2.ellipse(self.img, center, ax, self.angle + angle, start, end, int(color), th, cv2.LINE_AA, _SHIFT)

    def ring(
        self, c: tuple[float, float], axes: tuple[float, float], fill: int, ink: int, thickness: float
    ) -> None:
        """A filled ellipse with an outline, as two fills: thick anti-aliased outlines are ~10x slower."""
        t = 0.5 * thickness / self.s
        self.ellipse(c, (axes[0] + t, axes[1] + t), ink, -1)
        if min(axes) > t:
            self.ellipse(c, (axes[0] - t, axes[1] - t), fill, -1)

    def poly(
        self, xy: np.ndarray, color: int, thickness: float, *, closed: bool = False, fill: bool = False
    ) -> None:
        import cv2

        p = self.pts(xy).reshape(-1, 1, 2)
        if fill:
            cv2.fillPoly(self.img, [p], int(color), cv2.LINE_AA, _SHIFT)
        else:
            cv2.polylines(self.img, [p], closed, int(color), self.thick(thickness), cv2.LINE_AA, _SHIFT)


def render_face(emotion: str, rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """One procedurally drawn cartoon face showing `emotion`, as uint8 size x size grayscale."""
    import cv2

    if emotion not in _PROTOTYPES:
        raise DataError(f"expected an emotion among {', '.join(FER2013_LABELS)}, received {emotion!r}")
    if size < 8:
        raise DataError(f"expected a face size of at least 8 pixels, received {size}")
    expr = _expression(emotion, rng)
    big = size * _SUPERSAMPLE

    # Tones: ink always darker than skin so features stay visible; background is anything.
    skin = rng.uniform(120, 235)
    ink = max(0.0, skin - rng.uniform(75, 160))
    bg = rng.uniform(0, 255)
    img = np.full((big, big), bg, np.uint8)

    scale = big * rng.uniform(0.31, 0.38)  # head half-width in pixels; FER crops are face-filling
    center = (big * (0.5 + rng.uniform(-0.06, 0.06)), big * (0.52 + rng.uniform(-0.06, 0.06)))
    cv = _Canvas(img, center, scale, rng.uniform(-10.0, 10.0))
    lw = big / 48.0 * rng.uniform(1.1, 2.2)  # line weight in pixels on the supersampled grid
    head_h = rng.uniform(1.15, 1.32)
    mirror = 1.0 if rng.random() < 0.5 else -1.0  # which side an asymmetric cue lands on

    # Ears and hair go under the head outline.
    if rng.random() < 0.7:
        for side in (-1, 1):
            cv.ring((side * 0.98, -0.05), (0.16, 0.24), int(skin), int(ink), lw * 0.8)
    if rng.random() < 0.75:
        hair = rng.uniform(0, max(1.0, skin - 50))
        cv.ellipse((0.0, -rng.uniform(0.15, 0.35)), (1.08, head_h * rng.uniform(0.95, 1.1)), int(hair), -1)
    cv.ring((0.0, 0.0), (1.0, head_h), int(skin), int(ink), lw)

    _draw_eyes(cv, expr, rng, skin, ink, lw)
    _draw_brows(cv, expr, rng, ink, lw)
    if rng.random() < 0.7:
        nose_y = rng.uniform(0.12, 0.22)
        cv.poly(
            np.array([[0.0, -0.05], [-0.07 * mirror, nose_y], [0.02 * mirror, nose_y + 0.03]]),
            int(ink),
            lw * 0.7,
        )
    if expr.wrinkles > 0.3:
        for side in (-1, 1):
            for k in range(2):
                y = -0.02 + 0.07 * k
                seg = np.array([[side * 0.08, y], [side * 0.17, y - 0.04]])
                cv.poly(seg, int(ink), lw * 0.6 * min(expr.wrinkles, 1.0))
    _draw_mouth(cv, expr, rng, skin, ink, lw, mirror)

    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    return _degrade(small, rng)


def _draw_eyes(cv: _Canvas, e: _Expr, rng: np.random.Generator, skin: float, ink: float, lw: float) -> None:
    ex, ey = rng.uniform(0.36, 0.43), rng.uniform(-0.24, -0.14)
    ew = rng.uniform(0.17, 0.22)
    eh = 0.11 * e.eye_open
    white = min(255.0, max(skin, 170.0) + rng.uniform(10, 50))
    pupil = rng.uniform(0.045, 0.06) * (0.8 if e.eye_open > 1.3 else 1.0)  # wide eyes show more white
    for side in (-1, 1):
        c = (side * ex, ey)
        if eh < 0.04:  # a squint is just a line
            cv.poly(np.array([[c[0] - ew, ey], [c[0], ey - 0.01], [c[0] + ew, ey]]), int(ink), lw)
            continue
        cv.ring(c, (ew, eh), int(white), int(ink), lw * 0.6)
        r = min(pupil, eh * 0.9)
        cv.ellipse((c[0] + rng.uniform(-0.03, 0.03), ey), (r, r), int(ink), -1)


def _draw_brows(cv: _Canvas, e: _Expr, rng: np.random.Generator, ink: float, lw: float) -> None:
    base = -0.47 + e.brow_raise + rng.uniform(-0.03, 0.03)
    inner_x, outer_x = rng.uniform(0.12, 0.18), rng.uniform(0.52, 0.6)
    arch = rng.uniform(0.0, 0.05)
    weight = lw * rng.uniform(0.9, 1.4)
    for side in (-1, 1):
        inner = (side * inner_x, base + e.brow_inner)
        outer = (side * outer_x, base - 0.5 * e.brow_inner)
        mid = (0.5 * (inner[0] + outer[0]), 0.5 * (inner[1] + outer[1]) - arch)
        cv.poly(np.array([inner, mid, outer]), int(ink), weight)


def _draw_mouth(
    cv: _Canvas, e: _Expr, rng: np.random.Generator, skin: float, ink: float, lw: float, mirror: float
) -> None:
    y0 = rng.uniform(0.5, 0.62)
    w = e.mouth_w
    inside = rng.uniform(0, max(1.0, ink * 0.6))
    if e.mouth_round > 0.5 and e.mouth_open > 0.12:
        # An "O": taller than wide when fully surprised.
        ax = (w * rng.uniform(0.9, 1.2), 0.5 * e.mouth_open + 0.04)
        cv.ring((0.0, y0 + 0.03), ax, int(inside), int(ink), lw)
        return
    x = _MOUTH_X
    shape = e.mouth_curve * x**2 + mirror * e.mouth_tilt * x
    if e.lip_raise > 0.02:
        # Snarl: the upper lip lifts on one side only.
        shape = shape - e.lip_raise * np.clip(mirror * x, 0.0, None) ** 1.5
    upper = np.stack([x * w, y0 + shape - 0.35 * e.mouth_open * (1 - x**2)], -1)
    lower = np.stack([x * w, y0 + shape + e.mouth_open * (1 - x**2)], -1)
    gap = e.mouth_open + (0.6 * e.lip_raise if e.lip_raise > 0.02 else 0.0)
    if gap > 0.03:
        if e.lip_raise > 0.02:
            # Teeth show under the lifted side.
            lower = np.stack([x * w, y0 + e.mouth_curve * x**2 + mirror * e.mouth_tilt * x + 0.01], -1)
        outline = np.concatenate([upper, lower[::-1]])
        teeth = e.mouth_curve < -0.05 or e.lip_raise > 0.02
        fill = min(255.0, skin + 20) if teeth else inside
        cv.poly(outline, int(fill), 0, fill=True)
        cv.poly(outline, int(ink), lw, closed=True)
    else:
        cv.poly(upper, int(ink), lw * e.mouth_thick)
        if e.mouth_curve < -0.06 and rng.random() < 0.5:  # dimples at the corners of a smile
            for side in (-1, 1):
                cx, cy = upper[0 if side < 0 else -1]
                cv.poly(
                    np.array([[cx + side * 0.02, cy - 0.04], [cx + side * 0.04, cy + 0.02]]),
                    int(ink),
                    lw * 0.6,
                )


@functools.lru_cache(maxsize=8)
def _grids(size: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y coordinates scaled to -1..1, shared by every face of this size."""
    v = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    return np.broadcast_to(v[None, :], (size, size)), np.broadcast_to(v[:, None], (size, size))


def _degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lighting gradient, blur and sensor noise on a float image; returns uint8."""
    import cv2

    theta = rng.uniform(0, 2 * np.pi)
    gx, gy = _grids(img.shape[0])
    ramp = gx * math.cos(theta) + gy * math.sin(theta)
    img = img * (1.0 + rng.uniform(0.0, 0.35) * ramp) + rng.uniform(-20, 20)
    sigma = rng.uniform(0.0, 0.8)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = img + rng.normal(0.0, rng.uniform(2.0, 8.0), img.shape).astype(np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _render_set(
    per_class: int, rng: np.random.Generator, spec: PreprocessSpec, class_names: Sequence[str]
) -> LabeledImages:
    names = list(class_names)
    unknown = [n for n in names if n not in _PROTOTYPES]
    if unknown:
        raise DataError(f"expected class names among {', '.join(FER2013_LABELS)}, received {unknown}")
    if per_class < 1:
        raise DataError(f"expected at least 1 image per class, received {per_class}")
    # Shuffled order, so a consumer that takes the first N gets every class.
    labels = rng.permutation(np.repeat(np.arange(len(names), dtype=np.int64), per_class))
    size = max(spec.height, spec.width)
    images = np.empty((len(labels), *spec.input_shape), np.uint8)
    for i, label in enumerate(labels):
        images[i] = spec.to_pixels(render_face(names[label], rng, size))
    return LabeledImages(images, labels, names, 0, "synthetic demo faces")


def make_demo_images(
    per_class: int,
    *,
    seed: int = 0,
    spec: PreprocessSpec | None = None,
    class_names: Sequence[str] = FER2013_LABELS,
) -> LabeledImages:
    """per_class drawn faces of every class, in memory at the spec's size, in shuffled order."""
    return _render_set(per_class, np.random.default_rng(seed), spec or PreprocessSpec(), class_names)


def write_demo_dataset(
    root: str | Path,
    *,
    train_per_class: int = 300,
    test_per_class: int = 60,
    seed: int = 0,
) -> Path:
    """Write ROOT/{train,test}/<emotion>/demo_<i>.png and ROOT/README.txt, all or nothing."""
    import cv2

    root = Path(root)
    # Independent child streams: train and test never share a face.
    train_ss, test_ss = np.random.SeedSequence(seed).spawn(2)
    spec = PreprocessSpec()
    with atomic_dir(root) as tmp:
        for split, per_class, ss in (("train", train_per_class, train_ss), ("test", test_per_class, test_ss)):
            data = _render_set(per_class, np.random.default_rng(ss), spec, FER2013_LABELS)
            counters = [0] * len(FER2013_LABELS)
            for d in FER2013_LABELS:
                (tmp / split / d).mkdir(parents=True)
            for img, label in zip(data.images, data.labels):
                path = tmp / split / FER2013_LABELS[label] / f"demo_{counters[label]}.png"
                counters[label] += 1
                if not cv2.imwrite(str(path), img[:, :, 0]):
                    raise DataError(f"expected to write a demo image, received a failed write at {path}")
        (tmp / "README.txt").write_text(
            f"{DEMO_NOTICE}\n\n"
            f"Layout: train/<emotion>/demo_<i>.png ({train_per_class} per class) and "
            f"test/<emotion>/demo_<i>.png ({test_per_class} per class), 48x48 grayscale, "
            f"classes {', '.join(FER2013_LABELS)}, seed {seed}.\n",
            encoding="utf-8",
        )
    return root
