"""Term tables: each distinct term of every subscription compiled into automaton keys.

A key is a term in the papers' normalised form (folded tokens, single spaces) with a space on both
sides, so only whole tokens and whole phrases can hit (a prefix term `robot*` has no space after
it, so it hits any token that starts with it). One term compiles to several keys: its compounds
open and closed, British and American spellings, singular and plural forms of its last word
(see `forms`). A key may carry a check the automaton cannot do (capitals, camel-case glue, a given
name), run on the hits only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain, product, zip_longest
from typing import Sequence

from .forms import compound_splits, plural_forms, spellings
from .query import Term
from .tokens import is_capitalised, term_tokens

AUTHOR_START = "\x04"
AUTHOR_END = "\x05"
# Joins a term may have and still get every open/closed combination (2**n variants); beyond that
# only as written, all open and all closed.
MAX_CLOSABLE_JOINS = 3
# Keys one term may compile to (compounds x spellings x plural forms); the first ones are the
# forms as written.
MAX_KEYS_PER_TERM = 128
_LETTERS_OR_DIGITS = re.compile(r"[A-Za-z]+|[0-9]+")
_CAMEL_JOIN = re.compile(r"[a-z][A-Z]")

# Regions of a paper a term can search (see papers.PaperState.regions).
TITLE, ABSTRACT, AUTHORS = 0, 1, 2


class CompiledTerm:
    """One distinct (field, text) across all subscriptions, with its automaton keys."""

    __slots__ = ("id", "term", "display", "kind", "regions", "keys", "tokens", "category",
                 "users", "pid_checks", "plain_pids", "checked_pids")

    def __init__(self, term_id: int, term: Term):
        self.id = term_id
        self.term = term
        self.display = term.text
        self.users = 0
        self.keys: list[tuple[str, tuple | None]] = []  # (key, check) where check is per-key data
        self.pid_checks: list[tuple[int, tuple | None]] = []  # the same, keys as automaton ids
        # pid_checks split by whether a hit needs checking (set by the matcher with pid_checks)
        self.plain_pids: tuple[int, ...] = ()
        self.checked_pids: tuple[tuple[int, tuple], ...] = ()
        self.category = None
        if term.field in ("cat", "primary"):
            self.kind = term.field
            self.regions = ()
            self.category = term.text
            self.tokens = ()
            return
        parts = term_tokens(term.text)
        self.tokens = tuple(folded for folded, _, _ in parts)
        if term.field == "au":
            self.kind = "author"
            self.regions = (AUTHORS,)
            key = f" {self.tokens[-1]} {AUTHOR_END}"
            # One family-name token needs no check; more tokens may hold a given name.
            self.keys.append((key, None if len(self.tokens) == 1 else ("author",)))
            return
        self.kind = "text"
        self.regions = {None: (TITLE, ABSTRACT), "ti": (TITLE,), "abs": (ABSTRACT,)}[term.field]
        prefix = term.text.endswith("*")
        per_variant = []
        for tokens, closed in structural_variants(parts, prefix):
            capitals = tuple(is_capitalised(written) for _, written, _ in tokens)
            check = None
            if any(capitals) or any(closed):
                check = (capitals, tuple(closed), len(tokens[-1][0]) if prefix else 0)
            per_variant.append([(f" {' '.join(folded)}" + ("" if prefix else " "), check)
                                for folded in spelled_forms(tokens, capitals, prefix)])
        # in turn from each way of writing the compound, so the cap never drops one way whole
        keys: dict[str, tuple | None] = {}
        for key, check in filter(None, chain.from_iterable(zip_longest(*per_variant))):
            if key not in keys:
                if len(keys) >= MAX_KEYS_PER_TERM:
                    break
                keys[key] = check
            elif keys[key] is not None and check is None:
                keys[key] = None  # the same key without a check: the weaker check wins
        self.keys = list(keys.items())


def _atoms(parts: list[tuple[str, str, bool]]) -> tuple[list[tuple[str, str]], list[str]]:
    """A term's pieces (folded, written) and the joins between them: "space", "hyphen", or
    "digit" (letters meeting digits inside one word: GPT4 = GPT-4 = GPT 4)."""
    atoms: list[tuple[str, str]] = []
    joins: list[str] = []
    for index, (folded, written, hyphenated) in enumerate(parts):
        pieces = _LETTERS_OR_DIGITS.findall(written) if written.isascii() else []
        if len(pieces) > 1 and "".join(pieces) == written:
            for position, piece in enumerate(pieces):
                atoms.append((piece.lower(), piece))
                if position + 1 < len(pieces):
                    joins.append("digit")
        else:
            atoms.append((folded, written))
        if index + 1 < len(parts):
            joins.append("hyphen" if hyphenated else "space")
    return atoms, joins


def structural_variants(parts: list[tuple[str, str, bool]], prefix: bool = False
                        ) -> list[tuple[list[tuple[str, str, tuple[str, ...]]], list[bool]]]:
    """Token sequences a term matches, whichever way its compounds are written: pieces joined by
    spaces, hyphens or a letter-digit change may be open or closed (fine-tuning, fine tuning,
    finetuning; GPT-4, GPT4), and a closed word splits where it is two words (finetuning).

    Each variant is (tokens as (folded, written, the folded pieces it closes up), per token
    whether it closes a join of words,
    which the text must not write in camel case: "LanguageModel" is two words glued together, not
    the compound of "language model").
    """
    atoms, joins = _atoms(parts)
    if not atoms:
        return []
    count = len(joins)
    as_written = tuple(i for i, join in enumerate(joins) if join == "digit")
    if count <= MAX_CLOSABLE_JOINS:
        choices = [tuple(i for i in range(count) if mask >> i & 1) for mask in range(1 << count)]
        choices.sort(key=lambda closed: closed != as_written)
    else:
        choices = list(dict.fromkeys([as_written, (), tuple(range(count))]))
    variants = []
    for closed in choices:
        tokens: list[tuple[str, str, tuple[str, ...]]] = []
        closes: list[bool] = []
        pieces: list[str] = []
        written, joined_words = "", False
        for index, (atom_folded, atom_written) in enumerate(atoms):
            pieces.append(atom_folded)
            written += atom_written
            if index in closed:
                joined_words = joined_words or joins[index] != "digit"
                continue
            tokens.append(("".join(pieces), written, tuple(pieces)))
            closes.append(joined_words)
            pieces, written, joined_words = [], "", False
        variants.append((tokens, closes))
    if len(atoms) == 1 and not prefix and not is_capitalised(atoms[0][1]):
        # a closed word that is two words: finetuning = fine-tuning = fine tuning
        word, written = atoms[0]
        for head, tail in compound_splits(word):
            variants.append(([(head, written[:len(head)], (head,)),
                              (tail, written[len(head):], (tail,))], [False, False]))
    return variants


def spelled_forms(tokens: list[tuple[str, str, tuple[str, ...]]], capitals: tuple[bool, ...],
                  prefix: bool) -> list[tuple[str, ...]]:
    """Every folded token sequence for one structural variant: British and American spellings
    of each word (also inside a closed compound), singular and plural forms of the last one
    (none for a prefix)."""
    choices: list[list[str]] = []
    last = len(tokens) - 1
    for index, (folded, written, pieces) in enumerate(tokens):
        if len(pieces) > 1 and not capitals[index]:
            # a closed compound: spell each piece, the last one singular or plural
            options = {"".join(combination) for combination in product(*(
                _word_options(piece, index == last and position == len(pieces) - 1 and not prefix)
                for position, piece in enumerate(pieces)))}
            choices.append(sorted(options, key=lambda option: (option != folded, option)))
            continue
        if capitals[index]:
            if index == last and not prefix:
                # an acronym's plural is its s: LLMs = LLM
                singular = folded[:-1] if written.endswith("s") and len(folded) > 2 else folded
                options = {singular, singular + "s", singular + "es"}
            else:
                options = {folded}
        elif not folded.isalpha():
            options = {folded}
        else:
            options = _word_options(folded, index == last and not prefix)
        # the form as written first, so the keys that matter most survive the cap
        choices.append(sorted(options, key=lambda option: (option != folded, option)))
    return list(product(*choices))[:MAX_KEYS_PER_TERM]


@lru_cache(maxsize=131072)
def _word_options(word: str, last: bool) -> frozenset[str]:
    """A word's spellings; for the last word of a term also its singular and plural forms."""
    if not word.isalpha():
        return frozenset({word})
    if not last:
        return spellings(word)
    options: set[str] = set()
    for spelled in spellings(word):
        for form in plural_forms(spelled):
            options |= spellings(form)
    return frozenset(options)


