"""A CUSTOMER token sees only its own customer: others behave as if they did not exist."""

import pytest

from tests.helpers import Api, make_charge, make_customer, snapshot


@pytest.fixture
async def two_customers(api: Api):
    mine = await make_customer(api.db, "Mine Ltd")
    theirs = await make_customer(api.db, "Theirs Ltd")
    my_charge = await make_charge(api.db, mine.id, title="my charge")
    their_charge = await make_charge(api.db, theirs.id, title="their charge")
    token = await api.customer_token(mine.id)
    return mine, theirs, my_charge, their_charge, token


async def test_other_customers_resolve_to_null_and_are_absent_from_lists(
    api: Api, two_customers
) -> None:
    mine, theirs, _, _, token = two_customers
    data = await api.gql(
        "query($m: ID!, $t: ID!) { mine: customer(id: $m) { name } theirs: customer(id: $t) { name }"
        " customers { totalCount items { name } } }",
        {"m": str(mine.id), "t": str(theirs.id)},
        token=token,
    )
    assert data == {
        "mine": {"name": "Mine Ltd"},
        "theirs": None,
        "customers": {"totalCount": 1, "items": [{"name": "Mine Ltd"}]},
    }


async def test_other_customers_transactions_are_invisible(api: Api, two_customers) -> None:
    mine, theirs, my_charge, their_charge, token = two_customers
    data = await api.gql(
        "query($m: ID!, $t: ID!, $c: ID!) { mine: transaction(id: $m) { title } theirs: transaction(id: $t) { title }"
        " all: transactions { totalCount items { title } } filtered: transactions(filter: {customerId: $c}) { totalCount } }",
        {"m": str(my_charge.id), "t": str(their_charge.id), "c": str(theirs.id)},
        token=token,
    )
    assert data["mine"] == {"title": "my charge"} and data["theirs"] is None
    assert data["all"] == {"totalCount": 1, "items": [{"title": "my charge"}]}
    assert data["filtered"] == {"totalCount": 0}


async def test_staff_only_mutations_answer_forbidden_and_change_nothing(
    api: Api, two_customers
) -> None:
    mine, _, my_charge, _, token = two_customers
    before = await snapshot(api.db)
    mutations = {
        "createCustomer": 'mutation { createCustomer(input: {name: "X"}) { errors { code } } }',
        "updateCustomer": f'mutation {{ updateCustomer(id: "{mine.id}", input: {{name: "X"}}) {{ errors {{ code }} }} }}',
        "addContact": f'mutation {{ addContact(customerId: "{mine.id}", input: {{name: "a", email: "a@b.co", type: OTHER}}) {{ errors {{ code }} }} }}',
        "createProduct": 'mutation { createProduct(input: {name: "X", taxPercentage: "1"}) { errors { code } } }',
        "createTransaction": f'mutation {{ createTransaction(input: {{customerId: "{mine.id}", title: "x", retailCost: "1"}}) {{ errors {{ code }} }} }}',
        "updateTransaction": f'mutation {{ updateTransaction(id: "{my_charge.id}", input: {{title: "x"}}) {{ errors {{ code }} }} }}',
        "deleteTransaction": f'mutation {{ deleteTransaction(id: "{my_charge.id}") {{ errors {{ code }} }} }}',
    }
    for name, mutation in mutations.items():
        data = await api.gql(mutation, token=token)
        assert data[name]["errors"] == [{"code": "FORBIDDEN"}], name
    assert await snapshot(api.db) == before


async def test_nested_customer_fields_stay_within_the_viewer(api: Api, two_customers) -> None:
    mine, theirs, _, _, token = two_customers
    data = await api.gql(
        "query($t: ID!) { viewer { customer { name unbilledTransactions { title } } }"
        " theirs: customer(id: $t) { unbilledTransactions { title } } }",
        {"t": str(theirs.id)},
        token=token,
    )
    assert data["viewer"]["customer"] == {
        "name": "Mine Ltd",
        "unbilledTransactions": [{"title": "my charge"}],
    }
    assert data["theirs"] is None
