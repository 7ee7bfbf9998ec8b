"""Term tables: each distinct term of every subscription compiled into automaton keys.

A key is a term in the papers' normalised form (folded tokens, single spaces) with a space on both
sides, so only whole tokens and whole phrases can hit (a prefix term `robot*` has no space after
it, so it hits any token that starts with it). One term compiles to several keys: its compounds
open and closed, British and American spellings, singular and plural forms of each word
(see `forms`). A key may carry a check the automaton cannot do (capitals, camel-case glue, a given
name), run on the hits only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain, islice, product, zip_longest
from typing import Sequence

from .forms import (closes_into_word, compound_splits, is_function_word, needs_hyphen, plural_forms,
                    spellings)
from .query import Term
from .tokens import HYPHENS, is_capitalised, term_tokens

AUTHOR_START = "\x04"
AUTHOR_END = "\x05"
# Joins a term may have and still get every open/closed combination (2**n variants); beyond that
# only as written, all open and all closed.
MAX_CLOSABLE_JOINS = 3
# Keys one term may compile to (compounds x spellings x plural forms); the first ones are the
# forms as written.
MAX_KEYS_PER_TERM = 128
# Forms of one way of writing a term few enough to keep in any order (the as-written first).
FEW_FORMS = 8
# Ways of splitting the closed words of a term (each whole or split at each place it splits).
MAX_SPLIT_VARIANTS = 8
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
        for tokens, closed, hyphens in structural_variants(parts, prefix):
            capitals = tuple(is_capitalised(written) for _, written, _ in tokens)
            check = None
            if any(capitals) or any(closed) or any(hyphens):
                check = (capitals, tuple(closed), len(tokens[-1][0]) if prefix else 0,
                         tuple(hyphens))
            per_variant.append([(f" {' '.join(folded)}" + ("" if prefix else " "), check)
                                for folded in spelled_forms(tokens, capitals, prefix)])
        # The words as written (all their spellings and numbers) first, up to half the cap:
        # hyphenated-only splits of an established word ("pol-icy") must never crowd out
        # "behaviours policies" for "behaviour policy". Then in turn from each way of writing the
        # compound, so the cap never drops one way whole.
        as_written = per_variant[0][:MAX_KEYS_PER_TERM // 2]
        keys: dict[str, tuple | None] = {}
        for key, check in chain(as_written,
                                filter(None, chain.from_iterable(zip_longest(*per_variant)))):
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
                        ) -> list[tuple[list[tuple[str, str, tuple[str, ...]]], list[bool],
                                        list[bool]]]:
    """Token sequences a term matches, whichever way its compounds are written: pieces joined by
    spaces, hyphens or a letter-digit change may be open or closed (fine-tuning, fine tuning,
    finetuning; GPT-4, GPT4), and a closed word splits where it is two words (finetuning), in
    any word of a phrase. Words written apart close up only into a compound, never into an
    established word of its own ("data set" = dataset; "net work" is not network).

    Each variant is (tokens as (folded, written, the folded pieces it closes up), per token
    whether it closes a join of words, which the text must not write in camel case
    ("LanguageModel" is two words glued together, not the compound of "language model"), per
    token whether the text must join it to the next one with a hyphen (network matches
    "net-work" but not "the net work done")).
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
        written, joined_words, spaced = "", False, False
        for index, (atom_folded, atom_written) in enumerate(atoms):
            pieces.append(atom_folded)
            written += atom_written
            if index in closed:
                joined_words = joined_words or joins[index] != "digit"
                spaced = spaced or joins[index] == "space"
                continue
            if spaced and not closes_into_word(pieces[0], "".join(pieces)):
                break  # "net work" never closes into network
            tokens.append(("".join(pieces), written, tuple(pieces)))
            closes.append(joined_words)
            pieces, written, joined_words, spaced = [], "", False, False
        else:
            variants.append((tokens, closes, [False] * len(tokens)))
    return variants + _split_variants(variants[0] if variants else None, prefix)


def _split_variants(variant, prefix: bool) -> list:
    """The term as written with its closed words split where they are two words (finetuning =
    fine-tuning = fine tuning; "efficient finetuning" = "efficient fine-tuning"): every
    combination of each word whole or split, but for the all-whole one (already listed)."""
    if variant is None:
        return []
    tokens, closes, _ = variant
    options = []
    for index, (folded, written, pieces) in enumerate(tokens):
        whole = [((folded, written, pieces),), (closes[index],), (False,)]
        choices = [whole]
        if (len(pieces) == 1 and written.isalpha() and not is_capitalised(written)
                and not (prefix and index == len(tokens) - 1)):
            for head, tail in compound_splits(folded):
                choices.append([((head, written[:len(head)], (head,)),
                                 (tail, written[len(head):], (tail,))),
                                (False, False), (needs_hyphen(folded, head), False)])
        options.append(choices)
    if all(len(choices) == 1 for choices in options):
        return []
    variants = []
    for combination in islice(product(*options), 1, MAX_SPLIT_VARIANTS + 1):
        variants.append((list(chain.from_iterable(c[0] for c in combination)),
                         list(chain.from_iterable(c[1] for c in combination)),
                         list(chain.from_iterable(c[2] for c in combination))))
    return variants


