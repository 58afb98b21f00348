"""`[apps.NAME]` in the daemon config: one validated section per application."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AppConfig", "AppsConfig"]


class AppConfig(BaseModel):
    """What every application's section has; each app subclasses it with its own keys."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False


from edgeemo.apps.fatigue.config import FatigueConfig  # noqa: E402 - it subclasses AppConfig


class AppsConfig(BaseModel):
    """One field per application in edgeemo.apps.registry.APPS, named as the app."""

    model_config = ConfigDict(extra="forbid")

    fatigue: FatigueConfig = Field(default_factory=FatigueConfig)
