"""Every error a client can get carries `extensions.code`, so it can tell a typo in its
document from a wrong variable from a business refusal without reading prose."""

import pytest

from tests.helpers import Api, make_customer


async def _codes(api: Api, query: str, variables: dict | None = None) -> list[str]:
    return [e["extensions"]["code"] for e in await api.gql_errors(query, variables or {})]


async def test_a_document_that_is_not_graphql_is_a_parse_failure(api: Api) -> None:
    assert await _codes(api, "{ customers { items { id }") == ["GRAPHQL_PARSE_FAILED"]


@pytest.mark.parametrize(
    "query",
    [
        "{ customers { items { nmae } } }",  # no such field
        "query($x: Int) { customers { totalCount } }",  # unused variable
        "{ customer(id: 1, colour: 2) { id } }",  # no such argument
        '{ customers(page: "one") { totalCount } }',  # a literal of the wrong type
    ],
)
async def test_a_document_the_schema_does_not_allow_is_a_validation_failure(
    api: Api, query: str
) -> None:
    assert set(await _codes(api, query)) == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize(
    ("variables", "word"),
    [({"p": "one"}, "non-integer"), ({}, "to be provided"), ({"p": None}, "not to be None")],
)
async def test_a_variable_of_the_wrong_shape_is_bad_user_input(
    api: Api, variables: dict, word: str
) -> None:
    errors = await api.gql_errors(
        "query($p: Int!) { customers(page: $p) { totalCount } }", variables
    )
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert word in errors[0]["message"]


async def test_business_refusals_keep_their_own_codes(api: Api) -> None:
    await make_customer(api.db)
    codes = await _codes(api, "{ customers(page: 0) { totalCount } }")
    assert codes == ["INVALID_INPUT"]


@pytest.mark.parametrize("field", ["customer", "product", "transaction", "invoice"])
@pytest.mark.parametrize("ident", ["999999", "abc", "-1"])
async def test_every_lookup_by_id_answers_null_for_what_is_not_there(
    api: Api, field: str, ident: str
) -> None:
    token = await api.staff_token()
    answer = await api.post(f'{{ {field}(id: "{ident}") {{ id }} }}', token=token)
    assert answer.json() == {"data": {field: None}}
