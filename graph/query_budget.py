"""A budget for a request's shape, checked on the parsed document before any validation,
and validation itself off the event loop.

graphql-core's OverlappingFieldsCanBeMergedRule is quadratic in the selections of one
selection set: a 12 KB document repeating one field 490 times, within every depth, alias
and token limit, costs a second and a half of CPU. So before validating, the document is
measured (selections in any one set, and fields in all, fragments expanded as often as
they are spread) and refused with QUERY_TOO_COMPLEX beyond `limits.max_selections` /
`limits.max_fields`. What passes is validated in a worker thread, and remembered by its
canonical text, so spacing and comments do not defeat the cache.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    print_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
CACHE_SIZE = 256


def over_budget(document: DocumentNode, max_selections: int, max_fields: int) -> str | None:
    """Why the document is too big to validate, or None."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes: dict[str, int] = {}

    def widest(node: SelectionSetNode | None) -> int:
        if node is None:
            return 0
        inner = [widest(getattr(selection, "selection_set", None)) for selection in node.selections]
        return max([len(node.selections), *inner])

    def fields(node: SelectionSetNode | None, visiting: frozenset[str]) -> int:
        if node is None:
            return 0
        total = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += 1 + fields(selection.selection_set, visiting)
            elif isinstance(selection, InlineFragmentNode):
                total += fields(selection.selection_set, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visiting or name not in fragments:
                    continue  # a cycle or an unknown fragment: validation will say so
                if name not in sizes:
                    sizes[name] = fields(fragments[name].selection_set, visiting | {name})
                total += sizes[name]
            if total > max_fields:
                return total
        return total

    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            continue
        if widest(definition.selection_set) > max_selections:
            return f"A selection set may hold at most {max_selections} selections."
        if isinstance(definition, OperationDefinitionNode):
            if fields(definition.selection_set, frozenset()) > max_fields:
                return f"A request may select at most {max_fields} fields, fragments included."
    return None


_valid: OrderedDict[tuple[str, tuple[Any, ...]], None] = OrderedDict()


class BudgetedValidation(SchemaExtension):
    """Replaces Strawberry's ValidationCache: budget first, then cached, threaded validation."""

    def __init__(self, max_selections: int, max_fields: int) -> None:
        super().__init__()
        self.max_selections = max_selections
        self.max_fields = max_fields

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        problem = over_budget(document, self.max_selections, self.max_fields)
        if problem is not None:
            context.pre_execution_errors = [GraphQLError(problem, extensions={"code": TOO_COMPLEX})]
            yield
            return
        rules = tuple(context.validation_rules)
        # Only valid documents are remembered: errors carry positions in their own text.
        key = (print_ast(document), rules)
        if key in _valid:
            _valid.move_to_end(key)
            context.pre_execution_errors = []
        else:
            errors = await asyncio.to_thread(
                validate_document, context.schema._schema, document, rules
            )
            if not errors:
                _valid[key] = None
                while len(_valid) > CACHE_SIZE:
                    _valid.popitem(last=False)
            context.pre_execution_errors = errors
        yield
