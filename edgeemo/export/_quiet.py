"""Silence converter chatter (Python prints and C++ logs on fds 1 and 2) so the CLI output stays readable."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from edgeemo._fds import captured_fds

__all__ = ["quiet_fds"]


@contextlib.contextmanager
def quiet_fds() -> Iterator[None]:
    """Redirect fds 1 and 2 to a scratch file for the block; EDGEEMO_VERBOSE_CONVERT=1 keeps them."""
    if os.environ.get("EDGEEMO_VERBOSE_CONVERT") == "1":
        yield
        return
    with captured_fds(1, 2):
        yield
