"""Term semantics of DESIGN.md §4, rule by rule, through the real compiled matcher."""

from __future__ import annotations

import pytest

from bot.matching import Subscription, compile_subscriptions, field_text, parse_query
from bot.models import Paper


def paper(title="", abstract="", authors=(), categories=("cs.CV",), announce_type="new",
          paper_id="2504.00001") -> Paper:
    return Paper(paper_id, title, abstract, tuple(authors), tuple(categories), announce_type)


def matches(query: str, **fields) -> bool:
    """Whether `query` matches a paper made of `fields`; match() and explain() must agree."""
    subject = paper(**fields)
    matcher = compile_subscriptions([Subscription("s", parse_query(query))])
    found = bool(matcher.match([subject]))
    assert matcher.explain("s", subject).matched is found
    return found


# (query, text in the abstract, expected)
TEXT_CASES = [
    # whole tokens only; a final plural s/es tolerated on the text's token
    ("VLM", "We study VLMs.", True),
    ("VLM", "a VLM-based agent", True),
    ("VLM", "(VLM)", True),
    ("VLM", "LVLMs are popular", False),
    ("GAN", "StyleGAN images", False),
    ("net", "a network", False),
    ("model", "language models", True),
    ("model", "modeling", False),
    ("class", "unseen classes", True),
    ("box", "bounding boxes", True),
    ("models", "one model", True),   # plurals are symmetric (issue 15)
    # tokens are letters and digits: hyphens and punctuation separate
    ("vision-language model", "vision language model", True),
    ("vision language model", "a vision-language model", True),
    ("Vision Language Model", "vision-language models", True),
    ("Vision Language Model", "Vision LanguageModel", False),
    # every word of a phrase is singular or plural, not only the last (issue 15)
    ("vision language model", "visions language model", True),
    ('"models of diffusion"', "a model of diffusion", True),
    ("language model", "language, model", True),
    ("3D", "3D scenes", True),
    ("3D", "3d scenes", True),
    # a hyphenated term also matches its closed compound
    ("multi-modal", "multimodal inputs", True),
    ("multi-modal", "multi-modal inputs", True),
    ("multi-modal", "multi modal inputs", True),
    ("Multi-Modal Language Model", "multimodal language models", True),
    ("Multi-Modal Language Model", "multi-modal large language models", False),
    ("multimodal", "multi-modal inputs", True),  # a closed compound splits too (issue 15)
    ("GPT-4", "GPT4 and GPT-4", True),
    # capitals (2+ letters) match only capital tokens; other terms ignore case
    ("MLLM", "multilingual LLMs (mLLMs)", False),
    ("MLLM", "MLLMs are", True),
    ("MLLM", "the MLLM's output", True),
    ("MLLM", "Mllm", False),
    ("mllm", "mLLMs", True),
    ("mllm", "MLLMs", True),
    ("RL", "rl agents", False),
    ("RL", "RLHF", False),
    ("RL", "deep RL", True),
    ("Diffusion", "DIFFUSION", True),
    ("Vision Language Model", "VISION LANGUAGE MODELS", True),
    # accents folded
    ("Kästner", "Linh Kastner", True),
    ("Kastner", "Linh Kästner", True),
    ("naive", "a naïve baseline", True),
    ("Kastner", "Ka\u0308stner", True),
    # LaTeX markup does not hide words and is not itself a word
    ("diffusion", r"\textit{diffusion} models", True),
    ("diffusion model", r"\emph{diffusion} model", True),
    ("complexity", r"$\mathcal{O}(n)$ complexity", True),
    ("mathcal", r"$\mathcal{O}(n)$", False),
    ("textit", r"\textit{x}", False),
    ("Godel", r"G{\"o}del's theorem", True),
    ("Schrodinger", r"the Schr\"odinger equation", True),
    ("Erdos", r"Erd\H{o}s", True),
    ("cech", r"\v{C}ech cohomology", True),
    ("36.9", r"36.9\% success", True),
]


@pytest.mark.parametrize("query, text, expected", TEXT_CASES)
def test_term_semantics(query, text, expected):
    assert matches(query, abstract=text) is expected


