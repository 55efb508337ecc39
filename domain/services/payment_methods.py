"""attachPaymentMethod: save a card that exists at the payment provider as one of the
customer's payment methods; the customer's first card becomes the default.

The provider is asked first, with no transaction open (look the card up, make the
provider's customer, attach the card); then one short transaction saves the result. The
provider's customer is made with an idempotency key derived from ours, so a retry, or a
crash and a retry, finds the customer the first call made instead of making a second."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from domain.model.access import Viewer
from domain.model.entities import Contact, Customer, PaymentMethod
from domain.model.enums import ContactType
from domain.ports import (
    CardDeclined,
    CardGateway,
    ProviderRejected,
    ProviderUnavailable,
    UnknownCard,
)
from domain.store.database import Database
from domain.store.deployment import key_prefix
from domain.store.locking import lock_customer


async def attach_payment_method(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    customer_id: int,
    stripe_payment_method_id: str,
    make_default: bool,
    gateway: CardGateway,
) -> Customer:
    if not viewer.can_see_customer(customer_id):
        raise NotFound("Customer", customer_id, "customer_id")
    try:
        card = await gateway.lookup_card(stripe_payment_method_id.strip())
    except UnknownCard as unknown:
        raise InvalidInput("stripe_payment_method_id", str(unknown)) from None
    except (ProviderUnavailable, ProviderRejected) as failure:
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_ERROR, str(failure)) from None
    async with db.read() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFound("Customer", customer_id, "customer_id")
        existing = await _card_row(session, card.id)
        _ensure_not_anothers(existing, customer_id)
        email = (
            (
                await session.execute(
                    select(Contact.email)
                    .where(Contact.customer_id == customer_id)
                    .order_by((Contact.type == ContactType.BILLING).desc(), Contact.id)
                )
            )
            .scalars()
            .first()
        )
    provider_customer = customer.stripe_customer_id
    try:
        if provider_customer is None:
            prefix = await key_prefix(db, settings)
            provider_customer = await gateway.create_customer(
                name=customer.name, email=email, key=f"{prefix}-customer-{customer_id}"
            )
        if existing is None:
            await gateway.attach_card(card.id, provider_customer)
    except (CardDeclined, UnknownCard) as refused:
        raise InvalidInput("stripe_payment_method_id", str(refused)) from None
    except (ProviderUnavailable, ProviderRejected) as failure:
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_ERROR, str(failure)) from None
    async with db.transaction() as session:
        customer = await lock_customer(session, customer_id)
        if customer.stripe_customer_id is None:
            customer.stripe_customer_id = provider_customer
        existing = await _card_row(session, card.id)
        _ensure_not_anothers(existing, customer_id)
        others = (
            (
                await session.execute(
                    select(PaymentMethod.id).where(PaymentMethod.customer_id == customer.id)
                )
            )
            .scalars()
            .all()
        )
        method = existing or PaymentMethod(
            customer_id=customer.id, stripe_payment_method_id=card.id
        )
        method.brand, method.last4 = card.brand, card.last4
        method.exp_month, method.exp_year = card.exp_month, card.exp_year
        first = not [other for other in others if existing is None or other != existing.id]
        if make_default or first:
            await session.execute(
                update(PaymentMethod)
                .where(PaymentMethod.customer_id == customer.id)
                .values(is_default=False)
            )
            method.is_default = True
        session.add(method)
    return customer


async def _card_row(session: AsyncSession, provider_card_id: str) -> PaymentMethod | None:
    return (
        await session.execute(
            select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == provider_card_id)
        )
    ).scalar_one_or_none()


def _ensure_not_anothers(existing: PaymentMethod | None, customer_id: int) -> None:
    if existing is not None and existing.customer_id != customer_id:
        raise InvalidInput("stripe_payment_method_id", "That card belongs to another customer.")
