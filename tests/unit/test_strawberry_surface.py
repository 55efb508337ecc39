"""What graph/query_budget.py and graph/schema.py rely on in Strawberry and graphql-core,
pinned: a release that moves any of it fails here, by name, rather than letting the cost
budget or the validation cache stop working silently."""

from dataclasses import fields

import graphql
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from graph.query_budget import DocumentMemory, OffLoopDocuments
from graph.schema import build_schema


def test_the_schema_hands_out_graphql_cores_schema_it_validates_against() -> None:
    schema = build_schema()
    assert isinstance(schema.graphql_schema, graphql.GraphQLSchema)  # type: ignore[attr-defined]
    assert schema.graphql_schema.query_type is not None  # type: ignore[attr-defined]


def test_the_extension_points_used_are_strawberrys_public_ones() -> None:
    assert issubclass(OffLoopDocuments, SchemaExtension)
    for hook in ("on_parse", "on_validate"):
        assert callable(getattr(SchemaExtension, hook))
    assert AddValidationRules and MaxTokensLimiter
    for limiter in (QueryDepthLimiter(max_depth=3), MaxAliasesLimiter(max_alias_count=3)):
        assert all(issubclass(rule, graphql.ASTValidationRule) for rule in limiter.validation_rules)
    for rule in (MaybeNullValidationRule, OneOfInputValidationRule):
        assert issubclass(rule, graphql.ASTValidationRule)


def test_the_execution_context_still_carries_what_the_budget_reads_and_sets() -> None:
    names = {field.name for field in fields(ExecutionContext)}
    assert {
        "query",
        "schema",
        "context",
        "variables",
        "parse_options",
        "graphql_document",
        "pre_execution_errors",
        "validation_rules",
    } <= names
    assert isinstance(ExecutionContext.operation_name, property)


def test_each_schema_remembers_documents_of_its_own() -> None:
    first, second = DocumentMemory(), DocumentMemory()
    first.parsed.put("key", "document")
    assert second.parsed.get("key") is None and first.parsed.get("key") == "document"
