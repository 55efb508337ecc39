"""`invoicing db check`: what must hold in the database whatever happened to it (races,
crashes, retries), checked on either database. Each finding names the offending ids.

- every billed charge is billed once, on the live invoice whose frozen line lists it, and
  equals that line (its cost, tax percentage and tax);
- every invoice's totals are the sums of its lines, in its customer's currency and to
  that currency's minor unit;
- every invoice's payments and refunds come to what its status says
  (model/invoice_rules.py `expected_balance`), its payments add up to what it says was
  paid and refunded (all of its total once settled), and no installment is overfilled;
- every number series is continuous: its invoices hold each number from the first to the
  last the series gave, once;
- the stats and receivables summaries equal a recount of the invoices;
- each event is delivered to an endpoint once, apart from redeliveries asked for, and a
  delivery recorded as SUCCEEDED was answered 2xx.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from domain.model.entities import (
    Customer,
    Installment,
    Invoice,
    InvoiceLine,
    NumberSeries,
    Payment,
    Transaction,
    WebhookDelivery,
)
from domain.model.enums import InvoiceStatus, TransactionKind, WebhookDeliveryStatus
from domain.model.invoice_rules import expected_balance
from domain.model.money import round_money
from domain.store import invoice_totals, receivable_totals, search_words, title_totals
from domain.store.database import Database


@dataclass(frozen=True)
class Finding:
    what: str
    ids: tuple[int | str, ...]  # ids, or what names the rows (a title)

    def __str__(self) -> str:
        shown = ", ".join(str(i) for i in self.ids[:20])
        more = f" (+{len(self.ids) - 20} more)" if len(self.ids) > 20 else ""
        return f"{self.what}: {shown}{more}"


async def check_database(db: Database, zone: ZoneInfo) -> list[Finding]:
    findings: list[Finding] = []

    def found(what: str, ids: list[int]) -> None:
        if ids:
            findings.append(Finding(what, tuple(sorted(set(ids)))))

    async with db.read() as session:
        # Voiding an invoice frees its charges to be billed again; its lines stay as issued.
        live_lines = (
            select(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.void.is_(False))
            .subquery()
        )
        twice = await session.execute(
            select(live_lines.c.transaction_id)
            .group_by(live_lines.c.transaction_id)
            .having(func.count(live_lines.c.invoice_id) > 1)
        )
        found("charges on two live invoices (transaction ids)", list(twice.scalars()))
        charges = await session.execute(
            select(
                Transaction,
                live_lines.c.invoice_id,
                live_lines.c.retail_cost,
                live_lines.c.tax_percentage,
                live_lines.c.tax_amount,
            )
            .join(live_lines, live_lines.c.transaction_id == Transaction.id, isouter=True)
            .where(Transaction.kind == TransactionKind.CHARGE)
        )
        misplaced, changed = [], []
        for charge, line_invoice, cost, percent, tax in charges:
            if charge.invoice_id != line_invoice:
                misplaced.append(charge.id)
            elif line_invoice is not None and (
                (charge.retail_cost, charge.tax_percentage, charge.tax_amount)
                != (Decimal(cost), Decimal(percent), Decimal(tax))
            ):
                changed.append(charge.id)
        found("charges whose invoice does not list them (transaction ids)", misplaced)
        found("billed charges that differ from their frozen line (transaction ids)", changed)

        sums = (
            select(
                InvoiceLine.invoice_id,
                func.sum(InvoiceLine.retail_cost).label("subtotal"),
                func.sum(InvoiceLine.tax_amount).label("tax"),
            )
            .group_by(InvoiceLine.invoice_id)
            .subquery()
        )
        wrong_totals = await session.execute(
            select(Invoice.id)
            .join(sums, sums.c.invoice_id == Invoice.id, isouter=True)
            .where(
                (func.coalesce(sums.c.subtotal, 0) != Invoice.subtotal)
                | (func.coalesce(sums.c.tax, 0) != Invoice.tax)
                | (Invoice.subtotal + Invoice.tax != Invoice.total)
            )
        )
        found(
            "invoices whose totals are not their lines' (invoice ids)", list(wrong_totals.scalars())
        )
        # A customer's currency changes only while it has no invoice.
        foreign = await session.execute(
            select(Invoice.id)
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(Invoice.currency != Customer.currency)
        )
        found("invoices not in their customer's currency (invoice ids)", list(foreign.scalars()))

        settled: dict[int, Decimal] = defaultdict(Decimal)
        settling = await session.execute(
            select(Transaction.invoice_id, Transaction.retail_cost).where(
                Transaction.kind.in_([TransactionKind.PAYMENT, TransactionKind.REFUND]),
                Transaction.invoice_id.is_not(None),
            )
        )
        for invoice_id, amount in settling:
            if invoice_id is not None:
                settled[invoice_id] += amount
        paid: dict[int, tuple[Decimal, Decimal]] = {}
        payments = await session.execute(
            select(
                Payment.invoice_id, func.sum(Payment.amount), func.sum(Payment.refunded_amount)
            ).group_by(Payment.invoice_id)
        )
        for invoice_id, received, given_back in payments:
            paid[invoice_id] = (received, given_back)
        wrong_balance, wrong_payments, too_fine = [], [], []
        for invoice in (await session.execute(select(Invoice))).scalars():
            if invoice.total != round_money(invoice.total, invoice.currency):
                too_fine.append(invoice.id)
            if invoice.total + settled.get(invoice.id, Decimal(0)) != expected_balance(invoice):
                wrong_balance.append(invoice.id)
            received, given_back = paid.get(invoice.id, (Decimal(0), Decimal(0)))
            if (
                received != invoice.amount_paid
                or given_back != invoice.refunded_amount
                or (invoice.status is not InvoiceStatus.UNPAID and received != invoice.total)
                or abs(received) > abs(invoice.total)
            ):
                wrong_payments.append(invoice.id)
        found(
            "invoices whose payments and refunds do not match their status (invoice ids)",
            wrong_balance,
        )
        found("invoices with amounts finer than their currency's minor unit (ids)", too_fine)
        found(
            "invoices whose payments do not add up to what they say was paid (invoice ids)",
            wrong_payments,
        )
        given = await session.execute(
            select(
                Invoice.number_series,
                func.min(Invoice.number_seq),
                func.max(Invoice.number_seq),
                func.count(),
                func.max(Invoice.id),
            )
            .where(Invoice.number_series.is_not(None))
            .group_by(Invoice.number_series)
        )
        lasts = dict((await session.execute(select(NumberSeries.series, NumberSeries.last))).all())
        broken = [
            int(newest or 0)
            for series, first, last, count, newest in given
            if (last or 0) - (first or 0) + 1 != count or lasts.get(str(series)) != last
        ]
        found(
            "number series with a gap or a number given twice (the newest invoice of each)",
            broken,
        )
        overfilled = await session.execute(
            select(Installment.invoice_id).where(
                (Installment.amount_paid > Installment.amount) | (Installment.amount_paid < 0)
            )
        )
        found(
            "installments filled beyond their amount (invoice ids)",
            sorted(set(overfilled.scalars())),
        )

        made_twice = await session.execute(
            select(func.min(WebhookDelivery.id))
            .where(WebhookDelivery.redelivery_of.is_(None))
            .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.event_id)
            .having(func.count() > 1)
        )
        found("events made into two deliveries (delivery ids)", list(made_twice.scalars()))
        unanswered = await session.execute(
            select(WebhookDelivery.id).where(
                WebhookDelivery.status == WebhookDeliveryStatus.SUCCEEDED,
                ~func.coalesce(WebhookDelivery.last_status_code, 0).between(200, 299),
            )
        )
        found("deliveries SUCCEEDED without a 2xx answer (ids)", list(unanswered.scalars()))

        customers, titles = await session.run_sync(
            lambda sync: search_words.missing_words(sync.connection())
        )
        found("customers the search box cannot find by name (customer ids)", customers)
        untitled = await session.execute(select(Invoice.id).where(Invoice.title.in_(titles)))
        found("invoices the search box cannot find by title (ids)", list(untitled.scalars()))
        miscounted = await session.run_sync(
            lambda sync: title_totals.differences(sync.connection())
        )
        if miscounted:
            findings.append(Finding("titles the search box counts wrong", tuple(miscounted)))

    owed = await receivable_totals.recount(db)
    summaries: list[tuple[str, Mapping[Any, Any], Mapping[Any, Any]]] = [
        ("stats", await invoice_totals.stored(db), await invoice_totals.recount(db, zone)),
        ("receivables", await receivable_totals.stored(db), owed),
        (
            "receivable balances",
            await receivable_totals.stored_balances(db),
            receivable_totals.by_customer(owed),
        ),
    ]
    for name, stored, counted in summaries:
        if stored != counted:
            off = {key[0] for key in set(stored) ^ set(counted)}
            off |= {k[0] for k in set(stored) & set(counted) if stored[k] != counted[k]}
            findings.append(
                Finding(
                    f"{name} summary differs from a recount (customer ids, 0 = all)",
                    tuple(sorted(off)),
                )
            )
    return findings
