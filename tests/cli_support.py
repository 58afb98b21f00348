"""Shared helpers for the host command tests: run `edgeemo` in-process and check one-line errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from edgeemo.cli import cli

__all__ = ["assert_one_line_error", "invoke"]


def invoke(*args: str | Path | int | float) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `edgeemo ARGS` run through click's CliRunner."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, stderr: str, *needles: str) -> None:
    """Exit 2 with one line on stderr, no traceback, naming every needle."""
    assert code == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
