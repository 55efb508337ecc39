"""Who a presented bearer token stands for, and the token list (never their values)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select

from domain.model.access import Viewer
from domain.model.entities import ApiToken
from domain.model.tokens import TOKEN_PREFIX, hash_token
from domain.store.database import Database

# Every request asks this: the columns alone, on the connection (no Session, no ORM
# object), in a statement built once (its SQL is compiled once too, and cached).
_BY_HASH = select(
    ApiToken.id,
    ApiToken.role,
    ApiToken.name,
    ApiToken.customer_id,
    ApiToken.revoked_at,
    ApiToken.expires_at,
).where(ApiToken.token_hash == bindparam("hash"))


async def authenticate(db: Database, token: str) -> Viewer | None:
    """The viewer a presented token stands for, or None if it is unknown, revoked or
    expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    async with db.read_connection() as connection:
        row = (await connection.execute(_BY_HASH, {"hash": hash_token(token)})).one_or_none()
    if row is None or not _stands(row.revoked_at, row.expires_at, db.now()):
        return None
    return Viewer(role=row.role, name=row.name, customer_id=row.customer_id, token_id=row.id)


async def list_tokens(db: Database) -> list[ApiToken]:
    async with db.read() as session:
        return list((await session.execute(select(ApiToken).order_by(ApiToken.id))).scalars())


async def standing(db: Database, token_ids: Iterable[int]) -> set[int]:
    """Which of these tokens are still neither revoked nor expired: one query for every
    open live session of a process, however many."""
    wanted = sorted(set(token_ids))
    if not wanted:
        return set()
    now = db.now()
    query = select(ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at).where(
        ApiToken.id.in_(wanted)
    )
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    return {row.id for row in rows if _stands(row.revoked_at, row.expires_at, now)}


def _stands(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    """A token works until it is revoked or its expiry has come."""
    return revoked_at is None and (expires_at is None or expires_at > now)
