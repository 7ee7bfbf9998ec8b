"""The subscription query language: parsing, limits, canonical description (DESIGN.md §4).

Grammar (NOT binds tightest, then AND, then OR and the comma):

    query    := or_expr
    or_expr  := and_expr (("," | "OR") and_expr)*
    and_expr := unary (["AND"] unary | "NOT" unary)*     adjacency is AND; "a NOT b" = a AND NOT b
    unary    := ("NOT" | "-") unary | primary
    primary  := "(" or_expr ")" | [field] ('"phrase"' | word word ...)
    field    := ti: | abs: | au: | cat: | primary:

Operators are upper case (`AND`, `OR`, `NOT`); lower-case "and" is an ordinary word, so
`vision and language` is one phrase, and the parsed Query carries a note saying so and suggesting
the operator (`Query.notes`). Adjacent unquoted words form one phrase; a field applies to the
phrase (or quoted phrase) after it, `cat:`/`primary:` to one category or archive name. A word
ending in `*` is a prefix (`robot*`: robot, robots, robotic), at least MIN_PREFIX_LETTERS long and
not so short that it would cover more than MAX_PREFIX_EXPANSIONS dictionary words.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field as dc_field
from typing import Iterable, Sequence, Union

from bot.taxonomy import ARCHIVES, CATEGORIES, canonical_category, is_known_category

from .forms import MAX_PREFIX_EXPANSIONS, MIN_PREFIX_LETTERS, prefix_expansions
from .tokens import term_tokens

TEXT_FIELDS = ("ti", "abs", "au")
CATEGORY_FIELDS = ("cat", "primary")
FIELDS = TEXT_FIELDS + CATEGORY_FIELDS
_OPERATORS = ("AND", "OR", "NOT")
_OPEN_QUOTES = '"\u201c\u201d\u201e'
_CLOSE_QUOTES = '"\u201c\u201d'
_WORD_STOP = set('(),') | set(_OPEN_QUOTES)


class QuerySyntaxError(ValueError):
    """A query that cannot be read; the text says where (1-based column) and why."""

    def __init__(self, message: str, column: int | None = None, hint: str | None = None):
        self.message = message
        self.column = column
        self.hint = hint
        text = message if column is None else f"{message} at column {column}"
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)

    def pointer(self, query: str) -> str:
        """The query with a caret under the offending column, for a monospace chat reply."""
        if self.column is None:
            return query
        return f"{query}\n{' ' * (self.column - 1)}^"


@dataclass(frozen=True)
class QueryLimits:
    """Bounds on what users may type (configuration `limits.query_*`)."""

    max_length: int = 500
    max_terms: int = 50
    max_depth: int = 10

    @classmethod
    def from_settings(cls, limits) -> "QueryLimits":
        """From `bot.config.LimitSettings` (query_length, query_terms, query_depth)."""
        return cls(limits.query_length, limits.query_terms, limits.query_depth)


# --- the syntax tree --------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A leaf: a word or phrase (`field` None = title and abstract), an author, or a category."""

    text: str
    field: str | None = None
    column: int = dc_field(default=0, compare=False)

    def describe(self) -> str:
        prefix = f"{self.field}:" if self.field else ""
        return prefix + _quote_if_needed(self.text)


@dataclass(frozen=True)
class Not:
    child: "Node"


@dataclass(frozen=True)
class And:
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    children: tuple["Node", ...]


Node = Union[Term, Not, And, Or]

_BARE_WORD = re.compile(r"[\w][\w.\-+']*\*?\Z")


def _quote_if_needed(text: str) -> str:
    if _BARE_WORD.match(text) and text not in _OPERATORS and ":" not in text:
        return text
    for quote in _OPEN_QUOTES:
        text = text.replace(quote, " ")
    return '"' + " ".join(text.split()) + '"'


def describe_node(node: Node, nested: bool = False) -> str:
    """Canonical text: operators spelled out, every mixed group in parentheses."""
    if isinstance(node, Term):
        return node.describe()
    if isinstance(node, Not):
        if isinstance(node.child, Term):
            return "NOT " + node.child.describe()
        inner = describe_node(node.child)
        return f"NOT ({inner})"
    joiner = " AND " if isinstance(node, And) else " OR "
    text = joiner.join(describe_node(child, nested=True) for child in node.children)
    return f"({text})" if nested else text


def iter_terms(node: Node, negated: bool = False) -> Iterable[tuple[Term, bool]]:
    """Every leaf with whether it sits under an odd number of NOTs."""
    if isinstance(node, Term):
        yield node, negated
    elif isinstance(node, Not):
        yield from iter_terms(node.child, not negated)
    else:
        for child in node.children:
            yield from iter_terms(child, negated)


