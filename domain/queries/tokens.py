"""Who a presented bearer token stands for, and the token list (never their values)."""

from __future__ import annotations

from sqlalchemy import select

from domain.model.access import Viewer
from domain.model.entities import ApiToken
from domain.model.tokens import TOKEN_PREFIX, hash_token
from domain.store.database import Database


async def authenticate(db: Database, token: str) -> Viewer | None:
    """The viewer a presented token stands for, or None if it is unknown, revoked or
    expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    # Every request asks this: the columns alone, without building an ORM object.
    query = select(
        ApiToken.id,
        ApiToken.role,
        ApiToken.name,
        ApiToken.customer_id,
        ApiToken.revoked_at,
        ApiToken.expires_at,
    ).where(ApiToken.token_hash == hash_token(token))
    async with db.read() as session:
        row = (await session.execute(query)).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= db.now():
        return None
    return Viewer(role=row.role, name=row.name, customer_id=row.customer_id, token_id=row.id)


async def list_tokens(db: Database) -> list[ApiToken]:
    async with db.read() as session:
        return list((await session.execute(select(ApiToken).order_by(ApiToken.id))).scalars())
