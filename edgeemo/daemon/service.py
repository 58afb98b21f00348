"""The daemon's entry point: main(argv=None) -> int.

Signals become Events (tests set them directly): SIGTERM/SIGINT stop after flushing the
publishers, SIGHUP reloads the config (an invalid new config is logged and the old one kept).
The process never exits because a camera went away; it exits 0 on a requested stop and 2 on a
configuration error (a missing package or source backend included). At start it keeps waiting
for the camera, logging once what it found, unless source.start_timeout_s is set: then a camera
that did not open in time exits 1, which systemd's Restart=on-failure retries.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from edgeemo._lazy import set_opencv_log_level
from edgeemo.daemon.config import ServiceConfig, load_config
from edgeemo.daemon.control import Controls
from edgeemo.daemon.runner import Runner
from edgeemo.daemon.systemd import SystemdNotifier
from edgeemo.errors import EdgeEmoError, SourceUnavailable

__all__ = ["Signals", "main", "serve"]

log = logging.getLogger("edgeemo.daemon")


class Signals:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.reload = threading.Event()

    def install(self) -> Signals:
        """Route SIGTERM/SIGINT to stop and SIGHUP to reload (main thread only)."""

        def on_stop(signum: int, frame: FrameType | None) -> None:
            self.stop.set()

        def on_reload(signum: int, frame: FrameType | None) -> None:
            self.reload.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_reload)
        return self


def _status_line(runner: Runner) -> str:
    info = getattr(runner, "info", {})
    return f"running {info.get('model', '?')} on {info.get('source', '?')}"


def serve(config_path: str, config: ServiceConfig, signals: Signals, notifier: SystemdNotifier) -> int:
    """Run until stopped; each reload rebuilds everything from the re-read config."""
    good = wanted = config  # `good`: the last config that started, the fallback for a bad reload
    controls = Controls()  # one for the whole service: a reload keeps analysis off if it was
    while True:
        runner = Runner(wanted, controls=controls)
        try:
            runner.start()
        except EdgeEmoError as exc:
            runner.close()
            if wanted is good:
                raise
            log.error("the reloaded config failed to start (%s); going back to the previous one", exc)
            wanted = good
            continue
        good = wanted
        notifier.ready(_status_line(runner))
        log.info("ready: %s", _status_line(runner))
        try:
            while True:
                runner.run(signals.stop, reload=signals.reload, on_tick=notifier.watchdog)
                if signals.stop.is_set() or (runner.grabber is not None and runner.grabber.ended):
                    notifier.stopping()
                    runner.flush()
                    return 0
                signals.reload.clear()
                notifier.reloading()
                try:
                    wanted = load_config(config_path)
                except EdgeEmoError as exc:
                    log.error("reload refused, keeping the running config: %s", exc)
                    notifier.ready(_status_line(runner))
                    continue
                log.info("reloading from %s", config_path)
                break
        finally:
            runner.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edgeemo daemon", description="Run the edgeemo service from a TOML config.")
    parser.add_argument("--config", "-c", default="/etc/edgeemo/edgeemo.toml", help="TOML config file")
    parser.add_argument("--validate-config", action="store_true", help="check the config and exit")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        config = load_config(args.config)
    except EdgeEmoError as exc:
        print(f"edgeemo: error: {exc}", file=sys.stderr)
        return 2
    if args.validate_config:
        print(f"{args.config}: ok")
        return 0
    if not logging.getLogger().handlers:
        logging.basicConfig(level=config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
        set_opencv_log_level("silent")  # as the CLI does without -v
    if config.log_level == "debug":
        # OpenCV's native lines bypass the journal's levels; debugging is when they help.
        set_opencv_log_level("warning")
    signals = Signals().install()
    notifier = SystemdNotifier()
    try:
        return serve(args.config, config, signals, notifier)
    except SourceUnavailable as exc:
        # Only with source.start_timeout_s set: a camera may yet appear, so let systemd restart.
        print(f"edgeemo: error: {exc}", file=sys.stderr)
        return 1
    except EdgeEmoError as exc:
        print(f"edgeemo: error: {exc}", file=sys.stderr)
        return 2
    finally:
        notifier.close()
