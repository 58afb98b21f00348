"""Loading float Keras models from .keras, legacy .h5, or a SavedModel directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgeemo._lazy import require_tensorflow
from edgeemo.errors import InputFileNotFound, ModelError

__all__ = ["check_feedable", "load_keras_model"]


def load_keras_model(path: str | Path) -> Any:
    require_tensorflow()
    import keras

    p = Path(path)
    if not p.exists():
        raise InputFileNotFound(f"expected a .keras, .h5 file or SavedModel directory, received a missing path: {p}")
    try:
        if p.is_dir():
            return _from_saved_model(keras, p)
        if p.suffix not in (".keras", ".h5", ".hdf5"):
            raise ModelError(f"expected a .keras, .h5 file or SavedModel directory, received {p.name!r}")
        return keras.models.load_model(p, compile=False)
    except ModelError:
        raise
    except Exception as exc:  # Keras raises many types for a corrupt file
        raise ModelError(f"expected a loadable Keras model at {p}, received: {str(exc).splitlines()[0][:200]}") from exc


def _from_saved_model(keras: Any, path: Path) -> Any:
    """Wrap a SavedModel's serving signature as a Keras model, so it converts and predicts like any other."""
    if not (path / "saved_model.pb").is_file():
        raise ModelError(f"expected saved_model.pb inside the directory {path}, received a folder without it")
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures.get("serving_default")
    if signature is None:
        raise ModelError(f"expected a 'serving_default' signature in {path}, received {list(loaded.signatures)}")
    specs = list(signature.structured_input_signature[1].values())
    if len(specs) != 1:
        raise ModelError(f"expected a SavedModel with one image input, received {len(specs)} inputs")
    shape = tuple(specs[0].shape[1:])
    layer = keras.layers.TFSMLayer(str(path), call_endpoint="serving_default")
    inp = keras.Input(shape, name="face")
    out = layer(inp)
    if isinstance(out, dict):
        out = next(iter(out.values()))
    return keras.Model(inp, out, name=path.name)


def check_feedable(model: Any, num_labels: int | None = None) -> tuple[int, int, int]:
    """(H, W, C) of a model that a face crop can feed: one NHWC image input, C of 1 or 3, one class vector out."""
    if len(model.inputs) != 1:
        raise ModelError(f"expected a model with one image input, received {len(model.inputs)} inputs")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4 or shape[3] not in (1, 3) or not all(isinstance(d, int) and d >= 8 for d in shape[1:3]):
        raise ModelError(
            f"expected a model input of shape (batch, height, width, 1 or 3) with fixed height and width, "
            f"received {shape}: a face crop cannot feed it"
        )
    out = tuple(model.outputs[0].shape)
    if len(out) != 2 or not isinstance(out[1], int):
        raise ModelError(f"expected a model output of shape (batch, classes), received {out}")
    if num_labels is not None and out[1] != num_labels:
        raise ModelError(f"expected {num_labels} output classes to match the labels, received {out[1]}")
    return int(shape[1]), int(shape[2]), int(shape[3])
