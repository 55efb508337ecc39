from datetime import UTC, datetime

import pytest

from tests.domain.test_transactions import _bill
from tests.helpers import Api, make_charge, make_customer, make_product, snapshot

CREATE = """
mutation($input: TransactionInput!) {
  createTransaction(input: $input) {
    transaction { id kind title description retailCost taxPercentage taxAmount createdAt customer { name } product { name } }
    errors { code message field }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: TransactionUpdateInput!) {
  updateTransaction(id: $id, input: $input) { transaction { title retailCost taxPercentage taxAmount } errors { code field message } }
}"""

DELETE = "mutation($id: ID!) { deleteTransaction(id: $id) { deletedId errors { code field } } }"

LIST = """
query($f: TransactionFilter, $p: Int!, $n: Int!) {
  transactions(filter: $f, page: $p, perPage: $n) { items { id title } totalCount totalPages }
}"""


async def test_a_charge_is_created_with_the_products_tax(api: Api) -> None:
    customer = await make_customer(api.db, "Globex")
    product = await make_product(api.db, "Internet", tax="21")
    payload = (
        await api.gql(
            CREATE,
            {
                "input": {
                    "customerId": str(customer.id),
                    "productId": str(product.id),
                    "title": "Internet Jan",
                    "retailCost": "59.99",
                    "createdAt": "2025-01-15T10:00:00+11:00",
                }
            },
        )
    )["createTransaction"]
    assert payload["errors"] == []
    row = payload["transaction"]
    assert row["kind"] == "CHARGE" and row["description"] == ""
    assert (row["retailCost"], row["taxPercentage"], row["taxAmount"]) == (
        "59.99",
        "21.00",
        "12.60",
    )
    assert row["createdAt"] == "2025-01-14T23:00:00.000Z"  # UTC, Z, milliseconds: always
    assert row["customer"] == {"name": "Globex"} and row["product"] == {"name": "Internet"}


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"retailCost": "0"}, "INVALID_INPUT", "retailCost"),
        ({"retailCost": "1.234"}, "INVALID_INPUT", "retailCost"),
        ({"taxPercentage": "101"}, "INVALID_INPUT", "taxPercentage"),
        ({"title": ""}, "INVALID_INPUT", "title"),
        ({"customerId": "424242"}, "NOT_FOUND", "customerId"),
        ({"customerId": "x"}, "NOT_FOUND", "customerId"),
        ({"productId": "424242"}, "NOT_FOUND", "productId"),
    ],
)
async def test_wrong_input_names_the_field_and_writes_nothing(
    api: Api, changes: dict, code: str, field: str
) -> None:
    customer = await make_customer(api.db)
    before = await snapshot(api.db)
    given = {"customerId": str(customer.id), "title": "Charge", "retailCost": "10.00", **changes}
    payload = (await api.gql(CREATE, {"input": given}))["createTransaction"]
    assert payload["transaction"] is None
    assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field)
    assert await snapshot(api.db) == before


async def test_money_that_is_not_a_number_is_a_graphql_error(api: Api) -> None:
    customer = await make_customer(api.db)
    before = await snapshot(api.db)
    errors = await api.gql_errors(
        CREATE, {"input": {"customerId": str(customer.id), "title": "x", "retailCost": "ten"}}
    )
    assert "Decimal" in errors[0]["message"]
    assert await snapshot(api.db) == before


async def test_payment_kinds_cannot_be_created_directly(api: Api) -> None:
    errors = await api.gql_errors(
        'mutation { createTransaction(input: {customerId: "1", title: "x", retailCost: "1", kind: PAYMENT}) { errors { code } } }'
    )
    assert "kind" in errors[0]["message"]


async def test_an_unbilled_charge_can_be_updated_and_deleted(api: Api) -> None:
    customer = await make_customer(api.db)
    row = await make_charge(api.db, customer.id, "10", tax="10")
    updated = (
        await api.gql(
            UPDATE, {"id": str(row.id), "input": {"title": "Fixed", "retailCost": "12.50"}}
        )
    )["updateTransaction"]
    assert updated == {
        "transaction": {
            "title": "Fixed",
            "retailCost": "12.50",
            "taxPercentage": "10.00",
            "taxAmount": "1.25",
        },
        "errors": [],
    }
    deleted = (await api.gql(DELETE, {"id": str(row.id)}))["deleteTransaction"]
    assert deleted == {"deletedId": str(row.id), "errors": []}
    assert (await api.gql("query($id: ID!) { transaction(id: $id) { id } }", {"id": str(row.id)}))[
        "transaction"
    ] is None


async def test_a_billed_charge_answers_transaction_billed_and_stays(api: Api) -> None:
    customer = await make_customer(api.db)
    row = await make_charge(api.db, customer.id, "10")
    await _bill(api.db, row)
    before = await snapshot(api.db)
    updated = (await api.gql(UPDATE, {"id": str(row.id), "input": {"retailCost": "1.00"}}))[
        "updateTransaction"
    ]
    deleted = (await api.gql(DELETE, {"id": str(row.id)}))["deleteTransaction"]
    assert updated["errors"][0]["code"] == deleted["errors"][0]["code"] == "TRANSACTION_BILLED"
    assert await snapshot(api.db) == before


