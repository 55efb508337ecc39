"""`invoicing token create|revoke`: API bearer tokens, minted once, stored only as a hash.
Checking a presented token is the read side (queries/tokens.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from domain.errors import InvalidInput, NotFound
from domain.model.entities import ApiToken, Customer
from domain.model.enums import Role
from domain.model.tokens import TOKEN_PREFIX, hash_token
from domain.store.database import Database


@dataclass(frozen=True)
class MintedToken:
    id: int
    token: str
    role: Role
    name: str
    customer_id: int | None
    expires_at: datetime | None = None


async def mint_token(
    db: Database,
    role: Role,
    name: str,
    customer_id: int | None = None,
    expires_in: timedelta | None = None,
) -> MintedToken:
    """A new token, valid until revoked or, with `expires_in`, until that long from now."""
    if role is Role.CUSTOMER and customer_id is None:
        raise InvalidInput("customer_id", "A customer token needs the customer it belongs to.")
    if role is Role.STAFF and customer_id is not None:
        raise InvalidInput("customer_id", "A staff token belongs to no customer.")
    if not name.strip():
        raise InvalidInput("name", "A token needs a name.")
    if expires_in is not None and expires_in <= timedelta(0):
        raise InvalidInput("expires_in", "A token's lifetime must be positive.")
    expires_at = db.now() + expires_in if expires_in is not None else None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as session:
        if customer_id is not None and await session.get(Customer, customer_id) is None:
            raise NotFound("Customer", customer_id, "customer_id")
        row = ApiToken(
            name=name.strip(),
            role=role,
            customer_id=customer_id,
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
        session.add(row)
        await session.flush()
        return MintedToken(row.id, token, role, row.name, customer_id, expires_at)


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
            row.revoked_at = db.now()
        return row
