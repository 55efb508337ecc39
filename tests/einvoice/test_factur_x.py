"""A Factur-X PDF is a PDF/A-3b carrying its CII XML, and shows the very page a plain PDF shows:
checked by reading the file back with pikepdf (attachments, XMP, output intent) and pypdf
(text, page by page)."""

from __future__ import annotations

import io

import pikepdf
import pytest

from domain.adapters.weasyprint_pool import WeasyPrintPool
from domain.model.einvoice import Syntax
from domain.rendering.einvoice import write_einvoice
from tests.einvoice.test_rules import fixture
from tests.pdf.test_rendering import pdf_pages, renderer_for

FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"


async def _both(pdf_renderer: WeasyPrintPool, name: str) -> tuple[bytes, bytes, bytes]:
    documents = renderer_for(pdf_renderer)
    document = fixture(name)
    xml = write_einvoice(document, documents.settings, Syntax.CII).xml
    plain = await documents.render(await documents.prepare(document))
    factur_x = await documents.render(await documents.prepare(document, factur_x=xml))
    return plain.data, factur_x.data, xml


@pytest.mark.parametrize("name", ["twenty_lines", "credit_note"])
async def test_a_factur_x_pdf_carries_its_cii_as_the_alternative_representation(
    pdf_renderer: WeasyPrintPool, name: str
) -> None:
    _, data, xml = await _both(pdf_renderer, name)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert list(pdf.attachments) == ["factur-x.xml"]
        spec = pdf.attachments["factur-x.xml"]
        assert spec.obj.AFRelationship == pikepdf.Name.Alternative
        assert spec.get_file().read_bytes() == xml
        assert spec.get_file().mime_type == "text/xml"
        # The catalog names it as an associated file (PDF/A-3).
        assert {af.objgen for af in pdf.Root.AF} == {spec.obj.objgen}
        intent = pdf.Root.OutputIntents[0]
        assert intent.S == pikepdf.Name.GTS_PDFA1
        assert str(intent.OutputConditionIdentifier).endswith("sRGB")
        assert intent.DestOutputProfile.read_bytes()[36:40] == b"acsp"  # an ICC profile
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "3B"
        assert meta[f"{{{PDFAID}}}part"] == "3"
        assert meta[f"{{{FX}}}DocumentFileName"] == "factur-x.xml"
        assert meta[f"{{{FX}}}DocumentType"] == "INVOICE"
        assert meta[f"{{{FX}}}ConformanceLevel"] == "EN 16931"
        assert meta[f"{{{FX}}}Version"] == "1.0"
        schema = pdf.Root.Metadata.read_bytes()
        assert b"<pdfaSchema:prefix>fx</pdfaSchema:prefix>" in schema
        assert schema.count(b"<rdf:RDF") == 1  # one packet XMP readers see whole


async def test_its_fonts_are_embedded(pdf_renderer: WeasyPrintPool) -> None:
    _, data, _ = await _both(pdf_renderer, "short")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        fonts = [
            font for page in pdf.pages for font in (page.Resources.get("/Font") or {}).values()
        ]
        assert fonts
        for font in fonts:
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = descendant.FontDescriptor
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


@pytest.mark.parametrize("name", ["twenty_lines", "long_names_unicode", "credit_note"])
async def test_a_factur_x_pdf_shows_the_same_pages_as_the_plain_one(
    pdf_renderer: WeasyPrintPool, name: str
) -> None:
    plain, factur_x, _ = await _both(pdf_renderer, name)
    assert pdf_pages(factur_x) == pdf_pages(plain)


async def test_a_plain_pdf_carries_nothing(pdf_renderer: WeasyPrintPool) -> None:
    plain, _, _ = await _both(pdf_renderer, "short")
    with pikepdf.open(io.BytesIO(plain)) as pdf:
        assert list(pdf.attachments) == [] and "/AF" not in pdf.Root


async def test_the_variant_is_part_of_the_render_key(pdf_renderer: WeasyPrintPool) -> None:
    documents = renderer_for(pdf_renderer)
    document = fixture("short")
    xml = write_einvoice(document, documents.settings, Syntax.CII).xml
    plain = await documents.prepare(document)
    factur_x = await documents.prepare(document, factur_x=xml)
    other = await documents.prepare(document, factur_x=xml.replace(b"1001", b"1002"))
    assert len({plain.key, factur_x.key, other.key}) == 3
    assert (await documents.prepare(document, factur_x=xml)).key == factur_x.key
