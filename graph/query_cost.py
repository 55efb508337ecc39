"""What a document will cost to answer: the number of values it asks for, estimated from
the document and the schema before anything runs.

The limits on a document's shape (depth, aliases, selections, fields) bound how long it
takes to validate, not how much it returns: 29 aliases of a 100-invoice page with their
lines are 950 fields, within every limit, and hundreds of thousands of values, seconds of
CPU on the event loop. So each field counts once for every value it returns: a list
multiplies what is under it by its page size (`perPage`: the literal, the variable, or its
default) or, for lists without one (an invoice's lines, its events), by LIST_GUESS.
A request's operations add up (a batch is one request), against `limits.max_cost`.

Introspection (`__schema`, `__type`) answers with the schema, whose size is fixed and
small, whatever the data: its fields count once each, its lists not multiplied (a
GraphiQL's full introspection is about 130 such fields, not the 53,000 values its nested
lists would be guessed at).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

# How many values a list without a page size is taken to hold (an invoice's lines, a
# customer's contacts): a guess, on the side of what real invoices have.
LIST_GUESS = 10
PAGE_ARGUMENT = "perPage"
MAX_PAGE = 100


def cost_of(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The values the operation `operation_name` of `document` asks for (0 when there is
    no such operation: validation says so)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if len(chosen) != 1 and operation_name is None and operations:
        chosen = operations[:1]
    if not chosen:
        return 0
    operation = chosen[0]
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Walk(schema, fragments, variables or {}).selections(
        operation.selection_set, root, 1, paged=False, visiting=frozenset()
    )


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selections(
        self,
        node: SelectionSetNode,
        parent: GraphQLType,
        multiplier: int,
        *,
        paged: bool,
        visiting: frozenset[str],
    ) -> int:
        total = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode) and selection.name.value in _INTROSPECTION:
                total += multiplier * _fields_in(selection, self.fragments, visiting)
            elif isinstance(selection, FieldNode):
                total += self.field(selection, parent, multiplier, paged=paged, visiting=visiting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                within = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(
                    selection.selection_set,
                    within or parent,
                    multiplier,
                    paged=paged,
                    visiting=visiting,
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:
                    continue  # unknown or cyclic: validation refuses it
                within = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selections(
                    fragment.selection_set,
                    within or parent,
                    multiplier,
                    paged=paged,
                    visiting=visiting | {name},
                )
        return total

    def field(
        self,
        node: FieldNode,
        parent: GraphQLType,
        multiplier: int,
        *,
        paged: bool,
        visiting: frozenset[str],
    ) -> int:
        definition = self._definition(node.name.value, parent)
        if definition is None:
            return multiplier  # __typename, or unknown: validation refuses the latter
        page = self._page_size(node, definition)
        if page is not None:
            values = multiplier  # the page itself; what it holds counts `page` times
            inner = multiplier * page
        else:
            listed = _is_list(definition.type) and not paged  # a page's items are counted
            values = inner = multiplier * (LIST_GUESS if listed else 1)
        if node.selection_set is None:
            return values
        return values + self.selections(
            node.selection_set,
            get_named_type(definition.type),
            inner,
            paged=page is not None,
            visiting=visiting,
        )

    def _definition(self, name: str, parent: GraphQLType) -> GraphQLField | None:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            found: GraphQLField | None = parent.fields.get(name)
            return found
        return None

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        argument = definition.args.get(PAGE_ARGUMENT)
        if argument is None:
            return None
        given: Any = argument.default_value
        for passed in node.arguments or ():
            if passed.name.value != PAGE_ARGUMENT:
                continue
            if isinstance(passed.value, IntValueNode):
                given = int(passed.value.value)
            elif isinstance(passed.value, VariableNode):
                # Not sent (or defaulted in the operation): counted as the largest page.
                given = self.variables.get(passed.value.name.value, MAX_PAGE)
        if not isinstance(given, int) or isinstance(given, bool):
            return MAX_PAGE
        return min(max(given, 1), MAX_PAGE)


_INTROSPECTION = frozenset({"__schema", "__type"})


def _fields_in(
    node: FieldNode | InlineFragmentNode | FragmentDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str],
) -> int:
    """The fields selected under (and including) an introspection field, each once."""
    count = 1 if isinstance(node, FieldNode) else 0
    for selection in node.selection_set.selections if node.selection_set else ():
        if isinstance(selection, FieldNode | InlineFragmentNode):
            count += _fields_in(selection, fragments, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in visiting:
                count += _fields_in(fragments[name], fragments, visiting | {name})
    return count


def _is_list(kind: GraphQLType) -> bool:
    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)
