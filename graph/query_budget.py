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
from collections.abc import AsyncIterator
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
    specified_rules,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from graph.query_cost import cost_of

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
            return _too_many_selections(max_selections)
        if isinstance(definition, OperationDefinitionNode):
            if fields(definition.selection_set, frozenset()) > max_fields:
                return _too_many_fields(max_fields)
    return None


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


class DocumentMemory:
    """What one schema has worked out about documents, shared by its requests (each
    request has an extension of its own): made with the schema (graph/schema.py), so two
    schemas in one process (tests, the preview) never share or evict each other's."""

    def __init__(self) -> None:
        self.parsed = _Remembered(CACHE_SIZE)
        self.valid = _Remembered(CACHE_SIZE)
        # What the budget read off a text said ("" for nothing): a batch repeating one
        # text, or a client repeating one refused document, is scanned once.
        self.text_verdicts = _Remembered(64)  # texts up to limits.max_document_bytes each
        # Documents whose shape passed, valid or not yet known: a document sent again,
        # refused for its cost the first time (which its variables may change), is not
        # parsed again.
        self.shaped = _Remembered(64)
        # Documents not seen before are worked out one at a time (per event loop): a
        # thread parsing holds Python's lock most of the time, and with one such thread the
        # event loop still gets it every few milliseconds. Documents already remembered
        # never wait here.
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def turn(self) -> asyncio.Semaphore:
        return self._turns.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(1))


class RequestCost:
    """What a request's operations ask for (graph/query_cost.py), added up as each is
    validated."""

    def __init__(self) -> None:
        self.spent = 0

    def add(self, cost: int) -> int:
        self.spent += cost
        return self.spent


