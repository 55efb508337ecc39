"""Idempotency keys: a repeated request gets the first answer instead of a second effect.

One helper, `idempotent()`, serves every keyed command: generateInvoice, payInvoice (by
card and by hand), refundInvoice, and each customer of a billing run.

1. A key belongs to whoever sends it (`Viewer.key_scope`: staff, or one customer), so one
   customer's key can neither replay, collide with, nor reveal another's.
2. An earlier record of the key answers at once with its result, read again for the viewer
   asking now (`replay`: NOT_FOUND if they may not see it); CONFLICT if the key was used for
   a different request.
3. Otherwise the key is claimed inside the command's own transaction, so the record exists
   exactly when the effect was committed. Two racing requests meet at the unique index: the
   second waits for the first to commit, fails on the duplicate, and answers as in 2.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError, ErrorCode, InvalidInput
from domain.model.access import Viewer
from domain.model.entities import IdempotencyRecord
from domain.store.database import Database

MAX_KEY_LENGTH = 200


class HasId(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=HasId)


@dataclass(frozen=True)
class IdempotencyKey:
    operation: str
    scope: str
    key: str
    request_hash: str

    @classmethod
    def of(
        cls, operation: str, key: str | None, request: object, viewer: Viewer
    ) -> IdempotencyKey | None:
        """The key of `request` (a command dataclass whose `idempotency_key` is `key`)."""
        if key is None:
            return None
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                "idempotency_key",
                f"The idempotency key must be 1 to {MAX_KEY_LENGTH} characters.",
            )
        fields: dict[str, Any] = {**vars(request), "idempotency_key": None}
        canonical = json.dumps(fields, sort_keys=True, default=str)
        return cls(operation, viewer.key_scope, key, hashlib.sha256(canonical.encode()).hexdigest())


async def earlier_result(db: Database, key: IdempotencyKey) -> int | None:
    """The result id of an earlier request with this key; CONFLICT if it asked for something else."""
    async with db.read() as session:
        record = (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.operation == key.operation,
                    IdempotencyRecord.scope == key.scope,
                    IdempotencyRecord.key == key.key,
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


async def idempotent(
    db: Database,
    key: IdempotencyKey | None,
    work: Callable[[AsyncSession], Awaitable[R]],
    replay: Callable[[int], Awaitable[R]],
) -> R:
    """Run `work` in one transaction, once per key; a repeat answers `replay(first result id)`."""
    if key is not None and (earlier := await earlier_result(db, key)) is not None:
        return await replay(earlier)
    try:
        async with db.transaction() as session:
            claim = None
            if key is not None:
                claim = IdempotencyRecord(
                    operation=key.operation,
                    scope=key.scope,
                    key=key.key,
                    request_hash=key.request_hash,
                )
                session.add(claim)
                await session.flush()
            result = await work(session)
            if claim is not None:
                claim.result_id = result.id
    except IntegrityError:
        # Another request with the same key committed first: answer what it answered.
        if key is None or (earlier := await earlier_result(db, key)) is None:
            raise
        return await replay(earlier)
    return result
