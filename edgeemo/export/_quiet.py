"""Silence converter chatter (Python prints and C++ logs on fds 1 and 2) so the CLI output stays readable."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

__all__ = ["quiet_fds"]


@contextlib.contextmanager
def quiet_fds() -> Iterator[None]:
    """Redirect fds 1 and 2 to a scratch file for the block; EDGEEMO_VERBOSE_CONVERT=1 keeps them."""
    if os.environ.get("EDGEEMO_VERBOSE_CONVERT") == "1":
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
