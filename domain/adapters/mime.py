"""The invoice email as a MIME message, the way it goes over SMTP: what the development
outbox writes, byte for byte (Mailjet takes the same parts through its API).

    multipart/mixed
      multipart/alternative
        text/plain      the text part
        text/html       the HTML part
      application/pdf   the invoice
      application/xml   its UBL e-invoice, for a customer who wants one

Names and addresses are data: as `Address` objects a display name is quoted or encoded,
never read as more recipients or headers ("Bob <bob@evil.example>, Alice")."""

from __future__ import annotations

import hashlib
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from domain.ports import InvoiceEmail, Recipient


def _address(mailbox: Recipient) -> Address:
    local, _, domain = mailbox.email.rpartition("@")
    return Address(display_name=mailbox.name, username=local, domain=domain)


def _needs_smtputf8(email: InvoiceEmail) -> bool:
    """A non-ASCII local part (josé@example.com) can only be sent with SMTPUTF8; domains
    are already in IDNA form (rendering.email.recipient)."""
    mailboxes = (email.sender, *email.recipients)
    return not all(mailbox.email.isascii() for mailbox in mailboxes)


def mime_message(email: InvoiceEmail) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTPUTF8 if _needs_smtputf8(email) else policy.SMTP)
    message["From"] = _address(email.sender)
    message["To"] = [_address(r) for r in email.recipients]
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.written_at)
    message["Message-ID"] = email.message_id
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.media_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # Boundaries from the Message-ID rather than random ones: the same email is the same
    # bytes (the outbox's .eml is what was sent), and a part's text cannot contain them.
    seed = hashlib.sha256(email.message_id.encode()).hexdigest()[:32]
    for depth, part in enumerate(p for p in message.walk() if p.is_multipart()):
        part.set_boundary(f"=_{seed}_{depth}")
    return message


def wire_bytes(email: InvoiceEmail) -> bytes:
    """The message as SMTP sends it (CRLF line ends)."""
    return mime_message(email).as_bytes()
