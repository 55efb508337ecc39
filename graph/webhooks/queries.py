"""webhookEndpoints, webhookEndpoint, webhookDeliveries (staff only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.queries import webhooks
from graph.context import Info
from graph.errors import found_or_null
from graph.ids import parse_id
from graph.paging import AFTER, Page, page_request
from graph.webhooks.types import WebhookDeliveryType, WebhookEndpointType


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Staff only; empty for a customer token.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpointType]:
        rows = await webhooks.endpoints(info.context.db, info.context.viewer)
        return [WebhookEndpointType.from_row(row) for row in rows]

    @strawberry.field(description=found_or_null("webhook endpoint"))
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpointType | None:
        endpoint_id = parse_id(id)
        if endpoint_id is None:
            return None
        row = await webhooks.endpoint(info.context.db, info.context.viewer, endpoint_id)
        return WebhookEndpointType.from_row(row) if row else None

    @strawberry.field(
        description=(
            "An endpoint's delivery log, newest first: status, tries, the last answer. "
            "Staff only; empty for a customer token."
        )
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        page: int = 1,
        per_page: int = 25,
        after: Annotated[str | None, AFTER] = None,
    ) -> Page[WebhookDeliveryType]:
        ctx = info.context
        found = await webhooks.deliveries(
            ctx.db, ctx.viewer, parse_id(endpoint_id) or 0, page_request(page, per_page, after)
        )
        return Page.of(found, WebhookDeliveryType.from_row)
