"""The query language as users read it (DESIGN.md §4): one text for `/papers help query`, the
CLI's `--help` and the README, so every example in it is checked by tests/matching/test_help.py."""

from __future__ import annotations

import textwrap

from .forms import MAX_PREFIX_EXPANSIONS, MIN_PREFIX_LETTERS

# (query, what it finds): each example is parsed and matched against the sentence next to it by
# the tests, so the help can never again show an example that does something else.
QUERY_EXAMPLES: tuple[tuple[str, str], ...] = (
    ('VLM, MLLM, "vision language model"', "any of these (a comma or OR)"),
    ('diffusion AND (video OR "3D")', "AND, OR and parentheses"),
    ('"world model" NOT robot', "exclusion; -robot is the same"),
    ('(VLM, "vision language model") NOT robot', "exclude from every alternative: parentheses"),
    ("robot*", "a prefix: robot, robots, robotic, robotics"),
    ('ti:transformer abs:"test-time" au:LeCun', "in the title, abstract, authors"),
    ("cat:cs.CV cat:cs primary:cs.CL", "a category, an archive, the primary category"),
    ("vision language model", "unquoted words next to each other form one phrase"),
)

OPERATOR_RULES: tuple[str, ...] = (
    "Operators are AND, OR, NOT in capitals (and the comma for OR, - for NOT). NOT binds "
    "tightest, then AND, then OR and the comma: a, b NOT c means a OR (b AND NOT c).",
    "A lower-case and/or/not is an ordinary word of a phrase; the reply says how it was read.",
)

MATCH_RULES: tuple[str, ...] = (
    "Whole words only: VLM matches VLM, VLMs and VLM-based, never LVLMs.",
    "Case is ignored, except for terms in capitals: MLLM matches MLLM(s), not mLLMs.",
    "Singular and plural are one term, either way: model = models, study = studies, "
    "analysis = analyses, matrix = matrices, vertex = vertices; in a phrase, each word "
    '("models of diffusion" = "model of diffusion").',
    "Compounds are one term however written: finetuning = fine-tuning = fine tuning, "
    "dataset = data set, GPT4 = GPT-4. A word of its own splits only where hyphenated: network "
    'matches net-work, never "the net work done".',
    "British and American spellings are one term: behaviour = behavior, modelling = modeling.",
    "Accents and special letters are folded: Kästner = Kastner, ł = l, ø = o, æ = ae, ß = ss.",
    "LaTeX reads as text: $\\gamma$-ray = gamma-ray, $\\Lambda$CDM = Lambda CDM = ΛCDM, "
    "MoS$_2$ = MoS2; a footnote mark is not part of a word: model$^1$ = model.",
    f"A prefix needs at least {MIN_PREFIX_LETTERS} letters before the * and may cover at most "
    f"{MAX_PREFIX_EXPANSIONS} dictionary words.",
    "Fields: ti: title, abs: abstract, au: author (family name, optionally with a given name or "
    "initial; names only, never affiliations), cat: any category or archive, primary: the primary "
    "category. Plain terms search titles and abstracts.",
)


def examples_table() -> str:
    """The examples as aligned columns (query, what it finds)."""
    return "\n".join(f"{query:<44} {meaning}" for query, meaning in QUERY_EXAMPLES)


QUERY_SYNTAX_HELP = "\n".join([
    "Query syntax",
    "",
    *("  " + line for line in examples_table().splitlines()),
    "",
    *(textwrap.fill(rule, 94, break_on_hyphens=False) for rule in OPERATOR_RULES),
    "",
    "How terms match:",
    *(textwrap.fill(rule, 94, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)
      for rule in MATCH_RULES),
])
