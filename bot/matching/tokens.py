"""Text normalisation shared by queries and papers (DESIGN.md §4, term semantics).

A text becomes a list of tokens: runs of letters and digits, accents folded (NFKD, combining marks
dropped), lower-cased. Hyphens, spaces and punctuation separate tokens. LaTeX markup is neutralised
first without changing the text's length, so token spans still point into the original text:
commands (`\\textit`, `\\mathcal`), braces and `$ ^ ~` become separators, while accent macros
(`{\\"o}`, `\\'e`, `\\v{c}`) become "joiners" that keep the word in one piece.

The matcher needs token *strings* for every paper but token *spans* only for the few that hit, so
`token_pieces` keeps the pieces from which spans are computed on demand.
"""

from __future__ import annotations

import re
import unicodedata

# Stands in for markup inside a word (`K{\"a}stner`): part of the token, dropped from its text.
JOINER = "\x00"

_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# A token starts with a letter or digit and may continue with joiners and combining marks
# (text that arrives already decomposed: "Ka\u0308stner").
_TOKEN_RE = re.compile(rf"\w[\w{JOINER}{_COMBINING}]*")

# Backslash sequences (and the braces around accents) need context; handled by a regex pass.
_LATEX_RE = re.compile(
    r"""
      (?P<accent>\{?\\(?:["'`^~=.]|[cvuHkrbdt](?![A-Za-z]))\s*\{?(?=[A-Za-z]))  # {\"o} \'e \v{c}
    | (?P<letter>\{?\\(?:ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)(?![A-Za-z])\}?)      # {\o} \ss \i
    | (?P<close>(?<=[A-Za-z])\}(?=[A-Za-z]))                                     # K{\"a}stner
    | (?P<command>\\(?:[A-Za-z]+\*?|[\s\S]))                                     # \textit \% \\
    """,
    re.VERBOSE,
)
# Everything else that is markup is a separator: one C-level translate, same length.
_SEPARATORS = str.maketrans({c: " " for c in "{}$^~_"})


def _neutralise_markup(match: re.Match[str]) -> str:
    text = match.group(0)
    kind = match.lastgroup
    if kind == "accent" or kind == "close":
        return JOINER * len(text)
    if kind == "letter":
        # Keep the letters of `\ss`, `{\o}`; the backslash and braces join.
        return "".join(c if c.isalpha() else JOINER for c in text)
    return " " * len(text)


def clean_markup(text: str) -> str:
    """The text with LaTeX markup neutralised and `_` made a separator; same length as `text`."""
    if "\\" in text:
        text = _LATEX_RE.sub(_neutralise_markup, text)
    return text.translate(_SEPARATORS)


def fold(token: str) -> str:
    """Accent-folded, lower-case form of one token (`Kästner` -> `kastner`)."""
    if token.isascii():
        return token.replace(JOINER, "").lower()
    decomposed = unicodedata.normalize("NFKD", token)
    folded = "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).lower()
    # Lower-casing can decompose again (`İ` -> `i̇`), and an all-symbol token must not vanish,
    # or token positions would no longer line up with spans.
    folded = "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))
    return folded or token.replace(JOINER, "").lower() or "_"


def raw_tokens(cleaned: str) -> list[str]:
    """Token texts as they appear in an already cleaned text (joiners included)."""
    return _TOKEN_RE.findall(cleaned)


def tokenize(text: str) -> list[str]:
    """Folded tokens of `text` (a paper field or a query term)."""
    raw = raw_tokens(clean_markup(text))
    joined = " ".join(raw)
    if joined.isascii():
        if JOINER in joined:
            joined = joined.replace(JOINER, "")
        return joined.lower().split(" ") if joined else []
    return [fold(token) for token in raw]


def is_capitalised(token: str) -> bool:
    """A token written in capitals: two or more letters, all upper case (`MLLM`, `RL`, `GPT4`)."""
    letters = [c for c in token if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def term_tokens(text: str) -> list[tuple[str, str, bool]]:
    """Tokens of a query term: (folded, as written, joined to the next token by a hyphen).

    The hyphen flag lets `multi-modal` also match the closed compound `multimodal`.
    """
    cleaned = clean_markup(text)
    result = []
    matches = list(_TOKEN_RE.finditer(cleaned))
    for index, match in enumerate(matches):
        written = match.group(0).replace(JOINER, "")
        hyphenated = (index + 1 < len(matches)
                      and cleaned[match.end():matches[index + 1].start()] in _HYPHENS)
        result.append((fold(written), written, hyphenated))
    return result


_HYPHENS = ("-", "\u2010", "\u2011")


_PIECES_RE = re.compile(f"({_TOKEN_RE.pattern})")


def token_pieces(text: str) -> tuple[list[str], str]:
    """One pass for a paper field: the alternating separator/token pieces of its cleaned text
    (tokens at odd positions, so piece lengths give spans) and its token stream
    (`" tok tok tok "`, folded; empty when there is no token)."""
    pieces = _PIECES_RE.split(clean_markup(text))
    raw = pieces[1::2]
    if not raw:
        return pieces, ""
    joined = " ".join(raw)
    if joined.isascii():
        if JOINER in joined:
            joined = joined.replace(JOINER, "")
        return pieces, f" {joined.lower()} "
    return pieces, f" {' '.join(map(fold, raw))} "
