"""Capture what native code writes straight to file descriptors (C++ logs on fds 1 and 2), which
Python's own redirection cannot see."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Captured", "captured_fds"]


@dataclass
class Captured:
    text: str = ""  # what the block wrote, filled in once the descriptors are back


@contextlib.contextmanager
def captured_fds(*fds: int) -> Iterator[Captured]:
    """Point `fds` at a scratch file for the block; the originals come back after it, also when
    it raises, and the Captured it yielded then holds what was written."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    captured = Captured()
    with tempfile.TemporaryFile() as sink:
        try:
            for fd in fds:
                os.dup2(sink.fileno(), fd)
            yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip(fds, saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            captured.text = sink.read().decode(errors="replace")
