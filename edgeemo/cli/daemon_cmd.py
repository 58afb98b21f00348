"""`edgeemo daemon`: the systemd service (Type=notify) from a TOML config."""

from __future__ import annotations

import click

__all__ = ["daemon"]


@click.command("daemon", context_settings={"ignore_unknown_options": False})
@click.option("--config", "-c", "config", default="/etc/edgeemo/edgeemo.toml", show_default=True,
              type=click.Path(dir_okay=False), help="TOML config file.")
@click.option("--validate-config", is_flag=True, help="Check the config (keys, types, ranges) and exit.")
@click.pass_context
def daemon(ctx: click.Context, config: str, validate_config: bool) -> None:
    """Run the service from a TOML config."""
    from edgeemo.daemon.service import main

    argv = ["--config", config] + (["--validate-config"] if validate_config else [])
    ctx.exit(main(argv))
