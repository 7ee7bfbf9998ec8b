"""A synthetic body of paper metadata for tests that need a lot of realistic text but not the
recorded corpus (../shared/fixtures/corpus): invented titles, abstracts and authors with the hard
parts of real arXiv text (plurals, hyphenated and glued compounds, LaTeX, accents, acronyms in
capitals and in lower case, acronym plurals such as "LLMs" and "mLLMs").

Deterministic: the same (count, seed) gives the same papers, so failures reproduce."""

from __future__ import annotations

import random

from bot.models import Paper

# Nouns with their plurals, some irregular ("analysis/analyses", "query/queries").
_NOUNS = [
    ("model", "models"), ("network", "networks"), ("transformer", "transformers"), ("agent", "agents"),
    ("robot", "robots"), ("graph", "graphs"), ("dataset", "datasets"), ("benchmark", "benchmarks"),
    ("policy", "policies"), ("query", "queries"), ("analysis", "analyses"), ("embedding", "embeddings"),
    ("representation", "representations"), ("image", "images"), ("video", "videos"), ("token", "tokens"),
    ("operator", "operators"), ("lattice", "lattices"), ("qubit", "qubits"), ("estimator", "estimators"),
    ("bound", "bounds"), ("kernel", "kernels"), ("diffusion process", "diffusion processes"),
    ("language model", "language models"), ("neural network", "neural networks"),
    ("point cloud", "point clouds"), ("reward function", "reward functions"),
]
_ADJECTIVES = [
    "multi-modal", "multimodal", "vision-language", "state-of-the-art", "large-scale", "self-supervised",
    "zero-shot", "few-shot", "end-to-end", "non-convex", "sparse", "robust", "efficient", "scalable",
    "quantum", "stochastic", "Bayesian", "Markovian", "graph-based", "data-driven", "real-time",
    "fine-grained", "open-source", "pre-trained", "pretrained", "low-rank", "high-dimensional",
]
_VERBS = [
    "propose", "introduce", "study", "analyse", "analyze", "evaluate", "train", "fine-tune", "benchmark",
    "prove", "derive", "learn", "present", "show", "improve", "extend", "compare", "generalize",
]
_ACRONYMS = ["LLM", "LLMs", "VLM", "VLMs", "MLLM", "MLLMs", "mLLMs", "GPT", "GPT-4", "CNN", "CNNs", "RL",
             "GNN", "GNNs", "NeRF", "ViT", "SGD", "RLHF", "QAOA", "VQE", "llm", "vlm", "gnn"]
_LATEX = [r"$\mathcal{O}(n \log n)$", r"$\ell_p$", r"$O(\sqrt{T})$", r"$x<y$", r"\emph{exactly}",
          r"Cram\'er-Rao", r"$\epsilon$-greedy", r"$k$-nearest", r"$\mathbb{R}^d$", r"Schr\"odinger"]
_NAMED = ["Erdős-Rényi", "Gödel", "Poincaré", "Fréchet", "Lévy", "Kähler", "Ångström", "Schrödinger"]
_FILLER = ["the", "a", "of", "for", "with", "in", "on", "and", "that", "our", "this", "we", "to", "by",
           "under", "across", "from", "without"]
_RESULTS = ["accuracy", "performance", "generalization", "convergence", "robustness", "efficiency",
            "data", "learning", "training", "inference", "reasoning", "alignment", "control"]
_GIVEN = ["Wei", "Zoë", "José", "Ana", "Jiaming", "Linh", "Olga", "Paul", "Yuki", "Ravi", "Grace", "Søren",
          "Ömer", "François", "Chen", "Maria", "Łukasz", "Aoife"]
_FAMILY = ["Zhang", "Wang", "Li", "Ångström", "Núñez", "Kästner", "Erdős", "Müller", "Smith", "O'Neil",
           "García", "Nguyen", "Kowalski", "Sato", "Patel", "Dubois", "Ó Briain", "Van der Berg", "Chen"]
_CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "stat.ML", "math.OC", "quant-ph", "math.PR",
               "cs.MA", "eess.SY", "physics.comp-ph", "math.ST"]


def _noun_phrase(rng: random.Random) -> str:
    singular, plural = rng.choice(_NOUNS)
    noun = plural if rng.random() < 0.45 else singular
    roll = rng.random()
    if roll < 0.5:
        noun = f"{rng.choice(_ADJECTIVES)} {noun}"
    elif roll < 0.6:
        noun = f"{rng.choice(_ACRONYMS)}-based {noun}"
    elif roll < 0.7:
        noun = f"{rng.choice(_NAMED)} {noun}"
    return noun


def _sentence(rng: random.Random) -> str:
    words = ["We", rng.choice(_VERBS), rng.choice(["a", "the", "our"]), _noun_phrase(rng)]
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if roll < 0.2:
            words.append(rng.choice(_ACRONYMS))
        elif roll < 0.35:
            words.append(rng.choice(_LATEX))
        elif roll < 0.55:
            words.append(rng.choice(_RESULTS))
        words += [rng.choice(_FILLER), _noun_phrase(rng)]
    ending = rng.choice([".", ".", ".", "; (see Sec. 3).", ", e.g. on ImageNet-1k."])
    return " ".join(words) + ending


def _title(rng: random.Random) -> str:
    shape = rng.randrange(4)
    head = _noun_phrase(rng)
    head = head[0].upper() + head[1:]
    if shape == 0:
        return f"{head} for {_noun_phrase(rng).title()}"
    if shape == 1:
        return f"{rng.choice(_ACRONYMS)}: {head} with {rng.choice(_LATEX)} Guarantees"
    if shape == 2:
        return f"On {head} and {rng.choice(_RESULTS).title()} of {_noun_phrase(rng)}"
    return f"{head}: Towards {rng.choice(_ADJECTIVES).title()} {rng.choice(_RESULTS).title()}"


def _authors(rng: random.Random) -> tuple[str, ...]:
    count = rng.choice([1, 2, 2, 3, 3, 4, 5, 8, 12])
    return tuple(f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}" for _ in range(count))


def synthetic_corpus(count: int, *, seed: int = 1) -> list[Paper]:
    """`count` invented papers, each with a new-style id, 1-3 categories and a 3-7 sentence abstract."""
    rng = random.Random(seed)
    papers = []
    for index in range(count):
        categories = tuple(dict.fromkeys(rng.choice(_CATEGORIES) for _ in range(rng.randint(1, 3))))
        abstract = " ".join(_sentence(rng) for _ in range(rng.randint(3, 7)))
        papers.append(Paper(f"2504.{80000 + index:05d}", _title(rng), abstract, _authors(rng), categories))
    return papers
