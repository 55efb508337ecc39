from datetime import UTC, datetime

import pytest

from tests.helpers import Api, make_charge, make_customer, snapshot

INVOICE_FIELDS = """
  id number title period startDate endDate dueDate createdAt subtotal tax total status void
  paidAt paymentMethod paymentReference refundReference lineCount actions pdfUrl payUrl
  customer { name }
  lines { transactionId createdAt title description retailCost taxPercentage taxAmount taxDisplay }
"""

GENERATE = f"""
mutation($input: GenerateInvoiceInput!) {{
  generateInvoice(input: $input) {{ invoice {{ {INVOICE_FIELDS} }} errors {{ code message field }} }}
}}"""

PAY = """
mutation($input: PayInvoiceInput!) {
  payInvoice(input: $input) { invoice { id status paymentMethod paymentReference actions } errors { code message } }
}"""

VOID = "mutation($id: ID!) { voidInvoice(id: $id) { invoice { id title void actions } errors { code message } } }"

LIST = """
query($f: InvoiceFilter, $s: InvoiceSort, $p: Int!, $n: Int!) {
  invoices(filter: $f, sort: $s, page: $p, perPage: $n) { totalCount totalPages items { id title total status void } }
}"""


def jan(day: int) -> datetime:
    return datetime(2025, 1, day, 12, tzinfo=UTC)


def period(**extra) -> dict:
    return {"startDate": "2025-01-01", "endDate": "2025-01-31", "dueDate": "2025-02-15", **extra}


async def test_an_invoice_is_generated_with_every_contract_field(api: Api) -> None:
    customer = await make_customer(api.db, "Acme")
    first = await make_charge(
        api.db, customer.id, "100.00", tax="10", title="Mobile", created_at=jan(3)
    )
    await make_charge(api.db, customer.id, "-20.00", tax="0", title="Credit", created_at=jan(4))
    data = await api.gql(GENERATE, {"input": {"customerId": str(customer.id), **period()}})
    assert data["generateInvoice"]["errors"] == []
    invoice = data["generateInvoice"]["invoice"]
    assert invoice["number"] == f"INV-{datetime.now(UTC).year}-000001"  # the year's first
    assert invoice["title"] == "Invoice for 2025-01-01 - 2025-01-31"
    assert invoice["period"] == "2025-01-01 - 2025-01-31" and invoice["dueDate"] == "2025-02-15"
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("80.00", "10.00", "90.00")
    assert (invoice["status"], invoice["void"], invoice["lineCount"]) == ("UNPAID", False, 2)
    assert invoice["actions"] == ["DOWNLOAD_PDF", "SEND_EMAIL", "PAY", "VOID"]
    assert invoice["pdfUrl"] == f"https://crm.example.test/crm/invoice/{invoice['id']}/pdf"
    assert invoice["payUrl"].startswith(f"https://crm.example.test/i/{invoice['id']}.")
    assert invoice["customer"] == {"name": "Acme"}
    assert [(line["title"], line["taxDisplay"]) for line in invoice["lines"]] == [
        ("Mobile", "$10.00 (10%)"),
        ("Credit", "-"),
    ]
    assert invoice["lines"][0]["transactionId"] == str(first.id)

    linked = await api.gql(
        "query($id: ID!) { transaction(id: $id) { invoice { id number } } }", {"id": str(first.id)}
    )
    assert linked["transaction"]["invoice"] == {"id": invoice["id"], "number": invoice["number"]}


