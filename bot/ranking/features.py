"""What a relevance model sees of a paper: the terms of its title, abstract, categories and
authors, hashed into one fixed feature space (scikit-learn's `HashingVectorizer`).

Hashing rather than a learned vocabulary: a destination's model then needs no vocabulary of its
own (it stores feature indices, not words), and a day's papers are turned into features once,
whichever destinations rank them (`PaperFeatures` keeps them by paper).

Terms:
- words of the title and abstract, folded (accents, case) as the matcher folds them, without
  English stop words, single letters and bare numbers, plurals reduced to one form
  ("models" = "model"); the title's words count twice (a title says what a paper is about);
- pairs of adjacent kept words ("neural network"), which carry much of a field's vocabulary;
- `cat=<category>` and `cat=<archive>` for each category (`cat=cs.CV`, `cat=cs`);
- `au=<family name> <initial>` for each author (`au=lecun y`): a team follows people too.

Change any of this and bump FEATURE_VERSION: stored models of an older version are retrained.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer

from bot.matching.forms import singulars
from bot.matching.papers import author_name
from bot.matching.tokens import fold
from bot.models import Paper

FEATURE_VERSION = 1
# 2**20 columns: a few hundred thousand distinct terms (words, word pairs, authors) meet few
# collisions, and a model stores only the columns its training papers used.
FEATURE_BITS = 20
N_FEATURES = 1 << FEATURE_BITS

_WORD_RE = re.compile(r"[^\W_]+")
# Words that say nothing about a paper's subject, beyond English stop words.
_PAPER_STOP_WORDS = frozenset("""
paper papers propose proposed proposes present presents presented show shows shown study studies
studied result results approach approaches method methods new novel work based using use used
also et al via prove proves provide provides given""".split())
_STOP = frozenset(ENGLISH_STOP_WORDS) | _PAPER_STOP_WORDS


def _base_form(word: str) -> str:
    """One form for a word and its plural ("models" -> "model", "studies" -> "study"). The
    shortest candidate is taken, so every plural of one word lands on the same form."""
    if len(word) <= 4 or not word.endswith(("s", "a", "i", "ae")):
        return word
    return min(singulars(word), key=lambda form: (len(form), form))


@lru_cache(maxsize=262_144)
def _kept_word(raw: str) -> str | None:
    word = fold(raw)
    if len(word) < 2 or word.isdigit() or word in _STOP:
        return None
    return _base_form(word)


def text_words(text: str) -> list[str]:
    """The kept words of a title or abstract, in order (see the module doc)."""
    return [word for word in map(_kept_word, _WORD_RE.findall(text)) if word is not None]


def _with_pairs(words: Sequence[str]) -> list[str]:
    return [*words, *(f"{a} {b}" for a, b in zip(words, words[1:]))]


def author_term(author: str) -> str | None:
    """`au=<family name> <first initial>`: "Yann LeCun" -> "au=lecun y"; None for no name."""
    names = [fold(part) for part in _WORD_RE.findall(author_name(author))]
    names = [name for name in names if name]
    if not names:
        return None
    family = names[-1]
    initial = f" {names[0][0]}" if len(names) > 1 else ""
    return f"au={family}{initial}"


def paper_terms(paper: Paper) -> list[str]:
    """Every term of `paper` (repeated terms count more)."""
    title = _with_pairs(text_words(paper.title))
    terms = [*title, *title, *_with_pairs(text_words(paper.abstract))]
    for category in paper.categories:
        terms.append(f"cat={category}")
        archive = category.split(".", 1)[0]
        if archive != category:
            terms.append(f"cat={archive}")
    terms += [term for term in map(author_term, paper.authors) if term]
    return terms


def _identity(terms: list[str]) -> list[str]:
    return terms


# Raw term counts: the TF-IDF weighting is each model's own (its IDF comes from its votes).
_HASHER = HashingVectorizer(analyzer=_identity, n_features=N_FEATURES, alternate_sign=False,
                            norm=None, dtype=np.float64)


def term_counts(papers: Iterable[Paper]) -> sparse.csr_matrix:
    """One row of hashed term counts per paper (no caching; see `PaperFeatures`)."""
    return _HASHER.transform([paper_terms(paper) for paper in papers]).tocsr()


# Papers hashed per call: the hashing loop holds the GIL throughout, and a day's 1,500 papers at
# once would stall the event loop for a few hundred milliseconds.
HASH_BATCH = 32


class PaperFeatures:
    """Hashed term counts per paper, computed once and kept for the most recent `capacity`
    papers: on a day every destination that ranks a paper reuses its row. Thread-safe (models
    score in worker threads)."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        # paper key -> (column indices, counts) of its row
        self._rows: OrderedDict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(paper: Paper) -> tuple[str, str, str]:
        # The text is part of the key: a paper's record may change (an update, a fixed title).
        return (paper.id, paper.title, paper.abstract)

    def matrix(self, papers: Sequence[Paper]) -> sparse.csr_matrix:
        """The papers' term counts, one row each in the order given."""
        keys = [self._key(paper) for paper in papers]
        found: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = {}
        with self._lock:
            for key in keys:
                row = self._rows.get(key)
                if row is not None:
                    self._rows.move_to_end(key)
                    found[key] = row
        missing = {key: paper for key, paper in zip(keys, papers) if key not in found}
        pending = list(missing.items())
        for first in range(0, len(pending), HASH_BATCH):
            batch = pending[first:first + HASH_BATCH]
            computed = term_counts(paper for _, paper in batch)
            for row, (key, _) in enumerate(batch):
                start, end = computed.indptr[row], computed.indptr[row + 1]
                found[key] = (computed.indices[start:end].copy(), computed.data[start:end].copy())
        if missing:
            with self._lock:
                for key in missing:
                    self._rows[key] = found[key]
                while len(self._rows) > self.capacity:
                    self._rows.popitem(last=False)
        rows = [found[key] for key in keys]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(indices) for indices, _ in rows])
        indices = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int32)
        data = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), N_FEATURES))
