"""The search box's word tables, kept with the rows they index, and the conditions that
read them.

Every customer's name and every distinct invoice title is split into folded words
(model/folding.py) in `customer_name_words` and `invoice_title_words`. They are written by
the unit of work that writes the name or the title (after its flush, in its transaction),
so a search never sees a name or title without its words; a term's words are then each
looked up by prefix through the tables' keys, on SQLite as on MariaDB.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, delete, event, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute, Session, UOWTransaction

from domain.model.entities import Customer, CustomerNameWord, Invoice, InvoiceTitleWord
from domain.model.folding import fold, words
from domain.store.database import UnitOfWorkSession
from domain.store.pagination import prefix_pattern

# How many rows one INSERT carries when a whole table is rebuilt.
BATCH = 5000


def _insert_new(table: Any) -> Any:
    """An INSERT that skips rows already there: two invoices given the same new title at
    once both write its words, and MariaDB's collation may see two spellings as one."""
    return (
        insert(table)
        .prefix_with("IGNORE", dialect="mysql")
        .prefix_with("OR IGNORE", dialect="sqlite")
    )


def name_rows(customer_id: int, name: str) -> list[dict[str, Any]]:
    return [{"word": word, "customer_id": customer_id} for word in words(name)]


def title_rows(title: str) -> list[dict[str, Any]]:
    return [{"word": word, "title": title} for word in words(title)]


def _changed(row: Any, attribute: str) -> bool:
    return bool(inspect(row).attrs[attribute].history.added)


@event.listens_for(UnitOfWorkSession, "after_flush")
def _keep_words(session: Session, _flush: UOWTransaction) -> None:
    """New and renamed customers, new and retitled invoices: their words, now, in the same
    transaction (new rows have their ids by now)."""
    names: dict[int, str] = {}
    titles: set[str] = set()
    for row in list(session.new) + list(session.dirty):
        if isinstance(row, Customer) and (row in session.new or _changed(row, "name")):
            names[row.id] = row.name
        elif isinstance(row, Invoice) and (row in session.new or _changed(row, "title")):
            titles.add(row.title)
    if not names and not titles:
        return
    connection = session.connection()
    if names:
        connection.execute(
            delete(CustomerNameWord).where(CustomerNameWord.customer_id.in_(list(names)))
        )
        rows = [row for id_, name in names.items() for row in name_rows(id_, name)]
        if rows:
            connection.execute(_insert_new(CustomerNameWord), rows)
    # Most invoices take a title some invoice already has: a read of one key, without a
    # lock, finds its words there, and nothing is written (a write would lock a row every
    # generate of that title touches, while the invoice's number series is locked too).
    rows = []
    for title in sorted(titles):
        found = words(title)  # none: nothing to find it by
        if found and not _known(connection, found[0], title):
            rows.extend({"word": word, "title": title} for word in found)
    if rows:
        connection.execute(_insert_new(InvoiceTitleWord), rows)


def _known(connection: Connection, first_word: str, title: str) -> bool:
    known = select(InvoiceTitleWord.title).where(
        InvoiceTitleWord.word == first_word, InvoiceTitleWord.title == title
    )
    return connection.execute(known.limit(1)).first() is not None


def rebuild(connection: Connection) -> tuple[int, int]:
    """Both tables written again from the names and titles (migration 0021, the bench's
    dataset); how many customer and title words they hold."""
    connection.execute(delete(CustomerNameWord))
    connection.execute(delete(InvoiceTitleWord))
    customers = connection.execute(select(Customer.id, Customer.name)).all()
    titles = connection.execute(select(Invoice.title).distinct()).scalars().all()
    return (
        _insert_in_batches(
            connection,
            CustomerNameWord,
            (r for id_, name in customers for r in name_rows(id_, name)),
        ),
        _insert_in_batches(
            connection, InvoiceTitleWord, (r for title in titles for r in title_rows(title))
        ),
    )


def _insert_in_batches(connection: Connection, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    written = 0
    while batch := list(islice(rows, BATCH)):
        connection.execute(_insert_new(table), batch)
        written += len(batch)
    return written


def _starts_with(
    column: InstrumentedAttribute[str], word: str, dialect: str
) -> ColumnElement[bool]:
    """`column` begins with `word`, as a range of the index. MariaDB's LIKE 'word%' is one;
    SQLite's LIKE ignores case and so skips a plain index, but the words are folded
    already, so a byte range says the same there."""
    if dialect == "mysql":
        return column.like(prefix_pattern(word), escape="\\")
    return (column >= word) & (column < word + "\U0010ffff")


Keys = Select[Any] | CompoundSelect[Any]


def _all_words(
    column: InstrumentedAttribute[str], key: Any, term_words: Sequence[str], dialect: str
) -> Keys:
    """The keys that have, for each of the term's words, a word beginning with it."""
    queries = [select(key).where(_starts_with(column, word, dialect)) for word in term_words]
    first, *rest = queries
    return first.intersect(*rest) if rest else first.distinct()


def titles_with(term_words: Sequence[str], dialect: str) -> Keys:
    return _all_words(InvoiceTitleWord.word, InvoiceTitleWord.title, term_words, dialect)


def customers_with(term_words: Sequence[str], dialect: str) -> Keys:
    return _all_words(CustomerNameWord.word, CustomerNameWord.customer_id, term_words, dialect)


def missing_words(connection: Connection) -> tuple[list[int], list[str]]:
    """What `invoicing db check` reports: the customers and the titles whose words are not
    all in the tables (a search would miss them)."""
    have: dict[int, set[str]] = {}
    for word, customer_id in connection.execute(
        select(CustomerNameWord.word, CustomerNameWord.customer_id)
    ):
        have.setdefault(customer_id, set()).add(word)
    customers = [
        customer_id
        for customer_id, name in connection.execute(select(Customer.id, Customer.name))
        if not set(words(name)) <= have.get(customer_id, set())
    ]
    # By the folded title: MariaDB's collation keeps one of "Café" and "CAFE", as it
    # matches both with either.
    titled: dict[str, set[str]] = {}
    for word, title in connection.execute(select(InvoiceTitleWord.word, InvoiceTitleWord.title)):
        titled.setdefault(fold(title), set()).add(word)
    titles = [
        title
        for (title,) in connection.execute(select(Invoice.title).distinct())
        if not set(words(title)) <= titled.get(fold(title), set())
    ]
    return customers, titles
