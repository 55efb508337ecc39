"""refundInvoice: the rest of one card payment of a paid invoice refunded, once (the one
named, else the latest with money left; all of it, unless part was refunded at the
provider already), in the same three steps as a card payment: claim an
attempt, call the provider with no transaction open, settle (settle.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer, require_staff
from domain.model.commands import RefundRequest
from domain.model.entities import Invoice
from domain.model.enums import AttemptKind
from domain.model.invoice_rules import ensure_no_open_attempt
from domain.model.money import to_minor_units
from domain.model.payments import payment_to_refund
from domain.ports import CardGateway, Metrics, ProviderRejected, ProviderUnavailable
from domain.services.payments.claim import Claimed
from domain.services.payments.reconcile import reconcile_open
from domain.services.payments.settle import rejected, settle, unconfirmed
from domain.store import attempts
from domain.store.database import Database
from domain.store.deployment import key_prefix
from domain.store.idempotency import IdempotencyKey, idempotent
from domain.store.locking import lock_invoice, visible_invoice
from domain.store.payments import payments_of


@dataclass
class _Claim(Claimed):
    """The refund to ask for (none on a replay)."""

    payment_intent_id: str = ""
    amount_minor: int = 0
    key: str = ""


async def refund_invoice(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    request: RefundRequest,
    cards: CardGateway,
    metrics: Metrics,
) -> Invoice:
    require_staff(viewer)
    key = IdempotencyKey.of("refundInvoice", request.idempotency_key, request, viewer)
    prefix = await key_prefix(db, settings)
    await reconcile_open(db, settings, metrics, cards, request.invoice_id, viewer)

    async def claim(session: AsyncSession) -> _Claim:
        invoice = await lock_invoice(session, viewer, request.invoice_id)
        payment = payment_to_refund(
            invoice, await payments_of(session, invoice.id), request.payment_id
        )
        ensure_no_open_attempt(invoice, await attempts.open_count(session, invoice.id))
        rest = payment.amount - payment.refunded_amount
        attempt = await attempts.claim(
            session, db, invoice, AttemptKind.REFUND, rest, viewer, prefix
        )
        attempt.payment_id = payment.id
        minor = to_minor_units(rest, invoice.currency)
        assert payment.reference is not None  # payment_to_refund answers card payments
        return _Claim(invoice, attempt.id, payment.reference, minor, attempt.provider_key)

    async def answer_again(invoice_id: int) -> _Claim:
        await reconcile_open(db, settings, metrics, cards, invoice_id, viewer)
        return _Claim(await visible_invoice(db, viewer, invoice_id))

    claimed = await idempotent(db, key, claim, answer_again)
    if claimed.attempt_id is None:
        return claimed.invoice
    try:
        result = await cards.refund(
            payment_intent_id=claimed.payment_intent_id,
            amount_minor=claimed.amount_minor,
            key=claimed.key,
        )
    except ProviderRejected as refusal:
        message = f"Refund refused: {refusal} Nothing was refunded."
        raise await rejected(db, claimed.attempt_id, viewer, message) from None
    except ProviderUnavailable as failure:
        message = (
            f"Refund: {failure} Whether it was refunded is being confirmed with the provider; "
            "the invoice shows the outcome shortly."
        )
        raise await unconfirmed(db, claimed.invoice.id, viewer, message) from None
    settled = await settle(db, metrics, claimed.attempt_id, result, viewer)
    if settled.outcome == "failed":
        raise DomainError(
            ErrorCode.PAYMENT_PROVIDER_ERROR,
            "The refund failed at the provider; nothing was refunded.",
        )
    return settled.invoice
