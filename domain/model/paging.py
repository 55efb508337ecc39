"""A page of a list, as asked for and as answered."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import InvalidInput

T = TypeVar("T")
U = TypeVar("U")

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = 25
    # Where the last page ended (a previous page's end_cursor): the next page is read
    # from there by the sort index, at the same cost however deep; offset paging
    # (`page`) reads and skips every row before its page.
    after: str | None = None

    def __post_init__(self) -> None:
        if self.page < 1:
            raise InvalidInput("page", "Page must be 1 or more.")
        if self.after is not None and self.page != 1:
            raise InvalidInput("after", "Give either a page number or a cursor (after), not both.")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidInput("per_page", f"Per page must be between 1 and {MAX_PER_PAGE}.")

    @property
    def offset(self) -> int:
        return 0 if self.after is not None else (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total_count: int
    page: int
    per_page: int
    # Lists that page by cursor too (invoices): the cursor after the last item, and
    # whether a page follows it.
    end_cursor: str | None = None
    more: bool | None = None

    @property
    def has_next_page(self) -> bool:
        if self.more is not None:
            return self.more
        return self.page * self.per_page < self.total_count

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_count / self.per_page)

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page(
            [convert(item) for item in self.items],
            self.total_count,
            self.page,
            self.per_page,
            self.end_cursor,
            self.more,
        )
