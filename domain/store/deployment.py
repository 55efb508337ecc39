"""This installation's identity towards providers: the prefix of every idempotency key it
sends, generated once per database (migration 0008), or set in stripe.idempotency_prefix."""

from __future__ import annotations

import secrets

from sqlalchemy import select
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
