"""Scripted time for analyzer tests and replays: frames at a rate, with jitter and drops."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["FakeClock"]


class FakeClock:
    """A monotonic clock that moves only when told to. Calling it returns the current time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = float(start)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"expected a non-negative step, received {seconds}")
        self.t += seconds
        return self.t

    def frames(
        self, duration_s: float, fps: float, *, jitter: float = 0.0, drop: float = 0.0, seed: int = 0
    ) -> Iterator[float]:
        """Frame times over the next `duration_s` seconds at `fps`: each period varies by up to
        +-`jitter` of itself and a share `drop` of frames never arrives (the clock still moves)."""
        if fps <= 0:
            raise ValueError(f"expected fps > 0, received {fps}")
        rng = np.random.default_rng(seed)
        end = self.t + duration_s
        period = 1.0 / fps
        while True:
            step = period * (1.0 + jitter * float(rng.uniform(-1.0, 1.0)))
            if self.t + step > end:
                break
            self.advance(step)
            if drop and float(rng.random()) < drop:
                continue
            yield self.t
