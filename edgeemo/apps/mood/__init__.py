"""The room mood application: a stable room-level mood, occupancy and valence/arousal from the
tracked faces, for smart-home automations (`[apps.mood]`, `edgeemo run --app mood`).

The analyzer (edgeemo.apps.mood.analyzer.MoodAnalyzer) loads only when the app is enabled."""

from __future__ import annotations

from edgeemo.apps.mood.affect import DEFAULT_AFFECT, EVENT_TYPES, MOOD_STATES
from edgeemo.apps.mood.config import MoodConfig

__all__ = ["DEFAULT_AFFECT", "EVENT_TYPES", "MOOD_STATES", "MoodConfig"]
