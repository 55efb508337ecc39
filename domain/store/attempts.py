"""Payment attempts: a card charge or refund claimed before the provider is called and
closed once its outcome is known, exactly once (a conditional update), whoever learns the
outcome first: the request that made the call, a webhook, or the reconciler."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.access import Actor, actor_name
from domain.model.entities import Invoice, PaymentAttempt
from domain.model.enums import AttemptKind, AttemptState
from domain.store.database import Database


async def open_count(session: AsyncSession, invoice_id: int) -> int:
    """Card charges and refunds in flight: what stops anything else happening to the
    invoice meanwhile. An open checkout does not (the customer may never pay on it)."""
    query = select(func.count()).where(
        PaymentAttempt.invoice_id == invoice_id,
        PaymentAttempt.state == AttemptState.PENDING,
        PaymentAttempt.kind != AttemptKind.CHECKOUT,
    )
    return int((await session.execute(query)).scalar_one())


async def open_in(session: AsyncSession, invoice_id: int) -> list[PaymentAttempt]:
    """The invoice's open attempts, in the caller's unit of work (its row locked)."""
    rows = await session.execute(
        select(PaymentAttempt)
        .where(
            PaymentAttempt.invoice_id == invoice_id,
            PaymentAttempt.state == AttemptState.PENDING,
        )
        .order_by(PaymentAttempt.id)
    )
    return list(rows.scalars())


async def claim(
    session: AsyncSession,
    db: Database,
    invoice: Invoice,
    kind: AttemptKind,
    amount: Decimal,
    actor: Actor,
    prefix: str,
    payment_method_id: int | None = None,
) -> PaymentAttempt:
    """A PENDING attempt with its provider idempotency key: the deployment's prefix, what
    it is, its id, and a random part (so a restored database never repeats a key)."""
    attempt = PaymentAttempt(
        invoice_id=invoice.id,
        kind=kind,
        state=AttemptState.PENDING,
        amount=amount,
        currency=invoice.currency,
        provider_key=f"pending-{secrets.token_hex(16)}",
        payment_method_id=payment_method_id,
        actor=actor_name(actor)[:100],
        message="",
        created_at=db.now(),
    )
    session.add(attempt)
    await session.flush()
    attempt.provider_key = f"{prefix}-{kind.value.lower()}-{attempt.id}-{secrets.token_hex(4)}"
    return attempt


def prefix_of(attempt: PaymentAttempt) -> str:
    """The deployment prefix an attempt's key was made with (`claim`), for the attempts
    that follow from it."""
    return attempt.provider_key.rsplit(f"-{attempt.kind.value.lower()}-", 1)[0]


async def close(
    session: AsyncSession,
    attempt_id: int,
    state: AttemptState,
    at: datetime,
    *,
    provider_ref: str | None = None,
    message: str = "",
) -> bool:
    """Close a PENDING attempt; False if someone else closed it first."""
    values: dict[str, Any] = {"state": state, "settled_at": at, "message": message}
    if provider_ref:
        values["provider_ref"] = provider_ref
    closed = cast(
        CursorResult[Any],
        await session.execute(
            update(PaymentAttempt)
            .where(PaymentAttempt.id == attempt_id, PaymentAttempt.state == AttemptState.PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    return closed.rowcount == 1


async def open_for(db: Database, invoice_id: int) -> list[PaymentAttempt]:
    async with db.read() as session:
        return await open_in(session, invoice_id)


async def still_open(db: Database, kind: AttemptKind | None = None) -> list[PaymentAttempt]:
    """Every attempt still open (of `kind`), oldest first."""
    query = select(PaymentAttempt).where(PaymentAttempt.state == AttemptState.PENDING)
    if kind is not None:
        query = query.where(PaymentAttempt.kind == kind)
    async with db.read() as session:
        return list((await session.execute(query.order_by(PaymentAttempt.id))).scalars())


async def find(
    session: AsyncSession, *, key: str | None = None, provider_ref: str | None = None
) -> PaymentAttempt | None:
    conditions = []
    if key:
        conditions.append(PaymentAttempt.provider_key == key)
    if provider_ref:
        conditions.append(PaymentAttempt.provider_ref == provider_ref)
    if not conditions:
        return None
    for condition in conditions:
        found = (
            await session.execute(select(PaymentAttempt).where(condition))
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None
