"""Learned ranking: each destination's relevance model, from the 👍/👎 votes of its people.

- `features`: what a model sees of a paper (hashed terms of title, abstract, categories, authors).
- `model`: TF-IDF and logistic regression (scikit-learn), stored compactly.
- `ranker`: `Ranker.scores(destination, papers)`, the seam digests and the weekly best-of use;
  None when a destination has too few votes (keep the match order).

Core code: no platform library, no event-loop work (training and scoring run in threads).
"""

from bot.ranking.model import RelevanceModel, train_model
from bot.ranking.ranker import MIN_VOTES, Ranker, Scores

__all__ = ["MIN_VOTES", "Ranker", "RelevanceModel", "Scores", "train_model"]
