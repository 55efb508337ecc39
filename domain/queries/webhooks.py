"""webhookEndpoints, webhookEndpoint, webhookDeliveries: staff only (a customer token
sees none, as if there were none)."""

from __future__ import annotations

from sqlalchemy import select

from domain.model.access import Viewer
from domain.model.entities import WebhookDelivery, WebhookEndpoint
from domain.model.paging import Page, PageRequest
from domain.store.cursors import Keyset
from domain.store.database import Database
from domain.store.pagination import fetch_page

NEWEST_FIRST = Keyset("webhook_deliveries", WebhookDelivery.id, WebhookDelivery.id, True, int)


async def endpoints(db: Database, viewer: Viewer) -> list[WebhookEndpoint]:
    if not viewer.is_staff:
        return []
    async with db.read() as session:
        rows = await session.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
        return list(rows.scalars())


async def endpoint(db: Database, viewer: Viewer, endpoint_id: int) -> WebhookEndpoint | None:
    if not viewer.is_staff:
        return None
    async with db.read() as session:
        return await session.get(WebhookEndpoint, endpoint_id)


async def deliveries(
    db: Database, viewer: Viewer, endpoint_id: int, request: PageRequest
) -> Page[WebhookDelivery]:
    """An endpoint's deliveries, newest first."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
    )
    if not viewer.is_staff:
        query = query.where(WebhookDelivery.id.is_(None))  # nothing, with the same shape
    async with db.read() as session:
        return await fetch_page(session, query, request, NEWEST_FIRST)
