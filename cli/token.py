"""`invoicing token create|revoke|list|local`: API bearer tokens."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import make_url

from cli.common import clear_errors, settings_of, with_runtime
from domain.bootstrap import Runtime
from domain.model.entities import ApiToken
from domain.model.enums import Role
from domain.queries.tokens import authenticate, list_tokens
from domain.services.tokens import mint_token, revoke_token

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _lifetime(text: str | None) -> timedelta | None:
    """30d, 12h, 90m, 2w: how long a token lives."""
    if text is None:
        return None
    found = re.fullmatch(r"([1-9][0-9]{0,5})([mhdw])", text.strip())
    if not found:
        raise click.BadParameter("write a number and a unit: 90m, 12h, 30d or 2w")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


@click.group()
def token() -> None:
    """API bearer tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(["staff", "customer"]), required=True)
@click.option("--customer-id", type=int, default=None, help="The customer a customer token sees.")
@click.option("--name", default=None, help="Who holds it; shown in invoice history.")
@click.option(
    "--expires-in",
    default=None,
    help="Refused after this long: 90m, 12h, 30d, 2w (default: never).",
)
@click.pass_context
@clear_errors
def token_create(
    ctx: click.Context,
    role: str,
    customer_id: int | None,
    name: str | None,
    expires_in: str | None,
) -> None:
    """Mint a token; it is printed once, as the last line, and stored only hashed."""
    chosen = Role(role.upper())
    label = name or (f"customer {customer_id}" if chosen is Role.CUSTOMER else "staff")
    lifetime = _lifetime(expires_in)
    minted = with_runtime(
        settings_of(ctx), lambda rt: mint_token(rt.db, chosen, label, customer_id, lifetime)
    )
    until = f", expires {minted.expires_at:%Y-%m-%d %H:%M} UTC" if minted.expires_at else ""
    click.echo(f"token {minted.id} ({minted.role.value.lower()}, {minted.name}{until}):", err=True)
    click.echo(minted.token)


@token.command("local")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Default: beside the embedded database (var/invoicing.db.staff-token).",
)
@click.pass_context
@clear_errors
def token_local(ctx: click.Context, path: Path | None) -> None:
    """The development staff token kept in FILE: reused while it works on this database,
    else a new one minted and kept there (readable by you alone). Prints it."""
    settings = settings_of(ctx)
    path = path or _beside(settings.database.url)
    stored = path.read_text().strip() if path.is_file() else ""

    async def reuse_or_mint(rt: Runtime) -> tuple[str, bool]:
        viewer = await authenticate(rt.db, stored) if stored else None
        if viewer is not None and viewer.is_staff:
            return stored, False
        return (await mint_token(rt.db, Role.STAFF, "make run")).token, True

    value, minted = with_runtime(settings, reuse_or_mint)
    if minted:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as kept:
            kept.write(value + "\n")
        click.echo(f"minted a staff token, kept in {path}", err=True)
    click.echo(value)


def _beside(database_url: str) -> Path:
    """Where the development token of this database is kept: beside an SQLite file, else
    in var/ under the database's name."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(f"{url.database}.staff-token")
    return Path("var") / f"{url.database or 'invoicing'}.staff-token"


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
    rows, now = with_runtime(settings_of(ctx), _tokens_and_now)
    for row in rows:
        if row.revoked_at:
            state = "revoked"
        elif row.expires_at is None:
            state = "active"
        elif row.expires_at <= now:
            state = f"expired {row.expires_at:%Y-%m-%d %H:%M}"
        else:
            state = f"active until {row.expires_at:%Y-%m-%d %H:%M}"
        scope = f" customer {row.customer_id}" if row.customer_id else ""
        click.echo(f"{row.id}\t{row.role.value.lower()}{scope}\t{state}\t{row.name}")


async def _tokens_and_now(rt: Runtime) -> tuple[list[ApiToken], datetime]:
    return await list_tokens(rt.db), rt.db.now()
