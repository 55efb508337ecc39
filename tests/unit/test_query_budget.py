"""The query budget read off the text refuses only what the parsed document's budget
refuses: no real request is turned away by the cheap check before parsing."""

import graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from graph.query_budget import over_budget, over_budget_in_text
from graph.schema import SCHEMA_FILE

HOSTILE = "{ viewer { customer { " + " ".join(["invoices { items { id } }"] * 490) + " } } }"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    query=queries(SCHEMA_FILE.read_text(), print_ast=graphql.print_ast),
    max_selections=st.integers(1, 6),
    max_fields=st.integers(1, 40),
)
def test_what_the_text_check_refuses_the_parsed_check_refuses_too(
    query: str, max_selections: int, max_fields: int
) -> None:
    in_text = over_budget_in_text(query, max_selections, max_fields)
    if in_text is not None:
        assert over_budget(graphql.parse(query), max_selections, max_fields) is not None


def test_the_hostile_document_is_refused_before_it_is_parsed() -> None:
    assert over_budget_in_text(HOSTILE, 100, 1000) == (
        "A selection set may hold at most 100 selections."
    )


def test_braces_and_names_inside_arguments_and_strings_are_not_selections() -> None:
    query = (
        'query Q($s: String = "{ { {") { customers(search: "{ a b \\" c { d", page: 1)'
        " { totalCount } a: viewer { name } ...F ... on Query { products { id } } }"
        " fragment F on Query { products { id } }"
    )
    assert over_budget_in_text(query, 4, 100) is None
    assert over_budget_in_text(query, 3, 100) is not None  # four selections at the root
    assert (
        over_budget_in_text('{ customers(search: """ { a b c """) { totalCount } }', 1, 2) is None
    )