def evaluate(node: Node, is_hit) -> bool:
    """Truth of the tree given a predicate on leaves."""
    if isinstance(node, Term):
        return is_hit(node)
    if isinstance(node, Not):
        return not evaluate(node.child, is_hit)
    if isinstance(node, And):
        return all(evaluate(child, is_hit) for child in node.children)
    return any(evaluate(child, is_hit) for child in node.children)


@dataclass(frozen=True)
class Query:
    """A parsed query. `source` is what was typed (or the keywords it came from)."""

    root: Node
    source: str = ""
    terms: tuple[Term, ...] = dc_field(default=(), compare=False)
    # How an ambiguous query was read, with the operator to write instead (shown with the reply)
    notes: tuple[str, ...] = dc_field(default=(), compare=False)

    def describe(self) -> str:
        """How the query was read, in canonical form (for the `/papers subscribe` reply)."""
        return describe_node(self.root)

    @property
    def positive_terms(self) -> tuple[Term, ...]:
        return tuple(dict.fromkeys(t for t, negated in iter_terms(self.root) if not negated))

    @property
    def negative_terms(self) -> tuple[Term, ...]:
        return tuple(dict.fromkeys(t for t, negated in iter_terms(self.root) if negated))

    def __str__(self) -> str:
        return self.describe()


def _make_query(root: Node, source: str, notes: Sequence[str] = ()) -> Query:
    if evaluate(root, lambda term: False):
        # Nothing the query looks for needs to be present: it would match the whole listing.
        raise QuerySyntaxError(
            f"the query matches papers by what they lack ({describe_node(root)}), so it would "
            "match almost the whole listing",
            1,
            "add a term to look for, e.g. diffusion -robot",
        )
    terms = tuple(dict.fromkeys(term for term, _ in iter_terms(root)))
    return Query(root=root, source=source, terms=terms,
                 notes=tuple(dict.fromkeys([*notes, *_precedence_notes(root)])))


_LOWER_OPERATORS = {"and": "AND", "or": "OR", "not": "NOT"}


def _operator_word_note(words: list[str]) -> str | None:
    """A note when a lower-case and/or/not sits between the words of an unquoted phrase."""
    inner = [w for w in words[1:-1] if w in _LOWER_OPERATORS]
    if not inner:
        return None
    phrase = " ".join(words)
    suggested = " ".join(_LOWER_OPERATORS.get(w, w) if 0 < i < len(words) - 1 else w
                         for i, w in enumerate(words))
    return (f'"{phrase}" is read as one phrase (these words, in this order); operators are '
            f"written in capitals, e.g. {suggested}")


def _precedence_notes(root: Node) -> list[str]:
    """A note when NOT, binding tighter than OR, excludes from the last alternative only:
    `VLM, "vision language model" NOT robot` keeps robot papers that say VLM."""
    if not isinstance(root, Or) or not isinstance(root.children[-1], And):
        return []
    last = root.children[-1]
    excluded = [c for c in last.children if isinstance(c, Not)]
    kept = [c for c in last.children if not isinstance(c, Not)]
    if not excluded or not kept:
        return []
    others = [describe_node(c, nested=True) for c in root.children[:-1]]
    alternative = describe_node(kept[0] if len(kept) == 1 else And(tuple(kept)), nested=True)
    exclusions = " ".join(describe_node(n) for n in excluded)
    return [f"{exclusions} applies only to {alternative}: NOT binds tighter than AND, and AND "
            f"tighter than OR and the comma; to exclude it from every alternative write "
            f"({', '.join([*others, alternative])}) {exclusions}"]


# --- lexer ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # WORD QUOTED FIELD LPAREN RPAREN COMMA MINUS AND OR NOT END
    text: str
    column: int


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        column = position + 1
        if char.isspace():
            position += 1
        elif char in "(),":
            kind = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}[char]
            tokens.append(_Token(kind, char, column))
            position += 1
        elif char in _OPEN_QUOTES:
            close = -1
            for index in range(position + 1, length):
                if text[index] in _CLOSE_QUOTES:
                    close = index
                    break
            if close < 0:
                raise QuerySyntaxError("the quote opened here is never closed", column)
            tokens.append(_Token("QUOTED", text[position + 1:close], column))
            position = close + 1
        elif char == "-":
            tokens.append(_Token("MINUS", "-", column))
            position += 1
        else:
            end = position
            while end < length and not text[end].isspace() and text[end] not in _WORD_STOP:
                end += 1
            word = text[position:end]
            field_match = re.match(r"([A-Za-z]+):", word)
            if field_match:
                name = field_match.group(1).lower()
                if name not in FIELDS:
                    raise QuerySyntaxError(
                        f'unknown field "{field_match.group(1)}:"', column,
                        "fields are ti:, abs:, au:, cat:, primary:; quote the words to search "
                        "for them as text",
                    )
                tokens.append(_Token("FIELD", name + ":", column))
                rest = word[field_match.end():]
                if rest:
                    tokens.append(_Token("WORD", rest, column + field_match.end()))
            elif word in _OPERATORS:
                tokens.append(_Token(word, word, column))
            else:
                tokens.append(_Token("WORD", word, column))
            position = end
    tokens.append(_Token("END", "", length + 1))
    return tokens


