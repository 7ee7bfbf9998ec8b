"""Word forms a term also matches (DESIGN.md §4): plurals both ways, British/American spellings,
compounds written closed, and how many words a prefix term would cover.

Everything here works on folded tokens (lower-case ASCII) and runs when a term is compiled, never
per paper: a term becomes more automaton keys, the papers' text is scanned once as before.

Sources:
- British/American pairs: the word list shipped by the `eng` package (MIT), plus the productive
  -isation/-ization (and, where the dictionary knows the -ize verb, -ise/-ize) endings it lacks.
- English words (compound splits, prefix breadth): Webster's Second International word list as
  shipped by `english-words` (MIT; the list itself is public domain). Loaded on first use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

# Plural endings beyond s/es: (singular ending, plural ending). Latin and Greek plurals are the
# ones scientific text uses: analysis/analyses, matrix/matrices, vertex/vertices,
# spectrum/spectra, criterion/criteria, radius/radii, formula/formulae.
_IRREGULAR = (("is", "es", 2), ("ix", "ices", 3), ("ex", "ices", 3), ("um", "a", 3),
              ("us", "i", 3), ("a", "ae", 3))
# criterion/criteria, phenomenon/phenomena, automaton/automata, polyhedron/polyhedra; only for
# these stems, so "camera" never becomes "cameron".
_ON_A_STEMS = ("ri", "en", "at", "dr")
_SIBILANT = ("s", "x", "z", "ch", "sh")
_VOWELS = "aeiou"

# Prefixes that are written closed, hyphenated or spaced (pretraining, pre-training); other
# splits must be two dictionary words (finetuning = fine + tuning).
_PREFIXES = frozenset("""pre post multi non self semi co sub inter intra cross meta anti hyper ultra
micro macro mini bi tri uni auto pseudo quasi""".split())
# A closed word is not split where one part is a function word: "notable" is not "not able",
# "online" not "on line", "cannot" not "can not".
_FUNCTION_WORDS = frozenset("""a an and any are as at be but by can did do does for from get had
has have he her here him his how if in into is it its may me more most my no nor not of off on
one only or other our out over own per same she so some such than that the their them then there
these they this those through to too under up upon us was we well were what when where which
while who why will with within without would yet you your ever every all also""".split())
MIN_SPLIT_PART = 3
MIN_PREFIX_LETTERS = 3
MAX_PREFIX_EXPANSIONS = 400


@lru_cache(maxsize=131072)
def plural_forms(word: str) -> frozenset[str]:
    """`word` with its singular and plural forms (for the last word of a term)."""
    forms: set[str] = set()
    for singular in singulars(word):
        forms |= plurals(singular)
    return frozenset(forms)


def singulars(word: str) -> set[str]:
    """`word` and the singulars it may be the plural of (studies -> study, analyses -> analysis)."""
    found = {word}
    if len(word) <= 3:
        if word.endswith("s") and len(word) == 3 and not word.endswith("ss"):
            found.add(word[:-1])  # "ids", "eds"
        return found
    if word.endswith("ies") and word[-4] not in _VOWELS:
        found.add(word[:-3] + "y")
    if word.endswith("es") and word[:-2].endswith(_SIBILANT):
        found.add(word[:-2])
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        found.add(word[:-1])
    for singular, plural, stem in _IRREGULAR:
        if word.endswith(plural) and len(word) - len(plural) >= stem:
            found.add(word[:-len(plural)] + singular)
    if word.endswith("a") and word[:-1].endswith(_ON_A_STEMS):
        found.add(word[:-1] + "on")
    return found


def plurals(word: str) -> set[str]:
    """`word` and its plural forms (model -> models, study -> studies, matrix -> matrices)."""
    found = {word, word + "s", word + "es"}
    if len(word) > 2 and word.endswith("y") and word[-2] not in _VOWELS:
        found.add(word[:-1] + "ies")
    for singular, plural, stem in _IRREGULAR:
        if word.endswith(singular) and len(word) - len(singular) >= stem:
            found.add(word[:-len(singular)] + plural)
    if word.endswith("on") and word[:-2].endswith(_ON_A_STEMS):
        found.add(word[:-2] + "a")
    return found


# --- British and American spellings -----------------------------------------------------------


@lru_cache(maxsize=1)
def _spelling_pairs() -> dict[str, str]:
    """Each spelling -> the other (behaviour <-> behavior), from the `eng` package's list."""
    import eng

    pairs: dict[str, str] = {}
    path = Path(eng.__file__).parent / "words.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            continue
        british, american = (word.strip().lower() for word in line.split("\t", 1))
        if british and american and british != american:
            pairs.setdefault(british, american)
            pairs.setdefault(american, british)
    return pairs


_ISATION = (("isation", "ization"), ("isations", "izations"))
_ISE = (("ise", "ize"), ("ised", "ized"), ("ises", "izes"), ("ising", "izing"), ("iser", "izer"),
        ("isers", "izers"))


@lru_cache(maxsize=131072)
def spellings(word: str) -> frozenset[str]:
    """`word` and its other spelling, British or American (modelling <-> modeling)."""
    return frozenset(_spellings(word))


def _spellings(word: str) -> set[str]:
    found = {word}
    other = _spelling_pairs().get(word)
    if other:
        found.add(other)
        return found
    if "is" not in word and "iz" not in word:
        return found
    # -isation is always the British -ization (characterisation, parametrisation)
    for british, american in _ISATION:
        if word.endswith(british):
            found.add(word[:-len(british)] + american)
        elif word.endswith(american):
            found.add(word[:-len(american)] + british)
    if len(found) > 1:
        return found
    # -ise/-ize only where the dictionary knows the -ize verb (characterise; never "precise")
    for british, american in _ISE:
        for ending, swapped in ((british, american), (american, british)):
            if word.endswith(ending):
                stem = word[:-len(ending)]
                if stem + "ize" in english_words() or stem + "ization" in english_words():
                    found.add(stem + swapped)
    return found


# --- compounds ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Lower-case English words (Webster's Second, via `english-words`)."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2"], lower=True, alpha=True))


@lru_cache(maxsize=65536)
def compound_splits(word: str) -> tuple[tuple[str, str], ...]:
    """Ways a closed compound splits into two words (finetuning -> fine + tuning, pretraining ->
    pre + training), so it also matches the hyphenated and spaced forms."""
    if len(word) < 2 * MIN_SPLIT_PART or not word.isalpha():
        return ()
    words = english_words()
    splits = []
    for cut in range(2, len(word) - MIN_SPLIT_PART + 1):
        head, tail = word[:cut], word[cut:]
        if head in _FUNCTION_WORDS or tail in _FUNCTION_WORDS:
            continue
        if head in _PREFIXES or (len(head) >= MIN_SPLIT_PART and head in words):
            if tail in words or any(s in words for s in singulars(tail)):
                splits.append((head, tail))
    return tuple(splits)


def prefix_expansions(prefix: str, limit: int = MAX_PREFIX_EXPANSIONS + 1) -> int:
    """How many dictionary words start with `prefix` (counting stops at `limit`)."""
    found = 0
    for word in _sorted_words()[_first_at_or_after(prefix):]:
        if not word.startswith(prefix):
            break
        found += 1
        if found >= limit:
            break
    return found


@lru_cache(maxsize=1)
def _sorted_words() -> tuple[str, ...]:
    return tuple(sorted(english_words()))


def _first_at_or_after(prefix: str) -> int:
    from bisect import bisect_left

    return bisect_left(_sorted_words(), prefix)
