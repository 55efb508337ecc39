"""A budget for a request's shape, checked on the parsed document before any validation;
and parsing and validation themselves off the event loop.

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
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any, Protocol, TypeVar, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

T = TypeVar("T")


class _HasGraphQLSchema(Protocol):
    """graph/schema.py's InvoicingSchema: graphql-core's schema behind Strawberry's."""

    @property
    def graphql_schema(self) -> GraphQLSchema: ...
TOO_COMPLEX = "QUERY_TOO_COMPLEX"
CACHE_SIZE = 256


_TOKENS = re.compile(
    r"""
      (?P<skip>[\s,\ufeff]+|\#[^\n\r]*)
    | (?P<block>\"\"\"(?:\\\"\"\"|[^"]|"(?!""))*\"\"\")
    | (?P<string>"(?:\\.|[^"\\\n\r])*")
    | (?P<spread>\.\.\.)
    | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# After these, a name is not a new selection: an aliased field's name, a directive, a
# fragment's name or type condition.
_NOT_A_SELECTION = frozenset({":", "@", "...", "on"})


def over_budget_in_text(text: str, max_selections: int, max_fields: int) -> str | None:
    """The budget read off the text alone, before parsing (a 12 KB document takes 25 ms to
    parse, and parsing holds Python's lock, so it slows every other request).

    Counts the selections of each selection set and the fields in the text, skipping what
    sits in parentheses (arguments, variables). Neither count can exceed what the parsed
    document holds, so what this refuses, `over_budget` would refuse too."""
    sets: list[int] = []
    parentheses = 0
    fields = 0
    previous = ""
    for token in _TOKENS.finditer(text):
        kind, value = token.lastgroup, token.group()
        if kind == "skip":
            continue
        if parentheses:
            parentheses += {"(": 1, ")": -1}.get(value, 0)
        elif value == "(":
            parentheses = 1
        elif value == "{":
            sets.append(0)
        elif value == "}":
            if sets:
                sets.pop()
        elif sets and (kind == "spread" or (kind == "name" and previous not in _NOT_A_SELECTION)):
            sets[-1] += 1
            fields += kind == "name"
            if sets[-1] > max_selections:
                return _too_many_selections(max_selections)
            if fields > max_fields:
                return _too_many_fields(max_fields)
        previous = value
    return None


def _too_many_selections(limit: int) -> str:
    return f"A selection set may hold at most {limit} selections."


def _too_many_fields(limit: int) -> str:
    return f"A request may select at most {limit} fields, fragments included."


def over_budget(document: DocumentNode, max_selections: int, max_fields: int) -> str | None:
    """Why the document is too big to validate, or None."""
    problem, _ = measured(document, max_selections, max_fields)
    return problem


def measured(
    document: DocumentNode, max_selections: int, max_fields: int
) -> tuple[str | None, int]:
    """Why the document is too big to validate (or None), and the fields its largest
    operation selects, fragments counted as often as they are spread."""
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

    largest = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            continue
        if widest(definition.selection_set) > max_selections:
            return _too_many_selections(max_selections), largest
        if isinstance(definition, OperationDefinitionNode):
            largest = max(largest, fields(definition.selection_set, frozenset()))
            if largest > max_fields:
                return _too_many_fields(max_fields), largest
    return None, largest


_EMPTY = parse("{ __typename }")


def refuse(context: ExecutionContext, error: GraphQLError) -> None:
    """Answer `error` instead of running the operation: nothing is parsed, validated or
    executed after this (any extension's check, on any transport)."""
    context.graphql_document = _EMPTY
    context.pre_execution_errors = [error]


def refused(context: ExecutionContext) -> bool:
    return bool(context.pre_execution_errors)


class _Remembered:
    """A bounded, thread-safe LRU of what was already worked out for a document."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_parsed = _Remembered(CACHE_SIZE)
_valid = _Remembered(CACHE_SIZE)
_field_counts = _Remembered(CACHE_SIZE)


class RequestFields:
    """The fields a request's operations select, added up as each is validated."""

    def __init__(self) -> None:
        self.spent = 0

    def add(self, fields: int) -> int:
        self.spent += fields
        return self.spent


# Documents not seen before are worked out one at a time: a thread parsing holds Python's
# lock most of the time, and with one such thread the event loop still gets it every few
# milliseconds. Documents already remembered never wait here.
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _in_turn(work: Callable[..., T], *args: Any) -> T:
    loop = asyncio.get_running_loop()
    turn = _turns.setdefault(loop, asyncio.Semaphore(1))
    async with turn:
        return await asyncio.to_thread(work, *args)


class OffLoopDocuments(SchemaExtension):
    """Parsing, the budget and validation of a document, in a worker thread (a 12 KB
    document takes 25 ms to parse, and validating one can take seconds): the event loop
    keeps answering other requests meanwhile. Valid documents are remembered, parsed by
    their text and validated by their canonical text. Replaces Strawberry's ParserCache and
    ValidationCache."""

    def __init__(self, max_selections: int, max_fields: int) -> None:
        super().__init__()
        self.max_selections = max_selections
        self.max_fields = max_fields
        self._refusal: GraphQLError | None = None
        self._unremembered: tuple[Any, ...] | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query and not refused(context):
            key = (context.query, tuple(sorted(context.parse_options.items())))
            document = _parsed.get(key)
            problem = None
            if document is None:
                problem = over_budget_in_text(context.query, self.max_selections, self.max_fields)
            if problem is not None:
                self._refusal = GraphQLError(problem, extensions={"code": TOO_COMPLEX})
                document = _EMPTY
            elif document is None:
                try:
                    document = await _in_turn(
                        partial(parse, context.query, **context.parse_options)
                    )
                except GraphQLError as error:
                    # Strawberry would parse the text again, on the event loop, to report
                    # this: it gets a trivial document and the error comes out of validation.
                    self._refusal = error
                    document = _EMPTY
                else:
                    self._unremembered = key  # remembered once it proves valid
            context.graphql_document = document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if refused(context):
            pass  # refused before parsing (request_gate.py): nothing to validate
        elif self._refusal is not None:
            context.pre_execution_errors = [self._refusal]
        else:
            document = context.graphql_document
            assert document is not None
            schema = cast(_HasGraphQLSchema, context.schema).graphql_schema
            # Strawberry's own rules (Maybe, @oneOf) beside the request's: what it runs
            # when it validates a document itself.
            rules = (*context.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule)
            errors = await self._checked(schema, document, rules)
            if not errors:
                errors = self._within_request_budget(document)
            if not errors and self._unremembered is not None:
                # Only valid documents are kept: hostile ones would push out the real ones,
                # and thousands of their nodes would slow every garbage collection.
                _parsed.put(self._unremembered, document)
            context.pre_execution_errors = errors
        yield

    def _within_request_budget(self, document: DocumentNode) -> list[GraphQLError]:
        """A batch is one request: its operations' fields add up against max_fields (each
        alone is already within it). A socket's operations are each a request of their own."""
        spent = getattr(self.execution_context.context, "request_fields", None)
        if spent is None:
            return []
        fields = _field_counts.get(id(document))
        if fields is None or fields[0] is not document:
            fields = (document, measured(document, self.max_selections, self.max_fields)[1])
            _field_counts.put(id(document), fields)
        total = spent.add(fields[1])
        if total > self.max_fields:
            message = f"A request, its batched operations together, may select at most {self.max_fields} fields."
            return [GraphQLError(message, extensions={"code": TOO_COMPLEX})]
        return []

    async def _checked(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        # Remembered by the very document object too: a text parsed before is the same
        # object, and needs neither printing nor validating again.
        if _valid.get((id(document), rules)) is document:
            return []
        errors: list[GraphQLError] = await _in_turn(self._problems, schema, document, rules)
        if not errors:
            _valid.put((id(document), rules), document)
        return errors

    def _problems(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        problem = over_budget(document, self.max_selections, self.max_fields)
        if problem is not None:
            return [GraphQLError(problem, extensions={"code": TOO_COMPLEX})]
        # Only valid documents are remembered: errors carry positions in their own text.
        key = (print_ast(document), rules)
        if _valid.get(key) is not None:
            return []
        errors = validate(schema, document, rules)
        if not errors:
            _valid.put(key, True)
        return errors