async def test_missing_transactions_are_not_found(api: Api) -> None:
    updated = (await api.gql(UPDATE, {"id": "99999", "input": {"title": "x"}}))["updateTransaction"]
    deleted = (await api.gql(DELETE, {"id": "nope"}))["deleteTransaction"]
    assert updated["errors"][0]["code"] == deleted["errors"][0]["code"] == "NOT_FOUND"


async def test_transactions_filter_by_customer_billing_dates_and_search(api: Api) -> None:
    acme = await make_customer(api.db, "Acme")
    globex = await make_customer(api.db, "Globex")
    jan = datetime(2025, 1, 10, tzinfo=UTC)
    feb = datetime(2025, 2, 10, tzinfo=UTC)
    billed = await make_charge(api.db, acme.id, title="Mobile January", created_at=jan)
    await _bill(api.db, billed)
    acme_feb = await make_charge(api.db, acme.id, title="Internet February", created_at=feb)
    globex_jan = await make_charge(api.db, globex.id, title="Mobile 50% off", created_at=jan)

    async def ids(filter: dict) -> list[int]:
        page = (await api.gql(LIST, {"f": filter, "p": 1, "n": 100}))["transactions"]
        return sorted(int(item["id"]) for item in page["items"])

    assert await ids({"customerId": str(acme.id)}) == sorted([billed.id, acme_feb.id])
    assert await ids({"billed": True}) == [billed.id]
    assert await ids({"billed": False}) == sorted([acme_feb.id, globex_jan.id])
    assert await ids({"startDate": "2025-01-01", "endDate": "2025-01-31"}) == sorted(
        [billed.id, globex_jan.id]
    )
    assert await ids({"search": "mobile"}) == sorted([billed.id, globex_jan.id])
    assert await ids({"search": "50%"}) == [globex_jan.id]
    # An id matches that transaction, and any whose text holds the same digits ("50%").
    by_id = sorted(
        [acme_feb.id] + ([globex_jan.id] if str(acme_feb.id) in "Mobile 50% off" else [])
    )
    assert await ids({"search": str(acme_feb.id)}) == by_id
    assert await ids({"customerId": "garbage"}) == []


async def test_transactions_are_newest_first_and_paged(api: Api) -> None:
    customer = await make_customer(api.db)
    made = [
        await make_charge(api.db, customer.id, created_at=datetime(2025, 1, day, tzinfo=UTC))
        for day in (3, 1, 2)
    ]
    page = (await api.gql(LIST, {"f": None, "p": 1, "n": 2}))["transactions"]
    assert [int(i["id"]) for i in page["items"]] == [made[0].id, made[2].id]
    assert (page["totalCount"], page["totalPages"]) == (3, 2)


async def test_a_start_after_the_end_is_refused(api: Api) -> None:
    errors = await api.gql_errors(
        LIST, {"f": {"startDate": "2025-02-01", "endDate": "2025-01-01"}, "p": 1, "n": 10}
    )
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"


async def test_unbilled_transactions_of_a_customer(api: Api) -> None:
    customer = await make_customer(api.db)
    billed = await make_charge(api.db, customer.id, created_at=datetime(2025, 1, 5, tzinfo=UTC))
    await _bill(api.db, billed)
    early = await make_charge(api.db, customer.id, created_at=datetime(2025, 1, 6, tzinfo=UTC))
    late = await make_charge(api.db, customer.id, created_at=datetime(2025, 3, 1, tzinfo=UTC))
    query = "query($id: ID!, $s: Date, $e: Date) { customer(id: $id) { unbilledTransactions(startDate: $s, endDate: $e) { id } } }"
    everything = (await api.gql(query, {"id": str(customer.id)}))["customer"][
        "unbilledTransactions"
    ]
    assert [int(t["id"]) for t in everything] == [early.id, late.id]
    january = (
        await api.gql(query, {"id": str(customer.id), "s": "2025-01-01", "e": "2025-01-31"})
    )["customer"]
    assert [int(t["id"]) for t in january["unbilledTransactions"]] == [early.id]


async def test_products_are_listed_and_created_with_valid_tax(api: Api) -> None:
    create = "mutation($i: ProductInput!) { createProduct(input: $i) { product { id name taxPercentage } errors { code field } } }"
    made = (await api.gql(create, {"i": {"name": "VoIP", "taxPercentage": "10"}}))["createProduct"]
    assert made["errors"] == [] and made["product"]["taxPercentage"] == "10.00"
    refused = (await api.gql(create, {"i": {"name": "Bad", "taxPercentage": "150"}}))[
        "createProduct"
    ]
    assert refused["errors"] == [{"code": "INVALID_INPUT", "field": "taxPercentage"}]
    listed = await api.gql(
        "query($id: ID!) { products { name } product(id: $id) { name } }",
        {"id": made["product"]["id"]},
    )
    assert listed == {"products": [{"name": "VoIP"}], "product": {"name": "VoIP"}}
