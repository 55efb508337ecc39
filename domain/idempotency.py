"""Idempotency keys: a repeated request gets the first answer instead of a second effect.

The record is inserted inside the request's own transaction, so it exists exactly when the
effect was committed. Two racing requests with one key meet at the unique index: the
second waits for the first to commit, fails on the duplicate, and returns the first's
result.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.db import Database
from domain.errors import DomainError, ErrorCode, InvalidInput
from domain.models import IdempotencyRecord


@dataclass(frozen=True)
class IdempotencyKey:
    operation: str
    key: str
    request_hash: str

    @classmethod
    def of(cls, operation: str, key: str | None, request: dict[str, Any]) -> IdempotencyKey | None:
        if key is None:
            return None
        if not key.strip() or len(key) > 200:
            raise InvalidInput(
                "idempotency_key", "The idempotency key must be 1 to 200 characters."
            )
        canonical = json.dumps(request, sort_keys=True, default=str)
        return cls(operation, key, hashlib.sha256(canonical.encode()).hexdigest())


async def earlier_result(db: Database, key: IdempotencyKey) -> int | None:
    """The result id of an earlier request with this key; CONFLICT if it asked for something else."""
    async with db.read() as session:
        record = (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.operation == key.operation, IdempotencyRecord.key == key.key
                )
            )
        ).scalar_one_or_none()
    if record is None:
        return None
    if record.request_hash != key.request_hash:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"The idempotency key {key.key!r} was already used for a different request.",
            "idempotency_key",
        )
    return record.result_id


async def record(session: AsyncSession, key: IdempotencyKey) -> IdempotencyRecord:
    """Claim the key in the current transaction; raises IntegrityError if another holds it."""
    row = IdempotencyRecord(operation=key.operation, key=key.key, request_hash=key.request_hash)
    session.add(row)
    await session.flush()
    return row
