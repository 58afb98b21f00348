"""One root exception and specific subclasses that also inherit the matching built-in.

The CLI turns any EdgeEmoError into one line on stderr and exit code 2. Messages say what was
expected and what was received.
"""

from __future__ import annotations

__all__ = [
    "BundleError",
    "ConfigError",
    "DataError",
    "EdgeEmoError",
    "InputFileNotFound",
    "MissingDependency",
    "ModelError",
    "SourceError",
    "SourceUnavailable",
    "SourceUnsupported",
    "VerificationError",
]


class EdgeEmoError(Exception):
    """Root of every error edgeemo raises on purpose."""


class InputFileNotFound(EdgeEmoError, FileNotFoundError):
    """A path the user gave does not exist."""


class DataError(EdgeEmoError, ValueError):
    """A dataset, split, class folder or calibration set is unusable."""


class ModelError(EdgeEmoError, ValueError):
    """A model file is corrupt, of an unknown format, or cannot be fed from a face crop."""


class BundleError(EdgeEmoError, ValueError):
    """A bundle is missing files, has a bad manifest, or fails its sha256 check."""


class ConfigError(EdgeEmoError, ValueError):
    """A configuration value is invalid; the message names the key path and the value."""


class VerificationError(EdgeEmoError, RuntimeError):
    """A converted artifact disagrees with its float model beyond the stated tolerance."""


class SourceError(EdgeEmoError, RuntimeError):
    """A frame source cannot be opened at all (as opposed to a transient read failure)."""


class MissingDependency(EdgeEmoError, ImportError):
    """An optional package is not installed; the message names the extra (or, for packages pip
    cannot build such as picamera2, the system package) that provides it."""


class SourceUnsupported(SourceError):
    """This installation can never open the source (an OpenCV built without GStreamer, say):
    waiting will not fix it, so it is a configuration error, not a camera to wait for."""


class SourceUnavailable(SourceError):
    """A camera did not open within its start timeout; the message says what was found."""
