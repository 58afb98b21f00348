"""Device side: sources -> pipeline -> publishers, the frame loop, and the systemd service.

Nothing here imports TensorFlow; heavy packages (OpenCV, LiteRT, paho, prometheus_client) load
only in the modules that use them.
"""

from __future__ import annotations

__all__: list[str] = []
