"""What the API says of an invoice's PDF: the file itself (with whether it came from the
cache), or the cached file's status (stale once its render key no longer matches)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError, ErrorCode
from domain.model.entities import InvoicePdfCache


@dataclass(frozen=True)
class InvoicePdf:
    invoice_id: int
    data: bytes
    filename: str
    sha256: str
    page_count: int
    rendered_at: datetime
    hit: bool

    @classmethod
    def of(cls, row: InvoicePdfCache, *, hit: bool) -> InvoicePdf:
        return cls(
            row.invoice_id, row.pdf, row.filename, row.sha256, row.page_count, row.created_at, hit
        )


@dataclass(frozen=True)
class PdfStatus:
    sha256: str
    rendered_at: datetime
    stale: bool
    size_bytes: int
    page_count: int


def render_failed(error: Exception) -> DomainError:
    """A template or renderer failure, as the client hears of it."""
    return DomainError(
        ErrorCode.PDF_RENDER_FAILED, f"The invoice PDF could not be rendered: {error}"
    )
