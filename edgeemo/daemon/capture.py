"""The capture thread: latest frame only, dropped frames counted, reconnect with backoff.

Live sources overwrite the one-frame slot, so the frame loop always gets the newest frame and
memory stays flat whatever the camera's rate. Finite, non-live sources (files, folders) hand
over every frame instead, waiting for the loop to take each one. A failed open or read, or no
frame for `stall_timeout_s`, means reconnect: close, wait (exponential backoff, capped), open.
The grabber never gives up on a live source; the daemon must outlive a camera that went away.

Two exceptions to retrying: an open() that raises MissingDependency or SourceUnsupported (no
amount of waiting installs a package) ends the thread and is kept in `fatal`; and a caller
that gave a start timeout gets SourceUnavailable from wait_open() when the very first open has
not succeeded in time, with a diagnosis of the camera. Without a start timeout the diagnosis is
logged once, and the grabber keeps trying, as a service should.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from edgeemo.daemon.camera_diag import camera_diagnosis
from edgeemo.daemon.sources import CameraSource
from edgeemo.errors import EdgeEmoError, MissingDependency, SourceUnavailable, SourceUnsupported

__all__ = ["CaptureStats", "Frame", "FrameGrabber"]

log = logging.getLogger(__name__)

# wait_open() lets a first open that is still running at the start timeout go on this much longer.
_FIRST_ATTEMPT_GRACE_S = 30.0


@dataclass
class Frame:
    image: np.ndarray
    index: int  # sequence number of captured frames, gaps = dropped frames
    t_capture: float  # time.monotonic() when read() returned
    wall_time: float  # time.time() at the same moment, for published timestamps
    decode_s: float  # how long read() took: grab + decode


@dataclass
class CaptureStats:
    state: str = "starting"  # starting | running | reconnecting | stalled | ended | stopped | failed
    frames: int = 0
    dropped: int = 0
    reconnects: int = 0
    open_failures: int = 0
    read_failures: int = 0
    stalls: int = 0
    last_frame_at: float | None = None  # monotonic
    last_error: str = ""
    decode_s: list[float] = field(default_factory=list, repr=False)  # recent read() times, drained by the loop


class FrameGrabber:
    def __init__(
        self,
        source: CameraSource,
        *,
        stall_timeout_s: float = 5.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        start_timeout_s: float = 0.0,
    ) -> None:
        self.source = source
        self.stall_timeout_s = stall_timeout_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        # > 0: wait_open() gives up after this long; 0: keep trying forever (the daemon).
        self.start_timeout_s = start_timeout_s
        self.fatal: EdgeEmoError | None = None  # why the capture thread gave up for good
        self.opened = False  # the source opened at least once
        self._wake_start = threading.Event()  # set on the first good open, or when the thread ends
        self._started_at = 0.0
        self.stats = CaptureStats()
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self._taken = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_index = 0
        self._wait_s = backoff_initial_s

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FrameGrabber:
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="edgeemo-capture", daemon=True)
        self._thread.start()
        return self

    def wait_open(self) -> None:
        """With a start timeout, block until the source first opens. Raises the fatal error
        that ended the capture thread, or SourceUnavailable (with a diagnosis of the camera)
        when the timeout passed first. Without a start timeout, returns at once."""
        if self.start_timeout_s <= 0:
            return
        deadline = self._started_at + self.start_timeout_s
        self._wake_start.wait(max(0.0, deadline - time.monotonic()))
        # A slow first attempt (a network stream's own open timeout) may finish, however it ends.
        late = deadline + max(self.start_timeout_s, _FIRST_ATTEMPT_GRACE_S)
        while not self._wake_start.is_set() and not self.stats.open_failures and time.monotonic() < late:
            self._wake_start.wait(0.05)
        if self.fatal is not None:
            raise self.fatal
        if not self.opened and not self._stop.is_set():
            n = self.stats.open_failures
            received = f"{n} failed open(s) (the last: {self.stats.last_error})" if n else "no answer to the first open"
            diagnosis = camera_diagnosis(self.source)
            raise SourceUnavailable(
                f"expected {self.source.describe()} to open within {self.start_timeout_s:g} s, received {received}"
                + (f"; {diagnosis}" if diagnosis else "")
                + "; `edgeemo run --wait` (source.start_timeout_s = 0 in a config) keeps trying"
            )

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self.source.close()
        if self.stats.state != "ended":
            self.stats.state = "stopped"

    def __enter__(self) -> FrameGrabber:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def ended(self) -> bool:
        """A finite source reached its end and its last frame was taken."""
        with self._cond:
            return self.stats.state == "ended" and self._taken

    @property
    def healthy(self) -> bool:
        return self.stats.state in ("running", "ended")

    # -- consumer side -----------------------------------------------------------------------
    def get(self, timeout: float = 1.0) -> Frame | None:
        """The newest frame not yet taken, waiting up to `timeout`; None if none came."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._taken:
                if self.stats.state == "ended" or self._stop.is_set() or self.fatal is not None:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    self._check_stall()
                    return None
                self._cond.wait(left)
            frame = self._slot
            self._taken = True
            self._cond.notify_all()
            return frame

    def _check_stall(self) -> None:
        last = self.stats.last_frame_at
        if self.stats.state == "running" and last is not None and time.monotonic() - last > self.stall_timeout_s:
            self.stats.state = "stalled"
            self.stats.stalls += 1
            log.warning("source %s: no frame for %.1f s", self.source.describe(), self.stall_timeout_s)

    # -- capture thread ----------------------------------------------------------------------
    def _sleep(self, seconds: float) -> bool:
        """Interruptible sleep; False when stopping."""
        return not self._stop.wait(seconds)

    def _backoff(self) -> bool:
        """Wait the current backoff and double it; it resets only once a frame arrives, so a
        camera that opens but never delivers is retried ever more slowly too."""
        wait = self._wait_s
        self._wait_s = min(self._wait_s * 2.0, self.backoff_max_s)
        return self._sleep(wait)

    def _open(self) -> bool:
        while not self._stop.is_set():
            try:
                self.source.open()
                self.opened = True
                self._wake_start.set()
                return True
            except (MissingDependency, SourceUnsupported) as exc:
                self.stats.last_error = str(exc)
                self.fatal = exc  # the frame loop raises it: one error line, exit code 2
                log.debug("source %s: giving up: %s", self.source.describe(), exc)
                return False
            except (EdgeEmoError, OSError) as exc:
                self.stats.open_failures += 1
                self.stats.last_error = str(exc)
                self.stats.state = "reconnecting"
                self._log_open_failure(exc)
                if not self._backoff():
                    return False
        return False

    def _log_open_failure(self, exc: BaseException) -> None:
        name = self.source.describe()
        if self.opened:
            log.warning("source %s: open failed (%s); retrying in %.1f s", name, exc, self._wait_s)
        elif self.start_timeout_s > 0:
            # wait_open() reports the outcome in one line; the attempts are detail.
            log.info("source %s: open failed (%s); retrying in %.1f s for up to %g s",
                     name, exc, self._wait_s, self.start_timeout_s)
        elif self.stats.open_failures == 1:
            diagnosis = camera_diagnosis(self.source)
            log.warning("source %s: cannot open it yet (%s)%s; retrying with backoff until it appears",
                        name, exc, f"; {diagnosis}" if diagnosis else "")
        else:
            log.warning("source %s: open failed (%s); retrying in %.1f s", name, exc, self._wait_s)

    def _publish(self, frame: Frame) -> None:
        with self._cond:
            if not self.source.live:
                # Files: hand over every frame; wait for the loop to take the previous one.
                while not self._taken and not self._stop.is_set():
                    self._cond.wait(0.1)
            elif not self._taken:
                self.stats.dropped += 1
            self._slot = frame
            self._taken = False
            self._cond.notify_all()

    def _run(self) -> None:
        try:
            self._capture()
        finally:
            if self.fatal is not None:
                self.stats.state = "failed"
            self._wake_start.set()  # wake wait_open(): it reads the outcome from `opened` and `fatal`
            with self._cond:
                self._cond.notify_all()

    def _capture(self) -> None:
        self._wait_s = self.backoff_initial_s
        first = True
        while not self._stop.is_set():
            if not self._open():
                break
            if not first:
                self.stats.reconnects += 1
                log.info("source %s: reconnected", self.source.describe())
            first = False
            self.stats.state = "running"
            self.stats.last_frame_at = time.monotonic()
            while not self._stop.is_set():
                t0 = time.monotonic()
                try:
                    image = self.source.read()
                except (EdgeEmoError, OSError) as exc:
                    self.stats.last_error = str(exc)
                    image = None
                t1 = time.monotonic()
                if image is None:
                    if self.source.finite:
                        with self._cond:
                            self.stats.state = "ended"
                            self._cond.notify_all()
                        return
                    self.stats.read_failures += 1
                    self.stats.state = "reconnecting"
                    log.warning("source %s: read failed; reconnecting", self.source.describe())
                    break
                if t1 - (self.stats.last_frame_at or t1) > self.stall_timeout_s and self.stats.state == "running":
                    # A read that blocked past the stall timeout and then came back.
                    self.stats.stalls += 1
                self.stats.frames += 1
                self._wait_s = self.backoff_initial_s
                self.stats.last_frame_at = t1
                self.stats.state = "running"
                decode = self.stats.decode_s
                if len(decode) < 4096:  # bounded if nobody drains it
                    decode.append(t1 - t0)
                self._publish(Frame(image, self._next_index, t1, time.time(), t1 - t0))
                self._next_index += 1
            self.source.close()
            if not self._backoff():
                break
