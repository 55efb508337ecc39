"""`invoicing links rotate`: revoke every invoice link given out."""

from __future__ import annotations

import click

from cli.common import clear_errors, settings_of, with_runtime
from domain.store.deployment import rotate_link_secret


@click.group()
def links() -> None:
    """The invoice links customers open without a token."""


@links.command("rotate")
@click.pass_context
@clear_errors
def links_rotate(ctx: click.Context) -> None:
    """Sign invoice links with a new secret: every link given out so far stops working."""
    settings = settings_of(ctx)
    if settings.links.secret.get_secret_value():
        raise click.UsageError(
            "links.secret is set (config or LINK_SECRET): change it there to revoke links"
        )
    with_runtime(settings, lambda rt: rotate_link_secret(rt.db))
    click.echo("invoice links rotated: every link given out before now is refused")
