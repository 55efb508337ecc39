"""The schema object, and its SDL as exported to graph/schema.graphql."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import strawberry
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig

from graph.errors import should_mask_error
from graph.mutations import Mutation
from graph.queries import Query
from graph.scalars import DecimalScalar

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.graphql"


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        extensions=[lambda: MaskErrors(should_mask_error=should_mask_error)],
    )


schema = build_schema()


def export_sdl() -> str:
    return schema.as_str() + "\n"