# --- parser -----------------------------------------------------------------------------------

_STARTS_OPERAND = ("WORD", "QUOTED", "FIELD", "LPAREN", "MINUS", "NOT")


class _Parser:
    def __init__(self, text: str, limits: QueryLimits):
        self.text = text
        self.limits = limits
        self.tokens = _lex(text)
        self.index = 0
        self.depth = 0
        self.term_count = 0
        self.notes: list[str] = []

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect_operand(self, after: _Token) -> None:
        if self.current.kind not in _STARTS_OPERAND:
            found = "the end of the query" if self.current.kind == "END" else f'"{self.current.text}"'
            raise QuerySyntaxError(f'expected a term after "{after.text}", found {found}',
                                   self.current.column)

    def parse(self) -> Node:
        if self.current.kind == "END":
            raise QuerySyntaxError("the query is empty", 1, 'try e.g. VLM, "vision language model"')
        node = self.parse_or()
        if self.current.kind == "RPAREN":
            raise QuerySyntaxError('unexpected ")" with no "(" open', self.current.column)
        if self.current.kind != "END":  # pragma: no cover - every other token continues an AND
            raise QuerySyntaxError(f'unexpected "{self.current.text}"', self.current.column)
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.current.kind in ("COMMA", "OR"):
            operator = self.advance()
            self.expect_operand(operator)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while True:
            kind = self.current.kind
            if kind == "AND":
                operator = self.advance()
                self.expect_operand(operator)
                children.append(self.parse_unary())
            elif kind in _STARTS_OPERAND:  # adjacency, `-term` and binary NOT all mean AND
                children.append(self.parse_unary())
            else:
                break
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        negations = 0
        while self.current.kind in ("NOT", "MINUS"):
            operator = self.advance()
            self.expect_operand(operator)
            negations += 1
        node = self.parse_primary()
        return Not(node) if negations % 2 else node

    def parse_primary(self) -> Node:
        token = self.current
        if token.kind == "LPAREN":
            self.advance()
            self.depth += 1
            if self.depth > self.limits.max_depth:
                raise QuerySyntaxError(
                    f"parentheses nested too deeply (the limit is {self.limits.max_depth})",
                    token.column)
            self.expect_operand(token)
            node = self.parse_or()
            if self.current.kind != "RPAREN":
                found = ("the end of the query" if self.current.kind == "END"
                         else f'"{self.current.text}"')
                raise QuerySyntaxError(
                    f'expected ")" to close the "(" of column {token.column}, found {found}',
                    self.current.column)
            self.advance()
            self.depth -= 1
            return node
        if token.kind == "FIELD":
            self.advance()
            name = token.text[:-1]
            value = self.current
            if value.kind == "QUOTED":
                self.advance()
                return self.make_term(value.text, name, token.column, value.column)
            if value.kind == "WORD":
                if name in CATEGORY_FIELDS:
                    self.advance()
                    return self.make_term(value.text, name, token.column, value.column)
                return self.make_term(self.word_run(), name, token.column, value.column)
            self.expect_operand(token)  # a FIELD or "(" after a field is not a term either
            raise QuerySyntaxError(f'expected a term right after "{token.text}"', value.column)
        if token.kind == "QUOTED":
            self.advance()
            return self.make_term(token.text, None, token.column, token.column)
        if token.kind == "WORD":
            return self.make_term(self.word_run(), None, token.column, token.column)
        if token.kind == "RPAREN":
            raise QuerySyntaxError('unexpected ")" where a term should be', token.column)
        if token.kind == "END":
            raise QuerySyntaxError("expected a term, found the end of the query", token.column)
        raise QuerySyntaxError(f'expected a term, found "{token.text}"', token.column)

    def word_run(self) -> str:
        words = []
        while self.current.kind == "WORD":
            words.append(self.advance().text)
        note = _operator_word_note(words)
        if note:
            self.notes.append(note)
        return " ".join(words)

    def make_term(self, text: str, field_name: str | None, column: int, text_column: int) -> Term:
        self.term_count += 1
        if self.term_count > self.limits.max_terms:
            raise QuerySyntaxError(f"too many terms (the limit is {self.limits.max_terms})", column)
        return make_term(text, field_name, column, text_column)


