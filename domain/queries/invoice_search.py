"""The invoices list's search box: which invoices a term matches, found through indexes.

A term matches an invoice whose number or title holds it, whose id it is, or (in the
system-wide list only) whose customer's name holds it; case-insensitively, anywhere in
the field, case- and accent-insensitively ("cafe" finds "Café"), on every database.

On MariaDB/MySQL with a million invoices a `%term%` LIKE over every title takes about
200 ms, and InnoDB's FULLTEXT index is no cure: its cost grows with how many invoices hold
each word (300 ms for "Mobile"). What makes titles searchable is that they repeat: a
billing team writes "Mobile services - March 2024" or the default "Invoice for <period>",
so a million invoices hold a few thousand distinct titles. A loose scan of the title
index reads each distinct title once (about 10 ms), LIKE keeps those holding the term,
and the invoices are then found by exact title through the same index. Customer names
are matched the same way over the (much smaller) customers table. When too many distinct
titles or customers match to list, the search falls back to the plain LIKE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    false,
    func,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.entities import Customer, Invoice
from domain.store.pagination import contains_pattern, prefix_pattern
from domain.store.text_search import contains

# Beyond this many matching distinct titles (or customers) an IN list stops paying off.
MAX_LISTED_MATCHES = 5000

# A term shaped like an invoice number (INV-2025-0012: a digit, a dash, no spaces) is
# looked up by number alone: it would match no title or name anyone meant.
_NUMBER_LIKE = re.compile(r"^(?=.*\d)(?=.*-)\S+$")


@dataclass(frozen=True)
class SearchMatch:
    """A search, resolved: `parts` are disjoint conditions whose union is the match, each
    served by its own index, so the matches can be counted part by part and unioned
    without reading every invoice."""

    parts: tuple[ColumnElement[bool], ...]

    @property
    def condition(self) -> ColumnElement[bool]:
        return or_(*self.parts) if self.parts else false()

    def count_query(self, filters: list[Any]) -> Select[int]:
        counts = [
            select(func.count()).select_from(Invoice).where(part, *filters).scalar_subquery()
            for part in self.parts
        ]
        total = sum(counts[1:], counts[0]) if counts else 0
        return select(func.coalesce(total, 0))

    def hits(self, filters: list[Any]) -> Subquery:
        """The matching ids, one index-served query per part."""
        queries = [select(Invoice.id).where(part, *filters) for part in self.parts]
        if not queries:
            return select(Invoice.id).where(false()).subquery("search_hits")
        return union_all(*queries).subquery("search_hits")


async def match(
    session: AsyncSession, term: str, *, by_customer_name: bool, scoped: bool
) -> SearchMatch:
    """What `term` matches. `scoped` searches run inside one customer's invoices, which
    its index already narrows to a few: plain LIKEs serve them best."""
    dialect = session.get_bind().dialect.name
    pattern = contains_pattern(term)
    conditions: list[ColumnElement[bool]] = []
    if term.isascii() and term.isdigit() and len(term) < 18:
        conditions.append(Invoice.id == int(term))
    if dialect == "mysql" and _NUMBER_LIKE.match(term):
        conditions.append(Invoice.number.like(prefix_pattern(term), escape="\\"))
        return _disjoint(conditions)
    if dialect != "mysql" or scoped:
        conditions.append(contains(Invoice.title, term))
        if by_customer_name:
            names = select(Customer.id).where(contains(Customer.name, term))
            conditions.append(Invoice.customer_id.in_(names))
        conditions.append(contains(Invoice.number, term, ascii_only=True))
        return _disjoint(conditions)

    titles = await _listed(
        session,
        select(Invoice.title).where(Invoice.title.like(pattern, escape="\\")).distinct(),
    )
    # A part that matches nothing is left out: keeping it would make the others test it,
    # and testing a title costs reading the invoice's row.
    if titles is None:
        conditions.append(Invoice.title.like(pattern, escape="\\"))
    elif titles:
        conditions.append(Invoice.title.in_(titles))
    if by_customer_name:
        names = select(Customer.id).where(Customer.name.like(pattern, escape="\\"))
        customers = await _listed(session, names)
        if customers is None:
            conditions.append(Invoice.customer_id.in_(names))
        elif customers:
            conditions.append(Invoice.customer_id.in_(customers))
    # Numbers hold the term anywhere, but only a prefix can use the number's index; the
    # rest of a number (a year, a sequence) is reached by searching the number itself.
    conditions.append(Invoice.number.like(prefix_pattern(term), escape="\\"))
    return _disjoint(conditions)


async def _listed(session: AsyncSession, query: Select[Any]) -> list[Any] | None:
    found = list((await session.execute(query.limit(MAX_LISTED_MATCHES + 1))).scalars())
    return found if len(found) <= MAX_LISTED_MATCHES else None


def _disjoint(conditions: list[ColumnElement[bool]]) -> SearchMatch:
    """Each condition minus those before it, so that no invoice is counted twice. Only the
    last may test a nullable column (the number): NOT of a NULL would drop a match."""
    parts = []
    for index, condition in enumerate(conditions):
        earlier = conditions[:index]
        parts.append(and_(condition, *(not_(e) for e in earlier)) if earlier else condition)
    return SearchMatch(tuple(parts))
