from collections.abc import Iterator

import pytest

from domain.pdf_renderer import PdfRenderer


@pytest.fixture(scope="session")
def pdf_renderer() -> Iterator[PdfRenderer]:
    """Render workers for tests that need no database."""
    renderer = PdfRenderer(workers=2)
    yield renderer
    renderer.close()
