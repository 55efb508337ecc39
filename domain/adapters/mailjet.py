"""The MailSender port on Mailjet's Send API v3.1, through the official mailjet-rest client."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from mailjet_rest import Client
from mailjet_rest.errors import ApiError

from domain.config import MailjetSettings
from domain.ports import EmailFailed, InvoiceEmail


class MailjetSender:
    def __init__(self, settings: MailjetSettings) -> None:
        self.settings = settings

    def payload(self, email: InvoiceEmail) -> dict[str, Any]:
        message: dict[str, Any] = {
            "From": {"Email": email.sender.email, "Name": email.sender.name},
            "To": [{"Email": r.email, "Name": r.name} for r in email.recipients],
            "Subject": email.subject,
            "Attachments": [
                {
                    "ContentType": attachment.media_type,
                    "Filename": attachment.filename,
                    "Base64Content": base64.b64encode(attachment.data).decode("ascii"),
                }
                for attachment in email.attachments
            ],
        }
        if email.template_id:
            # The account's template (api_crmCommunicationCustomerInvoice) with the same
            # variables our own email template gets; without TemplateLanguage Mailjet
            # ignores Variables.
            message.update(
                TemplateID=email.template_id, TemplateLanguage=True, Variables=email.variables
            )
        else:
            message.update(TextPart=email.text_body, HTMLPart=email.html_body)
        return {"Messages": [message]}

    async def send(self, email: InvoiceEmail) -> None:
        await asyncio.to_thread(self._send, self.payload(email))

    def _send(self, payload: dict[str, Any]) -> None:
        client = Client(
            auth=(
                self.settings.api_key.get_secret_value(),
                self.settings.api_secret.get_secret_value(),
            ),
            version="v3.1",
            api_url=self.settings.api_url,
        )
        try:
            response = client.send.create(data=payload)
        except ApiError as error:  # newer clients raise on HTTP errors
            raise EmailFailed(str(error)) from None
        except Exception as error:  # requests' connection errors and timeouts
            raise EmailFailed(f"Mailjet could not be reached ({type(error).__name__})") from None
        # Older clients return error responses instead of raising; v3.1 reports per message.
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            raise EmailFailed(
                body.get("ErrorMessage") or f"Mailjet answered HTTP {response.status_code}"
            )
        for message in body.get("Messages", []):
            if message.get("Status") != "success":
                errors = message.get("Errors") or [{}]
                raise EmailFailed(errors[0].get("ErrorMessage") or "Mailjet refused the message")
