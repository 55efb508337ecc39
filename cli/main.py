"""`invoicing`: serve the API, run workers, migrate and seed the database, manage tokens,
billing runs and the PDF cache, preview and check templates, export the schema.

Each command group lives in its own module beside this one, imported only when its command
runs (Click's lazy loading), so `invoicing token create` does not start by importing the
web server, the schema and the renderer. Every failure prints one line starting with
"error:" and exits non-zero (cli/common.py).
"""

from __future__ import annotations

import importlib
import sys

import click

# command -> "module:attribute"
COMMANDS = {
    "serve": "cli.serve:serve",
    "db": "cli.db:db",
    "token": "cli.token:token",
    "links": "cli.links:links",
    "billing": "cli.billing:billing",
    "payments": "cli.payments:payments",
    "dunning": "cli.dunning:dunning",
    "worker": "cli.worker:worker",
    "cache": "cli.cache:cache",
    "einvoice": "cli.einvoice:einvoice",
    "preview": "cli.preview:preview",
    "templates": "cli.templates:templates",
    "schema": "cli.schema:schema",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Customer invoices for a CRM."""
    ctx.ensure_object(dict)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
