"""Features and the compact model: scikit-learn's own result, from a few kilobytes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfTransformer

from bot.models import Paper
from bot.ranking.features import PaperFeatures, author_term, paper_terms, term_counts, text_words
from bot.ranking.model import ModelFormatError, RelevanceModel, train_model
from tests.ranking.topics import topic_papers


def test_words_are_folded_without_stop_words_and_plurals_are_one_form():
    assert text_words("The Models of Kästner's proteins, 2025") == ["model", "kastner", "protein"]


def test_terms_cover_title_abstract_categories_and_authors():
    paper = Paper("2504.00001", "Protein folding", "Molecular dynamics.", ("Yann LeCun (NYU)",),
                  ("q-bio.BM", "cs.LG"))
    terms = paper_terms(paper)
    # the title counts twice, with its word pair
    assert terms.count("protein") == 2 and terms.count("protein folding") == 2
    assert "molecular dynamic" in terms
    assert {"cat=q-bio.BM", "cat=q-bio", "cat=cs.LG", "cat=cs"} <= set(terms)
    assert author_term("Yann LeCun (NYU)") == "au=lecun y" and "au=lecun y" in terms


def test_cached_features_equal_fresh_ones():
    papers = [paper for paper, _ in topic_papers("2504", 12)]
    features = PaperFeatures(capacity=5)
    first = features.matrix(papers[:8])
    again = features.matrix(papers)  # some cached, some evicted, some new
    assert (again[:8] != first).nnz == 0
    assert (again != term_counts(papers)).nnz == 0


def _trained(count: int = 20):
    labelled = topic_papers("2504", count)
    counts = term_counts([paper for paper, _ in labelled])
    labels = np.array([int(liked) for _, liked in labelled])
    return train_model(counts, labels)


def test_compact_scores_are_scikit_learns_decision_function():
    model, tfidf, classifier = _trained()
    # On papers that use only the voted papers' terms: exactly scikit-learn's own answer.
    voted = term_counts([paper for paper, _ in topic_papers("2504", 20)])
    assert np.allclose(model.scores(voted),
                       classifier.decision_function(tfidf.transform(voted[:, model.columns])))
    # On new papers, their other terms count in their norm with the IDF of an unseen term,
    # as a 2**20-wide TfidfTransformer fitted on the voted papers would weigh them.
    counts = term_counts([paper for paper, _ in topic_papers("2505", 30, seed=99)])
    full_width = TfidfTransformer(sublinear_tf=True).fit(term_counts(
        [paper for paper, _ in topic_papers("2504", 20)]))
    weights = np.zeros(counts.shape[1])
    weights[model.columns] = classifier.coef_[0]
    expected = full_width.transform(counts) @ weights + classifier.intercept_[0]
    assert np.allclose(model.scores(counts), expected)


def test_the_model_learns_the_liked_subject():
    model, _, _ = _trained()
    unseen = topic_papers("2505", 40, seed=3)
    scores = model.scores(term_counts([paper for paper, _ in unseen]))
    liked = [s for s, (_, is_liked) in zip(scores, unseen) if is_liked]
    other = [s for s, (_, is_liked) in zip(scores, unseen) if not is_liked]
    assert min(liked) > max(other)


def test_round_trip_is_compact_and_ranks_the_same():
    model, _, _ = _trained()
    blob = model.to_bytes()
    assert len(blob) < 8_000
    restored = RelevanceModel.from_bytes(blob)
    assert RelevanceModel.readable(blob) and restored.trained_on == 20
    counts = term_counts([paper for paper, _ in topic_papers("2505", 40, seed=3)])
    assert np.allclose(restored.scores(counts), model.scores(counts), atol=1e-2)
    assert list(np.argsort(-restored.scores(counts))[:10]) == list(np.argsort(-model.scores(counts))[:10])


@pytest.mark.parametrize("blob", [b"", b"PBRM", b"XXXX" + bytes(40)])
def test_unreadable_blobs_are_refused_clearly(blob: bytes):
    assert not RelevanceModel.readable(blob)
    with pytest.raises(ModelFormatError):
        RelevanceModel.from_bytes(blob)


def test_a_corrupt_body_is_refused_clearly():
    blob = _trained()[0].to_bytes()
    with pytest.raises(ModelFormatError, match="corrupt|length"):
        RelevanceModel.from_bytes(blob[:-20])
