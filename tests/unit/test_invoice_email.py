"""The invoice email as the customer reads it: same amounts and dates as the PDF, in the
customer's language; and the development outbox's .eml, parsed as a mail client would."""

from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

from domain.adapters.outbox import OutboxSender
from domain.config import EmailSettings, Settings
from domain.model.entities import Contact, Customer, Invoice
from domain.model.enums import ContactType
from domain.rendering.email import invoice_email
from tests.fakes.clock import PinnableClock


def _invoice() -> Invoice:
    return Invoice(
        id=344,
        number="INV-2025-000344",
        customer_id=1,
        created_at=datetime(2025, 1, 10, 12, tzinfo=UTC),
        due_date=date(2025, 2, 10),
        total=Decimal("1234.50"),
    )


def _email(language: str):
    customer = Customer(id=1, name="Hotel Miramar Cancún", language=language)
    contact = Contact(name="Cuentas", email="ap@miramar.example", type=ContactType.BILLING)
    return invoice_email(
        Settings(),
        _invoice(),
        customer,
        [contact],
        "Invoice_00344.pdf",
        b"%PDF",
        "https://crm.example/i/344.1767225600.signed",
    )


def test_a_spanish_customer_reads_amounts_and_dates_as_the_pdf_prints_them() -> None:
    email = _email("es")
    assert email.variables["total_amount"] == "$1.234,50"
    assert email.variables["invoice_date"] == "10 de enero de 2025"
    assert email.variables["due_date"] == "10 de febrero de 2025"
    assert "por $1.234,50, con vencimiento el 10 de febrero de 2025" in email.text_body
    assert email.subject == "Factura INV-2025-000344 de Norfone Telecom"


def test_an_english_customer_reads_english() -> None:
    email = _email("en")
    assert email.variables["total_amount"] == "$1,234.50"
    assert "for $1,234.50, due on February 10, 2025" in email.text_body


async def test_the_outbox_writes_a_message_a_mail_client_opens(tmp_path: Path) -> None:
    clock = PinnableClock()
    clock.pin(datetime(2025, 1, 10, 9, 30, tzinfo=UTC))
    sender = OutboxSender(EmailSettings(outbox_dir=str(tmp_path)), clock)
    await sender.send(_email("es"))
    (written,) = tmp_path.glob("*.eml")
    assert written.name.startswith("20250110T093000-INV-2025-000344-")
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Factura INV-2025-000344 de Norfone Telecom"
    assert [a.addr_spec for a in message["To"].addresses] == ["ap@miramar.example"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "$1.234,50" in body.get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "Invoice_00344.pdf"
    assert attachment.get_content() == b"%PDF"