def author_name_matches(query: Sequence[str], author: Sequence[str]) -> bool:
    """Family name (a suffix of the author's tokens), optionally after a given name or initial."""
    if len(query) <= len(author) and tuple(author[len(author) - len(query):]) == tuple(query):
        return True
    if len(query) >= 2 and len(author) >= len(query):
        given, family = query[0], query[1:]
        if tuple(author[len(author) - len(family):]) != tuple(family):
            return False
        first = author[0]
        return (first == given or (len(given) == 1 and first.startswith(given))
                or (len(first) == 1 and given.startswith(first)))
    return False


def check_failure(region, first: int, check: tuple) -> str | None:
    """Why a key's hit starting at token `first` does not count, or None when it does: a token
    the term writes in capitals is not in capitals in the text ("capitals"), or what closes a
    compound is two words glued in camel case ("camel case")."""
    return written_failure([region.written(first + offset) for offset in range(len(check[0]))],
                           check)


def written_failure(tokens: Sequence[str], check: tuple) -> str | None:
    """`check_failure` given the hit's tokens as the text writes them."""
    capitals, camel, prefix_length = check
    last = len(capitals) - 1
    for offset, capital in enumerate(capitals):
        if not capital and not camel[offset]:
            continue
        written = tokens[offset]
        if capital:
            shown = written[:prefix_length] if offset == last and prefix_length else written
            if not is_capitalised(shown) and not (
                    offset == last and written.endswith("es") and is_capitalised(written[:-2])):
                return "capitals"
        if camel[offset] and _CAMEL_JOIN.search(written):
            return "camel case"
    return None


def check_holds(region, first: int, check: tuple) -> bool:
    """The key's checks hold for its hit starting at token `first`."""
    return check_failure(region, first, check) is None
