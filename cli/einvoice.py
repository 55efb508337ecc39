"""`invoicing einvoice validate|export`: invoices as EN 16931 e-invoices, for operators."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from cli.common import clear_errors, one_line, settings_of, with_runtime
from domain.bootstrap import Runtime, open_einvoice_rules
from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.einvoice import Syntax
from domain.ports import RuleFailure, UnsafeXml, ValidationUnavailable
from domain.rendering.einvoice import syntax_of
from domain.services.einvoice_checks import Verdict
from domain.services.einvoices import einvoice_filename

_SYNTAXES = {"cii": (Syntax.CII,), "ubl": (Syntax.UBL,), "both": (Syntax.CII, Syntax.UBL)}


@click.group()
def einvoice() -> None:
    """Invoices as EN 16931 e-invoices (Factur-X CII and UBL / Peppol BIS)."""


def _report(name: str, failures: tuple[RuleFailure, ...], rules: str) -> int:
    """Print each failed rule, then a verdict line; the number of fatal failures."""
    for failure in failures:
        click.echo(str(failure))
    fatal = sum(failure.flag == "fatal" for failure in failures)
    verdict = "INVALID" if fatal else "VALID"
    click.echo(f"{verdict}: {name} ({rules}): {fatal} fatal, {len(failures) - fatal} warning")
    return fatal


def _validate_file(path: Path, rules_dir: str, peppol: bool) -> int:
    validator = open_einvoice_rules(rules_dir)
    try:
        data = path.read_bytes()
        if data.startswith(b"%PDF-"):
            xml = validator.embedded_xml(data)
            if xml is None:
                raise click.ClickException(f"{path.name}: the PDF carries no e-invoice XML")
        else:
            # Parsed once, as data: from here on no parser sees a DOCTYPE or an entity.
            xml = validator.readable(data)
        syntax = syntax_of(xml)
        if syntax is None:
            raise click.ClickException(
                f"{path}: neither a CII CrossIndustryInvoice nor a UBL Invoice or CreditNote"
            )
        with_peppol = peppol and syntax is Syntax.UBL and validator.peppol
        failures = asyncio.run(validator.validate(xml, syntax.value, peppol=with_peppol))
        rules = syntax.value + ("+peppol" if with_peppol else "")
        return _report(path.name, failures, rules)
    except UnsafeXml as refused:
        raise click.ClickException(f"{path.name}: {refused}") from None
    except ValidationUnavailable as missing:
        raise click.ClickException(
            one_line(f"the validation rules cannot run: {missing}")
        ) from None
    finally:
        validator.close()


def _validate_invoice(settings: Settings, invoice_id: int, syntaxes: tuple[Syntax, ...]) -> int:
    async def work(runtime: Runtime) -> list[tuple[str, Verdict, bool]]:
        invoice, _, document = await runtime.pdfs.document_of(SYSTEM, invoice_id)
        verdicts = []
        for syntax in syntaxes:
            verdict = await runtime.einvoices.checks.verdict(document, syntax)
            name = f"invoice {invoice_id} ({invoice.number}{', void' if invoice.void else ''})"
            verdicts.append((name, verdict, runtime.einvoices.checks.validator.peppol))
        return verdicts

    fatal = 0
    for name, verdict, peppol in with_runtime(settings, work):
        rules = verdict.syntax.value + ("+peppol" if verdict.peppol and peppol else "")
        fatal += _report(name, verdict.failures, rules)
    return fatal


@einvoice.command("validate")
@click.argument("target")
@click.option(
    "--syntax",
    type=click.Choice(sorted(_SYNTAXES)),
    default="both",
    show_default=True,
    help="For an invoice id: which e-invoice to check.",
)
@click.option(
    "--peppol/--no-peppol",
    default=True,
    show_default=True,
    help="For a UBL file: also the Peppol BIS rules, when einvoice.rules_dir has them. An "
    "invoice's UBL is checked against them when it claims Peppol BIS.",
)
@click.pass_context
@clear_errors
def validate(ctx: click.Context, target: str, syntax: str, peppol: bool) -> None:
    """Check INVOICE_ID's e-invoices, or FILE (CII or UBL XML, or a Factur-X PDF), against
    the EN 16931 rules; print each failed rule (flag, rule, location: text). Exit 1 when
    a rule fails fatally."""
    settings = settings_of(ctx)
    path = Path(target)
    if target.isdigit() and not path.exists():
        fatal = _validate_invoice(settings, int(target), _SYNTAXES[syntax])
    elif path.is_file():
        fatal = _validate_file(path, settings.einvoice.rules_dir, peppol)
    else:
        raise click.ClickException(f"{target}: neither an invoice id nor a file")
    sys.exit(1 if fatal else 0)


@einvoice.command("export")
@click.argument("invoice_id", type=int)
@click.option("--syntax", type=click.Choice(["cii", "ubl"]), default="ubl", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
@clear_errors
def export(ctx: click.Context, invoice_id: int, syntax: str, output: Path | None) -> None:
    """Write INVOICE_ID's e-invoice (as GET /crm/invoice/{id}/ubl does: only if it passes
    the rules) to --output, or Invoice_00012.ubl.xml in the current folder."""
    chosen = Syntax(syntax)
    found = with_runtime(
        settings_of(ctx), lambda runtime: runtime.einvoices.file(SYSTEM, invoice_id, chosen)
    )
    target = output or Path(einvoice_filename(invoice_id, chosen))
    target.write_bytes(found.data)
    click.echo(f"wrote {target} ({len(found.data)} bytes)")
