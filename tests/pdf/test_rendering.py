"""Rendered PDFs, read back through their text as a person would read them."""

import asyncio
import io
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from domain.adapters.weasyprint_pool import WeasyPrintPool, render_pdf
from domain.config import Settings, settings_from_mapping
from domain.ports import RenderFailed
from domain.rendering.renderer import DocumentRenderer
from tests.conftest import TEMPLATES
from tests.pdf.documents import document


def pdf_pages(data: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def renderer_for(
    pdf_renderer: WeasyPrintPool, template: str = "norfone_invoice_template.html"
) -> DocumentRenderer:
    settings: Settings = settings_from_mapping(
        {"invoice": {"template_dir": str(TEMPLATES), "template_filename": template}}
    )
    return DocumentRenderer(settings, pdf_renderer)


async def render(
    pdf_renderer: WeasyPrintPool, doc, template: str = "norfone_invoice_template.html"
) -> list[str]:
    documents = renderer_for(pdf_renderer, template)
    return pdf_pages((await documents.render(await documents.prepare(doc))).data)


@pytest.mark.parametrize(
    "template", ["norfone_invoice_template.html", "cifi_invoice_template.html"]
)
async def test_the_pdf_shows_number_customer_lines_and_totals(
    pdf_renderer: WeasyPrintPool, template: str
) -> None:
    text = " ".join(await render(pdf_renderer, document(lines=3), template))
    assert "INV-2025-001234" in text
    for part in (
        "Acme Logistics Pty Ltd",
        "12 Wharf Road",
        "Level 3",
        "Sydney",
        "NSW",
        "2000",
        "Australia",
    ):
        assert part in text
    for i, cost, tax in (
        (1, "$100.00", "$10.00"),
        (2, "$101.00", "$10.10"),
        (3, "$102.00", "$10.20"),
    ):
        assert f"Mobile plan line {i}" in text and cost in text and f"{tax} (10%)" in text
    assert "$303.00" in text and "$30.30" in text and "$333.30" in text
    assert "portal.example.com/invoices/1234/pay" in text.replace(" ", "")


async def test_a_long_invoice_spans_pages_with_headers_and_page_numbers(
    pdf_renderer: WeasyPrintPool,
) -> None:
    pages = await render(pdf_renderer, document(lines=120))
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        if "Mobile plan line" in page:  # the table header repeats wherever lines go on
            assert "Description" in page and "Amount" in page
    text = " ".join(pages)
    assert all(f"Mobile plan line {i} " in text + " " for i in range(1, 121))


async def test_void_paid_and_draft_documents_are_marked(pdf_renderer: WeasyPrintPool) -> None:
    from domain.model.enums import InvoiceStatus

    assert "VOID" in " ".join(await render(pdf_renderer, replace(document(), void=True)))
    assert "PAID" in " ".join(
        await render(pdf_renderer, replace(document(), status=InvoiceStatus.PAID))
    )
    assert "DRAFT" in " ".join(
        await render(pdf_renderer, replace(document(), draft=True), "cifi_invoice_template.html")
    )


@pytest.mark.parametrize(
    "template", ["norfone_invoice_template.html", "cifi_invoice_template.html"]
)
async def test_a_spanish_customer_gets_the_spanish_variant(
    pdf_renderer: WeasyPrintPool, template: str
) -> None:
    pages = await render(pdf_renderer, replace(document(language="es"), void=True), template)
    text = " ".join(pages)
    assert "Factura" in text and "ANULADA" in text and "Página 1 de" in text
    assert "10 de enero de 2025" in text  # dates in Spanish
    assert "100,00 US$" in text and "333,30 US$" in text  # as Spanish writes amounts


def test_the_fetcher_refuses_remote_urls_and_files_outside_the_templates(tmp_path: Path) -> None:
    html = (
        '<p>hello</p><img src="http://127.0.0.1:9/x.png"><img src="https://api.qrserver.com/v1/create-qr-code/?data=x">'
        '<link rel="stylesheet" href="file:///etc/passwd"><img src="../../../../etc/passwd">'
    )
    rendered = render_pdf(html, str(TEMPLATES))
    assert "http://127.0.0.1:9/x.png" in rendered.refused_urls
    assert any(url.startswith("https://api.qrserver.com") for url in rendered.refused_urls)
    assert "file:///etc/passwd" in rendered.refused_urls
    assert "root:" not in " ".join(pdf_pages(rendered.data))


def test_a_template_asset_is_fetched() -> None:
    rendered = render_pdf('<img src="norfone/logo.svg"><p>x</p>', str(TEMPLATES))
    assert rendered.refused_urls == ()
    assert len(rendered.data) > 1000


def test_a_render_leaves_no_garbage_behind_and_the_collector_on() -> None:
    """Renders run with Python's cycle collector paused (it cost a fifth of a 1000-line
    render); the render's own cycles are freed when it ends, and the collector is on again
    after a failed render too."""
    import gc

    html = (
        '<link rel="stylesheet" href="norfone/invoice.css">'
        + "<table><tr><td>x</td></tr></table>" * 50
    )
    gc.collect()
    rendered = render_pdf(html, str(TEMPLATES))
    assert gc.isenabled()
    assert gc.collect() == 0  # nothing the render left for a later collection
    assert len(rendered.data) > 1000
    with pytest.raises(RenderFailed):
        render_pdf(html, str(TEMPLATES), embedded=object())  # type: ignore[arg-type]
    assert gc.isenabled()


async def test_renders_run_in_worker_processes(pdf_renderer: WeasyPrintPool) -> None:
    import os

    await render(pdf_renderer, document(lines=1))
    worker = await pdf_renderer.render_html(os.getpid, "pid")  # any picklable call
    assert worker != os.getpid()


async def test_a_render_past_its_cpu_limit_fails_cleanly_and_the_pool_recovers() -> None:
    from domain.ports import RenderFailed

    renderer = WeasyPrintPool(workers=1, timeout_seconds=1)
    # A page big enough to need well over a second of CPU.
    heavy = (
        "<table>"
        + "".join(f"<tr><td>row {i}</td><td>{'x ' * 40}</td></tr>" for i in range(6000))
        + "</table>"
    )
    try:
        with pytest.raises(RenderFailed):
            await renderer.render(heavy, TEMPLATES)
        renderer.timeout_seconds = 60
        recovered = await renderer.render("<p>fine</p>", TEMPLATES)
        assert recovered.page_count == 1
    finally:
        renderer.close()


SPIN = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


async def test_a_template_that_never_ends_fails_clearly_and_ends_only_its_own_worker(
    tmp_path: Path,
) -> None:
    import shutil

    from domain.ports import TemplateFailure

    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    (folder / "spin.html").write_text(SPIN)
    settings = settings_from_mapping(
        {"invoice": {"template_dir": str(folder), "template_filename": "spin.html"}}
    )
    renderer = WeasyPrintPool(workers=2, timeout_seconds=60, template_timeout_seconds=2)
    try:
        spinning = DocumentRenderer(settings, renderer)
        honest = renderer_for(renderer)
        started = time.perf_counter()
        stuck, fine = await asyncio.gather(
            spinning.prepare(document(lines=1)),
            honest.prepare(document(lines=3)),
            return_exceptions=True,
        )
        assert isinstance(stuck, TemplateFailure) and "longer than 2 s" in str(stuck)
        assert time.perf_counter() - started < 10
        # The other render, in the other worker, was not disturbed.
        assert not isinstance(fine, BaseException)
        assert "Mobile plan line 3" in " ".join(pdf_pages((await honest.render(fine)).data))
    finally:
        renderer.close()


async def test_a_template_asking_for_gigabytes_fails_clearly_within_the_workers_memory(
    tmp_path: Path,
) -> None:
    import shutil

    from domain.ports import TemplateFailure

    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    (folder / "hog.html").write_text('{{ ("x" * 6000000000) | length }}')
    settings = settings_from_mapping(
        {"invoice": {"template_dir": str(folder), "template_filename": "hog.html"}}
    )
    renderer = WeasyPrintPool(workers=1, memory_mb=1024)
    try:
        with pytest.raises(TemplateFailure) as refused:
            await DocumentRenderer(settings, renderer).prepare(document(lines=1))
        assert "MemoryError" in str(refused.value)
        # The worker is still there for the next render.
        honest = renderer_for(renderer)
        fine = await honest.prepare(document(lines=2))
        assert "Mobile plan line 2" in " ".join(pdf_pages((await honest.render(fine)).data))
    finally:
        renderer.close()


async def test_a_render_timeout_counts_render_time_only_and_spares_other_renders(
    pdf_renderer: WeasyPrintPool,
) -> None:
    renderer = WeasyPrintPool(workers=2, timeout_seconds=3)
    heavy = (
        "<table>"
        + "".join(f"<tr><td>{i}</td><td>{'x ' * 40}</td></tr>" for i in range(20000))
        + "</table>"
    )
    try:
        light = [renderer.render("<p>light</p>", TEMPLATES) for _ in range(6)]
        outcomes = await asyncio.gather(
            renderer.render(heavy, TEMPLATES), *light, return_exceptions=True
        )
        assert isinstance(outcomes[0], RenderFailed)
        assert all(getattr(o, "page_count", None) == 1 for o in outcomes[1:]), outcomes
    finally:
        renderer.close()


async def test_a_language_without_a_template_prints_in_the_default_language_words_and_numbers(
    pdf_renderer: WeasyPrintPool,
) -> None:
    """French is offered but no template speaks it: an English page with French dates
    (10 janvier 2025 beside "Due date") would be two languages at once."""
    settings = settings_from_mapping(
        {
            "invoice": {"template_dir": str(TEMPLATES)},
            "business": {"languages": ["en", "es", "fr"]},
        }
    )
    documents = DocumentRenderer(settings, pdf_renderer)
    prepared = await documents.prepare(document(language="fr"))
    [page] = pdf_pages((await documents.render(prepared)).data)
    assert prepared.template == "norfone_invoice_template.html"
    assert "Due date February 10, 2025" in page and "février" not in page
    spanish = await documents.prepare(document(language="es"))
    assert spanish.template == "norfone_invoice_template_es.html"
    assert "10 de febrero de 2025" in " ".join(pdf_pages((await documents.render(spanish)).data))


def _font_names(data: bytes) -> set[str]:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return {
            str(font.BaseFont).split("+")[-1]
            for page in pdf.pages
            for font in (page.Resources.get("/Font") or {}).values()
        }


def test_renders_share_fonts_but_a_web_font_stays_with_its_own_template_folder(
    tmp_path: Path,
) -> None:
    import shutil

    mono = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
    if not mono.is_file():
        pytest.skip("fonts-dejavu-core is not installed")
    declares, plain = tmp_path / "declares", tmp_path / "plain"
    declares.mkdir(), plain.mkdir()
    shutil.copy(mono, declares / "fancy.ttf")
    (declares / "style.css").write_text(
        '@font-face { font-family: Fancy; src: url("fancy.ttf"); } body { font-family: Fancy; }'
    )
    page = "<html><head>{}</head><body><p>Invoice total 12.50</p></body></html>"
    with_font = render_pdf(page.format('<link rel="stylesheet" href="style.css">'), str(declares))
    assert _font_names(with_font.data) == {"Fancy"}  # the web font, embedded by its family
    # Another folder naming the same family, rendered by the same process after it, does not
    # find the web font: it falls back as if the first render never happened.
    asked = '<style>body { font-family: Fancy, "DejaVu Sans"; }</style>'
    first = render_pdf(page.format(asked), str(plain))
    assert _font_names(first.data) == {"DejaVu-Sans"}
    again = render_pdf(page.format(asked), str(plain))
    assert pdf_pages(again.data) == pdf_pages(first.data)
    assert _font_names(again.data) == {"DejaVu-Sans"}
