"""createWebhookEndpoint, disableWebhookEndpoint, enableWebhookEndpoint,
rotateWebhookSecret, redeliverWebhook (staff only)."""

from __future__ import annotations

import strawberry

from domain.services import webhooks
from graph.context import Info
from graph.errors import payload
from graph.ids import require_id
from graph.webhooks.types import (
    WebhookDeliveryPayload,
    WebhookEndpointInput,
    WebhookEndpointPayload,
    WebhookSecretPayload,
)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description=(
            "Registers an endpoint for the chosen events; answers its signing secret, this "
            "once. Events from now on are delivered; private-network URLs are refused "
            "(INVALID_INPUT on url) unless webhooks.allow_private_targets."
        )
    )
    async def create_webhook_endpoint(
        self, info: Info, input: WebhookEndpointInput
    ) -> WebhookSecretPayload:
        ctx = info.context
        return await payload(
            lambda: webhooks.create_endpoint(
                ctx.db, ctx.viewer, ctx.runtime.webhooks, input.url, input.events, input.description
            ),
            WebhookSecretPayload.of,
        )

    @strawberry.mutation(
        description="Stops deliveries to it; what is waiting is sent if it is enabled again."
    )
    async def disable_webhook_endpoint(
        self, info: Info, id: strawberry.ID
    ) -> WebhookEndpointPayload:
        ctx = info.context
        return await payload(
            lambda: webhooks.set_enabled(
                ctx.db, ctx.viewer, require_id(id, "Webhook endpoint", "id"), False
            ),
            WebhookEndpointPayload.of,
        )

    @strawberry.mutation
    async def enable_webhook_endpoint(
        self, info: Info, id: strawberry.ID
    ) -> WebhookEndpointPayload:
        ctx = info.context
        return await payload(
            lambda: webhooks.set_enabled(
                ctx.db, ctx.viewer, require_id(id, "Webhook endpoint", "id"), True
            ),
            WebhookEndpointPayload.of,
        )

    @strawberry.mutation(
        description=(
            "A new signing secret, answered this once. The old one keeps signing too "
            "(a second v1 in the signature) for webhooks.rotation_overlap_hours."
        )
    )
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> WebhookSecretPayload:
        ctx = info.context
        return await payload(
            lambda: webhooks.rotate_secret(
                ctx.db, ctx.settings, ctx.viewer, require_id(id, "Webhook endpoint", "id")
            ),
            WebhookSecretPayload.of,
        )

    @strawberry.mutation(
        description=(
            "Sends a delivery's event again (same event id and body) as a new delivery, "
            "due at once."
        )
    )
    async def redeliver_webhook(
        self, info: Info, delivery_id: strawberry.ID
    ) -> WebhookDeliveryPayload:
        ctx = info.context
        return await payload(
            lambda: webhooks.redeliver(
                ctx.db, ctx.viewer, require_id(delivery_id, "Webhook delivery", "delivery_id")
            ),
            WebhookDeliveryPayload.of,
        )
