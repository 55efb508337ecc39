"""WebhookEndpoint, WebhookDelivery and what the webhook mutations answer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.model import webhooks as rules
from domain.model.entities import WebhookDelivery, WebhookEndpoint
from domain.model.enums import WebhookDeliveryStatus, WebhookEventType
from domain.services.webhooks import EndpointWithSecret
from graph.errors import UserError

strawberry.enum(
    WebhookEventType,
    name="WebhookEventType",
    description=(
        "What an endpoint can subscribe to; a delivery's JSON `type` is the lower-case, "
        "dotted form (INVOICE_PAID: `invoice.paid`)."
    ),
)
strawberry.enum(WebhookDeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type(
    name="WebhookEndpoint",
    description=(
        "Where invoice events are POSTed, signed with the endpoint's secret "
        "(docs/webhooks.md). The secret is shown only by createWebhookEndpoint and "
        "rotateWebhookSecret."
    ),
)
class WebhookEndpointType:
    id: strawberry.ID
    url: str
    description: str
    events: list[WebhookEventType]
    enabled: bool
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def from_row(cls, row: WebhookEndpoint) -> WebhookEndpointType:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            description=row.description,
            events=rules.parse_events(row.events),
            enabled=row.enabled,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
        )


@strawberry.type(name="WebhookDelivery", description="One event sent (or to send) to one endpoint.")
class WebhookDeliveryType:
    id: strawberry.ID
    endpoint_id: strawberry.ID
    event_id: str = strawberry.field(
        description="The event's id (`evt_…`), the same in every redelivery: deduplicate on it."
    )
    sequence: int = strawberry.field(
        description="The event's place in the invoice history of the whole system."
    )
    event_type: WebhookEventType
    invoice_id: strawberry.ID
    status: WebhookDeliveryStatus
    attempts: int
    last_status_code: int | None = strawberry.field(
        description="The endpoint's last HTTP status; null when it gave no answer."
    )
    last_error: str = strawberry.field(
        description="Why the last try failed (a status, a timeout, a refused address)."
    )
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next, while PENDING."
    )
    created_at: datetime
    redelivery_of: strawberry.ID | None = strawberry.field(
        description="The delivery this one repeats (redeliverWebhook)."
    )
    body: str = strawberry.field(description="The JSON sent, exactly as signed.")

    @classmethod
    def from_row(cls, row: WebhookDelivery) -> WebhookDeliveryType:
        return cls(
            id=strawberry.ID(str(row.id)),
            endpoint_id=strawberry.ID(str(row.endpoint_id)),
            event_id=rules.event_id(row.event_id),
            sequence=row.event_id,
            event_type=WebhookEventType(row.event_type),
            invoice_id=strawberry.ID(str(row.invoice_id)),
            status=row.status,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=(
                row.next_attempt_at if row.status is WebhookDeliveryStatus.PENDING else None
            ),
            created_at=row.created_at,
            redelivery_of=strawberry.ID(str(row.redelivery_of)) if row.redelivery_of else None,
            body=row.body,
        )


@strawberry.input
class WebhookEndpointInput:
    url: str = strawberry.field(description="http:// or https://; public addresses only.")
    events: list[WebhookEventType]
    description: str | None = None


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpointType | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: WebhookEndpoint | None, errors: list[UserError]) -> WebhookEndpointPayload:
        return cls(endpoint=WebhookEndpointType.from_row(row) if row else None, errors=errors)


@strawberry.type
class WebhookSecretPayload:
    endpoint: WebhookEndpointType | None
    secret: str | None = strawberry.field(
        description="The signing secret (`whsec_…`): shown this once; keep it safe."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, made: EndpointWithSecret | None, errors: list[UserError]) -> WebhookSecretPayload:
        if made is None:
            return cls(endpoint=None, secret=None, errors=errors)
        return cls(
            endpoint=WebhookEndpointType.from_row(made.endpoint), secret=made.secret, errors=errors
        )


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDeliveryType | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: WebhookDelivery | None, errors: list[UserError]) -> WebhookDeliveryPayload:
        return cls(delivery=WebhookDeliveryType.from_row(row) if row else None, errors=errors)
