"""`[apps.NAME]` in the daemon config: one validated section per application."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AppConfig", "AppsConfig"]


class AppConfig(BaseModel):
    """What every application's section has; each app subclasses it with its own keys."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False


# Each app's section subclasses AppConfig, so the apps' config modules load once it exists.
from edgeemo.apps.fatigue.config import FatigueConfig  # noqa: E402
from edgeemo.apps.mood.config import MoodConfig  # noqa: E402


class AppsConfig(BaseModel):
    """One field per application in edgeemo.apps.registry.APPS, named as the app."""

    model_config = ConfigDict(extra="forbid")

    fatigue: FatigueConfig = Field(default_factory=FatigueConfig)  # driver fatigue: edgeemo.apps.fatigue
    mood: MoodConfig = Field(default_factory=MoodConfig)  # room mood: edgeemo.apps.mood
