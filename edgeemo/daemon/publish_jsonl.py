"""JSON Lines publisher: one line per frame (or per interval) to stdout or a size-rotated file."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from edgeemo.daemon.metrics import Metrics
from edgeemo.daemon.pipeline import FrameResult
from edgeemo.daemon.publishers import Publisher

__all__ = ["JsonlConfig", "JsonlPublisher"]


class JsonlConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    path: str = "-"  # "-" is stdout
    # 0 writes every frame; otherwise at most one line per interval (plus frames whose faces changed).
    min_interval_s: float = Field(0.0, ge=0.0)
    max_bytes: int = Field(10_000_000, ge=0)  # 0: never rotate
    backups: int = Field(3, ge=0)
    include_empty: bool = True  # write frames without faces too


class JsonlPublisher(Publisher):
    key = "jsonl"

    def __init__(self, config: JsonlConfig | None = None, **overrides: Any) -> None:
        self.config = (config or JsonlConfig()).model_copy(update=overrides)
        self._fh: IO[str] | None = None
        self._own = False
        self._size = 0
        self._last_t = 0.0
        self._last_sig: tuple[Any, ...] = ()
        self._last_flush = 0.0
        self.lines = 0

    def start(self, metrics: Metrics | None = None) -> None:
        if self._fh is not None:
            return
        if self.config.path == "-":
            self._fh, self._own = sys.stdout, False
        else:
            path = Path(self.config.path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh, self._own = open(path, "a", encoding="utf-8"), True  # noqa: SIM115 - held open
            self._size = path.stat().st_size

    def _rotate(self) -> None:
        assert self._fh is not None  # noqa: S101 - internal invariant, not user input
        self._fh.close()
        path = Path(self.config.path)
        for i in range(self.config.backups, 0, -1):
            src = path.with_name(f"{path.name}.{i - 1}") if i > 1 else path
            if src.exists():  # the oldest backup is overwritten by the one before it
                os.replace(src, path.with_name(f"{path.name}.{i}"))
        if self.config.backups == 0:
            path.unlink(missing_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self._size = 0

    def publish(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        if self._fh is None:
            self.start()
        if not result.faces and not self.config.include_empty:
            return
        now = time.monotonic()
        if self.config.min_interval_s > 0:
            sig = tuple((f.id, f.label) for f in result.faces)
            if sig == self._last_sig and now - self._last_t < self.config.min_interval_s:
                return
            self._last_sig = sig
        self._last_t = now
        line = json.dumps(result.to_json(), separators=(",", ":")) + "\n"
        assert self._fh is not None  # noqa: S101
        self._fh.write(line)
        self.lines += 1
        if self._own:
            self._size += len(line)
            if self.config.max_bytes and self._size >= self.config.max_bytes:
                self._rotate()
            elif now - self._last_flush > 1.0:
                self._fh.flush()
                self._last_flush = now
        else:
            self._fh.flush()  # stdout is usually a pipe someone is reading live

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            if self._own:
                self._fh.close()
            self._fh = None
