"""The addresses an invoice points to: its PDF download (for API clients), the link its
customer opens (signed, no token), its pay page, a draft's PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
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


def pay_url(settings: Settings, invoice_id: int, number: str | None) -> str:
    return settings.invoice.pay_url_template.format(id=invoice_id, number=number)


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
