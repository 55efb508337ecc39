"""Per-operation request counts and latencies, through the runtime's Metrics port."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from graph.context import Context

# Codes of a request that was not a valid GraphQL request (graph/errors.py with_code).
REQUEST_AT_FAULT = {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}


class OperationMetrics(SchemaExtension):
    """Times each operation and counts its outcome, labelled by its first root field
    (`invoices`, `generateInvoice`): the schema bounds those, unlike operation names."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        operation = self._root_field()
        seconds = time.perf_counter() - started
        result = self.execution_context.result
        errors = (result.errors if result else None) or self.execution_context.pre_execution_errors
        outcome = "ok"
        if errors:
            code = (errors[0].extensions or {}).get("code")
            if code in REQUEST_AT_FAULT or (code is None and errors[0].path is None):
                outcome = "invalid"  # the document or its variables (parsing, validation)
            elif code == "INTERNAL_SERVER_ERROR" or not isinstance(code, str):
                outcome = "error"
            else:
                outcome = code
        context = self.execution_context.context
        if isinstance(context, Context):
            context.runtime.metrics.operation(operation, outcome, seconds)

    def _root_field(self) -> str:
        """The first root field, if the schema has it (else "other"): labels stay bounded
        whatever names a client sends (fragment names, misspelt fields)."""
        document = self.execution_context.graphql_document
        if document is None:
            return "invalid"
        schema = self.execution_context.schema._schema
        known = set(schema.query_type.fields if schema.query_type else ())
        known |= set(schema.mutation_type.fields if schema.mutation_type else ())
        wanted = self.execution_context.operation_name
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if wanted is not None and (definition.name is None or definition.name.value != wanted):
                continue
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    return selection.name.value if selection.name.value in known else "other"
            return "other"
        return "invalid"
