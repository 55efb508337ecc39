"""This installation's identity: the prefix of every idempotency key it sends to providers
(generated once per database, migration 0008, or stripe.idempotency_prefix), and the
secret that signs its invoice links (migration 0010, or links.secret)."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from domain.config import Settings
from domain.model.entities import Deployment
from domain.store.database import Database


async def key_prefix(db: Database, settings: Settings) -> str:
    if settings.stripe.idempotency_prefix:
        return settings.stripe.idempotency_prefix
    async with db.read() as session:
        found = (await session.execute(select(Deployment.key_prefix))).scalars().first()
    if found is not None:
        return found
    try:  # a database emptied by hand (the tests do): make it one again, once
        async with db.transaction() as session:
            session.add(Deployment(id=1, key_prefix=f"inv{secrets.token_hex(4)}"))
    except IntegrityError:
        pass  # another process made it first
    return await key_prefix(db, settings)


async def link_secret(db: Database, settings: Settings) -> str:
    configured = settings.links.secret.get_secret_value()
    if configured:
        return configured
    async with db.read() as session:
        found = (await session.execute(select(Deployment.link_secret))).scalars().first()
    if found:
        return found
    await key_prefix(db, settings)  # the row exists from here on
    async with db.transaction() as session:
        # Conditional: two processes asking at once keep one secret between them.
        await session.execute(
            update(Deployment)
            .where(Deployment.link_secret.is_(None))
            .values(link_secret=secrets.token_urlsafe(32))
        )
    return await link_secret(db, settings)


async def rotate_link_secret(db: Database) -> None:
    """A new secret for invoice links: every link given out so far stops working."""
    async with db.transaction() as session:
        await session.execute(update(Deployment).values(link_secret=secrets.token_urlsafe(32)))
