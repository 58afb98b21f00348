"""Which test-time views beyond the mirror image pay on validation.

    python research/fer2013/tta_views.py MODEL.keras [MODEL.keras ...] [--data ../shared/datasets/fer2013]

Each MODEL is scored on the project's validation carve-out (10% of train/, split seed 0) through
its run's spec.json (inference smoothing included): as shipped (the face and its mirror image),
then with each extra view added together with its mirror (one-pixel and two-pixel shifts, zoom in
and out by 5%, rotations by 5 degrees), and with all four one-pixel shifts at once. Every view
pair doubles the classify cost again, so a view has to gain clearly to be worth its latency.
Writes research/fer2013/results/tta-views.json. Exits 2 on bad input.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
from validation_split import load_validation, parse_probe_args  # the script beside this one

# name: (rotation in degrees, scale, x shift px, y shift px)
VIEWS: dict[str, tuple[float, float, float, float]] = {
    "shift x+1": (0, 1, 1, 0), "shift x-1": (0, 1, -1, 0), "shift y+1": (0, 1, 0, 1), "shift y-1": (0, 1, 0, -1),
    "shift x+2": (0, 1, 2, 0), "shift x-2": (0, 1, -2, 0), "shift y+2": (0, 1, 0, 2), "shift y-2": (0, 1, 0, -2),
    "zoom in 5%": (0, 1.05, 0, 0), "zoom out 5%": (0, 0.95, 0, 0), "rotate +5": (5, 1, 0, 0), "rotate -5": (-5, 1, 0, 0),
}
ONE_PIXEL_SHIFTS = ("shift x+1", "shift x-1", "shift y+1", "shift y-1")


def warp(pixels: np.ndarray, angle: float, scale: float, dx: float, dy: float) -> np.ndarray:
    """uint8 NxHxWx1 faces rotated and scaled about their centre, then shifted; edges replicated."""
    import cv2

    h, w = pixels.shape[1:3]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, scale)
    matrix[:, 2] += (dx, dy)
    return np.stack([cv2.warpAffine(face[..., 0], matrix, (w, h), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE) for face in pixels])[..., None]


def accuracy_by_views(probs: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, float]:
    """Accuracy of the shipped pair ("as shipped": face + mirror) alone and with each extra view pair.

    probs: {view: NxK probabilities of the view, view + " mirrored": of its mirror image}."""
    def scored(views: tuple[str, ...]) -> float:
        total = sum(probs[v] + probs[f"{v} mirrored"] for v in ("face", *views))
        return float((np.asarray(total).argmax(1) == labels).mean())

    result = {"as shipped": scored(())}
    result.update({f"+ {view}": scored((view,)) for view in VIEWS if view in probs})
    if all(view in probs for view in ONE_PIXEL_SHIFTS):
        result["+ all four 1 px shifts"] = scored(ONE_PIXEL_SHIFTS)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_probe_args(__doc__.split("\n\n")[0], "tta-views.json", argv)
    if args is None:
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edgeemo.fileio import write_json
    from edgeemo.preprocess import PreprocessSpec, spec_beside
    from edgeemo.runtime.keras_rt import KerasRuntime

    pixels, labels = load_validation(args.data)
    views = {"face": pixels, **{name: warp(pixels, *params) for name, params in VIEWS.items()}}
    report: dict[str, Any] = {"data": args.data.name, "validation_images": int(len(labels)), "models": {}}
    for path in args.models:
        spec = spec_beside(path, PreprocessSpec())
        probs: dict[str, np.ndarray] = {}
        with KerasRuntime(path) as runtime:
            for name, faces in views.items():
                probs[name] = runtime.predict_pixels(faces, spec)
                probs[f"{name} mirrored"] = runtime.predict_pixels(faces[:, :, ::-1], spec)
        scores = accuracy_by_views(probs, labels)
        name = f"{path.parent.name}/{path.name}"
        report["models"][name] = {"smoothing_sigma": spec.smoothing_sigma, "accuracy": scores}
        best = max(scores, key=lambda k: scores[k])
        print(f"{name}: as shipped {100 * scores['as shipped']:.2f}%, best {best} {100 * scores[best]:.2f}%, "
              f"all four 1 px shifts {100 * scores['+ all four 1 px shifts']:.2f}% (validation)")
    write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
