"""Documents for PDF tests, built directly (no database needed)."""

from datetime import UTC, date, datetime
from decimal import Decimal

from domain.model.commands import AddressData
from domain.rendering.documents import Client, InvoiceDocument, Line


def document(
    lines: int = 3, *, language: str = "en", country: str = "Australia", **changes
) -> InvoiceDocument:
    rows = tuple(
        Line(
            transaction_id=1000 + i,
            created=datetime(2025, 1, 1 + i % 28, 9, 30, tzinfo=UTC),
            title=f"Mobile plan line {i + 1}",
            description=f"Service period {i + 1}",
            retail_cost=Decimal("100.00") + i,
            tax_percentage=Decimal("10"),
            tax_amount=(Decimal("100.00") + i) / 10,
        )
        for i in range(lines)
    )
    base = InvoiceDocument(
        number="INV-2025-001234",
        title="Invoice for 2025-01-01 - 2025-01-31",
        issued_at=datetime(2025, 1, 10, 12, tzinfo=UTC),
        due_date=date(2025, 2, 10),
        start_date=date(2025, 1, 1),
        end_date=date(2025, 1, 31),
        client=Client(
            "Acme Logistics Pty Ltd",
            language,
            AddressData("12 Wharf Road", "Level 3", "Sydney", "NSW", "2000", country),
        ),
        lines=rows,
        payment_url="https://portal.example.com/invoices/1234/pay",
        currency="USD",
    )
    return InvoiceDocument(**{**base.__dict__, **changes})
