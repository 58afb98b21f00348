"""Applications on top of the device pipeline (driver fatigue, room mood): the Analyzer layer."""

from __future__ import annotations

from edgeemo.apps.base import Analyzer, AppContext, AppEvent, AppOutput, MqttTopics
from edgeemo.apps.clock import FakeClock
from edgeemo.apps.config import AppConfig, AppsConfig

__all__ = ["Analyzer", "AppConfig", "AppContext", "AppEvent", "AppOutput", "AppsConfig", "FakeClock", "MqttTopics"]