async def test_preview_lists_unbilled_charges_marking_exclusions(api: Api) -> None:
    customer = await make_customer(api.db)
    a = await make_charge(api.db, customer.id, "10.00", tax="21", created_at=jan(2))
    b = await make_charge(api.db, customer.id, "5.00", tax="21", created_at=jan(3))
    query = """query($i: InvoicePreviewInput!) { invoicePreview(input: $i) {
        startDate endDate includedCount subtotal tax total lines { included transaction { id } } } }"""
    preview = (
        await api.gql(
            query,
            {
                "i": {
                    "customerId": str(customer.id),
                    "startDate": "2025-01-01",
                    "endDate": "2025-01-31",
                    "excludedTransactionIds": [str(b.id)],
                }
            },
        )
    )["invoicePreview"]
    assert preview == {
        "startDate": "2025-01-01",
        "endDate": "2025-01-31",
        "includedCount": 1,
        "subtotal": "10.00",
        "tax": "2.10",
        "total": "12.10",
        "lines": [
            {"included": True, "transaction": {"id": str(a.id)}},
            {"included": False, "transaction": {"id": str(b.id)}},
        ],
    }
    errors = await api.gql_errors(query, {"i": {"customerId": "99999"}})
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_unknown_excluded_id_is_refused_not_ignored(api: Api) -> None:
    customer = await make_customer(api.db)
    other = await make_customer(api.db, "Globex")
    await make_charge(api.db, customer.id, "10.00", created_at=jan(2))
    theirs = await make_charge(api.db, other.id, "5.00", created_at=jan(3))
    period = {"customerId": str(customer.id), "startDate": "2025-01-01", "endDate": "2025-01-31"}
    for wrong in ("999999", str(theirs.id)):
        before = await snapshot(api.db)
        answer = (
            await api.gql(GENERATE, {"input": {**period, "excludedTransactionIds": [wrong]}})
        )["generateInvoice"]
        [error] = answer["errors"]
        assert (
            error["code"] == "TRANSACTION_UNAVAILABLE"
            and error["field"] == "excludedTransactionIds"
        )
        assert f"Excluded transaction {wrong} is not among" in error["message"]
        assert await snapshot(api.db) == before  # nothing billed
        errors = await api.gql_errors(
            "query($i: InvoicePreviewInput!) { invoicePreview(input: $i) { total } }",
            {"i": {**period, "excludedTransactionIds": [wrong]}},
        )
        assert errors[0]["extensions"]["code"] == "TRANSACTION_UNAVAILABLE"


async def test_a_spanish_draft_reads_spanish_and_carries_no_number_and_no_pay_link(
    api: Api,
) -> None:
    from tests.pdf.test_rendering import pdf_pages

    customer = await make_customer(api.db, "Compañía Andina", language="es")
    await make_charge(api.db, customer.id, "10.00", tax="21", created_at=jan(2))
    query = "query($i: InvoicePreviewInput!) { invoicePreview(input: $i) { pdfUrl } }"
    period = {"customerId": str(customer.id), "startDate": "2025-01-01", "endDate": "2025-01-31"}
    url = (await api.gql(query, {"i": period}))["invoicePreview"]["pdfUrl"]
    response = await api.client.get(
        url.removeprefix("https://crm.example.test"),
        headers={"Authorization": f"Bearer {await api.staff_token()}"},
    )
    assert response.status_code == 200, response.text
    text = " ".join(pdf_pages(response.content))
    assert "BORRADOR" in text and "Factura" in text and "12,10 US$" in text
    for absent in ("DRAFT", "Número de factura", "Referencia de transferencia", "/pay", "Pagar"):
        assert absent not in text, absent


async def test_generate_refusals_answer_their_codes(api: Api) -> None:
    customer = await make_customer(api.db)
    charge = await make_charge(api.db, customer.id, created_at=jan(5))
    before = await snapshot(api.db)
    cases = [
        (
            {"customerId": str(customer.id), "startDate": "2025-03-01", "endDate": "2025-03-31"},
            "NO_TRANSACTIONS",
            None,
        ),
        (
            {"customerId": str(customer.id), **period(startDate="2025-02-01")},
            "INVALID_INPUT",
            "startDate",
        ),
        (
            {"customerId": str(customer.id), **period(dueDate="2024-12-01")},
            "INVALID_INPUT",
            "dueDate",
        ),
        ({"customerId": "nope", **period()}, "NOT_FOUND", "customerId"),
        (
            {"customerId": str(customer.id), **period(), "transactionIds": ["x"]},
            "TRANSACTION_UNAVAILABLE",
            "transactionIds",
        ),
        (
            {"customerId": str(customer.id), **period(), "transactionIds": [str(charge.id + 100)]},
            "TRANSACTION_UNAVAILABLE",
            "transactionIds",
        ),
    ]
    for given, code, field in cases:
        payload = (await api.gql(GENERATE, {"input": given}))["generateInvoice"]
        assert payload["invoice"] is None
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field), given
    assert await snapshot(api.db) == before


