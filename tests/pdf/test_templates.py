"""Templates: the specification's variables and snippets, the sandbox, clear errors, the key."""

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from domain.config import Settings
from domain.rendering.templating import TemplateFailure, TemplateSet, render_key
from domain.rendering.variables import Amount, Percent, template_variables
from tests.pdf.documents import document

HERE = Path(__file__).resolve().parent
SHIPPED = HERE.parents[1] / "invoice_templates"


def spec_output(doc) -> str:
    html = TemplateSet(HERE / "templates").render(
        "spec_snippets.html", template_variables(doc, Settings())
    )
    return re.sub(r"\s+", " ", html)


def test_the_specifications_snippets_render_as_it_intends() -> None:
    out = spec_output(document(lines=2))
    assert (
        "<td>1000</td> <td>2025-01-01</td> <td>Mobile plan line 1</td> <td>Service period 1</td> <td>$100.00</td>"
        in out
    )
    assert "$10.00 (10%)" in out and "$10.10 (10%)" in out
    assert "<strong>Subtotal:</strong></td> <td>$201.00</td>" in out
    assert "<strong>Impuesto:</strong></td> <td>$20.10</td>" in out
    assert "<strong>Total:</strong></td> <td>$221.10</td>" in out
    assert "GST Incluido: $20.10" in out  # total_amount * 0.10, for an Australian client
    assert "Saldo alto" not in out
    assert (
        "INV-2025-001234 2025-01-10T12:00:00 2025-02-10 2025-01-01 2025-01-31 Acme Logistics Pty Ltd"
        in out
    )


def test_high_values_conditions_and_zero_tax_lines() -> None:
    from dataclasses import replace

    doc = document(lines=12, country="Argentina")
    doc = replace(
        doc,
        lines=(
            replace(doc.lines[0], tax_percentage=Decimal(0), tax_amount=Decimal(0)),
            *doc.lines[1:],
        ),
    )
    out = spec_output(doc)
    assert "Saldo alto - Plan de pago disponible a solicitud." in out  # total_amount > 1000
    assert "GST Incluido" not in out
    assert "<td> - </td>" in out


def test_template_numbers_behave_like_the_specification_expects() -> None:
    assert str(Amount(Decimal("1234.5"))) == "1234.50" and Amount(
        Decimal("10")
    ) * 0.10 == pytest.approx(1.0)
    assert Amount(Decimal("1000.01")) > 1000
    assert [str(Percent(Decimal(p))) for p in ("10", "10.50", "0", "21")] == [
        "10",
        "10.5",
        "0",
        "21",
    ]


def test_every_specification_variable_is_provided() -> None:
    variables = template_variables(document(), Settings())
    for name in (
        "invoice_number",
        "date",
        "due_date",
        "start_date",
        "end_date",
        "total_amount",
        "total_tax",
        "payment_url",
    ):
        assert name in variables
    assert set(variables["client"]["address"]) == {
        "address_line_1",
        "address_line_2",
        "city",
        "state",
        "zip_code",
        "country",
    }
    assert set(variables["transactions"][0]) == {
        "transaction_id",
        "created",
        "title",
        "description",
        "retail_cost",
        "tax_percentage",
        "tax_amount",
    }
    assert variables["payment_qr"].startswith("data:image/svg+xml")


def _broken(tmp_path: Path, source: str) -> TemplateFailure:
    (tmp_path / "t.html").write_text(source)
    with pytest.raises(TemplateFailure) as failure:
        TemplateSet(tmp_path).render("t.html", template_variables(document(), Settings()))
    return failure.value


def test_a_missing_variable_fails_naming_the_file_line_and_snippet(tmp_path: Path) -> None:
    failure = _broken(tmp_path, "<p>{{ invoice_number }}</p>\n<p>{{ client.nmae }}</p>\n")
    assert (failure.file, failure.line) == ("t.html", 2)
    assert "nmae" in failure.message and failure.snippet == "<p>{{ client.nmae }}</p>"


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    failure = _broken(tmp_path, "<p>ok</p>\n{% for x in transactions %}\n<p>{{ x.title }</p>\n")
    assert (failure.file, failure.line) == ("t.html", 3)


def test_the_sandbox_refuses_to_escape(tmp_path: Path) -> None:
    failure = _broken(tmp_path, "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    assert "SecurityError" in failure.message or "unsafe" in failure.message


def test_html_is_escaped(tmp_path: Path) -> None:
    from dataclasses import replace

    (tmp_path / "t.html").write_text("{{ client.name }}")
    doc = replace(document(), client=replace(document().client, name="<script>alert(1)</script>"))
    assert (
        TemplateSet(tmp_path).render("t.html", template_variables(doc, Settings()))
        == "&lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_a_language_variant_is_picked_when_it_exists() -> None:
    templates = TemplateSet(SHIPPED)
    assert (
        templates.pick("norfone_invoice_template.html", "es") == "norfone_invoice_template_es.html"
    )
    assert templates.pick("norfone_invoice_template.html", "fr") == "norfone_invoice_template.html"
    assert templates.pick("cifi_invoice_template.html", "es") == "cifi_invoice_template_es.html"


@pytest.fixture
def template_copy(tmp_path: Path) -> TemplateSet:
    shutil.copytree(SHIPPED, tmp_path / "t")
    return TemplateSet(tmp_path / "t")


def _key(templates: TemplateSet, doc, settings=None) -> str:
    name = "norfone_invoice_template.html"
    html = templates.render(name, template_variables(doc, Settings()))
    return render_key(html, templates.assets(name), settings or {"engine": "x"})


def test_the_render_key_changes_with_each_input_and_nothing_else(
    template_copy: TemplateSet,
) -> None:
    from dataclasses import replace

    doc = document()
    base = _key(template_copy, doc)
    assert _key(template_copy, doc) == base
    folder = template_copy.directory
    (folder / "unrelated.txt").write_text("not used by the template")
    (folder / "cifi" / "invoice.css").write_text("body { color: red; }")  # another brand's file
    assert _key(template_copy, doc) == base

    assert _key(template_copy, replace(doc, void=True)) != base  # the data
    assert _key(template_copy, doc, {"engine": "y"}) != base  # the render settings
    css = folder / "norfone" / "invoice.css"
    css.write_text(css.read_text() + "\n.extra { color: blue; }")
    after_css = _key(template_copy, doc)
    assert after_css != base  # an asset's content
    logo = folder / "norfone" / "logo.svg"
    logo.write_text(logo.read_text().replace("#13a89e", "#ff0000"))
    assert _key(template_copy, doc) != after_css  # an image


def test_assets_list_local_files_through_css_and_remote_urls(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text('@import "b.css"; body { background: url(img/bg.png); }')
    (tmp_path / "b.css").write_text("@font-face { src: url('fonts/x.woff2'); }")
    (tmp_path / "base.html").write_text('<link href="a.css">{% block body %}{% endblock %}')
    (tmp_path / "t.html").write_text(
        '{% extends "base.html" %}{% block body %}<img src="https://cdn.example.com/logo.png">'
        '<img src="data:image/png;base64,AA"><img src="{{ payment_qr }}">'
        '<img src="file:///etc/passwd">{% endblock %}'
    )
    assets = TemplateSet(tmp_path).assets("t.html")
    assert [name for name, _ in assets.local] == [
        "/etc/passwd",
        "a.css",
        "b.css",
        "fonts/x.woff2",
        "img/bg.png",
    ]
    assert dict(assets.local)["img/bg.png"] == "missing"
    assert dict(assets.local)["/etc/passwd"] == "outside"  # named, never read
    assert assets.remote == ("https://cdn.example.com/logo.png",)
