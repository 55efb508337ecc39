"""Every script prints: the fonts `make install` sets up draw Latin, Greek, Cyrillic, Arabic,
Hebrew, CJK and emoji; `invoicing templates check` names any text that would print as empty
boxes, and a production render that would drop glyphs says so in the log."""

import io
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from domain.adapters.font_coverage import InstalledFonts
from domain.adapters.weasyprint_pool import WeasyPrintPool
from domain.config import Settings
from tests.conftest import REPO, TEMPLATES
from tests.e2e.conftest import run_cli
from tests.helpers import Api
from tests.pdf.documents import document
from tests.pdf.test_rendering import renderer_for

SCRIPTS = "Zoë Ελλάδα Москва مرحبا שלום 東京株式会社 한국어 🎉📶"


def _embedded_fonts(pdf: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            # Subsets are named "ABCDEF+Family-Style".
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return fonts


@pytest.mark.parametrize(
    "template", ["norfone_invoice_template.html", "cifi_invoice_template.html"]
)
async def test_a_customer_named_in_every_script_prints_with_fonts_for_each(
    pdf_renderer: WeasyPrintPool, template: str
) -> None:
    doc = document()
    doc = replace(doc, client=replace(doc.client, name=SCRIPTS))
    documents = renderer_for(pdf_renderer, template)
    pdf = (await documents.render(await documents.prepare(doc))).data

    assert InstalledFonts(TEMPLATES).missing(SCRIPTS) == ""
    fonts = _embedded_fonts(pdf)
    assert any(f.startswith("DejaVu-Sans") for f in fonts)  # Latin, Greek, Cyrillic, Arabic, Hebrew
    assert any(f.startswith("WenQuanYi-Zen-Hei") for f in fonts), fonts  # Chinese, Japanese, Korean
    assert any(f.startswith("Noto-Color-Emoji") for f in fonts), fonts
    text = "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())  # wraps anywhere
    for word in ("Ελλάδα", "Москва", "مرحبا", "שלום", "東京株式会社", "한국어", "🎉📶"):
        assert word in text


def _fonts_of(folder: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for a process whose fontconfig knows only the fonts in `folder`."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{folder}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>"
    )
    return {"FONTCONFIG_FILE": str(config)}


@pytest.mark.slow  # two `invoicing templates check` processes, every fixture rendered
def test_templates_check_fails_naming_the_fixture_field_and_characters_no_font_draws(
    tmp_path: Path,
) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    for name in ("short.yaml", "long_names_unicode.yaml"):
        shutil.copy(REPO / "fixtures" / name, fixtures / name)
    only_latin = _fonts_of(Path("/usr/share/fonts/truetype/dejavu"), tmp_path)

    without = run_cli("templates", "check", "--fixtures", str(fixtures), env=only_latin)
    assert without.returncode == 1, without.stdout + without.stderr
    failing = [line for line in without.stdout.splitlines() if "no installed font draws" in line]
    assert len(failing) == 4  # 2 templates x 2 languages, the unicode fixture only
    assert all("/long_names_unicode" in line for line in failing)
    assert "transactions[0].title: no installed font draws '国际漫游'" in failing[0]
    assert "U+1F389" in failing[0]  # the party popper emoji, named by code point too
    assert "4 passed, 4 failed" in without.stdout

    with_fonts = run_cli("templates", "check", "--fixtures", str(fixtures))
    assert with_fonts.returncode == 0, with_fonts.stdout
    assert "8 passed, 0 failed" in with_fonts.stdout


async def test_a_render_that_would_drop_glyphs_logs_a_warning_with_the_invoice_id(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.api.test_pdf_download import _download, _invoice

    unassigned = "\u0378"  # no font has a glyph for a code point Unicode never assigned
    invoice_id, _ = await _invoice(api, settings, name=f"Acme {unassigned} Logistics")
    with caplog.at_level(logging.WARNING, logger="invoicing"):
        response = await _download(api, invoice_id)
    assert response.status_code == 200  # the customer still gets the invoice
    warnings = [r.getMessage() for r in caplog.records if "empty boxes" in r.getMessage()]
    assert len(warnings) == 1
    assert f"invoice {invoice_id} " in warnings[0]
    assert "client.name" in warnings[0] and "U+0378" in warnings[0]
