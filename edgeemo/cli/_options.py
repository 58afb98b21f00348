"""Shared parsing of comma lists and the console used by every command."""

from __future__ import annotations

import click

__all__ = ["comma_list", "console"]


def comma_list(allowed: tuple[str, ...] | None = None):  # type: ignore[no-untyped-def]
    """A click callback turning "a,b" into ["a", "b"], checking each item against `allowed`."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
        if value is None:
            return None
        items = [v.strip() for v in value.split(",") if v.strip()]
        bad = [v for v in items if allowed and v not in allowed]
        if bad or not items:
            raise click.BadParameter(f"expected a comma list of {', '.join(allowed or ())}, received {value!r}")
        return items

    return parse


def console():  # type: ignore[no-untyped-def]
    import sys

    from rich.console import Console

    # Rich assumes 80 columns when piped; tables of artifacts need more to stay readable in logs.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 140)
