"""PreprocessSpec: the one description of how a face crop becomes a model input.

Written once at training time, carried inside the bundle, and used unchanged by calibration,
evaluation and the device. A mismatch between training and device preprocessing is the most
common cause of "int8 is broken" reports, so nothing else in edgeemo normalises pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgeemo.errors import ConfigError, DataError
from edgeemo.fileio import read_json

__all__ = ["NORMALIZATIONS", "SPEC_FILE", "PreprocessSpec", "gaussian_kernel", "load_spec_file", "smooth", "spec_beside"]

# What a training run writes beside its model; quantize, evaluate and bench read it back.
SPEC_FILE = "spec.json"

# name -> (scale, offset): model_input = pixel * scale + offset, pixel in 0..255
NORMALIZATIONS: dict[str, tuple[float, float]] = {
    "0_1": (1.0 / 255.0, 0.0),
    "-1_1": (1.0 / 127.5, -1.0),
    "0_255": (1.0, 0.0),
}


class PreprocessSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    height: int = Field(48, ge=8, le=1024)
    width: int = Field(48, ge=8, le=1024)
    channels: Literal[1, 3] = 1
    # Channel order of 3-channel inputs; grayscale models ignore it.
    color_order: Literal["rgb", "bgr"] = "rgb"
    normalization: Literal["0_1", "-1_1", "0_255"] = "0_1"
    # Fraction of the detected face box added on each side before resizing.
    crop_margin: float = Field(0.1, ge=0.0, le=1.0)
    # Rotate the crop so the eyes are level when the detector gives eye keypoints.
    align: bool = True
    # Where the face detector's box sits in the training faces' frame: (x1, y1, x2, y2) as
    # fractions of the model's width and height, learnt by running the detector on training
    # faces (edgeemo.vision.template). The device places its crop so the box lands there, which
    # frames a face as training did; crop_margin is then unused. None: the box plus crop_margin,
    # centred (bundles made before templates).
    face_template: tuple[float, float, float, float] | None = None
    # Gaussian blur (sigma in pixels at the model size) on every inference input; 0: none.
    # Training augmentation resamples each image (rotation, shift, zoom), which softens it, so a
    # model trained that way scores sharp test faces worse than slightly smoothed ones.
    # `edgeemo train` chooses sigma on its validation split and writes it to spec.json.
    smoothing_sigma: float = Field(0.0, ge=0.0, le=3.0)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    def to_pixels(self, image: np.ndarray) -> np.ndarray:
        """One image (gray HxW, or BGR HxWx3 as OpenCV gives it) -> uint8 HxWxC at the model size."""
        import cv2  # lazy: the host data path and the device both have OpenCV, the spec itself does not need it

        img = np.asarray(image)
        if img.dtype != np.uint8:
            raise DataError(f"expected a uint8 image, received dtype {img.dtype}")
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.ndim not in (2, 3):
            raise DataError(f"expected an HxW or HxWx3 image, received shape {img.shape}")
        if self.channels == 1 and img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        elif self.channels == 3 and img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        if self.channels == 3 and self.color_order == "rgb":
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        if img.shape[:2] != (self.height, self.width):
            shrinking = img.shape[0] > self.height
            interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
            img = cv2.resize(img, (self.width, self.height), interpolation=interp)
        return img.reshape(self.height, self.width, self.channels)

    def normalize(self, pixels: np.ndarray) -> np.ndarray:
        """uint8 NxHxWxC (or HxWxC) -> float32 model input: scaled, then smoothed when the spec says so."""
        scale, offset = NORMALIZATIONS[self.normalization]
        x = pixels.astype(np.float32) * np.float32(scale) + np.float32(offset)
        return smooth(x, self.smoothing_sigma) if self.smoothing_sigma > 0 else x

    def prepare(self, images: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """A batch of crops of any size -> float32 NxHxWxC ready for a runtime."""
        batch = np.stack([self.to_pixels(img) for img in images]) if len(images) else np.zeros(
            (0, *self.input_shape), np.uint8
        )
        return self.normalize(batch)

    def pixel_range(self) -> tuple[float, float]:
        scale, offset = NORMALIZATIONS[self.normalization]
        return (offset, 255.0 * scale + offset)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian taps out to 3 sigma (at least one pixel each side)."""
    radius = max(1, int(np.ceil(3.0 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 * (x / sigma) ** 2)
    return (taps / taps.sum()).astype(np.float32)


def smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of float32 NxHxWxC (or HxWxC) images, edges mirrored."""
    import cv2  # lazy, as in to_pixels; a 48x48 face takes ~10 us here, six times less than in numpy

    taps = gaussian_kernel(sigma)
    batch = x if x.ndim == 4 else x[None]
    out = np.stack([cv2.sepFilter2D(img, -1, taps, taps, borderType=cv2.BORDER_REFLECT_101).reshape(img.shape)
                    for img in batch]) if len(batch) else batch
    return out.reshape(x.shape)


def spec_beside(model: str | Path, default: PreprocessSpec) -> PreprocessSpec:
    """The PreprocessSpec in the spec.json a training run wrote beside `model`; `default` when there is none."""
    sidecar = Path(model).parent / SPEC_FILE
    return load_spec_file(sidecar, strict=False)["preprocess"] if sidecar.is_file() else default


def load_spec_file(path: Path, *, strict: bool = True) -> dict[str, Any]:
    """A spec JSON: {"preprocess": {...}, "labels": [...], optional "model", "name"}.

    strict: refuse unknown keys (a peer spec a user wrote); the spec.json a training run writes
    beside its model may carry more and is read with strict=False.
    """
    data = read_json(path, "a JSON spec")
    if not isinstance(data, dict):
        raise ConfigError(f"expected a JSON object in {path}, received {type(data).__name__}")
    unknown = set(data) - {"model", "name", "preprocess", "labels", "group", "demo"}
    if unknown and strict:
        raise ConfigError(f"expected keys model, name, preprocess, labels in {path}, received extra {sorted(unknown)}")
    try:
        data["preprocess"] = PreprocessSpec.model_validate(data.get("preprocess", {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = "preprocess." + ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"expected a valid {loc} in {path}, received {first.get('input')!r}: {first['msg']}") from exc
    labels = data.get("labels")
    if labels is not None and not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        raise ConfigError(f"expected labels as a list of strings in {path}, received {labels!r}")
    return data
