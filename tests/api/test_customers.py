import pytest

from tests.helpers import Api, make_charge, make_customer, snapshot

CREATE = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) {
    customer { id name language address { addressLine1 addressLine2 city state zipCode country } contacts { name } }
    errors { code message field }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: CustomerInput!) {
  updateCustomer(id: $id, input: $input) { customer { id name language address { city } } errors { code field } }
}"""

ADD_CONTACT = """
mutation($id: ID!, $input: ContactInput!) {
  addContact(customerId: $id, input: $input) { customer { contacts { name email type } } errors { code field message } }
}"""


async def test_staff_create_a_customer_with_an_address(api: Api) -> None:
    data = await api.gql(
        CREATE,
        {
            "input": {
                "name": "  Compañía Andina  ",
                "language": "ES",
                "address": {
                    "addressLine1": "Av. Libertador 1450",
                    "city": "Buenos Aires",
                    "zipCode": "C1112",
                    "country": "Argentina",
                },
            }
        },
    )
    payload = data["createCustomer"]
    assert payload["errors"] == []
    assert payload["customer"]["name"] == "Compañía Andina"
    assert payload["customer"]["language"] == "es"
    assert payload["customer"]["address"] == {
        "addressLine1": "Av. Libertador 1450",
        "addressLine2": None,
        "city": "Buenos Aires",
        "state": None,
        "zipCode": "C1112",
        "country": "Argentina",
    }
    fetched = await api.gql(
        "query($id: ID!) { customer(id: $id) { name } }", {"id": payload["customer"]["id"]}
    )
    assert fetched["customer"]["name"] == "Compañía Andina"


async def test_language_defaults_to_the_business_default(api: Api) -> None:
    payload = (await api.gql(CREATE, {"input": {"name": "Plain"}}))["createCustomer"]
    assert payload["customer"]["language"] == "en" and payload["customer"]["address"] is None


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "language": "english"}, "language"),
        ({"name": "Ok", "address": {"zipCode": "1" * 21}}, "address.zipCode"),
    ],
)
async def test_invalid_customer_input_is_refused_and_nothing_changes(
    api: Api, input: dict, field: str
) -> None:
    before = await snapshot(api.db)
    payload = (await api.gql(CREATE, {"input": input}))["createCustomer"]
    assert payload["customer"] is None
    assert (
        payload["errors"][0]["code"] == "INVALID_INPUT" and payload["errors"][0]["field"] == field
    )
    assert await snapshot(api.db) == before


async def test_update_replaces_given_fields_and_keeps_the_language_when_omitted(api: Api) -> None:
    customer = await make_customer(api.db, "Old", language="es")
    payload = (
        await api.gql(
            UPDATE, {"id": str(customer.id), "input": {"name": "New", "address": {"city": "Perth"}}}
        )
    )["updateCustomer"]
    assert payload["errors"] == []
    assert payload["customer"] == {
        "id": str(customer.id),
        "name": "New",
        "language": "es",
        "address": {"city": "Perth"},
    }


async def test_updating_a_missing_customer_is_not_found(api: Api) -> None:
    for missing in ("999999", "abc"):
        payload = (await api.gql(UPDATE, {"id": missing, "input": {"name": "X"}}))["updateCustomer"]
        assert payload["errors"][0]["code"] == "NOT_FOUND" and payload["errors"][0]["field"] == "id"


async def test_contacts_are_added_with_their_type(api: Api) -> None:
    customer = await make_customer(api.db)
    for email, kind in (("ap@acme.example", "BILLING"), ("boss@acme.example", "PRIMARY")):
        payload = (
            await api.gql(
                ADD_CONTACT,
                {"id": str(customer.id), "input": {"name": "N", "email": email, "type": kind}},
            )
        )["addContact"]
        assert payload["errors"] == []
    assert [c["type"] for c in payload["customer"]["contacts"]] == ["BILLING", "PRIMARY"]


async def test_a_bad_email_is_refused(api: Api) -> None:
    customer = await make_customer(api.db)
    before = await snapshot(api.db)
    payload = (
        await api.gql(
            ADD_CONTACT,
            {
                "id": str(customer.id),
                "input": {"name": "N", "email": "not-an-email", "type": "OTHER"},
            },
        )
    )["addContact"]
    assert (
        payload["errors"][0]["code"] == "INVALID_INPUT" and payload["errors"][0]["field"] == "email"
    )
    assert await snapshot(api.db) == before


async def test_customers_are_searched_by_name_and_paged(api: Api) -> None:
    for name in ("Acme North", "Acme South", "Globex", "ACME West", "Initech"):
        await make_customer(api.db, name)
    query = "query($s: String, $p: Int!, $n: Int!) { customers(search: $s, page: $p, perPage: $n) { items { name } totalCount page perPage totalPages } }"
    first = (await api.gql(query, {"s": "acme", "p": 1, "n": 2}))["customers"]
    assert first["totalCount"] == 3 and first["totalPages"] == 2 and first["perPage"] == 2
    second = (await api.gql(query, {"s": "acme", "p": 2, "n": 2}))["customers"]
    names = [c["name"] for c in first["items"] + second["items"]]
    assert sorted(names) == ["ACME West", "Acme North", "Acme South"]
    assert (await api.gql(query, {"s": "100%", "p": 1, "n": 10}))["customers"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("page", "per_page", "field"), [(1, 0, "perPage"), (1, 101, "perPage"), (0, 25, "page")]
)
async def test_page_arguments_out_of_range_are_refused(
    api: Api, page: int, per_page: int, field: str
) -> None:
    errors = await api.gql_errors(
        "query($p: Int!, $n: Int!) { customers(page: $p, perPage: $n) { totalCount } }",
        {"p": page, "n": per_page},
    )
    assert errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": field}


async def test_customers_and_their_charges_are_found_whatever_the_case_and_accents(
    api: Api,
) -> None:
    café = await make_customer(api.db, "Café Ñandú")
    await make_customer(api.db, "Cafeteria Central")
    await make_charge(api.db, café.id, "5.00", title="Crème brûlée")
    customers = "query($s: String) { customers(search: $s) { items { name } } }"
    for term in ("Cafe", "café", "CAFÉ"):
        found = (await api.gql(customers, {"s": term}))["customers"]["items"]
        assert sorted(c["name"] for c in found) == ["Cafeteria Central", "Café Ñandú"], term
    assert [
        c["name"] for c in (await api.gql(customers, {"s": "nandu"}))["customers"]["items"]
    ] == ["Café Ñandú"]
    charges = "query($s: String) { transactions(filter: {search: $s}) { items { title } } }"
    for term in ("creme brulee", "CRÈME"):
        found = (await api.gql(charges, {"s": term}))["transactions"]["items"]
        assert [t["title"] for t in found] == ["Crème brûlée"], term


@pytest.mark.parametrize("field", ["customers", "transactions"])
async def test_customers_and_transactions_page_by_cursor_as_by_number(api: Api, field: str) -> None:
    for index in range(7):
        customer = await make_customer(api.db, f"Customer {index % 3}")  # repeated names
        await make_charge(api.db, customer.id, "1.00")  # same moment: ties broken by id
    by_number, page = [], 1
    while True:
        found = (
            await api.gql(
                f"query($p: Int!) {{ {field}(page: $p, perPage: 3) {{ items {{ id }} hasNextPage }} }}",
                {"p": page},
            )
        )[field]
        by_number += [item["id"] for item in found["items"]]
        if not found["hasNextPage"]:
            break
        page += 1
    by_cursor, after = [], None
    while True:
        found = (
            await api.gql(
                f"query($a: String) {{ {field}(after: $a, perPage: 3) {{ items {{ id }} hasNextPage endCursor }} }}",
                {"a": after},
            )
        )[field]
        by_cursor += [item["id"] for item in found["items"]]
        if not found["hasNextPage"]:
            break
        after = found["endCursor"]
    assert len(by_number) == 7 and by_cursor == by_number
    errors = await api.gql_errors(f'query {{ {field}(after: "bm9wZQ") {{ totalCount }} }}')
    assert errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": "after"}
