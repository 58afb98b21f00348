"""Which applications exist and how to build the enabled ones.

Applications load lazily (some bring models of their own), so `edgeemo run` without `--app`
imports none of them.
"""

from __future__ import annotations

import importlib
from typing import Any

from edgeemo.apps.base import Analyzer, AppContext
from edgeemo.apps.config import AppConfig, AppsConfig
from edgeemo.errors import ConfigError

__all__ = ["APPS", "build_analyzers", "enabled_apps"]

# name -> "module:Analyzer subclass"; the class builds itself with from_config(config, context).
APPS: dict[str, str] = {
    "fatigue": "edgeemo.apps.fatigue.analyzer:FatigueAnalyzer",
    "mood": "edgeemo.apps.mood.analyzer:MoodAnalyzer",
}


def enabled_apps(config: AppsConfig) -> list[tuple[str, AppConfig]]:
    out = []
    for name in APPS:
        section = getattr(config, name, None)
        if isinstance(section, AppConfig) and section.enabled:
            out.append((name, section))
    return out


def _analyzer_class(name: str) -> Any:
    if name not in APPS:
        raise ConfigError(f"expected an application in {sorted(APPS)}, received {name!r}")
    module, attr = APPS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def build_analyzers(config: AppsConfig, context: AppContext) -> list[Analyzer]:
    """The enabled applications, in registry order; one that cannot be built raises."""
    built: list[Analyzer] = []
    try:
        for name, section in enabled_apps(config):
            built.append(_analyzer_class(name).from_config(section, context))
    except BaseException:
        for analyzer in built:
            analyzer.close()
        raise
    return built
