"""Conversion and quantization (host side): one table of formats, one function per format, and a
verification of every artifact in its own runtime before it is reported."""

from __future__ import annotations

from edgeemo.export.convert import ExportedArtifact, export_artifact, verify_artifact
from edgeemo.export.formats import EXPORTS, ExportFormat, ExportOptions, artifact_key, artifact_name

__all__ = [
    "EXPORTS",
    "ExportFormat",
    "ExportOptions",
    "ExportedArtifact",
    "artifact_key",
    "artifact_name",
    "export_artifact",
    "verify_artifact",
]