async def test_workflow_7_void_then_correct_then_bill_again(api: Api) -> None:
    customer = await make_customer(api.db, "Levante", language="es")
    wrong = await make_charge(api.db, customer.id, "100.00", tax="21", created_at=jan(5))
    original = (await api.gql(GENERATE, {"input": {"customerId": str(customer.id), **period()}}))[
        "generateInvoice"
    ]["invoice"]
    update = 'mutation($id: ID!) { updateTransaction(id: $id, input: {retailCost: "10.00"}) { errors { code } } }'
    assert (await api.gql(update, {"id": str(wrong.id)}))["updateTransaction"]["errors"] == [
        {"code": "TRANSACTION_BILLED"}
    ]

    voided = (await api.gql(VOID, {"id": original["id"]}))["voidInvoice"]
    assert voided["errors"] == []
    assert voided["invoice"]["title"] == "Anulada: Factura por 2025-01-01 - 2025-01-31"
    assert voided["invoice"]["void"] is True and voided["invoice"]["actions"] == ["DOWNLOAD_PDF"]
    assert (await api.gql(update, {"id": str(wrong.id)}))["updateTransaction"]["errors"] == []

    again = (await api.gql(GENERATE, {"input": {"customerId": str(customer.id), **period()}}))[
        "generateInvoice"
    ]["invoice"]
    assert again["total"] == "12.10"
    kept = await api.gql(
        "query($id: ID!) { invoice(id: $id) { total lines { retailCost } } }",
        {"id": original["id"]},
    )
    assert kept["invoice"] == {"total": "121.00", "lines": [{"retailCost": "100.00"}]}
    twice = (await api.gql(VOID, {"id": original["id"]}))["voidInvoice"]
    assert twice["errors"][0]["code"] == "ALREADY_VOID"


async def test_manual_payments_mark_the_invoice_paid(api: Api) -> None:
    customer = await make_customer(api.db)
    await make_charge(api.db, customer.id, "50.00", tax="10", created_at=jan(5))
    invoice = (await api.gql(GENERATE, {"input": {"customerId": str(customer.id), **period()}}))[
        "generateInvoice"
    ]["invoice"]
    paid = (
        await api.gql(
            PAY,
            {
                "input": {
                    "invoiceId": invoice["id"],
                    "method": "BANK_TRANSFER",
                    "reference": "TRF-991",
                }
            },
        )
    )["payInvoice"]
    assert paid == {
        "invoice": {
            "id": invoice["id"],
            "status": "PAID",
            "paymentMethod": "BANK_TRANSFER",
            "paymentReference": "TRF-991",
            "actions": ["DOWNLOAD_PDF", "SEND_EMAIL"],
        },
        "errors": [],
    }
    payments = await api.gql(
        '{ transactions(filter: {search: "Payment for"}) { items { kind retailCost invoice { id } } } }'
    )
    assert payments["transactions"]["items"] == [
        {"kind": "PAYMENT", "retailCost": "-55.00", "invoice": {"id": invoice["id"]}}
    ]
    again = (await api.gql(PAY, {"input": {"invoiceId": invoice["id"], "method": "CASH"}}))[
        "payInvoice"
    ]
    assert again["errors"][0]["code"] == "ALREADY_PAID"
    void = (await api.gql(VOID, {"id": invoice["id"]}))["voidInvoice"]
    assert void["errors"][0]["code"] == "ALREADY_PAID"
    stripe = (await api.gql(PAY, {"input": {"invoiceId": invoice["id"], "method": "STRIPE"}}))[
        "payInvoice"
    ]
    assert stripe["errors"][0]["code"] == "ALREADY_PAID"
    missing = (await api.gql(PAY, {"input": {"invoiceId": "424242", "method": "CASH"}}))[
        "payInvoice"
    ]
    assert missing["errors"][0]["code"] == "NOT_FOUND"


