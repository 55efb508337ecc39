"""The MailSender port for development: each message, attachment included, written as an
.eml file a developer can open, in the outbox folder."""

from __future__ import annotations

import asyncio
import logging
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from domain.config import EmailSettings
from domain.ports import Clock, InvoiceEmail

log = logging.getLogger("invoicing.email")


def _address(name: str | None, email: str) -> Address:
    return Address(display_name=" ".join((name or "").split()), addr_spec=email)


class OutboxSender:
    def __init__(self, settings: EmailSettings, clock: Clock) -> None:
        self.folder = Path(settings.outbox_dir)
        self.clock = clock

    async def send(self, email: InvoiceEmail) -> None:
        message = EmailMessage()
        # Names are data: as Address objects they are quoted, never read as more addresses
        # ("Bob <bob@evil.example>, Alice"), and line breaks in them become spaces.
        message["From"] = _address(email.sender.name, email.sender.email)
        message["To"] = [_address(r.name, r.email) for r in email.recipients]
        message["Subject"] = email.subject
        message["X-Mailjet-Template"] = str(email.template_id)
        message.set_content(email.text_body)
        message.add_attachment(
            email.attachment, maintype="application", subtype="pdf", filename=email.attachment_name
        )
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%S")
        number = email.variables["invoice_number"]
        target = self.folder / f"{stamp}-{number}-{uuid.uuid4().hex[:8]}.eml"

        def write() -> None:
            self.folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bytes(message))

        await asyncio.to_thread(write)
        log.info("invoice email written to %s", target)
