"""Papers about two distinguishable subjects, for ranking tests: what a team likes (protein
structure) and what it does not (robot grasping), each with its own words, authors and
categories, plus shared filler so that no single word gives a paper away."""

from __future__ import annotations

import random

from bot.models import Paper

LIKED_WORDS = ["protein", "folding", "molecular dynamics", "amino acid", "binding affinity",
               "structure prediction", "enzyme", "conformation"]
OTHER_WORDS = ["robot", "grasping", "manipulation", "gripper", "tactile sensing", "motion planning",
               "trajectory", "end effector"]
FILLER = ["we", "propose", "a", "method", "for", "large", "data", "that", "improves", "accuracy",
          "results", "show", "benchmark", "efficient", "learning", "model", "training"]


def topic_paper(paper_id: str, liked: bool, rng: random.Random) -> Paper:
    words = LIKED_WORDS if liked else OTHER_WORDS
    title = " ".join(rng.sample(words, 2) + rng.sample(FILLER, 2)).capitalize()
    abstract = ". ".join(" ".join(rng.sample(words, 2) + rng.sample(FILLER, 4)) for _ in range(4)) + "."
    author = rng.choice(["Ada Bio", "Rosalind Franklin"] if liked else ["Rod Brooks", "Ken Goldberg"])
    category = "q-bio.BM" if liked else "cs.RO"
    return Paper(paper_id, title, abstract, (author, "Sam Shared"), (category, "cs.LG"))


def topic_papers(prefix: str, count: int, seed: int = 7) -> list[tuple[Paper, bool]]:
    """`count` papers alternating liked / not liked, ids `<prefix>.<n>`."""
    rng = random.Random(seed)
    return [(topic_paper(f"{prefix}.{n:05d}", n % 2 == 0, rng), n % 2 == 0) for n in range(count)]
