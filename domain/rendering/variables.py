"""The variables an invoice template sees, under the specification's names.

Money is Decimal everywhere else; here amounts become numbers that Jinja's `"%.2f"|format`,
comparisons and float arithmetic accept (`total_amount * 0.10`), because templates written
against the specification do exactly that. Dates are ISO strings (`created.split("T")[0]`).
The reference for designers is docs/templates.md.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import segno

from domain.config import Settings
from domain.model.formatting import Formatter
from domain.model.money import canonical
from domain.rendering.documents import InvoiceDocument, Line


class Amount(float):
    """A number a template can compute with, that prints as money does (1234.5 shows as
    1234.50) and keeps the exact amount for the `money` filter: a float cannot hold a
    dinar's 12.345 exactly."""

    exact: Decimal

    def __new__(cls, value: Decimal) -> Amount:
        made = super().__new__(cls, float(value))
        made.exact = canonical(value)
        return made

    def __str__(self) -> str:
        return str(self.exact)

    __repr__ = __str__

    def __reduce__(self) -> tuple[type[Amount], tuple[Decimal]]:
        # Rebuilt from the exact amount in a render worker, not from the float.
        return Amount, (self.exact,)


class Percent(float):
    """A tax percentage that prints as the specification shows it: 10, 10.5."""

    def __str__(self) -> str:
        return f"{Decimal(repr(float(self))).normalize():f}"

    __repr__ = __str__


def _iso(moment: datetime, settings: Settings) -> str:
    # The specification's example is local time without an offset: 2025-01-10T12:00:00.
    return moment.astimezone(settings.business.zone).replace(tzinfo=None, microsecond=0).isoformat()


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


@lru_cache(maxsize=4096)
def payment_qr(url: str) -> str:
    """A QR code of the payment URL as an SVG data URI, made here (no outside service).

    Cached: choosing the best QR mask costs milliseconds, and a URL's code never changes.
    No URL (a draft), no code."""
    if not url:
        return ""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def _line(line: Line, settings: Settings) -> dict[str, Any]:
    return {
        "transaction_id": line.transaction_id,
        "created": _iso(line.created, settings),
        "title": line.title,
        "description": line.description,
        "retail_cost": Amount(line.retail_cost),
        "tax_percentage": Percent(line.tax_percentage),
        "tax_amount": Amount(line.tax_amount),
    }


def _percent_text(percent: Decimal) -> str:
    return f"{percent.normalize():f}" if percent > 0 else ""


def template_variables(document: InvoiceDocument, settings: Settings) -> dict[str, Any]:
    client = document.client
    business = settings.business
    period = (
        f"{document.start_date} - {document.end_date}"
        if document.start_date and document.end_date
        else "N/A"
    )
    return {
        "invoice_number": document.number,
        "title": document.title,
        "date": _iso(document.issued_at, settings),
        "due_date": _day(document.due_date),
        "start_date": _day(document.start_date),
        "end_date": _day(document.end_date),
        "period": period,
        "total_amount": Amount(document.subtotal),
        "total_tax": Amount(document.tax),
        "subtotal": Amount(document.subtotal),
        "grand_total": Amount(document.subtotal + document.tax),
        "client": {
            "name": client.name,
            "language": client.language,
            "address": {
                "address_line_1": client.address.address_line_1,
                "address_line_2": client.address.address_line_2,
                "city": client.address.city,
                "state": client.address.state,
                "zip_code": client.address.zip_code,
                "country": client.address.country,
            },
        },
        "transactions": [_line(line, settings) for line in document.lines],
        "payment_url": document.payment_url,
        "payment_qr": payment_qr(document.payment_url),
        "status": document.status.value,
        "is_paid": document.status.value in ("PAID", "REFUNDED"),
        "is_void": document.void,
        "is_draft": document.draft,
        "is_credit_note": document.subtotal + document.tax < 0,
        "paid_at": _iso(document.paid_at, settings) if document.paid_at else "",
        # Paid in part: what came in and what is left; a payment plan's installments.
        "amount_paid": Amount(document.amount_paid),
        "amount_due": Amount(document.amount_due),
        "installments": [
            {
                "due_date": _day(step.due_date),
                "amount": Amount(step.amount),
                "amount_paid": Amount(step.amount_paid),
                "is_paid": step.amount_paid >= step.amount,
            }
            for step in document.installments
        ],
        "payment_method": document.payment_method or "",
        "language": client.language,
        # The late fee the terms state (dunning.late_fee_percent_per_month): "2", "1.5";
        # empty when there is none.
        "late_fee_percent": _percent_text(settings.dunning.late_fee_percent_per_month),
        "currency_code": document.currency,
        "currency_symbol": Formatter.of(business, client.language, document.currency).symbol,
        "business": {
            "name": business.name,
            "address": list(business.address),
            "email": business.email,
            "phone": business.phone,
            "tax_id": business.tax_id,
        },
    }
