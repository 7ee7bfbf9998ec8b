"""Text normalisation shared by queries and papers (DESIGN.md §4, term semantics).

A text becomes a list of tokens: runs of letters and digits, folded (transliterated to ASCII with
anyascii's table, lower-cased). Hyphens, spaces and punctuation separate tokens.

Before tokenising, LaTeX becomes text (`plain_text`): pylatexenc parses each piece of markup, so
`$\\gamma$-ray` reads "gamma-ray", `$\\Lambda$CDM` "Lambda CDM", `MoS$_2$` "MoS2" (sub- and
superscripts join the word they follow, but a footnote mark does not: `model$^1$` reads
"model"), `{\\AA}ngstr{\\"o}m` "Ångström" (TeX accents resolved before folding), and
formatting (`\\textit{x}`, `\\mathcal{O}`) keeps only its text. Greek letters, written as TeX
or as Unicode, read as their names ("ΛCDM" = "Lambda CDM"), because that is how people type them
in a query. The conversion keeps a map back to the original text, so a hit's
span still points into the paper's own title or abstract (the Markdown digest shows it with its
`$...$`).

The matcher needs token *strings* for every paper but token *spans* only for the few that hit, so
`token_pieces` keeps the pieces from which spans are computed on demand.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_left, bisect_right
from functools import lru_cache

from anyascii import anyascii
from pylatexenc.latex2text import LatexNodes2Text
from pylatexenc.latexwalker import (
    get_default_latex_context_db,
    LatexCharsNode,
    LatexCommentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
)

# A token: letters and digits, with any combining marks of text that arrives decomposed
# ("Ka\u0308stner"); "_" separates like punctuation.
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_TOKEN_RE = re.compile(rf"[^\W_](?:[^\W_]|[{_COMBINING}])*")
_PIECES_RE = re.compile(f"({_TOKEN_RE.pattern})")
# The same for ASCII text, which has no combining marks (most of a listing): a simpler pattern.
_ASCII_PIECES_RE = re.compile(r"([^\W_]+)")
# ASCII tokens joined by single spaces come faster from bytes.translate and split than from a
# regex (a third of the time on an abstract): every ASCII byte that is no letter or digit is a
# space.
_ASCII_SEPARATORS = bytes(ord(" ") if byte < 128 and not chr(byte).isalnum() else byte
                          for byte in range(256))


def _ascii_joined(text: str) -> str:
    """The tokens of an ASCII text joined by single spaces."""
    return " ".join(text.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split())


# Non-ASCII characters that are in no token (→, ±, ×, ∼, ≤: what LaTeX symbols bring into an
# abstract) separate tokens as ASCII punctuation does: a text whose only non-ASCII characters are
# such takes the ASCII path with them made spaces (the token regex takes three times as long).
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")
_IN_A_TOKEN_RE = re.compile(rf"[^\W_]|[{_COMBINING}]")


def _as_ascii(plain: str) -> str | None:
    """A text with the same tokens as `plain` that is ASCII: `plain` itself when it is, with its
    non-ASCII characters made spaces when none of them is in a token; None when one is."""
    if plain.isascii():
        return plain
    if _IN_A_TOKEN_RE.search("".join(_NON_ASCII_RE.findall(plain))):
        return None
    return _NON_ASCII_RE.sub(" ", plain)


# --- Greek letters: names, whichever way they are written ---------------------------------------

_GREEK_NAMES = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron "
                "pi rho sigma tau upsilon phi chi psi omega").split()


def _greek_table() -> dict[str, str]:
    table = {}
    for code in list(range(0x0391, 0x03CA)) + [0x03D1, 0x03D5, 0x03D6, 0x03F1, 0x03F5, 0x00B5]:
        char = chr(code)
        name = unicodedata.name(char, "")
        words = name.replace("LAMDA", "LAMBDA").split() or ["?"]
        letter = words[-1].lower()
        if name == "MICRO SIGN":
            letter = "mu"
        elif "SYMBOL" in words:  # ϑ GREEK THETA SYMBOL, ϵ GREEK LUNATE EPSILON SYMBOL
            letter = next((w.lower() for w in words if w.lower() in _GREEK_NAMES), "")
        elif letter == "sigma" or "FINAL" in words:
            letter = "sigma"
        if letter not in _GREEK_NAMES:
            continue
        table[char] = letter.capitalize() if "CAPITAL" in words else letter
    return table


GREEK_LETTERS = _greek_table()
_GREEK_RE = re.compile("[" + "".join(sorted(GREEK_LETTERS)) + "]")
# \gamma, \Lambda, \varepsilon: the letter's name, capitalised as written
_GREEK_MACROS = {name: name for name in _GREEK_NAMES} | {
    name.capitalize(): name.capitalize() for name in _GREEK_NAMES} | {
    f"var{name}": name for name in ("epsilon", "theta", "phi", "pi", "rho", "sigma", "kappa")} | {
    f"Var{name}": name.capitalize() for name in ("theta", "phi", "pi", "sigma")}

# --- LaTeX to text, with a map back to the original -------------------------------------------

# Markup a text may hold: math, a brace group, a macro with its brace arguments, an accent with
# its letter. Only these pieces go through pylatexenc, so a bare "%" in an abstract ("5% more")
# is not read as a TeX comment, and plain text costs nothing.
_ISLAND_RE = re.compile(
    r"""
      \$\$.+?\$\$ | \$[^$]+\$ | \\\(.+?\\\) | \\\[.+?\\\]
    | \\[A-Za-z]+\*?(?:\s*\{(?:[^{}]|\{[^{}]*\})*\})*
    | \\[^A-Za-z\s](?:\{[^{}]*\}|[A-Za-z])?
    | \{(?:[^{}]|\{[^{}]*\})*\}
    """,
    re.VERBOSE | re.DOTALL,
)
_MARKUP_CHARS = "\\${}"


def has_markup(text: str) -> bool:
    """Whether `text` has a character LaTeX markup starts with (one fast search per character:
    most fields have none, and a regex reads all of each of them)."""
    return any(char in text for char in _MARKUP_CHARS)

# A superscript of digits, letters or marks alone (no sign), right after a word of three or more
# letters, is a footnote mark (`model$^1$`, `Doe$^{1,2}$`, `method$^{*}$`): it separates. Unlike
# a subscript (`MoS$_2$`, `CO$_2$`), an ion's charge (`Ca$^{2+}$`) or a power after a unit or a
# symbol (`cm$^2$`, `R$^2$`), which join what they follow.
_FOOTNOTE_RE = re.compile(r"\$\^(?:\{[0-9a-z*,\s]+\}|[0-9a-z*])\$\Z")
# Macros whose arguments are the text (the macro itself is only formatting).
_FORMATTING = frozenset("""text textrm textit textbf textsf texttt textsc textup textsl textnormal
emph mbox hbox fbox underline overline mathrm mathit mathbf mathsf mathtt mathcal mathbb mathfrak
mathscr mathnormal boldsymbol bm pmb operatorname widetilde widehat tilde hat bar vec dot ddot
check breve acute grave mathring overrightarrow overleftarrow textsuperscript textsubscript
ensuremath""".split())
_latex_to_text = LatexNodes2Text(math_mode="text")
# Built once: pylatexenc builds its default macro database per walker otherwise (a third of the
# parse time).
_LATEX_CONTEXT = get_default_latex_context_db()
# pylatexenc logs a warning for a macro whose arguments are cut off (`\frac` at the end of a
# piece of markup); the text is still converted, and a listing must not fill the log with them.
logging.getLogger("pylatexenc").setLevel(logging.ERROR)
# Markup with no macro needs no parser: math and brace groups lose their delimiters (and, in math,
# the _ and ^ that join sub- and superscripts to what they follow); a lone Greek letter is its name.
_NO_MACRO = re.compile(r"[^\\]*\Z")
_LONE_GREEK = re.compile(r"(\$?)\\([A-Za-z]+)\1\Z")


class _Walker(LatexWalker):
    """pylatexenc's walker, leaving no reference cycle behind. It ends every parse by raising
    LatexWalkerEndOfStream from get_token, and get_latex_nodes keeps the exception in a local:
    exception -> traceback -> that frame -> exception, a cycle through every frame object up
    the stack, whose locals then stay alive with it (a day's whole match, in `_match_day`). In
    a phase with the collector paused, `collector_paused` freezes that cycle for good: each
    day's matching state would never be freed. So the tracebacks of what get_token raised are
    dropped once a parse is over (`forget_raised`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._raised: list[BaseException] = []

    def get_token(self, *args, **kwargs):
        try:
            return super().get_token(*args, **kwargs)
        except Exception as error:
            self._raised.append(error)
            raise

    def forget_raised(self) -> None:
        for error in self._raised:
            error.__traceback__ = None
        self._raised.clear()


def _latex_nodes(markup: str) -> list:
    """The parsed nodes of a piece of markup (tolerant: pylatexenc's errors are raised only
    where it cannot go on)."""
    walker = _Walker(markup, latex_context=_LATEX_CONTEXT, tolerant_parsing=True)
    try:
        return walker.get_latex_nodes()[0]
    finally:
        walker.forget_raised()


class PlainText:
    """A text with its LaTeX turned into text; maps positions back to the original.

    `replaced` lists the stretches that are not copied verbatim, as parallel lists of plain and
    original offsets; everything between them is a verbatim copy.
    """

    __slots__ = ("text", "plain_starts", "plain_ends", "original_starts", "original_ends")

    def __init__(self, text: str, replaced: list[tuple[int, int, int, int]]):
        self.text = text
        self.plain_starts = [r[0] for r in replaced]
        self.plain_ends = [r[1] for r in replaced]
        self.original_starts = [r[2] for r in replaced]
        self.original_ends = [r[3] for r in replaced]

    def start(self, position: int) -> int:
        """Original offset of the character at plain `position`."""
        index = bisect_right(self.plain_starts, position) - 1
        if index < 0:
            return position
        if position < self.plain_ends[index]:
            return self.original_starts[index]
        return position - self.plain_ends[index] + self.original_ends[index]

    def end(self, position: int) -> int:
        """Original offset just after the character before plain `position`."""
        index = bisect_left(self.plain_starts, position) - 1
        if index < 0:
            return position
        if position <= self.plain_ends[index]:
            return self.original_ends[index]
        return position - self.plain_ends[index] + self.original_ends[index]


def plain_text(text: str) -> PlainText | None:
    """`text` with LaTeX and Greek letters turned into words, or None when nothing changes."""
    markup = has_markup(text)
    greek = not text.isascii() and _GREEK_RE.search(text) is not None
    if not markup and not greek:
        return None
    pieces: list[tuple[int, int, str]] = []   # (original start, end, replacement)
    if markup:
        island_starts: list[int] = []
        island_ends: list[int] = []
        for island in _ISLAND_RE.finditer(text):
            base = island.start()
            island_starts.append(base)
            island_ends.append(island.end())
            if _FOOTNOTE_RE.match(island.group()) and text[max(base - 3, 0):base].isalpha() \
                    and base >= 3:
                pieces.append((base, island.end(), " "))  # model$^1$: a footnote mark
                continue
            for start, end, replacement in _island_pieces(island.group()):
                pieces.append((base + start, base + end, replacement))
        # a stray brace outside the markup is markup too ("{M}ulti" reads "Multi"): looked for
        # between the islands only
        if "{" in text or "}" in text:
            for start, end in zip([0, *island_ends], [*island_starts, len(text)]):
                for brace in "{}":
                    position = text.find(brace, start, end)
                    while position >= 0:
                        pieces.append((position, position + 1, ""))
                        position = text.find(brace, position + 1, end)
        pieces.sort()
    if greek:
        converted = []
        for start, end, replacement in pieces:
            converted.append((start, end, _GREEK_RE.sub(lambda m: f" {GREEK_LETTERS[m.group()]} ",
                                                         replacement)))
        cursor = 0
        greek_pieces = []
        for start, end, _ in pieces + [(len(text), len(text), "")]:
            for letter in _GREEK_RE.finditer(text, cursor, start):
                greek_pieces.append((letter.start(), letter.end(), f" {GREEK_LETTERS[letter.group()]} "))
            cursor = max(cursor, end)
        pieces = sorted(converted + greek_pieces)
    out: list[str] = []
    replaced: list[tuple[int, int, int, int]] = []
    cursor = 0
    length = 0
    for start, end, replacement in pieces:
        if start < cursor:
            continue  # overlapping pieces cannot happen with one regex pass; be safe
        out.append(text[cursor:start])
        length += start - cursor
        replaced.append((length, length + len(replacement), start, end))
        out.append(replacement)
        length += len(replacement)
        cursor = end
    out.append(text[cursor:])
    return PlainText("".join(out), replaced)


_MATH_RE = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.DOTALL)


def math_spans(text: str):
    """The `$...$` pieces of a text (match objects), as the converter reads them."""
    return _MATH_RE.finditer(text)


# The same small pieces of markup come back day after day (`$\sim$`, `$\alpha$`, `$_2$`: on the
# recorded corpus 41% of them are repeats): the latest are kept.
@lru_cache(maxsize=65536)
def _island_pieces(island: str) -> tuple[tuple[int, int, str], ...]:
    """Replacements (start, end, text) inside one piece of markup; the rest of it is verbatim."""
    if _NO_MACRO.match(island):
        math = island.startswith("$")
        return tuple((i, i + 1, "") for i, char in enumerate(island)
                     if char in "${}" or (math and char in "_^"))
    greek = _LONE_GREEK.match(island)
    if greek and greek.group(2) in _GREEK_MACROS:
        return ((0, len(island), f" {_GREEK_MACROS[greek.group(2)]} "),)
    simple = _simple_math_pieces(island)
    if simple is not None:
        return simple
    return _parsed_pieces(island)


def _parsed_pieces(island: str) -> tuple[tuple[int, int, str], ...]:
    """`_island_pieces` by pylatexenc's parse."""
    try:
        nodes = _latex_nodes(island)
    except Exception:  # pylatexenc raises its own errors on markup it cannot read: keep as is
        return ()
    kept: list[tuple[int, int, str | None]] = []  # text None = verbatim
    _walk(nodes, kept, math=False)
    pieces = []
    cursor = 0
    for start, end, replacement in sorted(kept, key=lambda k: k[0]):
        if start < cursor:
            continue
        if start > cursor:
            pieces.append((cursor, start, ""))  # markup between kept pieces: dropped
        if replacement is not None:
            pieces.append((start, end, replacement))
        cursor = end
    if cursor < len(island):
        pieces.append((cursor, len(island), ""))
    return tuple(pieces)


# Math of characters and letter macros that take no argument (`$B\to\pi\pi$`, `$p \geq 5$`,
# `$\approx 1.5$`: two in five of the pieces the parser would read) is converted here, as the walk
# below would: the dollars and every `_`/`^` dropped, each macro with the spaces after it replaced
# by its text (asked of the parser once per macro), the rest verbatim. Not with the characters
# the parser reads as specials among macros (`~`, `--`, `''`, `&`, `#`, a backquote).
_SIMPLE_MATH_RE = re.compile(r"\$(?:[^\\{}$%\s~&#`]| |\\[A-Za-z]+)+\$\Z")
_MACRO_AND_SPACES_RE = re.compile(r"\\([A-Za-z]+) *")


def _simple_math_pieces(island: str) -> tuple[tuple[int, int, str], ...] | None:
    """`_island_pieces` of simple math, or None when the island is not that simple."""
    if not _SIMPLE_MATH_RE.match(island) or "--" in island or "''" in island:
        return None
    pieces = [(0, 1, ""), (len(island) - 1, len(island), "")]
    for macro in _MACRO_AND_SPACES_RE.finditer(island):
        text = _argument_free_macro_text(macro.group(1))
        if text is None:
            return None
        pieces.append((macro.start(), macro.end(), text))
    pieces.extend((position, position + 1, "") for position, char in enumerate(island)
                  if char in "_^")
    return tuple(sorted(pieces))


@lru_cache(maxsize=4096)
def _argument_free_macro_text(name: str) -> str | None:
    """What the parser turns macro `name` into in math, or None when it takes arguments, or
    formats what follows (then the parser reads the whole piece of markup)."""
    spec = _LATEX_CONTEXT.get_macro_spec(name)
    if spec is not None and getattr(spec.args_parser, "argspec", None) != "":
        return None
    if name in _FORMATTING:
        return None
    pieces = _parsed_pieces("$\\" + name + "$")
    if len(pieces) != 3:
        return None
    return pieces[1][2]


def _walk(nodes, kept: list, math: bool) -> None:
    for node in nodes or ():
        if node is None:
            continue
        if isinstance(node, LatexCharsNode):
            if math and ("_" in node.chars or "^" in node.chars):
                # sub- and superscripts join what they follow: MoS$_2$ reads MoS2
                for offset, char in enumerate(node.chars):
                    position = node.pos + offset
                    kept.append((position, position + 1, "" if char in "_^" else None))
            else:
                kept.append((node.pos, node.pos + node.len, None))
        elif isinstance(node, LatexGroupNode):
            _walk(node.nodelist, kept, math)
        elif isinstance(node, LatexMathNode):
            _walk(node.nodelist, kept, True)
        elif isinstance(node, LatexMacroNode):
            name = node.macroname
            if name in _GREEK_MACROS:
                kept.append((node.pos, node.pos + node.len, f" {_GREEK_MACROS[name]} "))
            elif name in _FORMATTING:
                arguments = node.nodeargd.argnlist if node.nodeargd else ()
                _walk([a for a in arguments if a is not None], kept, math)
            else:
                text = _latex_to_text.nodelist_to_text([node])
                kept.append((node.pos, node.pos + node.len, text if text.strip() else " "))
        elif isinstance(node, LatexCommentNode):
            kept.append((node.pos, node.pos + node.len, " "))
        elif isinstance(node, LatexSpecialsNode):
            text = _latex_to_text.nodelist_to_text([node])
            kept.append((node.pos, node.pos + node.len, text))
        else:
            kept.append((node.pos, node.pos + node.len, _latex_to_text.nodelist_to_text([node])))


_SUBSCRIPTS = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
_SUPERSCRIPTS = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
_SCRIPT_RE = re.compile(r"([_^])(?:\{([0-9+\-=()n]+)\}|([0-9+\-=()n]))")


def readable_text(text: str) -> str:
    """A title or abstract with its LaTeX turned into readable Unicode, for chat: Greek letters as
    letters (`$\\gamma$-ray` -> "γ-ray"), accents resolved (`Schr\\"odinger` -> "Schrödinger"),
    digits in sub- and superscripts as Unicode (`MoS$_2$` -> "MoS₂", `$n^2$` -> "n²"),
    formatting dropped. Plain text comes back unchanged."""
    if not has_markup(text):
        return text

    def island(match: re.Match[str]) -> str:
        markup = match.group()
        if markup.startswith("$") or markup.startswith("\\(") or markup.startswith("\\["):
            markup = _SCRIPT_RE.sub(_unicode_script, markup)
        try:
            converted = _latex_to_text.nodelist_to_text(_latex_nodes(markup))
        except Exception:  # unreadable markup is shown as written
            return match.group()
        return converted

    return _ISLAND_RE.sub(island, text).replace("{", "").replace("}", "")


def _unicode_script(match: re.Match[str]) -> str:
    digits = match.group(2) or match.group(3)
    table = _SUBSCRIPTS if match.group(1) == "_" else _SUPERSCRIPTS
    converted = digits.translate(table)
    if match.group(1) == "_" and "n" in digits:
        return match.group()
    return converted


# --- folding and tokens -------------------------------------------------------------------------


@lru_cache(maxsize=131072)
def _fold_other(token: str) -> str:
    folded = "".join(c for c in anyascii(token) if c.isalnum()).lower()
    return folded or token.lower() or "_"


def fold(token: str) -> str:
    """Folded form of one token: transliterated (anyascii: ł->l, ø->o, æ->ae, ß->ss, å->a),
    lower-cased (`Kästner` -> `kastner`)."""
    if token.isascii():
        return token.lower()
    return _fold_other(token)


def _plain(text: str) -> str:
    converted = plain_text(text)
    return text if converted is None else converted.text


def tokenize(text: str) -> list[str]:
    """Folded tokens of `text` (a paper field or a query term)."""
    plain = _plain(text)
    ascii_plain = _as_ascii(plain)
    if ascii_plain is not None:
        joined = _ascii_joined(ascii_plain)
        return joined.lower().split(" ") if joined else []
    raw = _TOKEN_RE.findall(plain)
    joined = " ".join(raw)
    if joined.isascii():
        return joined.lower().split(" ") if joined else []
    return [fold(token) for token in raw]


def is_capitalised(token: str) -> bool:
    """A token written in capitals: two or more capital letters and no lower-case one, except a
    plural s after them (`MLLM`, `RL`, `GPT4`, `LLMs`; not `mLLMs`, `Is`)."""
    if token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]
    letters = [c for c in token if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


HYPHENS = ("-", "\u2010", "\u2011")  # a hyphen between two tokens: one compound


def term_tokens(text: str) -> list[tuple[str, str, bool]]:
    """Tokens of a query term: (folded, as written, joined to the next token by a hyphen).

    The hyphen flag lets `multi-modal` also match the closed compound `multimodal`.
    """
    plain = _plain(text)
    result = []
    matches = list(_TOKEN_RE.finditer(plain))
    for index, match in enumerate(matches):
        written = match.group(0)
        hyphenated = (index + 1 < len(matches)
                      and plain[match.end():matches[index + 1].start()] in HYPHENS)
        result.append((fold(written), written, hyphenated))
    return result


def token_stream(text: str) -> tuple[str, str, PlainText | None, str]:
    """The cheap part of `token_pieces` for a paper field: its plain text (LaTeX converted), its
    token stream (`" tok tok tok "`, folded; empty when there is no token), the map back to the
    original text (None when the plain text is the original) and the tokens as written at the
    same offsets as the stream (`" Tok TOK tok "`; empty when folding changed a token's length,
    `ß` -> `ss`), so a hit's tokens as written are a slice of it. The pieces, which only spans
    need, come later from `plain_pieces(plain)`: most fields never have a span asked of them."""
    converted = plain_text(text)
    plain = text if converted is None else converted.text
    ascii_plain = _as_ascii(plain)
    if ascii_plain is not None:
        joined = _ascii_joined(ascii_plain)
        if not joined:
            return plain, "", converted, ""
        return plain, f" {joined.lower()} ", converted, f" {joined} "
    raw = _TOKEN_RE.findall(plain)
    if not raw:
        return plain, "", converted, ""
    joined = " ".join(raw)
    if joined.isascii():
        return plain, f" {joined.lower()} ", converted, f" {joined} "
    folded = list(map(fold, raw))
    # (separators such as "–" or "’" are not tokens: most non-ASCII texts still align)
    aligned = list(map(len, folded)) == list(map(len, raw))
    return plain, f" {' '.join(folded)} ", converted, f" {joined} " if aligned else ""


def plain_pieces(plain: str) -> list[str]:
    """The alternating separator/token pieces of a plain text (tokens at odd positions; the
    tokens are the ones `token_stream` found, in the same order)."""
    return (_ASCII_PIECES_RE if plain.isascii() else _PIECES_RE).split(plain)


def token_pieces(text: str) -> tuple[list[str], str, PlainText | None]:
    """One pass for a paper field: the alternating separator/token pieces of its plain text
    (tokens at odd positions, so piece lengths give spans), its token stream (`" tok tok tok "`,
    folded; empty when there is no token), and the map back to the original text (None when the
    plain text is the original)."""
    converted = plain_text(text)
    plain = text if converted is None else converted.text
    pieces = (_ASCII_PIECES_RE if plain.isascii() else _PIECES_RE).split(plain)
    raw = pieces[1::2]
    if not raw:
        return pieces, "", converted
    joined = " ".join(raw)
    if joined.isascii():
        return pieces, f" {joined.lower()} ", converted
    return pieces, f" {' '.join(map(fold, raw))} ", converted
