"""Partial, case- and accent-insensitive text matching, the same on every database.

`contains(column, term)` is `column LIKE '%term%'` where both sides are compared folded
(model/folding.py). MariaDB's utf8mb4_unicode_ci collation already compares that way, so
there the column is left as it is and its indexes still serve (the invoice search's plans
at a million invoices depend on it). SQLite's LIKE folds ASCII case only, so there the
column goes through `fold()`, a deterministic SQL function every connection registers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from domain.model.folding import fold
from domain.store.pagination import contains_pattern


class folded(FunctionElement[str]):
    """A column as the search compares it."""

    type = String()
    inherit_cache = True
    name = "fold"


@compiles(folded)
def _folded_by_sql(element: folded, compiler: Any, **kw: Any) -> str:
    return f"fold({compiler.process(element.clauses, **kw)})"


@compiles(folded, "mysql")
def _folded_by_collation(element: folded, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


def contains(column: Any, term: str, *, ascii_only: bool = False) -> ColumnElement[bool]:
    """`ascii_only` columns (invoice numbers) need no folding: LIKE ignores ASCII case on
    both databases, and each row folded costs a call on SQLite."""
    compared = column if ascii_only else folded(column)
    return compared.like(contains_pattern(fold(term)), escape="\\")


def register_fold(dbapi_connection: Any) -> None:
    """Give an SQLite connection the `fold` function."""
    dbapi_connection.create_function("fold", 1, _fold_or_null, deterministic=True)


def _fold_or_null(value: str | None) -> str | None:
    # Called once per row a search reads: kept to the least Python per call.
    if value is None:
        return None
    if value.isascii():
        return value.lower()
    return fold(value)
