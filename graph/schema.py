"""The schema object, and its SDL as exported to graph/schema.graphql."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from domain.config import LimitsSettings
from graph.errors import ClientSafeErrors
from graph.mutations import Mutation
from graph.queries import Query
from graph.scalars import DecimalScalar

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.graphql"


def build_schema(limits: LimitsSettings | None = None) -> strawberry.Schema:
    limits = limits or LimitsSettings()
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=limits.max_query_depth),
            lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: ClientSafeErrors(limits.statement_timeout_seconds),
        ],
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