@pytest.fixture
async def ledger(api: Api) -> dict[str, dict]:
    """Four invoices in different states over two customers."""
    acme = await make_customer(api.db, "Acme Corp")
    globex = await make_customer(api.db, "Globex Inc")
    made = {}
    for name, customer, cost, day, title in (
        ("small", acme, "10.00", 2, "Mobile January"),
        ("big", acme, "500.00", 3, "Internet January"),
        ("globex", globex, "80.00", 4, "Support hours"),
        ("voided", globex, "30.00", 5, "Duplicate charge"),
    ):
        await make_charge(api.db, customer.id, cost, tax="0", created_at=jan(day))
        given = {
            "customerId": str(customer.id),
            "startDate": f"2025-01-0{day}",
            "endDate": f"2025-01-0{day}",
            "dueDate": f"2025-02-{day:02d}",
            "title": title,
        }
        made[name] = (await api.gql(GENERATE, {"input": given}))["generateInvoice"]["invoice"]
    await api.gql(PAY, {"input": {"invoiceId": made["small"]["id"], "method": "CASH"}})
    await api.gql(VOID, {"id": made["voided"]["id"]})
    made["acme"], made["globex_customer"] = acme, globex
    return made


async def _ids(api: Api, filter=None, sort=None, page=1, per_page=25, token=None) -> list[str]:
    data = await api.gql(LIST, {"f": filter, "s": sort, "p": page, "n": per_page}, token=token)
    return [item["id"] for item in data["invoices"]["items"]]


async def test_invoices_filter_by_void_payment_status_and_customer(api: Api, ledger: dict) -> None:
    small, big, globex, voided = (ledger[k]["id"] for k in ("small", "big", "globex", "voided"))
    assert await _ids(api) == [voided, globex, big, small]  # newest first
    assert await _ids(api, {"void": "VOID"}) == [voided]
    assert await _ids(api, {"void": "NOT_VOID"}) == [globex, big, small]
    assert await _ids(api, {"payment": "PAID"}) == [small]
    assert await _ids(api, {"payment": "UNPAID"}) == [voided, globex, big]
    assert await _ids(api, {"status": "PAID"}) == [small]
    assert await _ids(api, {"customerId": str(ledger["acme"].id)}) == [big, small]
    customer_tab = await api.gql(
        "query($id: ID!) { customer(id: $id) { invoices(filter: {void: NOT_VOID}) { items { id } } invoiceStats { total { count } } } }",
        {"id": str(ledger["globex_customer"].id)},
    )
    assert customer_tab["customer"] == {
        "invoices": {"items": [{"id": globex}]},
        "invoiceStats": {"total": {"count": 1}},
    }


async def test_invoices_search_id_number_title_and_customer_name(api: Api, ledger: dict) -> None:
    small, big, globex, voided = (ledger[k]["id"] for k in ("small", "big", "globex", "voided"))
    assert await _ids(api, {"search": "january"}) == [big, small]
    assert await _ids(api, {"search": "GLOBEX"}) == [voided, globex]
    assert await _ids(api, {"search": ledger["big"]["number"]}) == [big]
    assert big in await _ids(api, {"search": big})
    # Inside one customer's tab, the customer name is not searched.
    assert (
        await _ids(api, {"search": "globex", "customerId": str(ledger["globex_customer"].id)}) == []
    )


@pytest.mark.parametrize(
    ("field", "ascending"),
    [
        ("ID", ["small", "big", "globex", "voided"]),
        ("TITLE", ["big", "small", "globex", "voided"]),  # "Void: Duplicate charge" once voided
        ("DUE_DATE", ["small", "big", "globex", "voided"]),
        ("CREATED", ["small", "big", "globex", "voided"]),
        ("AMOUNT", ["small", "voided", "globex", "big"]),
        ("STATUS", ["small", "big", "globex", "voided"]),
    ],
)
async def test_invoices_sort_by_each_column_both_ways(
    api: Api, ledger: dict, field: str, ascending: list
) -> None:
    expected = [ledger[name]["id"] for name in ascending]
    assert await _ids(api, sort={"field": field, "direction": "ASC"}) == expected
    descending = await _ids(api, sort={"field": field, "direction": "DESC"})
    if field == "STATUS":  # ties (three UNPAID) break on id, in the same direction
        expected_desc = [ledger[n]["id"] for n in ("voided", "globex", "big", "small")]
        assert descending == expected_desc
    else:
        assert descending == list(reversed(expected))


