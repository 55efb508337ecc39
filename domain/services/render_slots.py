"""Render fairness: each viewer may have at most `invoice.renders_per_viewer` renders of
their own in flight (TOO_MANY_REQUESTS beyond), so one customer flooding drafts delays
another's PDF by one render at most. The system's own renders are not counted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer


class RenderSlots:
    """How many renders each viewer has in flight."""

    def __init__(self, per_viewer: int) -> None:
        self.per_viewer = per_viewer
        self._in_flight: dict[str, int] = {}

    @staticmethod
    def _owner(viewer: Viewer) -> str | None:
        if viewer.customer_id is not None:
            return f"customer:{viewer.customer_id}"
        return f"token:{viewer.token_id}" if viewer.token_id is not None else None

    @contextmanager
    def taken(self, viewer: Viewer) -> Iterator[None]:
        owner = self._owner(viewer)
        if owner is None:
            yield
            return
        if self._in_flight.get(owner, 0) >= self.per_viewer:
            raise DomainError(
                ErrorCode.TOO_MANY_REQUESTS,
                f"{self.per_viewer} of your PDFs are rendering already; try again when they are done.",
            )
        self._in_flight[owner] = self._in_flight.get(owner, 0) + 1
        try:
            yield
        finally:
            self._in_flight[owner] -= 1
            if not self._in_flight[owner]:
                del self._in_flight[owner]