def spelled_forms(tokens: list[tuple[str, str, tuple[str, ...]]], capitals: tuple[bool, ...],
                  prefix: bool) -> list[tuple[str, ...]]:
    """Every folded token sequence for one structural variant: British and American spellings
    of each word (also inside a closed compound), singular and plural forms of each word but
    function words (`"graph neural networks"` = "graph neural network", `"models of diffusion"`
    = "model of diffusion"; none for a prefix)."""
    choices: list[list[str]] = []
    last = len(tokens) - 1
    for index, (folded, written, pieces) in enumerate(tokens):
        inflects = not (prefix and index == last)
        if len(pieces) > 1 and not capitals[index]:
            # a closed compound: spell each piece, the last one singular or plural
            options = {"".join(combination) for combination in product(*(
                _word_options(piece, inflects and position == len(pieces) - 1)
                for position, piece in enumerate(pieces)))}
            choices.append(sorted(options, key=lambda option: (option != folded, option)))
            continue
        if capitals[index]:
            if inflects:
                # an acronym's plural is its s: LLMs = LLM
                singular = folded[:-1] if written.endswith("s") and len(folded) > 2 else folded
                options = {singular, singular + "s", singular + "es"}
            else:
                options = {folded}
        elif not folded.isalpha():
            options = {folded}
        else:
            options = _word_options(folded, inflects)
        # the form as written first, so the keys that matter most survive the cap
        choices.append(sorted(options, key=lambda option: (option != folded, option)))
    return _nearest_first(choices)


def _nearest_first(choices: list[list[str]]) -> list[tuple[str, ...]]:
    """The combinations of one option per token (each option list starts with the form as
    written), likeliest first: spellings one way throughout (a British text writes "centre" and
    "modelling" alike), then the fewest words changed in number, so the cap on keys drops the
    least likely forms, never one word's variants whole."""
    total = 1
    for options in choices:
        total *= len(options)
    if total <= FEW_FORMS:
        return list(product(*choices))  # the as-written form first; ranking so few buys nothing
    if total > 64 * MAX_KEYS_PER_TERM:
        return list(islice(product(*choices), MAX_KEYS_PER_TERM))
    kinds = [[_difference(options[0], option) + (_has_spellings(option),) for option in options]
             for options in choices]

    def rank(indices: tuple[int, ...]) -> tuple[int, int, int]:
        # "one way throughout" among the words chosen that have another spelling: a British
        # "behaviour analysis" for "behavior analyses" is consistent ("analysis" has none)
        number = spelled = spellable = 0
        for token, index in zip(kinds, indices):
            number += token[index][0]
            spelled += token[index][1]
            spellable += token[index][2] or token[index][1]
        return min(spelled, spellable - spelled), number, sum(indices)

    ranked = sorted(product(*(range(len(options)) for options in choices)), key=rank)
    return [tuple(options[i] for options, i in zip(choices, indices))
            for indices in ranked[:MAX_KEYS_PER_TERM]]


def _difference(written: str, option: str) -> tuple[bool, bool]:
    """(differs in number, differs in spelling): how a form differs from the one written."""
    if not written.isalpha():
        return option != written, False
    return option not in spellings(written), option not in _inflections(written)


def _has_spellings(word: str) -> bool:
    return word.isalpha() and len(spellings(word)) > 1


@lru_cache(maxsize=131072)
def _inflections(word: str) -> frozenset[str]:
    return plural_forms(word) if not is_function_word(word) else frozenset({word})


@lru_cache(maxsize=131072)
def _word_options(word: str, inflects: bool) -> frozenset[str]:
    """A word's spellings and, where it inflects (not a prefix term's stem), its singular and
    plural forms; a function word ("of", "the") only as written."""
    if not word.isalpha() or is_function_word(word):
        return frozenset({word})
    if not inflects:
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
    the term writes in capitals is not in capitals in the text ("capitals"), what closes a
    compound is two words glued in camel case ("camel case"), or the parts of an established
    word are written apart, not hyphenated ("spaced": "net work" is not network)."""
    hyphens = check[3]
    if any(hyphens):
        for offset, hyphenated in enumerate(hyphens):
            if hyphenated and region.pieces[2 * (first + offset) + 2] not in HYPHENS:
                return "spaced"
    return written_failure([region.written(first + offset) for offset in range(len(check[0]))],
                           check)


def needs_separators(check: tuple) -> bool:
    """Whether `check` looks at what separates the hit's tokens (a hyphen), which the tokens as
    written do not show: `written_failure` alone cannot decide it."""
    return any(check[3])


def written_failure(tokens: Sequence[str], check: tuple) -> str | None:
    """`check_failure`'s capitals and camel-case checks, given the hit's tokens as the text
    writes them (the hyphen check needs the separators: see `needs_separators`)."""
    capitals, camel, prefix_length, _ = check
    last = len(capitals) - 1
    for offset, capital in enumerate(capitals):
        if not capital and not camel[offset]:
            continue
        written = tokens[offset]
        if capital:
            shown = written[:prefix_length] if offset == last and prefix_length else written
            if not is_capitalised(shown) and not (
                    written.endswith("es") and is_capitalised(written[:-2])):
                return "capitals"
        if camel[offset] and _CAMEL_JOIN.search(written):
            return "camel case"
    return None


def describe_check_failure(field_name: str, seen: str, term_text: str, failure: str) -> str:
    """A near miss a check turned down, for explanations."""
    if failure == "capitals":
        return (f'{field_name} has "{seen}", but {term_text} is written in capitals and matches '
                "only capitals")
    if failure == "spaced":
        return (f'{field_name} has "{seen}", two words, not the word {term_text} (its parts '
                "count only hyphenated)")
    return (f'{field_name} has "{seen}", two words glued in camel case, not the compound of '
            f"{term_text}")


def check_holds(region, first: int, check: tuple) -> bool:
    """The key's checks hold for its hit starting at token `first`."""
    return check_failure(region, first, check) is None
