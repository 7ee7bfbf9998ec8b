"""arXiv's category taxonomy (https://arxiv.org/category_taxonomy), kept as data.

Used to reject unknown categories in configuration and queries before arXiv answers with an error
feed. Archives without subject classes (`hep-th`, `quant-ph`, ...) are categories themselves.

A leaf (it imports nothing of ours) beside `bot.models`, outside `bot.arxiv`: the configuration
checks categories with it, and `bot.arxiv`'s client reads the configuration, so inside
`bot.arxiv` it tied the two packages into a cycle.
"""

from __future__ import annotations

_SUBJECT_CLASSES: dict[str, str] = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA NE "
          "NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA RT "
            "SG SP ST",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an ed-ph "
               "flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}

# Archives that are categories on their own (no subject classes).
_STANDALONE_ARCHIVES = ("gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex",
                        "nucl-th", "quant-ph")

# Old archives still seen in old-style ids and in cross-lists of old papers.
_LEGACY_ARCHIVES = ("acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn",
                    "chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol",
                    "plasm-ph", "q-alg", "solv-int", "supr-con")

ARCHIVES: frozenset[str] = frozenset(_SUBJECT_CLASSES) | frozenset(_STANDALONE_ARCHIVES)

CATEGORIES: frozenset[str] = frozenset(
    f"{archive}.{subject}"
    for archive, subjects in _SUBJECT_CLASSES.items()
    for subject in subjects.split()
) | frozenset(_STANDALONE_ARCHIVES)

_BY_LOWER = {c.lower(): c for c in CATEGORIES | ARCHIVES}


def canonical_category(name: str) -> str | None:
    """The taxonomy's spelling of a category or archive (`CS.ai` -> `cs.AI`), None if unknown."""
    return _BY_LOWER.get(name.strip().lower())


def is_known_category(name: str) -> bool:
    return name in CATEGORIES or name in ARCHIVES or name in _LEGACY_ARCHIVES


def archive_of(category: str) -> str:
    return category.split(".", 1)[0]