async def test_invoices_page_with_totals(api: Api, ledger: dict) -> None:
    data = await api.gql(
        LIST, {"f": None, "s": {"field": "ID", "direction": "ASC"}, "p": 2, "n": 3}
    )
    assert data["invoices"]["totalCount"] == 4 and data["invoices"]["totalPages"] == 2
    assert [item["id"] for item in data["invoices"]["items"]] == [ledger["voided"]["id"]]
    errors = await api.gql_errors(LIST, {"f": None, "s": None, "p": 1, "n": 101})
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_customer_sees_only_its_invoices_and_its_actions(api: Api, ledger: dict) -> None:
    acme, globex = ledger["acme"], ledger["globex_customer"]
    token = await api.customer_token(acme.id)
    assert await _ids(api, token=token) == [ledger["big"]["id"], ledger["small"]["id"]]
    assert await _ids(api, {"customerId": str(globex.id)}, token=token) == []
    assert await _ids(api, {"search": "globex"}, token=token) == []
    data = await api.gql(
        "query($mine: ID!, $theirs: ID!, $c: ID!) { mine: invoice(id: $mine) { actions } theirs: invoice(id: $theirs) { id }"
        " theirCustomer: customer(id: $c) { invoices { totalCount } } invoiceStats { total { count amount } } }",
        {"mine": ledger["big"]["id"], "theirs": ledger["globex"]["id"], "c": str(globex.id)},
        token=token,
    )
    assert data["mine"]["actions"] == ["DOWNLOAD_PDF", "SEND_EMAIL", "PAY"]
    assert data["theirs"] is None and data["theirCustomer"] is None
    assert data["invoiceStats"]["total"] == {"count": 2, "amount": "510.00"}
    errors = await api.gql_errors(
        "query($c: ID!) { invoiceStats(customerId: $c) { total { count } } }",
        {"c": str(globex.id)},
        token=token,
    )
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    preview = await api.gql_errors(
        "query($c: ID!) { invoicePreview(input: {customerId: $c}) { includedCount } }",
        {"c": str(globex.id)},
        token=token,
    )
    assert preview[0]["extensions"]["code"] == "NOT_FOUND"


async def test_customers_cannot_generate_void_or_pay_by_hand(api: Api, ledger: dict) -> None:
    token = await api.customer_token(ledger["acme"].id)
    before = await snapshot(api.db)
    generate = await api.gql(
        GENERATE, {"input": {"customerId": str(ledger["acme"].id), **period()}}, token=token
    )
    void = await api.gql(VOID, {"id": ledger["big"]["id"]}, token=token)
    cash = await api.gql(
        PAY, {"input": {"invoiceId": ledger["big"]["id"], "method": "CASH"}}, token=token
    )
    others = await api.gql(
        PAY, {"input": {"invoiceId": ledger["globex"]["id"], "method": "STRIPE"}}, token=token
    )
    billing = await api.gql(
        'mutation { runBilling(input: {startDate: "2025-01-01", endDate: "2025-01-31", dueDate: "2025-02-01"}) { errors { code } } }',
        token=token,
    )
    assert generate["generateInvoice"]["errors"][0]["code"] == "FORBIDDEN"
    assert void["voidInvoice"]["errors"][0]["code"] == "FORBIDDEN"
    assert cash["payInvoice"]["errors"][0]["code"] == "FORBIDDEN"
    assert others["payInvoice"]["errors"][0]["code"] == "NOT_FOUND"
    assert billing["runBilling"]["errors"] == [{"code": "FORBIDDEN"}]
    assert await snapshot(api.db) == before


