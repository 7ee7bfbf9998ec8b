"""Word forms a term also matches (DESIGN.md §4): plurals both ways, British/American spellings,
compounds written closed, and how many words a prefix term would cover.

Everything here works on folded tokens (lower-case ASCII) and runs when a term is compiled, never
per paper: a term becomes more automaton keys, the papers' text is scanned once as before.

Sources:
- British/American pairs: the word list shipped by the `eng` package (MIT), plus the productive
  -isation/-ization (and, where the dictionary knows the -ize verb, -ise/-ize) endings it lacks.
- Common modern English words (known words beside the dictionary's: dataset, benchmark,
  robotic; a short part of a closed compound must be in both lists): the words `wordfreq`
  (Apache-2.0 code, CC BY-SA 4.0 data, used as installed) finds at least once per million words
  of today's English.
- Established words: Webster's Second International (1934) as shipped by `english-words` (MIT;
  the list itself is public domain). A closed word it lists (network, framework, greenhouse) is a
  word of its own, whose parts written apart are two other words ("the net work done"); the
  technical compounds coined since (dataset, database, finetuning, realtime, spacetime) are not
  in it. Both lists load on first use.

Compounds (DESIGN.md §4): a closed query word also matches its two parts hyphenated or spaced
when the split is evidently a compound: the head is a productive prefix (pre-training,
multi-modal, over-fitting) or a common word, the tail a common word (or its plural) that is not
just a suffix ("pretrain" + "ing" is not a compound). For an established word, or where a part
is a function word, the text must hyphenate the parts (`light-weight` is lightweight,
`trade-off` tradeoff; "net work" is not network, "not able" not notable); a modern compound
also matches them spaced (`data set` is dataset).
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
# splits must be two common words (finetuning = fine + tuning).
_PREFIXES = frozenset("""pre post multi non self semi co sub inter intra cross meta anti hyper ultra
micro macro mini bi tri uni auto pseudo quasi over under""".split())
# Endings that make a word from a word (pretrain + ing, overfit + ting): grammar, not a second
# word, however common the ending is as a token of its own ("ing" is in wordfreq's list).
_SUFFIXES = frozenset("""ing ings ting ning ming ping ding ed er ers est ness less ment ments able
ible ity ism ist ists ful ship ships ion ions ive ous ize ise ized ised ical ally""".split())
# A closed word split where one part is a function word counts only hyphenated: "trade-off" is
# tradeoff, but "notable" is not "not able", "cannot" not "can not".
_FUNCTION_WORDS = frozenset("""a an and any are as at be but by can did do does for from get had
has have he her here him his how if in into is it its may me more most my no nor not of off on
one only or other our out over own per same she so some such than that the their them then there
these they this those through to too under up upon us was we well were what when where which
while who why will with within without would yet you your ever every all also""".split())
MIN_SPLIT_PART = 3
MAX_SHORT_PART = 4
# wordfreq's frequency lists are buckets of one centibel: bucket i holds the words whose
# frequency is 10**(-i/100). Zipf 3 (once per million words) is bucket 600.
COMMON_WORD_BUCKETS = 601
MIN_PREFIX_LETTERS = 3
MAX_PREFIX_EXPANSIONS = 400


def is_function_word(word: str) -> bool:
    """A word that has no plural and joins a compound only hyphenated ("of", "the", "off")."""
    return word in _FUNCTION_WORDS


@lru_cache(maxsize=131072)
def plural_forms(word: str) -> frozenset[str]:
    """`word` with its singular and plural forms (of each word of a term)."""
    candidates = singulars(word)
    forms: set[str] = {word}
    for singular in candidates:
        if singular == word and word.endswith("s") and len(candidates) > 1:
            continue  # already a plural: no plural of the plural ("modelses")
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
    found = {word}
    if not word.endswith("s") and not (len(word) > 2 and word.endswith("y") and word[-2] not in _VOWELS):
        found.add(word + "s")  # not "policys": a consonant's y takes -ies (below)
    if (word.endswith(_SIBILANT) or word.endswith("o")) and not word.endswith("is"):
        found.add(word + "es")  # boxes, heroes, buses (analysis -> analyses below)
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
def established_words() -> frozenset[str]:
    """Lower-case words of Webster's Second (1934), via `english-words`."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2"], lower=True, alpha=True))


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Lower-case ASCII words at least once per million words of English text (wordfreq)."""
    from wordfreq import get_frequency_list

    words: set[str] = set()
    for bucket in get_frequency_list("en", "large")[:COMMON_WORD_BUCKETS]:
        words.update(word for word in bucket if word.isascii() and word.isalpha())
    return frozenset(words)


@lru_cache(maxsize=1)
def split_parts() -> frozenset[str]:
    """Words a closed compound may split into: common today, and a short one (four letters or
    fewer) also in the dictionary, so neither a dictionary fragment ("kend", "otic") nor a
    token of today's chat ("robo") is a part; the dictionary lacks most inflected forms, so a
    longer one needs only to be common ("supervised", "explored")."""
    established = established_words()
    return frozenset(word for word in common_words()
                     if len(word) > MAX_SHORT_PART or word in established)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Lower-case English words: the established ones and the common modern ones."""
    return established_words() | common_words()


@lru_cache(maxsize=65536)
def compound_splits(word: str) -> tuple[tuple[str, str], ...]:
    """Ways a closed compound splits into two words (finetuning -> fine + tuning, pretraining ->
    pre + training), so it also matches the hyphenated and spaced forms (see the module's
    docstring for the evidence asked; `needs_hyphen` says which splits only count hyphenated)."""
    if len(word) < 2 * MIN_SPLIT_PART or not word.isalpha():
        return ()
    words = split_parts()
    splits = []
    for cut in range(2, len(word) - MIN_SPLIT_PART + 1):
        head, tail = word[:cut], word[cut:]
        if tail in _SUFFIXES:
            continue
        if head in _PREFIXES or (len(head) >= MIN_SPLIT_PART and
                                 (head in words or head in _FUNCTION_WORDS)):
            if tail in words or tail in _FUNCTION_WORDS or any(s in words for s in singulars(tail)):
                splits.append((head, tail))
    return tuple(splits)


def needs_hyphen(word: str, head: str) -> bool:
    """Whether the split of `word` after `head` counts only when the text hyphenates it: `word`
    is an established word of its own (network: "net-work" is network, "net work" is not) and
    `head` not a productive prefix (pre training is pretraining however it is written), or a
    part is a function word ("trade-off" is tradeoff, "trade off" a verb and its particle)."""
    tail = word[len(head):]
    if tail in _FUNCTION_WORDS:
        return True
    if head in _PREFIXES:
        return False
    return head in _FUNCTION_WORDS or word in established_words()


def closes_into_word(head: str, word: str) -> bool:
    """Whether `head` and the word after it, written apart, may still be the closed `word`
    ("data set" = dataset, "pre training" = pretraining): not when `word` is an established word
    of its own and `head` not a prefix ("net work" is not network)."""
    return not needs_hyphen(word, head)


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
