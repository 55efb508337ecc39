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

    @classmethod
    def of(cls, found: paging.Page[R], convert: Callable[[R], T]) -> Page[T]:
        return cls(
            items=[convert(row) for row in found.items],
            total_count=found.total_count,
            page=found.page,
            per_page=found.per_page,
            total_pages=found.total_pages,
        )


def page_request(page: int, per_page: int) -> paging.PageRequest:
    return paging.PageRequest(page=page, per_page=per_page)