async def test_run_billing_over_the_api(api: Api) -> None:
    acme = await make_customer(api.db, "Acme")
    quiet = await make_customer(api.db, "Quiet")
    await make_charge(api.db, acme.id, created_at=jan(5))
    query = """mutation($i: BillingRunInput!) { runBilling(input: $i) {
        invoices { customer { name } lineCount dueDate } skippedCustomerIds errors { code message field } } }"""
    everyone = (
        await api.gql(
            query,
            {"i": {"startDate": "2025-01-01", "endDate": "2025-01-31", "dueDate": "2025-02-10"}},
        )
    )["runBilling"]
    assert everyone == {
        "invoices": [{"customer": {"name": "Acme"}, "lineCount": 1, "dueDate": "2025-02-10"}],
        "skippedCustomerIds": [],
        "errors": [],
    }
    chosen = (
        await api.gql(
            query,
            {
                "i": {
                    "startDate": "2025-01-01",
                    "endDate": "2025-01-31",
                    "dueDate": "2025-02-10",
                    "customerIds": [str(quiet.id), "777777"],
                }
            },
        )
    )["runBilling"]
    assert chosen["invoices"] == [] and chosen["skippedCustomerIds"] == [str(quiet.id)]
    assert (
        chosen["errors"][0]["code"] == "NOT_FOUND"
        and "Customer 777777" in chosen["errors"][0]["message"]
    )


async def test_counts_follow_every_filter_and_the_viewer(api: Api, ledger: dict) -> None:
    async def count(filter=None, token=None) -> int:
        data = await api.gql(LIST, {"f": filter, "s": None, "p": 1, "n": 1}, token=token)
        return data["invoices"]["totalCount"]

    assert [
        await count(f)
        for f in (
            None,
            {"void": "VOID"},
            {"void": "NOT_VOID"},
            {"payment": "PAID"},
            {"payment": "UNPAID", "void": "NOT_VOID"},
            {"status": "PAID"},
            {"search": "january"},
        )
    ] == [4, 1, 3, 1, 2, 1, 2]
    token = await api.customer_token(ledger["acme"].id)
    assert await count(token=token) == 2
    assert await count({"customerId": str(ledger["globex_customer"].id)}, token=token) == 0


async def test_the_invoices_list_pages_by_cursor_over_the_api(api: Api) -> None:
    customer = await make_customer(api.db)
    for day in (2, 3, 4):
        await make_charge(api.db, customer.id, "10.00", created_at=jan(day))
        await api.gql(
            GENERATE,
            {
                "input": {
                    "customerId": str(customer.id),
                    "startDate": f"2025-01-0{day}",
                    "endDate": f"2025-01-0{day}",
                }
            },
        )
    query = """query($after: String) { invoices(perPage: 2, after: $after) {
        items { id } totalCount hasNextPage endCursor } }"""
    first = (await api.gql(query, {"after": None}))["invoices"]
    assert len(first["items"]) == 2 and first["hasNextPage"] and first["totalCount"] == 3
    second = (await api.gql(query, {"after": first["endCursor"]}))["invoices"]
    assert len(second["items"]) == 1 and not second["hasNextPage"]
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    errors = await api.gql_errors(query, {"after": "made-up"})
    assert errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": "after"}


async def test_a_failing_field_beside_two_that_share_a_batch_answers_an_error_not_a_500(
    api: Api,
) -> None:
    """graphql-core cancels the other fields when one fails: a batch two of them wait on
    must not be cancelled under the other (a CancelledError was a 500)."""
    customer = await make_customer(api.db, "Acme")
    await make_charge(api.db, customer.id, "100.00", tax="10", created_at=jan(3))
    made = await api.gql(GENERATE, {"input": {"customerId": str(customer.id), **period()}})
    invoice_id = made["generateInvoice"]["invoice"]["id"]
    query = (
        "query($id: ID!) { a: invoice(id: $id) { payments { id } lines { title } } "
        "b: invoice(id: $id) { payments { id } lines { title } "
        'customer { invoices(after: "not a cursor") { totalCount } } } }'
    )
    for _ in range(5):
        response = await api.client.post(
            "/graphql",
            json={"query": query, "variables": {"id": invoice_id}},
            headers={"Authorization": f"Bearer {await api.staff_token()}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