class OffLoopDocuments(SchemaExtension):
    """Parsing, the budget and validation of a document, in a worker thread (a 12 KB
    document takes 25 ms to parse, and validating one can take seconds): the event loop
    keeps answering other requests meanwhile. Valid documents are remembered, parsed by
    their text and validated by their canonical text. Replaces Strawberry's ParserCache and
    ValidationCache.

    In order, each cheaper than the next and bounding it: the text's length and the budget
    read off the text; parsing; the budget on the parsed document and the limits that are
    validation rules (depth, aliases); the cost (graph/query_cost.py), spent against the
    request's `limits.max_cost` in the same turn, so the rest of a batch that used the
    budget up is refused before it is parsed; last, full validation."""

    def __init__(
        self,
        memory: DocumentMemory,
        max_selections: int,
        max_fields: int,
        max_cost: int,
        max_document_bytes: int,
    ) -> None:
        super().__init__()
        self.memory = memory
        self.max_document_bytes = max_document_bytes
        self.max_selections = max_selections
        self.max_fields = max_fields
        self.max_cost = max_cost
        self._unremembered: tuple[Any, ...] | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query
        if context.graphql_document is None and query and not refused(context):
            refusal = await self._read(query)
            if refusal is not None:
                refuse(context, refusal)
        yield

    async def _read(self, query: str) -> GraphQLError | None:
        """Puts the parsed document in place and spends its cost; or why it may not run."""
        context = self.execution_context
        if len(query) > self.max_document_bytes:
            # Padding (comments cost nothing in tokens) would otherwise be lexed and hashed.
            return GraphQLError(
                f"A document may be at most {self.max_document_bytes} characters long.",
                extensions={"code": "DOCUMENT_TOO_LARGE"},
            )
        if self._left() < 0:
            return _first(self._spend(0))  # the batch has used the request's budget up
        schema = cast(_HasGraphQLSchema, context.schema).graphql_schema
        key = (query, tuple(sorted(context.parse_options.items())))
        # Seen before: valid, or at least its shape passed (its cost, which the variables
        # move, may not have). Only its cost is worked out again.
        memory = self.memory
        valid = memory.parsed.get(key)
        document = valid if valid is not None else memory.shaped.get(key)
        if document is not None:
            refusal = _first(self._spend(self._cost(schema, document)))
            if refusal is None:
                context.graphql_document = document
                if valid is None:
                    self._unremembered = key  # remembered once it proves valid
            return refusal
        problem = memory.text_verdicts.get(query)
        if problem is None:
            problem = over_budget_in_text(query, self.max_selections, self.max_fields) or ""
            memory.text_verdicts.put(query, problem)
        if problem:
            return GraphQLError(problem, extensions={"code": TOO_COMPLEX})
        rules = tuple(r for r in context.validation_rules if r not in specified_rules)
        async with memory.turn():
            if self._left() < 0:
                return _first(self._spend(0))  # the batch has used the request's budget up
            try:
                document, errors, cost = await asyncio.to_thread(self._parsed, query, schema, rules)
            except GraphQLError as error:
                # Strawberry would parse the text again, on the event loop, to report this.
                return error
            if errors:
                return errors[0]
            memory.shaped.put(key, document)
            spent = self._spend(cost)
            if spent:
                return spent[0]
        context.graphql_document = document
        self._unremembered = key  # remembered once it proves valid
        return None

    def _parsed(
        self, query: str, schema: GraphQLSchema, limit_rules: tuple[Any, ...]
    ) -> tuple[DocumentNode, list[GraphQLError], int]:
        """In a worker thread: the document, what its shape breaks, and its cost."""
        document = parse(query, **self.execution_context.parse_options)
        problem = over_budget(document, self.max_selections, self.max_fields)
        if problem is not None:
            return document, [GraphQLError(problem, extensions={"code": TOO_COMPLEX})], 0
        # The limits that are validation rules (depth, aliases) are cheap: they speak first.
        limits = validate(schema, document, limit_rules)
        if limits:
            return document, limits, 0
        return document, [], self._cost(schema, document)

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if not refused(context):
            document = context.graphql_document
            assert document is not None
            schema = cast(_HasGraphQLSchema, context.schema).graphql_schema
            # Strawberry's own rules (Maybe, @oneOf) beside the request's: what it runs
            # when it validates a document itself.
            rules = (*context.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule)
            errors = await self._checked(schema, document, rules)
            if not errors and self._unremembered is not None:
                # Only valid documents are kept: hostile ones would push out the real ones,
                # and thousands of their nodes would slow every garbage collection.
                self.memory.parsed.put(self._unremembered, document)
            context.pre_execution_errors = errors
        yield

    def _cost(self, schema: GraphQLSchema, document: DocumentNode) -> int:
        """What the operation asks for, in values (graph/query_cost.py)."""
        execution = self.execution_context
        return cost_of(schema, document, execution.operation_name, execution.variables)

    @property
    def _request_cost(self) -> RequestCost | None:
        """An HTTP request's running cost; None over a socket, where each operation is a
        request of its own."""
        found: RequestCost | None = getattr(self.execution_context.context, "request_cost", None)
        return found

    def _spend(self, cost: int) -> list[GraphQLError]:
        """`cost` within `limits.max_cost`: an HTTP request's operations add up (a batch is
        one request), a socket's are each a request of their own."""
        spent = self._request_cost
        total = spent.add(cost) if spent is not None else cost
        if total <= self.max_cost:
            return []
        whole = "request, its batched operations together," if spent is not None else "request"
        message = (
            f"This {whole} would return about {total} values; at most {self.max_cost} "
            "are answered at once: ask for smaller pages or fewer fields."
        )
        return [GraphQLError(message, extensions={"code": TOO_COMPLEX})]

    def _left(self) -> int:
        spent = self._request_cost
        return self.max_cost - (spent.spent if spent is not None else 0)

    async def _checked(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        # Remembered by the very document object too: a text parsed before is the same
        # object, and needs neither printing nor validating again.
        valid = self.memory.valid
        if valid.get((id(document), rules)) is document:
            return []
        async with self.memory.turn():
            errors = await asyncio.to_thread(self._problems, schema, document, rules)
        if not errors:
            valid.put((id(document), rules), document)
        return errors

    def _problems(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        # Only valid documents are remembered: errors carry positions in their own text.
        key = (print_ast(document), rules)
        if self.memory.valid.get(key) is not None:
            return []
        errors = validate(schema, document, rules)
        if not errors:
            self.memory.valid.put(key, True)
        return errors


def _first(errors: list[GraphQLError]) -> GraphQLError | None:
    return errors[0] if errors else None
