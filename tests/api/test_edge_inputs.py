"""Inputs at the edges get a clear error and change nothing: dates outside 1970-2100,
amounts written any way but plain digits, searches longer than anyone types, languages the
business does not offer, and request bodies that are not JSON a client could mean."""

import pytest

from tests.helpers import Api, make_customer, snapshot

CHARGE = """
mutation($input: TransactionInput!) {
  createTransaction(input: $input) { transaction { retailCost createdAt } errors { code field message } }
}"""
GENERATE = """
mutation($input: GenerateInvoiceInput!) {
  generateInvoice(input: $input) { invoice { id } errors { code field message } }
}"""
PREVIEW = "query($input: InvoicePreviewInput!) { invoicePreview(input: $input) { total } }"
TRANSACTIONS = "query($f: TransactionFilter) { transactions(filter: $f) { totalCount } }"
CUSTOMERS = "query($s: String) { customers(search: $s) { totalCount } }"
INVOICES = "query($f: InvoiceFilter) { invoices(filter: $f) { totalCount } }"
CUSTOMER = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) { customer { language } errors { code field message } }
}"""
PRODUCT = """
mutation($input: ProductInput!) {
  createProduct(input: $input) { product { taxPercentage } errors { code field message } }
}"""

RANGE = "dates must be between 1970-01-01 and 2100-12-31"


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "1969-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
    ],
)
async def test_a_charge_dated_outside_1970_to_2100_is_refused_clearly(
    api: Api, moment: str
) -> None:
    customer = await make_customer(api.db)
    before = await snapshot(api.db)
    charge = {"customerId": str(customer.id), "title": "x", "retailCost": "1.00"}
    errors = await api.gql_errors(CHARGE, {"input": {**charge, "createdAt": moment}})
    assert RANGE in errors[0]["message"]
    assert await snapshot(api.db) == before


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "9999-12-31"), ("2025-01-01", "9999-12-31"), ("1969-12-31", "2025-01-01")],
)
async def test_periods_outside_1970_to_2100_are_refused_everywhere(
    api: Api, start: str, end: str
) -> None:
    customer = await make_customer(api.db)
    before = await snapshot(api.db)
    period = {"customerId": str(customer.id), "startDate": start, "endDate": end}
    for query, variables in [
        (GENERATE, {"input": period}),
        (GENERATE, {"input": {"customerId": str(customer.id), "dueDate": "9999-12-31"}}),
        (PREVIEW, {"input": period}),
        (TRANSACTIONS, {"f": {"startDate": start, "endDate": end}}),
    ]:
        errors = await api.gql_errors(query, variables)
        assert RANGE in errors[0]["message"], (query, errors)
    assert await snapshot(api.db) == before


async def test_the_last_supported_day_still_works(api: Api) -> None:
    customer = await make_customer(api.db)
    found = await api.gql(
        TRANSACTIONS,
        {"f": {"customerId": str(customer.id), "startDate": "1970-01-01", "endDate": "2100-12-31"}},
    )
    assert found["transactions"]["totalCount"] == 0
    made = await api.gql(
        CHARGE,
        {
            "input": {
                "customerId": str(customer.id),
                "title": "x",
                "retailCost": "1.00",
                "createdAt": "2100-12-31T23:59:59Z",
            }
        },
    )
    assert made["createTransaction"]["transaction"]["createdAt"].startswith("2100-12-31T23:59:59")


@pytest.mark.parametrize("amount", ["1_000", "１２３", "1e5", " 5", "+5", ".5", "5.", "NaN", ""])
async def test_an_amount_is_plain_digits_or_refused(api: Api, amount: str) -> None:
    customer = await make_customer(api.db)
    before = await snapshot(api.db)
    charge = {"customerId": str(customer.id), "title": "x", "retailCost": amount}
    errors = await api.gql_errors(CHARGE, {"input": charge})
    assert "is not an amount" in errors[0]["message"]
    assert await snapshot(api.db) == before


async def test_a_negative_zero_is_stored_and_shown_as_zero(api: Api) -> None:
    made = await api.gql(PRODUCT, {"input": {"name": "Free", "taxPercentage": "-0.00"}})
    assert made["createProduct"] == {"product": {"taxPercentage": "0.00"}, "errors": []}


async def test_a_search_longer_than_anyone_types_is_refused_not_crashed(api: Api) -> None:
    await make_customer(api.db)
    fine = "x" * 200
    for query, variables in [
        (CUSTOMERS, lambda s: {"s": s}),
        (TRANSACTIONS, lambda s: {"f": {"search": s}}),
        (INVOICES, lambda s: {"f": {"search": s}}),
    ]:
        assert await api.gql(query, variables(fine))
        for too_long in ("x" * 201, "%" * 100_000):
            [error] = await api.gql_errors(query, variables(too_long))
            assert error["extensions"] == {"code": "INVALID_INPUT", "field": "search"}
            assert error["message"] == "Search must be at most 200 characters."


async def test_only_the_offered_languages_are_accepted(api: Api) -> None:
    before = await snapshot(api.db)
    for code in ("zz", "pt"):
        [error] = (await api.gql(CUSTOMER, {"input": {"name": "L", "language": code}}))[
            "createCustomer"
        ]["errors"]
        assert error["code"] == "INVALID_INPUT" and error["field"] == "language"
        assert error["message"] == f"Language '{code}' is not offered; choose one of en, es."
    assert await snapshot(api.db) == before
    made = await api.gql(CUSTOMER, {"input": {"name": "L", "language": "ES"}})
    assert made["createCustomer"]["customer"] == {"language": "es"}


async def test_bodies_that_are_not_json_a_client_could_mean_get_400_with_a_code(
    api: Api,
) -> None:
    token = await api.staff_token()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deep_variables = '{"a":' * 5000 + "1" + "}" * 5000
    for body in (
        '{"query": "{ viewer { name } }", "variables": {"x": ' + deep_variables + "}}",
        '{"query": "{ viewer { name } }", "variables": {"x": ' + "[" * 40 + "]" * 40 + "}}",
        "{oops",
        b"\xff\xfe{",
    ):
        response = await api.client.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST" and error["message"]
    ok = await api.client.post(
        "/graphql",
        content='{"query": "{ viewer { name } }", "variables": {"x": [[[[1]]]]}}',
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["data"]["viewer"]["name"]


async def test_the_draft_pdf_route_refuses_dates_outside_the_range_too(api: Api) -> None:
    customer = await make_customer(api.db)
    token = await api.staff_token()
    response = await api.client.get(
        "/crm/invoice-preview/pdf",
        params={"customerId": str(customer.id), "startDate": "2025-01-01", "endDate": "9999-12-31"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT" and RANGE in error["message"]
