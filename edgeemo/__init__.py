"""edgeemo: train, quantize, benchmark and deploy compact facial emotion recognition models."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
