"""attachPaymentMethod: save a card that exists at the payment provider as one of the
customer's payment methods; the customer's first card becomes the default."""

from __future__ import annotations

from sqlalchemy import select, update

from domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from domain.model.access import Viewer
from domain.model.entities import Contact, Customer, PaymentMethod
from domain.model.enums import ContactType
from domain.ports import CardDeclined, CardGateway, ProviderUnavailable, UnknownCard
from domain.store.database import Database
from domain.store.locking import lock_customer


async def attach_payment_method(
    db: Database,
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
    except ProviderUnavailable as failure:
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_ERROR, str(failure)) from None
    async with db.transaction() as session:
        customer = await lock_customer(session, customer_id)
        existing = (
            await session.execute(
                select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == card.id)
            )
        ).scalar_one_or_none()
        if existing is not None and existing.customer_id != customer.id:
            raise InvalidInput("stripe_payment_method_id", "That card belongs to another customer.")
        try:
            if customer.stripe_customer_id is None:
                email = (
                    (
                        await session.execute(
                            select(Contact.email)
                            .where(Contact.customer_id == customer.id)
                            .order_by((Contact.type == ContactType.BILLING).desc(), Contact.id)
                        )
                    )
                    .scalars()
                    .first()
                )
                customer.stripe_customer_id = await gateway.create_customer(
                    name=customer.name, email=email
                )
            if existing is None:
                await gateway.attach_card(card.id, customer.stripe_customer_id)
        except (CardDeclined, UnknownCard) as refused:
            raise InvalidInput("stripe_payment_method_id", str(refused)) from None
        except ProviderUnavailable as failure:
            raise DomainError(ErrorCode.PAYMENT_PROVIDER_ERROR, str(failure)) from None
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
        method.brand, method.last4, method.exp_month, method.exp_year = (
            card.brand,
            card.last4,
            card.exp_month,
            card.exp_year,
        )
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
