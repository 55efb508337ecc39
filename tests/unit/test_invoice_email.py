"""The invoice email as the customer reads it: same amounts and dates as the PDF, in the
customer's language, as a text and an HTML part from the email template; and the .eml
the development outbox writes, parsed as a mail client would (policy=default)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from domain.adapters.mime import wire_bytes
from domain.adapters.outbox import OutboxSender
from domain.config import EmailSettings, Settings, settings_from_mapping
from domain.model.entities import Contact, Customer, Invoice
from domain.model.enums import ContactType, InvoiceStatus
from domain.ports import EmailAttachment, InvoiceEmail
from domain.rendering.email import EmailFacts, email_content, invoice_email
from domain.rendering.renderer import DocumentRenderer
from tests.fakes.clock import PinnableClock
from tests.fakes.ports import InlinePages

VIEW_URL = "https://crm.example/i/344.1767225600.signed"
WRITTEN_AT = datetime(2025, 1, 10, 9, 30, tzinfo=UTC)


def _invoice(total: str = "1234.50") -> Invoice:
    return Invoice(
        id=344,
        number="INV-2025-000344",
        customer_id=1,
        created_at=datetime(2025, 1, 10, 12, tzinfo=UTC),
        due_date=date(2025, 2, 10),
        total=Decimal(total),
        amount_paid=Decimal("0.00"),
    )


async def _email(
    language: str,
    *,
    contacts: list[tuple[str, str]] | None = None,
    settings: Settings | None = None,
    total: str = "1234.50",
) -> InvoiceEmail:
    settings = settings or Settings()
    customer = Customer(id=1, name="Hotel Miramar Cancún", language=language)
    people = [
        Contact(name=name, email=address, type=ContactType.BILLING)
        for name, address in (contacts or [("Cuentas", "ap@miramar.example")])
    ]
    facts = EmailFacts.of_invoice(_invoice(total), customer, "https://pay.example/344")
    content = await email_content(
        settings, DocumentRenderer(settings, InlinePages()), facts, VIEW_URL
    )
    pdf = EmailAttachment("Invoice_00344.pdf", b"%PDF-1.7", "application/pdf")
    return invoice_email(settings, content, people, [pdf], WRITTEN_AT)


def _parsed(email: InvoiceEmail) -> EmailMessage:
    # Headers may be raw UTF-8 (RFC 6532, sent with SMTPUTF8), read as a mail client does.
    message = message_from_string(wire_bytes(email).decode("utf-8"), policy=policy.default)
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        assert part.defects == [], part.defects
    return message


async def test_a_spanish_customer_reads_amounts_and_dates_as_the_pdf_prints_them() -> None:
    email = await _email("es")
    assert email.variables["total_amount"] == "1.234,50\xa0US$"
    assert email.variables["invoice_date"] == "10 de enero de 2025"
    assert email.variables["due_date"] == "10 de febrero de 2025"
    assert "por 1.234,50\xa0US$, con vencimiento el 10 de febrero de 2025" in email.text_body
    assert email.subject == "Factura INV-2025-000344 de Norfone Telecom"
    assert "Importe a pagar" in email.html_body and "1.234,50\xa0US$" in email.html_body
    assert "Estimado/a Hotel Miramar Cancún:" in email.html_body


async def test_an_english_customer_reads_english() -> None:
    email = await _email("en")
    assert email.variables["total_amount"] == "$1,234.50"
    assert "for $1,234.50, due on February 10, 2025" in email.text_body
    assert "Amount due" in email.html_body and "$1,234.50" in email.html_body


async def test_a_language_without_an_email_template_is_written_in_the_default_language() -> None:
    """French is offered but no template speaks it: the words and the numbers are both
    English, never English words with French dates."""
    settings = settings_from_mapping({"business": {"languages": ["en", "es", "fr"]}})
    email = await _email("fr", settings=settings)
    assert email.subject == "Invoice INV-2025-000344 from Norfone Telecom"
    assert email.variables["due_date"] == "February 10, 2025"
    assert email.variables["total_amount"] == "$1,234.50"
    assert 'lang="en"' in email.html_body


async def test_a_credit_note_says_what_is_in_the_customers_favour() -> None:
    email = await _email("en", total="-50.00")
    assert email.variables["document"] == "credit_note"
    assert "$50.00</strong> in your favour" in email.html_body
    assert "Pay online" not in email.html_body


async def test_the_message_has_a_text_and_an_html_part_the_pdf_a_date_and_a_message_id() -> None:
    message = _parsed(await _email("en"))
    assert message.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]
    assert message["Date"].datetime == WRITTEN_AT
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(
        "@norfone.example>"
    )
    assert message["From"].addresses[0].display_name == "Norfone Billing"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and "Pay online: https://" in text.get_content()
    assert html is not None and f'href="{VIEW_URL}"' in html.get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "Invoice_00344.pdf"
    assert attachment.get_content() == b"%PDF-1.7"
    assert b"\r\n" in wire_bytes(await _email("en"))  # SMTP line ends


@pytest.mark.parametrize(
    "name",
    ['Zoë "Ñandú" 東京, Jr.', "Bob <bob@evil.example>, Alice", "O'Brien; Smith (AP)"],
)
async def test_each_contact_is_one_recipient_whatever_its_name(name: str) -> None:
    email = await _email("en", contacts=[(name, "zoe@acme.example"), ("AP", "ap@acme.example")])
    message = _parsed(email)
    addresses = message["To"].addresses
    assert [a.addr_spec for a in addresses] == ["zoe@acme.example", "ap@acme.example"]
    assert addresses[0].display_name == name


async def test_international_addresses_go_out_in_idna_and_utf8_never_as_encoded_words() -> None:
    email = await _email(
        "en",
        contacts=[("Jürgen", "jurgen@bücher.example"), ("José", "josé@example.com")],
    )
    data = wire_bytes(email)
    assert b"=?utf-8?" not in data.split(b"\r\n\r\n", 1)[0].split(b"To:", 1)[1].split(b"@")[0]
    addresses = _parsed(email)["To"].addresses
    assert [a.addr_spec for a in addresses] == ["jurgen@xn--bcher-kva.example", "josé@example.com"]
    assert [a.display_name for a in addresses] == ["Jürgen", "José"]


async def test_the_outbox_writes_the_message_byte_for_byte(tmp_path: Path) -> None:
    clock = PinnableClock()
    clock.pin(WRITTEN_AT)
    sender = OutboxSender(EmailSettings(outbox_dir=str(tmp_path)), clock)
    email = await _email("es")
    await sender.send(email)
    (written,) = tmp_path.glob("*.eml")
    assert written.name.startswith("20250110T093000-INV-2025-000344-")
    data = written.read_bytes()
    assert data == wire_bytes(email)
    message = message_from_bytes(data, policy=policy.default)
    assert message["Subject"] == "Factura INV-2025-000344 de Norfone Telecom"


def _facts(language: str, status: InvoiceStatus) -> EmailFacts:
    paid_at = datetime(2025, 1, 20, 3, tzinfo=UTC) if status is not InvoiceStatus.UNPAID else None
    return EmailFacts(
        "Hotel Miramar Cancún",
        language,
        "INV-2025-000344",
        datetime(2025, 1, 10, 12, tzinfo=UTC),
        date(2025, 2, 10),
        Decimal("1234.50"),
        "https://crm.example/i/344.pay",
        "USD",
        status,
        paid_at,
    )


@pytest.mark.parametrize(
    ("language", "status", "subject", "says"),
    [
        (
            "en",
            InvoiceStatus.PAID,
            "Receipt for invoice INV-2025-000344",
            "was paid on January 20, 2025",
        ),
        (
            "es",
            InvoiceStatus.PAID,
            "Recibo de la factura INV-2025-000344",
            "se pagó el 20 de enero de 2025",
        ),
        ("en", InvoiceStatus.REFUNDED, "Invoice INV-2025-000344 from", "has been refunded to you"),
        ("es", InvoiceStatus.REFUNDED, "Factura INV-2025-000344 de", "Le hemos reembolsado"),
    ],
)
async def test_a_paid_or_refunded_invoices_email_asks_for_nothing(
    language: str, status: InvoiceStatus, subject: str, says: str
) -> None:
    settings = Settings()
    content = await email_content(
        settings, DocumentRenderer(settings, InlinePages()), _facts(language, status), VIEW_URL
    )
    assert content.subject.startswith(subject)
    assert says in content.text_body
    for part in (content.text_body, content.html_body):
        assert "https://crm.example/i/344.pay" not in part  # no pay link
        assert "Pay online" not in part and "Pagar en línea" not in part
    assert content.variables["pay_url"] == "" and content.variables["state"] in ("paid", "refunded")
    assert VIEW_URL in content.text_body  # it can still be viewed


async def test_an_open_invoices_email_asks_for_payment() -> None:
    settings = Settings()
    content = await email_content(
        settings,
        DocumentRenderer(settings, InlinePages()),
        _facts("en", InvoiceStatus.UNPAID),
        VIEW_URL,
    )
    assert "Pay online: https://crm.example/i/344.pay" in content.text_body
    assert content.variables["state"] == "open"
