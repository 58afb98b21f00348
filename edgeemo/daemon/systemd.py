"""sd_notify without a dependency: one datagram to $NOTIFY_SOCKET per state change.

READY=1 goes out only after the models are loaded and warmed up, WATCHDOG=1 from the frame
loop (so a hung loop, not just a dead process, gets restarted), STOPPING=1 on SIGTERM and
RELOADING=1 on SIGHUP. Outside systemd NOTIFY_SOCKET is unset and every call is a no-op.
"""

from __future__ import annotations

import collections
import logging
import os
import socket
import time
from collections.abc import Mapping

__all__ = ["SystemdNotifier"]

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        addr = env.get("NOTIFY_SOCKET", "")
        # "@name" is a Linux abstract socket, spelt with a leading NUL byte.
        self.address = "\0" + addr[1:] if addr.startswith("@") else addr
        self._sock: socket.socket | None = None
        if self.address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_s: float | None = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and mine else None
        self._last_ping = 0.0
        self.sent: collections.deque[str] = collections.deque(maxlen=64)  # recent messages, for tests and /status

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, *fields: str) -> bool:
        if self._sock is None:
            return False
        msg = "\n".join(fields)
        try:
            self._sock.sendto(msg.encode(), self.address)
        except OSError as exc:  # systemd gone or socket full: never fatal for the service
            log.debug("sd_notify %r failed: %s", msg, exc)
            return False
        self.sent.append(msg)
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        # MONOTONIC_USEC lets Type=notify-reload match this message to the reload it asked for.
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def watchdog(self) -> bool:
        """WATCHDOG=1 at most twice per WatchdogSec; cheap to call every frame."""
        if self.watchdog_s is None or self._sock is None:
            return False
        now = time.monotonic()
        if now - self._last_ping < self.watchdog_s / 2.0:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
