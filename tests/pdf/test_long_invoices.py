"""Long invoices read well page by page: a line is never split across pages, every page
names the invoice, its customer and "Page X of Y", and the totals never stand alone at the
top of a page. Checked on the text of each page, as pypdf extracts it."""

import re
from dataclasses import replace

import pytest

from domain.adapters.weasyprint_pool import WeasyPrintPool
from domain.rendering.documents import Line
from tests.pdf.documents import document
from tests.pdf.test_rendering import render

TEMPLATES = ["norfone_invoice_template.html", "cifi_invoice_template.html"]


def _long_lines(count: int) -> tuple[Line, ...]:
    lines = document(lines=count).lines
    # Descriptions of a few lines each, some much longer, so that rows are tall and uneven.
    return tuple(
        replace(
            line,
            title=f"Roaming bundle {line.transaction_id}",
            description=f"[{line.transaction_id}] "
            + "Usage in Spain, France and Portugal, billed per megabyte. " * (1 + i % 7)
            + f"(end {line.transaction_id})",
        )
        for i, line in enumerate(lines)
    )


def _assert_reads_well(pages: list[str], lines: tuple[Line, ...]) -> None:
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        assert "INV-2025-001234" in page, f"page {number} does not name the invoice"
        assert "Acme Logistics Pty Ltd" in page, f"page {number} does not name the customer"
        assert f"Page {number} of {total}" in page
    for line in lines:
        start, end = f"[{line.transaction_id}]", f"(end {line.transaction_id})"
        holding = [n for n, page in enumerate(pages, start=1) if start in page or end in page]
        assert len(holding) == 1, f"line {line.transaction_id} is split over pages {holding}"
    last = pages[-1] if "Subtotal" in pages[-1] else pages[-2]
    assert "Subtotal" in last
    before_totals = last.split("Subtotal")[0]
    assert re.search(r"\(end \d+\)", before_totals), "the totals start a page alone"


@pytest.mark.parametrize("template", TEMPLATES)
async def test_a_132_line_invoice_with_long_descriptions_reads_well_on_every_page(
    pdf_renderer: WeasyPrintPool, template: str
) -> None:
    lines = _long_lines(132)
    doc = replace(document(), lines=lines)
    pages = await render(pdf_renderer, doc, template)
    assert len(pages) > 5
    _assert_reads_well(pages, lines)


@pytest.mark.parametrize("count", [22, 35, 61])  # where the totals would fall to a new page
async def test_the_totals_keep_company_with_the_last_lines(
    pdf_renderer: WeasyPrintPool, count: int
) -> None:
    lines = _long_lines(count)
    pages = await render(pdf_renderer, replace(document(), lines=lines))
    _assert_reads_well(pages, lines)


@pytest.mark.slow
async def test_a_1000_line_invoice_reads_well_on_every_page(pdf_renderer: WeasyPrintPool) -> None:
    lines = _long_lines(1000)
    pages = await render(pdf_renderer, replace(document(), lines=lines))
    assert len(pages) > 40
    _assert_reads_well(pages, lines)


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("count", range(9, 17))
async def test_the_pay_box_never_stands_alone_on_a_page(
    pdf_renderer: WeasyPrintPool, template: str, count: int
) -> None:
    """Around 12 lines the pay box used to fall onto a second page of its own, away from
    the totals it pays: it goes with the totals, and they with the last lines."""
    lines = document(lines=count).lines
    pages = await render(pdf_renderer, replace(document(), lines=lines), template)
    [with_totals] = [n for n, page in enumerate(pages) if "Subtotal" in page]
    assert "1234/pay" in pages[with_totals].replace(" ", ""), (count, template, len(pages))
    assert re.search(rf"Mobile plan line {count}\b", pages[with_totals]), "totals without lines"
