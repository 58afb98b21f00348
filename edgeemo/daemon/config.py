"""The daemon's configuration: pydantic models (unknown keys rejected) loaded from TOML.

A bad file gives one line naming the key path and the value received, e.g.
`/etc/edgeemo/edgeemo.toml: publish.mqtt.port: expected an integer <= 65535, received 70000`.
Secrets never live here: publish.mqtt.password_file names a file (relative names are looked up
in $CREDENTIALS_DIRECTORY, which systemd's LoadCredential= fills).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgeemo.apps.config import AppsConfig
from edgeemo.daemon.mqtt_config import MqttConfig
from edgeemo.daemon.publish_http import HttpConfig
from edgeemo.daemon.publish_jsonl import JsonlConfig
from edgeemo.errors import ConfigError, InputFileNotFound

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 on older JetPacks
    import tomli as tomllib

__all__ = [
    "BundleConfig",
    "DetectorConfig",
    "PublishConfig",
    "ServiceConfig",
    "SourceConfig",
    "TrackingConfig",
    "format_validation_error",
    "load_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BundleConfig(_Strict):
    path: str | None = None  # None: the default bundle shipped in the package
    # A model file inside the bundle, or "auto": time the bundle's models during warm-up and keep the
    # fastest within auto_max_drop_pp of the most accurate. None: auto for several models, else the one.
    model: str | None = None
    auto_budget_s: float = Field(0.3, gt=0, le=1.0)  # timing budget of the auto choice
    auto_max_drop_pp: float = Field(1.0, ge=0, le=100)  # accuracy (pp, manifest metrics) auto may give up
    threads: int = Field(1, ge=1, le=64)
    providers: list[str] | None = None  # ONNX Runtime providers, e.g. ["CUDAExecutionProvider"]
    # TensorRT (ONNX Runtime) keeps built engines here so a restart does not rebuild them;
    # None: $STATE_DIRECTORY/tensorrt (systemd's StateDirectory=), else ~/.cache/edgeemo/tensorrt.
    tensorrt_cache_dir: str | None = None
    tensorrt_fp16: bool = True  # fp16 engines: every Jetson GPU runs them; Nano-class has no int8 cores
    flip_average: bool | None = None  # None: as the bundle says; false halves classify time


class SourceConfig(_Strict):
    uri: str = "0"
    width: int | None = Field(None, ge=16)
    height: int | None = Field(None, ge=16)
    fps: float | None = Field(None, gt=0)
    format: Literal["RGB888", "BGR888", "XRGB8888", "XBGR8888"] = "RGB888"  # picamera2 only
    loop: bool = False  # files and folders: start again at the end
    stall_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(5.0, gt=0)  # network streams
    reconnect_initial_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    # Give up when the first open has not succeeded after this long; 0 keeps trying (a service).
    start_timeout_s: float = Field(0.0, ge=0)


class DetectorConfig(_Strict):
    kind: Literal["auto", "blazeface", "haar", "yunet"] = "auto"
    model: str | None = None  # YuNet .onnx, or a BlazeFace .tflite other than the bundle's
    min_score: float = Field(0.5, gt=0, lt=1)
    max_faces: int = Field(4, ge=1, le=16)
    detect_width: int = Field(320, ge=64)  # Haar/YuNet downscale; BlazeFace always sees 128x128
    min_face_px: int = Field(24, ge=1)
    # Detection off the critical path (edgeemo.vision.schedule): "every_frame" searches the whole
    # frame each time; "interval" searches it every `every` frames while all faces stay tracked and
    # carries the boxes in between; "roi" searches only around the tracks in between. Lost tracks
    # and untracked frames always get a whole-frame search.
    schedule: Literal["every_frame", "interval", "roi"] = "interval"
    every: int = Field(3, ge=1, le=300)
    roi_margin: float = Field(0.5, ge=0, le=4)  # "roi": the region is the box grown by this on each side


class TrackingConfig(_Strict):
    iou_threshold: float = Field(0.3, gt=0, lt=1)
    max_missed: int = Field(10, ge=0)
    ema_alpha: float = Field(0.4, gt=0, le=1)
    hysteresis: float = Field(0.1, ge=0, lt=1)
    hold_frames: int = Field(2, ge=1)


class PublishConfig(_Strict):
    jsonl: JsonlConfig = Field(default_factory=JsonlConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)


class ServiceConfig(_Strict):
    bundle: BundleConfig = Field(default_factory=BundleConfig)
    source: SourceConfig = Field(default_factory=SourceConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    apps: AppsConfig = Field(default_factory=AppsConfig)  # [apps.NAME]: driver fatigue, room mood
    max_fps: float = Field(0.0, ge=0)  # 0: as fast as frames come; lower it to save power
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def format_validation_error(exc: ValidationError, where: str) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "expected no such key (unknown keys are rejected)"
        else:
            msg = "expected " + msg[0].lower() + msg[1:] if msg else "expected a valid value"
            msg = msg.replace("expected input should be", "expected").replace("expected value error, ", "expected ")
        parts.append(f"{loc}: {msg}, received {err.get('input')!r}")
    return f"{where}: " + "; ".join(parts)


def parse_config(data: dict[str, Any], where: str = "config") -> ServiceConfig:
    try:
        return ServiceConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, where)) from exc


def load_config(path: str | Path) -> ServiceConfig:
    p = Path(path)
    if not p.is_file():
        raise InputFileNotFound(f"expected a TOML config file, received a path that does not exist: {p}")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: expected valid TOML, received: {exc}") from exc
    return parse_config(data, str(p))
