"""Query language and compiled matcher (DESIGN.md §4)."""

from .matcher import (
    FIELD_WEIGHTS,
    CompiledMatcher,
    Explanation,
    Subscription,
    TermReport,
    compile_subscriptions,
    field_text,
)
from .query import Query, QueryLimits, QuerySyntaxError, parse_query, query_from_keywords

__all__ = [
    "CompiledMatcher",
    "Explanation",
    "FIELD_WEIGHTS",
    "Query",
    "QueryLimits",
    "QuerySyntaxError",
    "Subscription",
    "TermReport",
    "compile_subscriptions",
    "field_text",
    "parse_query",
    "query_from_keywords",
]