def make_term(text: str, field_name: str | None, column: int = 0, text_column: int = 0) -> Term:
    """A validated leaf: categories checked against the taxonomy, phrases must hold a word."""
    text = " ".join(text.split())
    if field_name in CATEGORY_FIELDS:
        name = canonical_category(text)
        if name is None and is_known_category(text.lower()):
            name = text.lower()
        if name is None:
            close = difflib.get_close_matches(text, sorted(CATEGORIES | ARCHIVES), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else "use an archive like cs or a category like cs.CV"
            raise QuerySyntaxError(f'unknown category "{text}" after "{field_name}:"', text_column, hint)
        return Term(name, field_name, column)
    if not text:
        raise QuerySyntaxError("empty quotes: expected a word or phrase inside", text_column)
    if not term_tokens(text):
        raise QuerySyntaxError(f'"{text}" has no letters or digits to search for', text_column)
    if "*" in text:
        _check_prefix(text, field_name, text_column)
    return Term(text, field_name, column)


def _check_prefix(text: str, field_name: str | None, column: int) -> None:
    """A prefix term: one `*`, at the end, after enough letters to be specific."""
    if field_name == "au":
        raise QuerySyntaxError(f'a prefix ("{text}") cannot be used with au:', column,
                               "write the family name in full, e.g. au:LeCun")
    if text.count("*") > 1 or not text.endswith("*") or text[-2:-1].isspace():
        raise QuerySyntaxError(f'"*" may only end the last word of a term, not as in "{text}"',
                               column, "e.g. robot* finds robot, robots, robotic, robotics")
    last = term_tokens(text)[-1][0]
    letters = sum(c.isalpha() for c in last)
    if letters < MIN_PREFIX_LETTERS:
        raise QuerySyntaxError(
            f'the prefix "{text}" is too short: give at least {MIN_PREFIX_LETTERS} letters '
            "before the *", column)
    if prefix_expansions(last) > MAX_PREFIX_EXPANSIONS:
        raise QuerySyntaxError(
            f'the prefix "{text}" is too broad: it starts more than {MAX_PREFIX_EXPANSIONS} '
            "different English words", column, "make the prefix longer or list the words")


def parse_query(text: str, limits: QueryLimits = QueryLimits()) -> Query:
    """Parse what a user typed; raises QuerySyntaxError saying where and why."""
    if not isinstance(text, str):
        raise QuerySyntaxError(f"a query is text, not {type(text).__name__}")
    if len(text) > limits.max_length:
        raise QuerySyntaxError(
            f"the query is too long: {len(text)} characters (the limit is {limits.max_length})",
            limits.max_length + 1)
    parser = _Parser(text, limits)
    root = parser.parse()
    return _make_query(root, text, parser.notes)


def query_from_keywords(keywords: Sequence[str | Sequence[str]],
                        filters: Sequence[str] = (),
                        limits: QueryLimits | None = None) -> Query:
    """The seed configuration form: each keyword item is a phrase (a string) or a list of phrases
    that must all be present; items are alternatives; every filter excludes.

    Phrases are taken literally (no query syntax). `limits` applies only its term count.
    """
    if isinstance(keywords, str):
        keywords = [keywords]
    alternatives: list[Node] = []
    for position, item in enumerate(keywords or (), start=1):
        if isinstance(item, str):
            alternatives.append(_keyword_term(item, position))
        elif isinstance(item, (list, tuple)) and item and all(isinstance(p, str) for p in item):
            parts = [_keyword_term(phrase, position) for phrase in item]
            alternatives.append(parts[0] if len(parts) == 1 else And(tuple(parts)))
        else:
            raise QuerySyntaxError(
                f"keyword {position} must be a phrase or a non-empty list of phrases, "
                f"not {item!r}")
    if not alternatives:
        raise QuerySyntaxError("keywords is empty: give at least one phrase to look for")
    root: Node = alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))
    if isinstance(filters, str):
        filters = [filters]
    exclusions = [Not(_keyword_term(phrase, position, "filter"))
                  for position, phrase in enumerate(filters or (), start=1)]
    if exclusions:
        root = And((root, *exclusions))
    source = describe_node(root)
    query = _make_query(root, source)
    if limits is not None and len(query.terms) > limits.max_terms:
        raise QuerySyntaxError(f"too many keywords and filters: {len(query.terms)} "
                               f"(the limit is {limits.max_terms})")
    return query


def _keyword_term(phrase, position: int, what: str = "keyword") -> Term:
    if not isinstance(phrase, str):
        raise QuerySyntaxError(f"{what} {position} must be text, not {phrase!r}")
    try:
        return make_term(phrase, None)
    except QuerySyntaxError as error:
        raise QuerySyntaxError(f"{what} {position}: {error.message}") from None
