"""Driver fatigue: eye closure, PERCLOS, blinks, yawns, head pose and nods from the face mesh and
eye-contour models in the bundle (see docs/fatigue.md).

Roles: config.py (every threshold), landmarks.py (the two LiteRT models and MediaPipe's crops),
signals.py (openness, mouth and head pose from the points), state.py (calibration, windows,
events, levels), analyzer.py (the Analyzer), discovery.py (Home Assistant components).
Only config is imported here, so `edgeemo run` without the app loads no models.
"""

from __future__ import annotations

from edgeemo.apps.fatigue.config import FatigueConfig

__all__ = ["FatigueConfig"]
