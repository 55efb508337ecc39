"""The invoices list's search box: which invoices a term matches, found through indexes.

A term matches an invoice whose title has, for each word of the term, a word beginning
with it ("mobile serv" finds "Mobile services - March 2024"), whose customer's name does
(in the system-wide list only), whose number begins with it, or whose id it is; case and
accents do not matter ("cafe" finds "Café"), the same on SQLite and MariaDB.

Words are looked up in the word tables (store/search_words.py) by prefix, through their
keys. Titles repeat: a billing team writes "Mobile services - March 2024" or the default
"Invoice for <period>", so a million invoices hold a few thousand distinct titles; the
matching titles are listed first and their invoices found by exact title through the
title index; customers likewise by id. Counts are summed part by part (titles, ids,
names, numbers), each part excluding those before it, so no invoice is counted twice; with
no other filter, the titles' part is summed from how many invoices bear each title
(store/title_totals.py), not counted invoice by invoice.
(A substring inside a word, "ech" for "Tech", is not searched: no index serves it, and
at a million invoices a LIKE '%ech%' reads every title.)
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
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model.entities import Invoice, InvoiceTitleTotals
from domain.model.folding import words
from domain.store.pagination import prefix_pattern
from domain.store.search_words import Keys, customers_with, titles_with

# Beyond this many matching distinct titles (or customers) an IN list stops paying off.
MAX_LISTED_MATCHES = 5000

# A term shaped like an invoice number (INV-2025-0012: a digit, a dash, no spaces) is
# looked up by number alone: its words would match titles and names nobody meant.
_NUMBER_LIKE = re.compile(r"^(?=.*\d)(?=.*-)\S+$")


@dataclass(frozen=True)
class SearchMatch:
    """A search, resolved: `parts` are disjoint conditions whose union is the match, each
    served by its own index, so the matches can be counted part by part and unioned
    without reading every invoice."""

    parts: tuple[ColumnElement[bool], ...]
    # The matching titles, when the first part is "the title is one of them": without
    # other filters, that part is counted from the titles' counts (store/title_totals.py).
    titles: list[str] | Keys | None = None

    @property
    def condition(self) -> ColumnElement[bool]:
        return or_(*self.parts) if self.parts else false()

    def count_query(self, filters: list[Any]) -> Select[int]:
        counts = [
            select(func.count()).select_from(Invoice).where(part, *filters).scalar_subquery()
            for part in self.parts
        ]
        if self.titles is not None and not filters:
            counts[0] = (
                select(func.coalesce(func.sum(InvoiceTitleTotals.invoice_count), 0))
                .where(InvoiceTitleTotals.title.in_(self.titles))
                .scalar_subquery()
            )
        total = sum(counts[1:], counts[0]) if counts else 0
        return select(func.coalesce(total, 0))

    def hits(self, filters: list[Any]) -> Subquery:
        """The matching ids, one index-served query per part."""
        queries = [select(Invoice.id).where(part, *filters) for part in self.parts]
        if not queries:
            return select(Invoice.id).where(false()).subquery("search_hits")
        return union_all(*queries).subquery("search_hits")


async def match(connection: AsyncConnection, term: str, *, by_customer_name: bool) -> SearchMatch:
    """What `term` matches."""
    dialect = connection.dialect.name
    conditions: list[ColumnElement[bool]] = []
    number_like = _NUMBER_LIKE.match(term)
    term_words = [] if number_like else words(term)
    # The titles first: the part that comes first is the one counted from a summary.
    titles = await _keys(connection, titles_with(term_words, dialect)) if term_words else None
    if titles is not None:
        conditions.append(Invoice.title.in_(titles))
    if term.isascii() and term.isdigit() and len(term) < 18:
        conditions.append(Invoice.id == int(term))
    if term_words and by_customer_name:
        customers = await _keys(connection, customers_with(term_words, dialect))
        if customers is not None:
            conditions.append(Invoice.customer_id.in_(customers))
    conditions.append(Invoice.number.like(prefix_pattern(term), escape="\\"))
    return _disjoint(conditions, titles)


async def _keys(connection: AsyncConnection, keys: Keys) -> list[Any] | Keys | None:
    """The keys themselves when they are few (an IN list the index serves), else their
    query; None when there are none: a part that matches nothing is left out, or the
    others would test it, and testing a title costs reading the invoice's row."""
    found = list((await connection.execute(keys.limit(MAX_LISTED_MATCHES + 1))).scalars())
    if len(found) > MAX_LISTED_MATCHES:
        return keys
    return found or None


def _disjoint(
    conditions: list[ColumnElement[bool]], titles: list[str] | Keys | None = None
) -> SearchMatch:
    """Each condition minus those before it, so that no invoice is counted twice. Only the
    last may test a nullable column (the number): NOT of a NULL would drop a match."""
    parts = []
    for index, condition in enumerate(conditions):
        earlier = conditions[:index]
        parts.append(and_(condition, *(not_(e) for e in earlier)) if earlier else condition)
    return SearchMatch(tuple(parts), titles)
