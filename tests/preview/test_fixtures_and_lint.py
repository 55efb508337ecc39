from pathlib import Path

import pytest

from domain.config import Settings
from domain.rendering.documents import FixtureError
from domain.rendering.templating import TemplateSet
from domain.rendering.variables import template_variables
from preview_server.fixtures import fixture_names, load_fixture
from preview_server.lint import lint
from tests.conftest import REPO, TEMPLATES


def test_every_shipped_fixture_loads() -> None:
    names = fixture_names(REPO / "fixtures")
    assert {
        "short",
        "long_120_lines",
        "void",
        "paid",
        "refunded",
        "spanish",
        "credits_and_zero_tax",
        "credit_note",
        "long_names_unicode",
    } <= set(names)
    for name in names:
        document = load_fixture(REPO / "fixtures" / f"{name}.yaml", Settings())
        assert document.lines
    assert len(load_fixture(REPO / "fixtures" / "long_120_lines.yaml", Settings()).lines) == 120


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("number: X\n", "title"),
        (
            "number: X\ntitle: T\ndate: 2025-01-01\ndue_date: someday\nclient: {name: A}\ntransactions: []\n",
            "due_date",
        ),
        (
            "number: X\ntitle: T\ndate: 2025-01-01\ndue_date: 2025-01-02\nclient: {name: A}\n"
            "transactions: [{transaction_id: 1, created: 2025-01-01, title: x, retail_cost: ten}]\n",
            "transactions.0.retail_cost",
        ),
        (
            "number: X\ntitle: T\ndate: 2025-01-01\ndue_date: 2025-01-02\nclient: {name: A, adress: {}}\ntransactions: []\n",
            "client.adress",
        ),
        ("- just\n- a list\n", "top level"),
        ("number: [unclosed\n", "cannot be read"),
    ],
)
def test_a_wrong_fixture_names_the_file_and_the_field(
    tmp_path: Path, content: str, named: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    with pytest.raises(FixtureError) as refused:
        load_fixture(path, Settings())
    assert str(refused.value).startswith("broken.yaml: ") and named in str(refused.value)


def test_json_fixtures_work_too(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(
        '{"number": "N-1", "title": "T", "date": "2025-01-01T00:00:00", "due_date": "2025-01-31",'
        ' "client": {"name": "A"}, "transactions": [{"transaction_id": 1, "created": "2025-01-01",'
        ' "title": "x", "retail_cost": "1.50", "tax_percentage": "10"}]}'
    )
    document = load_fixture(path, Settings())
    assert str(document.lines[0].tax_amount) == "0.15"


def _lint(tmp_path: Path, source: str):
    (tmp_path / "t.html").write_text(source)
    templates = TemplateSet(tmp_path)
    document = load_fixture(REPO / "fixtures" / "short.yaml", Settings())
    variables = template_variables(document, Settings())
    return lint(templates, "t.html", variables)


def test_lint_finds_missing_unused_and_remote(tmp_path: Path) -> None:
    report = _lint(
        tmp_path,
        '{{ invoice_number }} {{ clinet.name }} <img src="https://api.qrserver.com/v1/create-qr-code/?data={{ payment_url }}">',
    )
    assert report.missing == ("clinet",)
    assert "total_amount" in report.unused and "invoice_number" not in report.unused
    assert report.remote_urls == (
        "https://api.qrserver.com/v1/create-qr-code/?data={{ payment_url }}",
    )
    assert report.matters


def test_lint_follows_extends(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text("{{ t.x }} {{ invoice_number }} {{ nope }}")
    report = _lint(tmp_path, "{% set t = {'x': 1} %}{% extends 'base.html' %}")
    assert report.missing == ("nope",)


def test_the_shipped_templates_lint_clean() -> None:
    templates = TemplateSet(TEMPLATES)
    document = load_fixture(REPO / "fixtures" / "short.yaml", Settings())
    variables = template_variables(document, Settings())
    for name in ("norfone_invoice_template.html", "cifi_invoice_template_es.html"):
        report = lint(templates, name, variables)
        assert not report.matters, report
