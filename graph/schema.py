"""The schema: each area's queries and mutations merged into the Query and Mutation roots,
with the request limits and caches; and its SDL, as exported to graph/schema.graphql."""

from __future__ import annotations

from pathlib import Path

import strawberry
from graphql import GraphQLError, GraphQLSchema
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from domain.config import GraphQLSettings, LimitsSettings
from graph.customers.mutations import CustomerMutations
from graph.customers.queries import CustomerQueries
from graph.errors import ClientSafeErrors, is_incident
from graph.invoices.mutations import InvoiceMutations
from graph.invoices.queries import InvoiceQueries
from graph.operation_metrics import OperationMetrics
from graph.products.mutations import ProductMutations
from graph.products.queries import ProductQueries
from graph.query_budget import DocumentMemory, OffLoopDocuments
from graph.request_gate import RequestGate
from graph.scalars import SCALARS
from graph.subscriptions import Subscription
from graph.transactions.mutations import TransactionMutations
from graph.transactions.queries import TransactionQueries
from graph.viewer import ViewerQueries
from graph.webhooks.mutations import WebhookMutations
from graph.webhooks.queries import WebhookQueries

Query = merge_types(
    "Query",
    (
        ViewerQueries,
        CustomerQueries,
        ProductQueries,
        TransactionQueries,
        InvoiceQueries,
        WebhookQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        CustomerMutations,
        ProductMutations,
        TransactionMutations,
        InvoiceMutations,
        WebhookMutations,
    ),
)

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.graphql"


class InvoicingSchema(strawberry.Schema):
    @property
    def graphql_schema(self) -> GraphQLSchema:
        """graphql-core's schema, which graph/query_budget.py validates documents against
        in a worker thread. Strawberry keeps it as `_schema` and offers no accessor (its own
        ValidationCache reads it so); this is the one place that reaches for it."""
        return self._schema

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Log only what went wrong on our side, with its traceback; a client's bad page
        # number or unknown field is its answer, not an incident.
        super().process_errors([e for e in errors if is_incident(e)], execution_context)


def build_schema(
    limits: LimitsSettings | None = None, graphql: GraphQLSettings | None = None
) -> strawberry.Schema:
    limits = limits or LimitsSettings()
    graphql = graphql or GraphQLSettings()
    # The limiters' rule classes are made once: ValidationCache keys on the rules as well
    # as the document, and a limiter built per request would make every key new.
    request_shape_rules = [
        *QueryDepthLimiter(max_depth=limits.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    # The parsed and validated documents this schema remembers: its own, not the module's.
    memory = DocumentMemory()
    return InvoicingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map=SCALARS, batching_config={"max_operations": graphql.max_batch}
        ),
        extensions=[
            # First, so that it sees the answer as the client will (errors masked).
            OperationMetrics,
            # Who may run what, on every transport (the socket's token, trusted documents).
            RequestGate,
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: AddValidationRules(request_shape_rules),
            # Clients send the same few documents over and over: parsing and validating
            # them was half the cost of a list page; both are remembered, and done in a
            # thread when they are not.
            lambda: OffLoopDocuments(
                memory,
                limits.max_selections,
                limits.max_fields,
                limits.max_cost,
                limits.max_document_bytes,
            ),
            lambda: ClientSafeErrors(limits.statement_timeout_seconds),
        ],
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
