"""API bearer tokens: minted once, stored only as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from domain.access import Viewer
from domain.db import Database, utcnow
from domain.errors import InvalidInput, NotFound
from domain.models import ApiToken, Customer, Role

TOKEN_PREFIX = "inv_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MintedToken:
    id: int
    token: str
    role: Role
    name: str
    customer_id: int | None


async def mint_token(
    db: Database, role: Role, name: str, customer_id: int | None = None
) -> MintedToken:
    if role is Role.CUSTOMER and customer_id is None:
        raise InvalidInput("customer_id", "A customer token needs the customer it belongs to.")
    if role is Role.STAFF and customer_id is not None:
        raise InvalidInput("customer_id", "A staff token belongs to no customer.")
    if not name.strip():
        raise InvalidInput("name", "A token needs a name.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as session:
        if customer_id is not None and await session.get(Customer, customer_id) is None:
            raise NotFound("Customer", customer_id, "customer_id")
        row = ApiToken(
            name=name.strip(), role=role, customer_id=customer_id, token_hash=hash_token(token)
        )
        session.add(row)
        await session.flush()
        return MintedToken(row.id, token, role, row.name, customer_id)


async def authenticate(db: Database, token: str) -> Viewer | None:
    """The viewer a presented token stands for, or None if it is unknown or revoked."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    # Every request asks this: the columns alone, without building an ORM object.
    query = select(
        ApiToken.id, ApiToken.role, ApiToken.name, ApiToken.customer_id, ApiToken.revoked_at
    ).where(ApiToken.token_hash == hash_token(token))
    async with db.read() as session:
        row = (await session.execute(query)).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return Viewer(role=row.role, name=row.name, customer_id=row.customer_id, token_id=row.id)


async def revoke_token(
    db: Database, token_id: int | None = None, token: str | None = None
) -> ApiToken:
    async with db.transaction() as session:
        query = select(ApiToken)
        if token is not None:
            query = query.where(ApiToken.token_hash == hash_token(token))
        else:
            query = query.where(ApiToken.id == token_id)
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None:
            raise NotFound("Token", token_id if token is None else "given", "token")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return row


async def list_tokens(db: Database) -> list[ApiToken]:
    async with db.read() as session:
        return list((await session.execute(select(ApiToken).order_by(ApiToken.id))).scalars())
