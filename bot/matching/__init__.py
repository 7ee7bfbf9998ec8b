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
from .help import QUERY_SYNTAX_HELP
from .near_misses import NearMiss, NearMissGroup, NearMisses, find_near_misses
from .query import Query, QueryLimits, QuerySyntaxError, parse_query, query_from_keywords
from .tokens import readable_text

__all__ = [
    "CompiledMatcher",
    "Explanation",
    "FIELD_WEIGHTS",
    "NearMiss",
    "NearMissGroup",
    "NearMisses",
    "QUERY_SYNTAX_HELP",
    "Query",
    "QueryLimits",
    "QuerySyntaxError",
    "Subscription",
    "TermReport",
    "compile_subscriptions",
    "field_text",
    "find_near_misses",
    "parse_query",
    "query_from_keywords",
    "readable_text",
]
