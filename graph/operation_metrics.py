"""Per-operation request counts and latencies, through the runtime's Metrics port."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from graph.context import Context


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
            if isinstance(code, str) and code.isupper():
                outcome = code
            else:  # without a path, the request itself was at fault (parsing, validation)
                outcome = "invalid" if errors[0].path is None else "error"
        context = self.execution_context.context
        if isinstance(context, Context):
            context.runtime.metrics.operation(operation, outcome, seconds)

    def _root_field(self) -> str:
        document = self.execution_context.graphql_document
        if document is None:
            return "invalid"
        wanted = self.execution_context.operation_name
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if wanted is not None and (definition.name is None or definition.name.value != wanted):
                continue
            for selection in definition.selection_set.selections:
                name = getattr(selection, "name", None)
                if name is not None:
                    return str(name.value)
        return "invalid"
