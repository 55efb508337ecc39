import io

import httpx
from pypdf import PdfReader


async def test_the_page_lists_templates_fixtures_and_languages(preview: httpx.AsyncClient) -> None:
    page = (await preview.get("/")).text
    for part in (
        "norfone_invoice_template",
        "cifi_invoice_template",
        "/preview/cifi_invoice_template/short",
        "/preview/norfone_invoice_template/spanish?lang=es",
        "long_120_lines",
    ):
        assert part in page


async def test_each_combination_has_a_page_html_and_pdf(preview: httpx.AsyncClient) -> None:
    page = await preview.get("/preview/cifi_invoice_template/short")
    html = await preview.get("/preview/cifi_invoice_template/short.html")
    pdf = await preview.get("/preview/cifi_invoice_template/short.pdf")
    assert page.status_code == html.status_code == pdf.status_code == 200
    assert (
        "Acme Logistics Pty Ltd" in html.text
        and '<base href="http://preview/templates/">' in html.text
    )
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["x-cache"] == "MISS"
    assert "Acme Logistics Pty Ltd" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    again = await preview.get("/preview/cifi_invoice_template/short.pdf")
    assert again.headers["x-cache"] == "HIT" and again.content == pdf.content


async def test_lang_picks_the_language_variant(preview: httpx.AsyncClient) -> None:
    html = await preview.get("/preview/norfone_invoice_template/short.html?lang=es")
    assert (
        html.headers["x-template"] == "norfone_invoice_template_es.html"
        and "Facturar a" in html.text
    )


async def test_a_changed_template_gives_a_fresh_pdf_and_drops_the_stale_one(
    preview: httpx.AsyncClient, folders
) -> None:
    templates, _ = folders
    first = await preview.get("/preview/norfone_invoice_template/short.pdf")
    css = templates / "norfone" / "invoice.css"
    css.write_text(css.read_text().replace("#0b2545", "#222222"))
    changed = await preview.get("/preview/norfone_invoice_template/short.pdf")
    assert changed.headers["x-cache"] == "MISS" and changed.content != first.content
    workspace = preview._transport.app.state.workspace  # type: ignore[attr-defined]
    assert (
        len([k for k in workspace._pdfs if k[0] == "norfone_invoice_template" and k[1] == "short"])
        == 1
    )


async def test_a_broken_template_answers_422_with_file_line_and_snippet(
    preview: httpx.AsyncClient, folders
) -> None:
    templates, _ = folders
    path = templates / "cifi_invoice_template.html"
    lines = path.read_text().splitlines()
    lines[30] = lines[30] + " {{ client.nmae }}"
    path.write_text("\n".join(lines) + "\n")
    for suffix in (".html", ".pdf"):
        response = await preview.get(f"/preview/cifi_invoice_template/short{suffix}")
        assert response.status_code == 422
        error = response.json()["error"]
        assert (error["file"], error["line"]) == ("cifi_invoice_template.html", 31)
        assert "nmae" in error["message"] and "client.nmae" in error["snippet"]


async def test_a_missing_asset_and_a_broken_fixture_are_errors_too(
    preview: httpx.AsyncClient, folders
) -> None:
    templates, fixtures = folders
    (templates / "norfone" / "logo.svg").unlink()
    missing = (await preview.get("/preview/norfone_invoice_template/short.html")).json()["error"]
    assert (
        "missing asset: norfone/logo.svg" in missing["message"]
        and missing["file"] == "norfone_invoice_template.html"
    )
    (fixtures / "short.yaml").write_text("number: X\n")
    broken = await preview.get("/preview/cifi_invoice_template/short.html")
    assert broken.status_code == 422 and broken.json()["error"]["file"] == "short.yaml"


async def test_lint_answers_per_combination(preview: httpx.AsyncClient) -> None:
    report = (await preview.get("/lint/norfone_invoice_template/short")).json()
    assert (
        report["missing"] == []
        and report["remote_urls"] == []
        and "grand_total" in report["unused"]
    )


async def test_only_files_under_the_folders_are_served(preview: httpx.AsyncClient) -> None:
    assert (await preview.get("/templates/norfone/invoice.css")).status_code == 200
    for path in (
        "/templates/../../../etc/passwd",
        "/templates/%2e%2e/%2e%2e/etc/passwd",
        "/templates//etc/passwd",
        "/preview/..%2F..%2Fetc/passwd.html",
        "/preview/norfone_invoice_template/..%2F..%2Fetc%2Fpasswd.pdf",
    ):
        response = await preview.get(path)
        assert response.status_code == 404, path
        assert "root:" not in response.text


async def test_missing_templates_and_fixtures_are_404(preview: httpx.AsyncClient) -> None:
    assert (await preview.get("/preview/nope/short.html")).status_code == 404
    assert (await preview.get("/preview/cifi_invoice_template/nope.pdf")).status_code == 404


async def test_the_invoice_email_is_previewed_per_fixture_and_language(
    preview: httpx.AsyncClient, folders
) -> None:
    english = await preview.get("/email/short")
    assert english.status_code == 200 and "Amount due" in english.text
    assert "Acme Logistics Pty Ltd" in english.text
    spanish = await preview.get("/email/spanish?lang=es")
    assert "Importe a pagar" in spanish.text
    text = await preview.get("/email/short?part=text")
    assert text.headers["content-type"].startswith("text/plain") and "Pay online:" in text.text
    templates, _ = folders
    (templates / "email" / "invoice.html").write_text("<p>{{ customer_name }</p>")
    broken = await preview.get("/email/short")
    assert broken.status_code == 422 and broken.json()["error"]["file"] == "invoice.html"


async def test_the_rules_each_fixtures_e_invoices_break_are_shown_beside_the_pdf(
    preview: httpx.AsyncClient, folders: tuple
) -> None:
    page = (await preview.get("/preview/norfone_invoice_template/short")).text
    assert 'id="einvoice"' in page and "refreshEInvoice" in page
    valid = (await preview.get("/einvoice/credit_note")).json()
    assert valid["cii"]["valid"] and valid["ubl"]["valid"] and valid["ubl"]["peppol"]
    draft = (await preview.get("/einvoice/draft")).json()
    assert not draft["ubl"]["valid"]
    assert "CRM-DRAFT" in [f["rule"] for f in draft["ubl"]["failures"]]
    # A designer's fixture that loses its buyer's country: the rules say so, live.
    _, fixtures = folders
    short = fixtures / "short.yaml"
    short.write_text(short.read_text().replace("country: Australia", "country: Atlantis"))
    broken = (await preview.get("/einvoice/short")).json()
    rules = {f["rule"] for f in broken["cii"]["failures"] if f["flag"] == "fatal"}
    assert {"CRM-BUYER-COUNTRY", "BR-11"} <= rules
    assert (await preview.get("/einvoice/no-such-fixture")).status_code == 404
