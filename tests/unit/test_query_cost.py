"""What a document costs to answer, read off the document and the schema: each field once
per value it returns, a page by its size, other lists by a guess."""

from __future__ import annotations

import pytest
from graphql import parse

from graph.query_cost import LIST_GUESS, cost_of
from graph.schema import build_schema

SCHEMA = build_schema().graphql_schema  # type: ignore[attr-defined]


def cost(document: str, variables: dict | None = None, name: str | None = None) -> int:
    return cost_of(SCHEMA, parse(document), name, variables)


def test_a_scalar_costs_one_and_an_object_costs_itself_and_its_fields() -> None:
    assert cost("{ __typename }") == 1
    assert cost("{ viewer { role name } }") == 3


def test_a_page_multiplies_what_it_holds_by_its_size() -> None:
    # the page (1), its 100 items (100), an id for each (100)
    assert cost("{ invoices(perPage: 100) { items { id } } }") == 201
    assert cost("{ invoices { items { id } } }") == 1 + 25 + 25  # perPage's default


def test_a_page_size_sent_as_a_variable_counts_as_sent_and_is_capped() -> None:
    query = "query($n: Int!) { invoices(perPage: $n) { items { id } } }"
    assert cost(query, {"n": 10}) == 21
    assert cost(query, {"n": 10**9}) == cost(query, {"n": 100})
    assert cost(query, {}) == 201  # unknown: the largest page


def test_a_list_without_a_page_size_counts_as_a_guess() -> None:
    one_invoice = cost("{ invoice(id: 1) { id lines { title } } }")
    assert one_invoice == 1 + 1 + LIST_GUESS + LIST_GUESS


def test_aliases_fragments_and_inline_fragments_all_count() -> None:
    plain = cost("{ invoices(perPage: 10) { items { id number } } }")
    aliased = cost(
        "{ a: invoices(perPage: 10) { items { id number } } b: invoices(perPage: 10) { items { id number } } }"
    )
    assert aliased == 2 * plain
    spread = cost(
        "query { invoices(perPage: 10) { items { ...F } } } fragment F on Invoice { id number }"
    )
    inline = cost("{ invoices(perPage: 10) { items { ... on Invoice { id number } } } }")
    assert spread == inline == plain


def test_the_named_operation_is_the_one_costed() -> None:
    document = "query A { viewer { role } } query B { invoices(perPage: 100) { items { id } } }"
    assert cost(document, name="A") == 2
    assert cost(document, name="B") == 201
    assert cost(document, name="C") == 0  # no such operation: validation says so


@pytest.mark.parametrize("pages", [1, 29])
def test_the_hostile_page_grows_with_its_aliases(pages: int) -> None:
    fields = "id number customer { name } events { kind } lines { title retailCost }"
    query = " ".join(
        f"a{n}: invoices(perPage: 100) {{ items {{ {fields} }} }}" for n in range(pages)
    )
    per_page = 1 + 100 * (1 + 2 + 2 + (LIST_GUESS * 2) + (LIST_GUESS * 3))
    assert cost("{ " + query + " }") == pages * per_page


def test_introspection_costs_its_fields_once_whatever_its_lists() -> None:
    """GraphiQL's and codegen's full introspection answers with the schema, not data: it
    stays far within the budget (its nested lists would be guessed at 53,000 values)."""
    from graphql import get_introspection_query

    full = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert cost(full, name="IntrospectionQuery") < 500
    # __type, name, fields and its name: four fields, once each
    assert cost('{ __type(name: "Invoice") { name fields { name } } }') == 4
