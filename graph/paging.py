"""Pages of a list, as every list field answers them: one generic type for all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from domain.model import paging

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type
class Page(Generic[T]):
    items: list[T]
    total_count: int
    page: int
    per_page: int
    total_pages: int
    has_next_page: bool = strawberry.field(description="Whether a page follows this one.")
    end_cursor: str | None = strawberry.field(
        default=None,
        description=(
            "Pass it as `after` for the next page, which then costs the same however deep "
            "it is (page numbers read and skip every earlier row). Null on an empty page."
        ),
    )

    @classmethod
    def of(cls, found: paging.Page[R], convert: Callable[[R], T]) -> Page[T]:
        return cls(
            items=[convert(row) for row in found.items],
            total_count=found.total_count,
            page=found.page,
            per_page=found.per_page,
            total_pages=found.total_pages,
            has_next_page=found.has_next_page,
            end_cursor=found.end_cursor,
        )


AFTER = strawberry.argument(
    description="A page's endCursor: the page after it (page must then be 1). For exports."
)


def page_request(page: int, per_page: int, after: str | None = None) -> paging.PageRequest:
    return paging.PageRequest(page=page, per_page=per_page, after=after)
