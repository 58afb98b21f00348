"""Speed of the training input pipeline: `--warp single` against `--warp chained`, side by side.

    python benchmarks/augment_speed.py                                  # generated faces
    python benchmarks/augment_speed.py --data $EDGEEMO_FER2013 --images 6000

Each repeat runs one pass over the same images through `make_dataset` (shuffle, augmentation,
mixup, batching) for every warp in turn, the order rotating between repeats, so a load spike on a
shared machine hits both alike. Reports the median images per second of each warp and their
ratio; writes benchmarks/results/augment/<date>-<machine>.json. Exits 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
WARPS = ("single", "chained")


def load_faces(data: str | None, images: int) -> tuple[np.ndarray, np.ndarray, str]:
    from edgeemo.preprocess import PreprocessSpec

    if data:
        from edgeemo.data import load_split

        split = load_split(data, "train", PreprocessSpec(), limit_per_class=max(1, images // 7), progress=False)
        return split.images[:images], split.labels[:images], f"{Path(data).name} train"
    from edgeemo.data.demo import make_demo_images

    demo = make_demo_images(max(1, images // 7), seed=0)
    return demo.images[:images], demo.labels[:images], "generated faces"


def measure(faces: np.ndarray, labels: np.ndarray, repeats: int, batch_size: int, mixup: float) -> dict[str, Any]:
    from rich.progress import track

    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.training.augment import make_dataset

    pipelines = {warp: make_dataset(faces, labels, 7, PreprocessSpec(), batch_size=batch_size, training=True,
                                    mixup=mixup, warp=warp) for warp in WARPS}
    for pipeline in pipelines.values():  # warm-up: traces the tf.data functions once
        next(iter(pipeline))
    seconds: dict[str, list[float]] = {warp: [] for warp in WARPS}
    for repeat in track(range(repeats), description="augmenting", transient=True):
        for warp in WARPS[repeat % 2:] + WARPS[:repeat % 2]:
            start = time.perf_counter()
            images = sum(int(x.shape[0]) for x, _ in pipelines[warp])
            seconds[warp].append(time.perf_counter() - start)
    median = {warp: float(np.median(s)) for warp, s in seconds.items()}
    return {
        "images_per_pass": images,
        "seconds": seconds,
        "images_per_second": {warp: images / m for warp, m in median.items()},
        "chained_over_single_time": median["chained"] / median["single"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("EDGEEMO_FER2013"), help="FER-2013 root (default: generated faces)")
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--mixup", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "augment")
    args = parser.parse_args()
    if args.images < args.batch_size or args.repeats < 1:
        print(f"expected --images of at least --batch-size ({args.batch_size}) and --repeats of at least 1, "
              f"received {args.images} and {args.repeats}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from edgeemo.bench.machine import machine_info, machine_slug
    from edgeemo.errors import EdgeEmoError
    from edgeemo.fileio import write_json

    try:
        faces, labels, source = load_faces(args.data, args.images)
    except EdgeEmoError as exc:
        print(exc, file=sys.stderr)
        return 2
    result = {"source": source, "batch_size": args.batch_size, "mixup": args.mixup, "repeats": args.repeats,
              **measure(faces, labels, args.repeats, args.batch_size, args.mixup), "machine": machine_info()}
    path = args.out / f"{dt.date.today().isoformat()}-{machine_slug(result['machine'])}.json"
    write_json(path, result)
    rate = result["images_per_second"]
    print(f"{result['images_per_pass']} {source}, {args.repeats} repeats, median: single {rate['single']:.0f} images/s, "
          f"chained {rate['chained']:.0f} images/s; chained takes {result['chained_over_single_time']:.2f}x as long -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
