"""Errors as clients see them.

Business refusals (domain errors) become `UserError`s in mutation payloads, through the one
`payload()` helper every mutation uses. A refusal inside a query (which has no payload)
becomes a GraphQL error with `extensions.code`, wherever the query raised it. Anything unexpected is masked to "Unexpected error." and logged, so no
answer carries a traceback or SQL.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from sqlalchemy.exc import DBAPIError
from strawberry.extensions import MaskErrors

from domain.errors import DomainError, clipped
from graph.enums import ErrorCode

T = TypeVar("T")
P = TypeVar("P")


def camelize(path: str) -> str:
    """Domain field paths (address.zip_code) in the API's spelling (address.zipCode)."""
    return ".".join(
        re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), part) for part in path.split(".")
    )


@strawberry.type
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(
        description="The input field at fault, where there is one."
    )

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(
            code=error.code,
            message=error.message,
            field=camelize(error.field) if error.field else None,
        )


async def payload(
    work: Callable[[], Awaitable[T]], answer: Callable[[T | None, list[UserError]], P]
) -> P:
    """A mutation's answer: `answer(result, [])`, or `answer(None, [error])` when the domain
    refused (nothing was changed then). `work` is called here, so that refusals raised while
    reading the input (an impossible ID) are answered the same way."""
    try:
        result = await work()
    except DomainError as error:
        return answer(None, [UserError.from_domain(error)])
    return answer(result, [])


def query_error(error: DomainError) -> GraphQLError:
    """A refusal inside a query (which has no payload) as a GraphQL error with a code."""
    extensions: dict[str, object] = {"code": error.code.value}
    if error.field:
        extensions["field"] = camelize(error.field)
    return GraphQLError(error.message, extensions=extensions)


class ClientSafeErrors(MaskErrors):
    """Masks unexpected errors (they are logged in full), but says plainly when a database
    statement ran past the configured timeout."""

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__(should_mask_error=should_mask_error)
        self.timeout_seconds = timeout_seconds

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [with_code(error) for error in super()._process_errors(errors)]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if isinstance(error.original_error, DomainError):
            # A refusal raised by a query's domain function: the client's answer, with its code.
            refusal = query_error(error.original_error)
            return GraphQLError(
                refusal.message, nodes=error.nodes, path=error.path, extensions=refusal.extensions
            )
        if _is_statement_timeout(error.original_error):
            return GraphQLError(
                f"The request took longer than {self.timeout_seconds:g} s in the database and was stopped; "
                "ask for less (a filter, a smaller page).",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "TIMEOUT"},
            )
        if _is_database_unavailable(error.original_error):
            return GraphQLError(
                "The database is unavailable; try again shortly.",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "SERVICE_UNAVAILABLE"},
            )
        return super().anonymise_error(error)


# graphql-core's words for a variable whose value cannot be coerced to its type; the
# other "Variable '$x' ..." messages (unused, undefined, wrong position) are validation's.
_COERCION = ("has invalid value", "got invalid value", "was not provided", "must not be null")


def with_code(error: GraphQLError) -> GraphQLError:
    """Every error carries `extensions.code`, the way clients tell kinds apart:
    GRAPHQL_PARSE_FAILED (not GraphQL), GRAPHQL_VALIDATION_FAILED (not valid against the
    schema), BAD_USER_INPUT (a variable of the wrong shape), INTERNAL_SERVER_ERROR (ours,
    masked). Errors that already have one (domain refusals, limits) keep it.

    No message quotes more than a bounded part of the request: graphql-core's own say
    "found: <the whole value>", which for a 100 KB variable is 100 KB of echo."""
    message = clipped(error.message)
    if error.extensions and "code" in error.extensions:
        if message == error.message:
            return error
        code = str(error.extensions["code"])
    elif isinstance(error, GraphQLSyntaxError) or isinstance(
        error.original_error, GraphQLSyntaxError
    ):
        code = "GRAPHQL_PARSE_FAILED"
    elif error.path is not None:
        code = "INTERNAL_SERVER_ERROR"
    elif error.message.startswith("Variable '$") and any(w in error.message for w in _COERCION):
        code = "BAD_USER_INPUT"
    else:
        code = "GRAPHQL_VALIDATION_FAILED"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": code},
    )


def _is_statement_timeout(error: BaseException | None) -> bool:
    # MariaDB: 1969 "Query execution was interrupted (max_statement_time exceeded)";
    # MySQL: 3024 "maximum statement execution time exceeded".
    if not isinstance(error, DBAPIError):
        return False
    code = getattr(error.orig, "args", (None,))[0]
    return code in (1969, 3024)


# MySQL client errors: cannot connect (2002, 2003), server gone away (2006), connection
# lost mid-query (2013).
_CONNECTION_LOST = {2002, 2003, 2006, 2013}


def _is_database_unavailable(error: BaseException | None) -> bool:
    if isinstance(error, DBAPIError):
        code = getattr(error.orig, "args", (None,))[0]
        return error.connection_invalidated or code in _CONNECTION_LOST
    return isinstance(error, ConnectionError)


def is_incident(error: GraphQLError) -> bool:
    """Whether an error is ours to look into (logged with its traceback): not a refusal."""
    return should_mask_error(error) and not isinstance(error.original_error, DomainError)


def should_mask_error(error: GraphQLError) -> bool:
    # Errors without a path come from parsing, validation and variable coercion: they
    # describe the client's request and are safe to show. Inside execution, only errors we
    # raised on purpose (GraphQLError) are shown.
    original = error.original_error
    return (
        error.path is not None and original is not None and not isinstance(original, GraphQLError)
    )


def found_or_null(what: str) -> str:
    """The description of every field that looks one object up by id: not-found is null."""
    return (
        f"The {what} with this id, or null when there is none or the viewer may not see it "
        "(the same answer for both, so a customer token learns nothing of others' data); "
        "never an error."
    )
