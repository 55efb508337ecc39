"""The floor bench/api.py measures list pages against: our own invoice page types, served
by Strawberry on Starlette/uvicorn from memory, in a server process of its own.

    .venv/bin/python bench/_floor.py --url DATABASE_URL --port PORT

POST /load with {"ids": [...]} reads those invoices once and keeps them, mapped to
InvoiceType in that order; `{ invoices { ... } }` then serves them from memory.

Its own process, as `invoicing serve` has: run as a thread of the bench's client process,
the floor shared one interpreter lock with the client that times it, and answered in
7.0-10.9 ms a page it answers in 5.3-6.1 ms alone.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import strawberry
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.bootstrap import open_database  # noqa: E402
from domain.config import Settings, settings_from_mapping  # noqa: E402
from domain.model.access import SYSTEM  # noqa: E402
from domain.model.entities import Invoice  # noqa: E402
from graph.invoices.types import InvoicePage, InvoiceType  # noqa: E402
from graph.scalars import DecimalScalar  # noqa: E402

_MEMORY: list[InvoiceType] = []


@strawberry.type
class MemoryQuery:
    """The invoices page of our own schema's types, served from memory."""

    @strawberry.field
    def invoices(self, page: int = 1) -> InvoicePage:
        return InvoicePage(
            items=_MEMORY,
            total_count=len(_MEMORY),
            page=1,
            per_page=25,
            total_pages=1,
            has_next_page=False,
        )


MEMORY_SCHEMA = strawberry.Schema(
    query=MemoryQuery, config=StrawberryConfig(scalar_map={Decimal: DecimalScalar})
)


def memory_context(settings: Settings) -> SimpleNamespace:
    """What InvoiceType.from_row reads of a request's context."""
    return SimpleNamespace(settings=settings, viewer=SYSTEM)


def floor_app(url: str) -> Starlette:
    settings = settings_from_mapping({"database": {"url": url}})
    db = open_database(settings)

    async def load(request: Request) -> Response:
        ids = [int(i) for i in (await request.json())["ids"]]
        async with db.read() as session:
            rows = {
                row.id: row
                for row in (await session.execute(select(Invoice).where(Invoice.id.in_(ids))))
                .scalars()
                .all()
            }
        _MEMORY[:] = [InvoiceType.from_row(rows[i], memory_context(settings)) for i in ids]
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/graphql", GraphQL(MEMORY_SCHEMA, graphql_ide=None), methods=["GET", "POST"]),
            Route("/load", load, methods=["POST"]),
            Route("/healthz", lambda _: Response("ok"), methods=["GET"]),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    # uvicorn's defaults, as `invoicing serve` has them (uvloop, httptools).
    uvicorn.run(
        floor_app(arguments.url),
        host="127.0.0.1",
        port=arguments.port,
        log_level="warning",
    )
