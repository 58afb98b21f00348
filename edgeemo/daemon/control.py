"""Switches set from outside the frame loop (Home Assistant over MQTT), read by the loop.

Today one: `analysis`. Off idles the camera and the models (a privacy control): the frame loop
closes the source and waits; on again reopens it. Thread-safe; listeners run on the thread
that made the change and must return quickly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["Controls"]

log = logging.getLogger(__name__)

ON_OFF = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}


class Controls:
    def __init__(self, *, analysis: bool = True) -> None:
        self._analysis = analysis
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._listeners: list[Callable[[str, bool], None]] = []

    @property
    def analysis(self) -> bool:
        return self._analysis

    def subscribe(self, listener: Callable[[str, bool], None]) -> None:
        """Call listener(name, value) after every change."""
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[str, bool], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def set_analysis(self, on: bool) -> bool:
        """Turn analysis on or off; True when that changed anything."""
        with self._lock:
            if on == self._analysis:
                return False
            self._analysis = on
            self._changed.notify_all()
            listeners = list(self._listeners)
        log.info("analysis %s", "on" if on else "off: camera and models idle")
        for listener in listeners:
            listener("analysis", on)
        return True

    def wait_for_analysis(self, on: bool, timeout: float) -> bool:
        """Wait until analysis is `on` (or timeout); returns whether it is."""
        with self._changed:
            self._changed.wait_for(lambda: self._analysis == on, timeout)
            return self._analysis == on

    def command(self, name: str, payload: str) -> bool:
        """Apply a command such as ("analysis", "OFF"); a bad one is logged, never raised (it
        comes from the network). Returns whether it was understood."""
        value = ON_OFF.get(payload.strip().lower())
        if name != "analysis":
            log.warning("command: expected one of ['analysis'], received %r", name)
            return False
        if value is None:
            log.warning("command %s: expected ON or OFF, received %r", name, payload[:40])
            return False
        self.set_analysis(value)
        return True
