"""Quantization recipes per target, read from the TOML files in quantize/ (installed as edgeemo.targets)."""

from __future__ import annotations

import sys
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgeemo.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["FORMATS", "PRECISIONS", "Recipe", "list_targets", "load_recipe"]

Format = Literal["tflite", "onnx"]
Precision = Literal["fp32", "fp16", "dynamic", "int8"]
FORMATS: tuple[Format, ...] = ("tflite", "onnx")
PRECISIONS: tuple[Precision, ...] = ("fp32", "fp16", "dynamic", "int8")


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    description: str = ""
    formats: list[Format] = Field(default_factory=lambda: list(FORMATS))
    precisions: list[Precision] = Field(default_factory=lambda: list(PRECISIONS))
    default_artifact: str = "tflite-int8"
    calib_samples: int = Field(300, ge=8)
    threads: int = Field(1, ge=1)
    int8_io: bool = True
    onnx_calibration: Literal["minmax", "entropy", "percentile"] = "minmax"
    onnx_per_channel: bool = True


def list_targets() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("edgeemo.targets").iterdir() if p.name.endswith(".toml"))


def load_recipe(target: str | None) -> Recipe:
    if target is None:
        return Recipe(name="generic-cpu", **_read("generic-cpu"))
    if target not in list_targets():
        raise ConfigError(f"expected --target to be one of {', '.join(list_targets())}, received {target!r}")
    try:
        return Recipe(name=target, **_read(target))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"expected a valid recipe {target}.toml, received {loc}={err.get('input')!r}: {err['msg']}") from exc


def _read(target: str) -> dict:
    return tomllib.loads(resources.files("edgeemo.targets").joinpath(f"{target}.toml").read_text(encoding="utf-8"))
