"""One destination's relevance model: logistic regression over TF-IDF features of the papers its
people voted on (scikit-learn), kept compactly.

Training (`train_model`) is scikit-learn end to end: `TfidfTransformer` (sublinear term
frequency, IDF from the voted papers, L2-normalised rows) over the hashed term counts of
`bot.ranking.features`, then `LogisticRegression` (liblinear) with balanced class weights (a team mostly
votes 👍, or mostly 👎). What is kept is only what scoring needs: the feature columns the voted
papers used, their IDF and weights, and the IDF of a column no voted paper had. Every other
column has weight 0 but still counts in a paper's L2 norm, with that IDF; so `RelevanceModel.scores`
gives exactly `LogisticRegression.decision_function(TfidfTransformer.transform(counts))` of the
trained pair (a test holds it to that), from a few kilobytes instead of 2**20-wide arrays.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from bot.ranking.features import FEATURE_VERSION, N_FEATURES

# Inverse regularisation strength. The order hardly depends on it (bench_ranking: the same
# precision from 1 to 100); the training time does: a weak penalty on separable votes makes the
# solver chase ever larger weights.
REGULARISATION_C = 2.0

_MAGIC = b"PBRM"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sHHIIdd")  # magic, format, features, papers, columns, intercept, unseen idf


class ModelFormatError(ValueError):
    """A stored model that this version cannot read (corrupt, or from another format)."""


@dataclass(frozen=True, eq=False)
class RelevanceModel:
    """`columns` (sorted feature indices) with their `idf` and `weights`; `unseen_idf` for any
    other column. Scores are log-odds of 👍: only their order matters."""

    columns: np.ndarray
    idf: np.ndarray
    weights: np.ndarray
    intercept: float
    unseen_idf: float
    trained_on: int  # voted papers

    def scores(self, counts: sparse.csr_matrix) -> np.ndarray:
        """The score of each row of hashed term counts (`bot.ranking.features`)."""
        counts = sparse.csr_matrix(counts, dtype=np.float64, copy=True)
        counts.sum_duplicates()
        n_rows = counts.shape[0]
        if n_rows == 0:
            return np.zeros(0)
        position, known = self._lookup(counts.indices)
        tfidf = counts
        tfidf.data = (np.log(tfidf.data) + 1.0) * np.where(known, self.idf[position], self.unseen_idf)
        tfidf = normalize(tfidf, norm="l2", copy=False)
        weights = np.where(known, self.weights[position], 0.0)
        rows = np.repeat(np.arange(n_rows), np.diff(tfidf.indptr))
        return np.bincount(rows, weights=tfidf.data * weights, minlength=n_rows) + self.intercept

    def _lookup(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(self.columns) == 0:
            return np.zeros(len(indices), dtype=np.int64), np.zeros(len(indices), dtype=bool)
        position = np.minimum(np.searchsorted(self.columns, indices), len(self.columns) - 1)
        return position, self.columns[position] == indices

    # -- storage ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Compact form: a header, then the columns as gaps (small numbers compress well), the
        IDF as 16-bit floats (values 1..10, kept to 3 significant digits), the weights as 32-bit
        floats; all zlib-compressed."""
        gaps = np.diff(self.columns.astype(np.int64), prepend=0).astype("<u4")
        body = (gaps.tobytes() + self.idf.astype("<f2").tobytes() + self.weights.astype("<f4").tobytes())
        header = _HEADER.pack(_MAGIC, FORMAT_VERSION, FEATURE_VERSION, self.trained_on,
                              len(self.columns), self.intercept, self.unseen_idf)
        return header + zlib.compress(body, 9)

    @staticmethod
    def readable(blob: bytes) -> bool:
        """Whether `blob` is a model of this format and feature version (an older one is
        retrained rather than read)."""
        if len(blob) < _HEADER.size:
            return False
        magic, fmt, features, *_ = _HEADER.unpack_from(blob)
        return magic == _MAGIC and fmt == FORMAT_VERSION and features == FEATURE_VERSION

    @classmethod
    def from_bytes(cls, blob: bytes) -> "RelevanceModel":
        if len(blob) < _HEADER.size:
            raise ModelFormatError("a stored relevance model is truncated")
        magic, fmt, features, papers, count, intercept, unseen_idf = _HEADER.unpack_from(blob)
        if magic != _MAGIC or fmt != FORMAT_VERSION:
            raise ModelFormatError(f"not a relevance model of format {FORMAT_VERSION}")
        if features != FEATURE_VERSION:
            raise ModelFormatError(f"a model of feature version {features}, not {FEATURE_VERSION}")
        try:
            body = zlib.decompress(blob[_HEADER.size:])
        except zlib.error as exc:
            raise ModelFormatError(f"a stored relevance model is corrupt: {exc}") from None
        if len(body) != count * 10:
            raise ModelFormatError("a stored relevance model has the wrong length")
        gaps = np.frombuffer(body, dtype="<u4", count=count)
        idf = np.frombuffer(body, dtype="<f2", count=count, offset=4 * count).astype(np.float64)
        weights = np.frombuffer(body, dtype="<f4", count=count, offset=6 * count).astype(np.float64)
        columns = np.cumsum(gaps.astype(np.int64))
        if count and (columns[-1] >= N_FEATURES or np.any(np.diff(columns) <= 0)):
            raise ModelFormatError("a stored relevance model has invalid feature columns")
        return cls(columns, idf, weights, intercept, unseen_idf, papers)


def train_model(counts: sparse.csr_matrix, labels: np.ndarray,
                sample_weight: np.ndarray | None = None, *,
                regularisation: float = REGULARISATION_C) -> tuple[RelevanceModel, TfidfTransformer, LogisticRegression]:
    """Fit TF-IDF and a logistic regression on `counts` (one row per voted paper) and `labels`
    (1 liked, 0 not); both classes must be present. Returns the compact model and the fitted
    scikit-learn pair it was taken from (for checks; they work on `model.columns` only)."""
    counts = sparse.csr_matrix(counts, dtype=np.float64)
    counts.sum_duplicates()
    # Fit on the columns the voted papers use only: the others are all zero, so they change no
    # IDF, no norm and no weight (an L2 penalty keeps an unused weight at 0), and a 2**20-wide
    # fit would cost seconds instead of milliseconds.
    columns, position = np.unique(counts.indices, return_inverse=True)
    columns = columns.astype(np.int64)
    # the same rows over the used columns only (renumbered in order, so still sorted per row)
    used = sparse.csr_matrix((counts.data, position.astype(np.int32), counts.indptr),
                             shape=(counts.shape[0], len(columns)))
    tfidf = TfidfTransformer(sublinear_tf=True, norm="l2", smooth_idf=True).fit(used)
    classifier = LogisticRegression(C=regularisation, class_weight="balanced", solver="liblinear",
                                    max_iter=1000)  # liblinear: the fastest on tens of sparse rows
    classifier.fit(tfidf.transform(used), labels, sample_weight=sample_weight)
    # With smooth_idf a column seen in no training row has the largest IDF, ln(1 + n) + 1.
    unseen_idf = float(np.log1p(counts.shape[0]) + 1.0)
    model = RelevanceModel(columns=columns, idf=tfidf.idf_.astype(np.float64),
                           weights=classifier.coef_[0].astype(np.float64),
                           intercept=float(classifier.intercept_[0]), unseen_idf=unseen_idf,
                           trained_on=counts.shape[0])
    return model, tfidf, classifier
