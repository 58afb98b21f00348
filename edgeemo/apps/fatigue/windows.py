"""Rolling windows in seconds: the share of time a condition held, and events counted over time.

Both are O(1) per frame (running sums; only the oldest entry can straddle the window start), so a
60 s window at 60 fps costs the same as at 5 fps and gives the same answer.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

__all__ = ["EventLog", "TimeShare"]


@dataclass
class _Span:
    t0: float
    t1: float
    on: bool


class TimeShare:
    """Covered time and the time a condition was on, over the last `window_s` seconds."""

    def __init__(self, window_s: float) -> None:
        self.window_s = float(window_s)
        self._spans: collections.deque[_Span] = collections.deque()
        self._covered = 0.0
        self._on = 0.0

    def add(self, t0: float, t1: float, on: bool) -> None:
        """Time from t0 to t1 was measured, with the condition `on` (or off) throughout."""
        if t1 <= t0:
            return
        last = self._spans[-1] if self._spans else None
        if last is not None and last.on == on and abs(last.t1 - t0) < 1e-9:
            last.t1 = t1  # contiguous and the same: extend, so the deque stays short
        else:
            self._spans.append(_Span(t0, t1, on))
        self._covered += t1 - t0
        if on:
            self._on += t1 - t0

    def _expire(self, now: float) -> float:
        start = now - self.window_s
        while self._spans and self._spans[0].t1 <= start:
            span = self._spans.popleft()
            self._covered -= span.t1 - span.t0
            if span.on:
                self._on -= span.t1 - span.t0
        return start

    def totals(self, now: float) -> tuple[float, float]:
        """(covered seconds, on seconds) within (now - window_s, now]."""
        start = self._expire(now)
        covered, on = self._covered, self._on
        if self._spans and self._spans[0].t0 < start:  # the oldest span straddles the start
            cut = start - self._spans[0].t0
            covered -= cut
            if self._spans[0].on:
                on -= cut
        return max(0.0, covered), max(0.0, on)

    def reset(self) -> None:
        self._spans.clear()
        self._covered = self._on = 0.0


class EventLog:
    """Times (and a value each, e.g. a blink's duration) of events within the last `window_s`."""

    def __init__(self, window_s: float) -> None:
        self.window_s = float(window_s)
        self._items: collections.deque[tuple[float, float]] = collections.deque()

    def add(self, t: float, value: float = 0.0) -> None:
        self._items.append((t, value))

    def values(self, now: float) -> list[float]:
        start = now - self.window_s
        while self._items and self._items[0][0] <= start:
            self._items.popleft()
        return [v for _, v in self._items]

    def count(self, now: float) -> int:
        return len(self.values(now))

    def reset(self) -> None:
        self._items.clear()
