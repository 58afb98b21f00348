"""Image-folder datasets: ROOT/<split>/<class>/*, or ROOT/<class>/* when there are no splits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgeemo.data.dataset import LabeledImages
from edgeemo.errors import DataError
from edgeemo.preprocess import PreprocessSpec

__all__ = ["IMAGE_SUFFIXES", "load_image_folder"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}


def load_image_folder(
    root: Path,
    split: str | None,
    spec: PreprocessSpec,
    *,
    class_names: list[str],
    labels: dict[str, str] | None = None,
    limit_per_class: int | None = None,
    progress: bool = True,
    face_crop: Callable[[np.ndarray], np.ndarray | None] | None = None,
) -> LabeledImages:
    """face_crop: read each photo in colour and let it find the face (the device path); a photo
    where it finds none is kept, blank, and marked in `no_face`."""
    import cv2

    split_dir = _split_dir(root, split)
    files: list[tuple[Path, int]] = []
    for folder in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        label = labels.get(folder.name, folder.name) if labels else folder.name
        if label == "-":
            continue
        if label not in class_names:
            hint = " (map it with --labels folder=label, or folder=- to skip it)"
            raise DataError(f"expected class folders named {', '.join(class_names)} in {split_dir}, received {folder.name!r}{hint}")
        members = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if limit_per_class is not None:
            members = members[:limit_per_class]
        files.extend((p, class_names.index(label)) for p in members)
    if not files:
        raise DataError(f"expected class folders with images in {split_dir}, received none")

    flag = cv2.IMREAD_GRAYSCALE if spec.channels == 1 and face_crop is None else cv2.IMREAD_COLOR
    images = np.zeros((len(files), *spec.input_shape), dtype=np.uint8)
    targets = np.empty(len(files), dtype=np.int64)
    no_face = np.zeros(len(files), dtype=bool)
    skipped: list[str] = []
    kept = 0
    for path, target in _progress(files, f"loading {split_dir.name}", progress):
        img = cv2.imread(str(path), flag)
        if img is None or img.size == 0:
            skipped.append(str(path))
            continue
        if face_crop is None:
            images[kept] = spec.to_pixels(img)
        else:
            crop = face_crop(img)
            if crop is None:
                no_face[kept] = True
            else:
                images[kept] = crop
        targets[kept] = target
        kept += 1
    return LabeledImages(images[:kept], targets[:kept], list(class_names), len(skipped), str(split_dir), skipped,
                         no_face=no_face[:kept] if face_crop is not None else None)


def _split_dir(root: Path, split: str | None) -> Path:
    if split and (root / split).is_dir():
        return root / split
    has_images_directly = any(
        p.is_dir() and any(f.suffix.lower() in IMAGE_SUFFIXES for f in p.iterdir()) for p in root.iterdir()
    )
    if split in (None, "all") and has_images_directly:
        return root
    available = sorted(p.name for p in root.iterdir() if p.is_dir())
    raise DataError(f"expected a split folder {split!r} in {root}, received folders {available}")


def _progress(items: list, description: str, enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        return items
    from rich.progress import track

    return track(items, description=description, transient=True)
