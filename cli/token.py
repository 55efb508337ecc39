"""`invoicing token create|revoke|list`: API bearer tokens."""

from __future__ import annotations

import click

from cli.common import clear_errors, settings_of, with_runtime
from domain.model.enums import Role
from domain.queries.tokens import list_tokens
from domain.services.tokens import mint_token, revoke_token


@click.group()
def token() -> None:
    """API bearer tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(["staff", "customer"]), required=True)
@click.option("--customer-id", type=int, default=None, help="The customer a customer token sees.")
@click.option("--name", default=None, help="Who holds it; shown in invoice history.")
@click.pass_context
@clear_errors
def token_create(ctx: click.Context, role: str, customer_id: int | None, name: str | None) -> None:
    """Mint a token; it is printed once, as the last line, and stored only hashed."""
    chosen = Role(role.upper())
    label = name or (f"customer {customer_id}" if chosen is Role.CUSTOMER else "staff")
    minted = with_runtime(
        settings_of(ctx), lambda rt: mint_token(rt.db, chosen, label, customer_id)
    )
    click.echo(f"token {minted.id} ({minted.role.value.lower()}, {minted.name}):", err=True)
    click.echo(minted.token)


@token.command("revoke")
@click.argument("token_id", type=int, required=False)
@click.option(
    "--token", "value", default=None, help="Revoke by the token itself instead of its id."
)
@click.pass_context
@clear_errors
def token_revoke(ctx: click.Context, token_id: int | None, value: str | None) -> None:
    """Revoke a token by id (see `token list`) or by value."""
    if (token_id is None) == (value is None):
        raise click.UsageError("give either a TOKEN_ID or --token")
    row = with_runtime(settings_of(ctx), lambda rt: revoke_token(rt.db, token_id, value))
    click.echo(f"token {row.id} ({row.name}) revoked")


@token.command("list")
@click.pass_context
@clear_errors
def token_list(ctx: click.Context) -> None:
    """List tokens (never their values)."""
    for row in with_runtime(settings_of(ctx), lambda rt: list_tokens(rt.db)):
        state = "revoked" if row.revoked_at else "active"
        scope = f" customer {row.customer_id}" if row.customer_id else ""
        click.echo(f"{row.id}\t{row.role.value.lower()}{scope}\t{state}\t{row.name}")