@pytest.mark.parametrize("query, fields, expected", [
    # unscoped terms search title and abstract, not authors
    ("diffusion", dict(title="Diffusion Policies"), True),
    ("LeCun", dict(title="x", authors=["Yann LeCun"]), False),
    ("ti:diffusion", dict(title="Diffusion", abstract="x"), True),
    ("ti:diffusion", dict(title="x", abstract="diffusion"), False),
    ("abs:diffusion", dict(title="x", abstract="diffusion"), True),
    ("abs:diffusion", dict(title="diffusion", abstract="x"), False),
    # authors: family name, optionally with a given name or initial, author by author
    ("au:LeCun", dict(authors=["Yann LeCun"]), True),
    ('au:"Yann LeCun"', dict(authors=["Yann LeCun"]), True),
    ('au:"Y LeCun"', dict(authors=["Yann LeCun"]), True),
    ('au:"Y. LeCun"', dict(authors=["Yann LeCun"]), True),
    ('au:"Yann LeCun"', dict(authors=["Y. LeCun"]), True),
    ('au:"J LeCun"', dict(authors=["Yann LeCun"]), False),
    ("au:Yann", dict(authors=["Yann LeCun"]), False),
    ('au:"Yann LeCun"', dict(authors=["Yann Smith", "Bob LeCun"]), False),
    ("au:LeCun", dict(authors=["Yann Smith", "Bob LeCun"]), True),
    ("au:Kastner", dict(authors=["Jiaming Wang", "Linh Kästner"]), True),
    ("au:Balazs", dict(authors=[r"C. Bal\'azs", "E. L. Berger"]), True),
    ('au:"van der Maaten"', dict(authors=["Laurens van der Maaten"]), True),
    ('au:"L van der Maaten"', dict(authors=["Laurens van der Maaten"]), True),
    ("au:Maaten", dict(authors=["Laurens van der Maaten"]), True),
    ("au:LeCun", dict(title="LeCun networks"), False),
    # categories: any category or archive prefix; primary = the first
    ("cat:cs.CV", dict(categories=("cs.RO", "cs.CV")), True),
    ("cat:cs.CV", dict(categories=("cs.RO",)), False),
    ("cat:cs", dict(categories=("math.OC", "cs.LG")), True),
    ("cat:math", dict(categories=("cs.LG",)), False),
    ("primary:cs.RO", dict(categories=("cs.RO", "cs.CV")), True),
    ("primary:cs.CV", dict(categories=("cs.RO", "cs.CV")), False),
    ("primary:cs", dict(categories=("cs.RO",)), True),
    ("cat:hep-th", dict(categories=("hep-th",)), True),
    # exclusions and structure
    ("diffusion -robot", dict(abstract="diffusion for robots"), False),
    ("diffusion -robot", dict(abstract="diffusion for images"), True),
    ("diffusion NOT robot", dict(abstract="robot diffusion"), False),
    ("diffusion AND NOT (robot OR agent)", dict(abstract="diffusion agents"), False),
    ("diffusion AND NOT (robot OR agent)", dict(abstract="diffusion"), True),
    ('diffusion AND (video OR "3D")', dict(abstract="video diffusion"), True),
    ('diffusion AND (video OR "3D")', dict(abstract="image diffusion"), False),
    ("diffusion AND video", dict(title="diffusion", abstract="video"), True),
    ("diffusion cat:cs.RO", dict(abstract="diffusion", categories=("cs.CV",)), False),
    ("diffusion -cat:cs.RO", dict(abstract="diffusion", categories=("cs.CV", "cs.RO")), False),
    ("diffusion, video -robot", dict(abstract="diffusion robot"), True),
    ("diffusion, video -robot", dict(abstract="video robot"), False),
    ("diffusion -robot arm", dict(abstract="diffusion robot"), True),
    ("diffusion -robot arm", dict(abstract="diffusion robot arms"), False),
    ("NOT (NOT diffusion)", dict(abstract="diffusion"), True),
])
def test_fields_and_structure(query, fields, expected):
    assert matches(query, **fields) is expected


def test_hit_spans_point_into_the_original_text():
    subject = paper(
        title="VCR: Pixel-Level Reasoning in Vision Language Models via Restoring Text",
        abstract=r"We use \textit{multi-modal} cues and vision-language models (VLMs).",
        authors=["Jiaming Wang", "Linh Kästner"],
        categories=("cs.RO", "cs.CV"),
    )
    query = parse_query('"Vision Language Model" OR VLM OR multi-modal OR au:Kastner OR cat:cs.CV')
    matcher = compile_subscriptions([Subscription("s", query)])
    (match,) = matcher.match([subject])
    seen = {(hit.term, hit.field, field_text(subject, hit.field)[hit.start:hit.end])
            for hit in match.hits}
    assert seen == {
        ("Vision Language Model", "title", "Vision Language Models"),
        ("Vision Language Model", "abstract", "vision-language models"),
        ("VLM", "abstract", "VLMs"),
        ("multi-modal", "abstract", "multi-modal"),
        ("Kastner", "authors", "Linh Kästner"),
        ("cs.CV", "categories", "cs.CV"),
    }
    assert match.hits[0].field == "title"
