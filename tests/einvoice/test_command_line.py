"""`invoicing einvoice validate FILE`: the failed rules, one per line, and the exit code."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli.main import cli
from domain.config import Settings
from domain.model.einvoice import Syntax
from domain.rendering.einvoice import write_einvoice
from tests.einvoice.test_rules import fixture


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), obj={"settings": Settings()})


def test_a_valid_ubl_file_passes_with_exit_0(tmp_path: Path) -> None:
    path = tmp_path / "credit.xml"
    path.write_bytes(write_einvoice(fixture("credit_note"), Settings(), Syntax.UBL).xml)
    ran = _run("einvoice", "validate", str(path))
    assert ran.exit_code == 0, ran.output
    assert ran.output.strip() == "VALID: credit.xml (ubl): 0 fatal, 0 warning"


def test_a_broken_file_prints_each_failed_rule_and_exits_1(tmp_path: Path) -> None:
    xml = write_einvoice(fixture("short"), Settings(), Syntax.CII).xml
    path = tmp_path / "broken.xml"
    path.write_bytes(xml.replace(b"<ram:DuePayableAmount>", b"<ram:DuePayableAmount>9", 1))
    ran = _run("einvoice", "validate", str(path))
    assert ran.exit_code == 1
    lines = ran.output.strip().splitlines()
    assert any(line.startswith("fatal BR-CO-16 ") for line in lines), ran.output
    assert lines[-1].startswith("INVALID: broken.xml (cii): 1 fatal")


def test_a_file_that_is_no_e_invoice_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "note.xml"
    path.write_text("<note/>")
    ran = _run("einvoice", "validate", str(path))
    assert ran.exit_code != 0 and "neither a CII" in ran.output
    ran = _run("einvoice", "validate", str(tmp_path / "absent.xml"))
    assert ran.exit_code != 0 and "neither an invoice id nor a file" in ran.output
