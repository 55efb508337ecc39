"""The MailSender port for development: each message, exactly as SMTP would carry it
(adapters.mime), written as an .eml file a developer can open, in the outbox folder."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

from domain.adapters.mime import wire_bytes
from domain.config import EmailSettings
from domain.ports import Clock, InvoiceEmail

log = logging.getLogger("invoicing.email")


class OutboxSender:
    def __init__(self, settings: EmailSettings, clock: Clock) -> None:
        self.folder = Path(settings.outbox_dir)
        self.clock = clock

    async def send(self, email: InvoiceEmail) -> None:
        data = wire_bytes(email)
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%S")
        number = email.variables["invoice_number"]
        target = self.folder / f"{stamp}-{number}-{uuid.uuid4().hex[:8]}.eml"

        def write() -> None:
            self.folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

        await asyncio.to_thread(write)
        log.info("invoice email written to %s", target)
