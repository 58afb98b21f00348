"""FakeSource: plays frames it was given (or generates them), with faults on demand.

Registered like the real sources ("fake:640x480@30*100"), so tests and demos drive the same
grabber and pipeline code. Faults: `fail_opens` failed open() calls; `fail_after` frames after
the first good open, then read failures until the grabber reopens it. Both can also be given in
the source string, so a daemon config can use them: "fake:64x48@20?fail_opens=3&fail_after=50".
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from edgeemo.daemon.sources import CameraSource
from edgeemo.errors import ConfigError, SourceError

__all__ = ["FakeSource"]


def _faults(query: str, uri: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        if name not in ("fail_opens", "fail_after") or not value.isdigit():
            raise ConfigError(
                f"expected fake source options fail_opens=N and fail_after=N joined by '&', received {item!r} in {uri!r}"
            )
        out[name] = int(value)
    return out


class FakeSource(CameraSource):
    key = "fake"
    width: int  # always set from the URI or a default, unlike other sources
    height: int

    def __init__(
        self,
        uri: str = "fake:",
        *,
        frames: Sequence[np.ndarray] | None = None,
        count: int | None = None,
        live: bool = True,
        fail_opens: int = 0,
        fail_after: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(uri, **options)
        m = re.fullmatch(r"fake:?(?:(\d+)x(\d+))?(?:@([\d.]+))?(?:\*(\d+))?(?:\?(.*))?", uri.strip())
        if m is None:
            raise ConfigError(f"expected a source like fake:640x480@30*100?fail_opens=2, received {uri!r}")
        faults = _faults(m.group(5) or "", uri)
        fail_opens = faults.get("fail_opens", fail_opens)
        fail_after = faults.get("fail_after", fail_after)
        self.width = int(m.group(1)) if m.group(1) else (self.width or 640)
        self.height = int(m.group(2)) if m.group(2) else (self.height or 480)
        self.fps = float(m.group(3)) if m.group(3) else self.fps
        self.count = int(m.group(4)) if m.group(4) else count
        self.frames = list(frames) if frames is not None else None
        self.live = live
        self.finite = self.count is not None or (self.frames is not None and not live)
        self.fail_opens = fail_opens
        self.fail_after = fail_after
        self.opens = 0
        self.good_opens = 0
        self.produced = 0
        self._since_open = 0
        self._is_open = False
        self._next_t = 0.0

    def open(self) -> None:
        self.opens += 1
        if self.opens <= self.fail_opens:
            raise SourceError(f"expected fake source to open, received injected failure {self.opens}")
        self.good_opens += 1
        self._is_open = True
        self._since_open = 0
        self._next_t = time.monotonic()

    def _frame(self, i: int) -> np.ndarray:
        if self.frames:
            return self.frames[i % len(self.frames)]
        # A moving bright bar on a gradient: cheap, deterministic, visibly different per frame.
        img = np.empty((self.height, self.width, 3), np.uint8)
        img[:] = (np.arange(self.width, dtype=np.uint16) * 255 // max(1, self.width - 1)).astype(np.uint8)[None, :, None]
        x = (i * 7) % self.width
        img[:, x : x + 8] = 255
        return img

    def read(self) -> np.ndarray | None:
        if not self._is_open:
            return None
        # The injected cut happens once, on the first good open; a reconnect restores the feed.
        if self.fail_after is not None and self.good_opens == 1 and self._since_open >= self.fail_after:
            return None
        limit = self.count if self.count is not None else (len(self.frames) if self.frames and not self.live else None)
        if limit is not None and self.produced >= limit:
            return None
        if self.fps:
            self._next_t += 1.0 / self.fps
            delay = self._next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        frame = self._frame(self.produced)
        self.produced += 1
        self._since_open += 1
        return frame

    def close(self) -> None:
        self._is_open = False
