"""The addresses an invoice points to: its PDF download (for API clients), the link its
customer opens (signed, no token), its pay page, a draft's PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from domain.config import Settings
from domain.model.periods import Period
from domain.model.share_links import sign


def pdf_url(settings: Settings, invoice_id: int) -> str:
    return f"{settings.server.base_url}/crm/invoice/{invoice_id}/pdf"


def einvoice_url(settings: Settings, invoice_id: int) -> str:
    """The invoice's UBL (Peppol BIS) e-invoice, with the same bearer token as its PDF."""
    return f"{settings.server.base_url}/crm/invoice/{invoice_id}/ubl"


def share_url(settings: Settings, secret: str, invoice_id: int, now: datetime) -> str:
    """The invoice's page for its customer: no token, valid links.lifetime_days from now."""
    expires = now + timedelta(days=settings.links.lifetime_days)
    return f"{settings.server.base_url}/i/{sign(secret, invoice_id, expires)}"


def pay_url(
    settings: Settings, secret: str, invoice_id: int, number: str | None, due: date, today: date
) -> str:
    """Where the invoice's customer pays it: the CRM's own portal when
    `invoice.pay_url_template` names one, else this service's signed invoice page (the
    page behind shareUrl), which shows what is due and takes the payment."""
    template = settings.invoice.pay_url_template
    if template:
        return template.format(id=invoice_id, number=number)
    return f"{settings.server.base_url}/i/{sign(secret, invoice_id, pay_link_expiry(settings, due, today))}"


def pay_link_expiry(settings: Settings, due: date, today: date) -> datetime:
    """A pay link opens until links.lifetime_days after the invoice's due date, so the PDF,
    the emails and the page carry the same link (a cached PDF stays right), and a late
    invoice can still be paid. Past that, a new link counts from today."""
    lifetime = timedelta(days=settings.links.lifetime_days)
    anchor = max(due, today - lifetime + timedelta(days=1))
    return datetime.combine(anchor, time.min, tzinfo=UTC) + lifetime + timedelta(days=1)


def draft_pdf_url(
    settings: Settings, customer_id: int, period: Period, excluded_ids: Sequence[int]
) -> str:
    query = urlencode(
        {
            "customerId": customer_id,
            "startDate": period.start.isoformat(),
            "endDate": period.end.isoformat(),
            "excludedTransactionIds": ",".join(str(i) for i in excluded_ids),
        }
    )
    return f"{settings.server.base_url}/crm/invoice-preview/pdf?{query}"
