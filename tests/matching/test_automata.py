"""Key automata (bot/matching/automata.py): scanning many texts in one call."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from bot.matching.automata import KeyAutomata, scan_together

KEYS = [" a ", " a b ", " b c ", " c ", " rob", " \x04 doe \x05 "]
LATER = [" b ", " c a "]   # keys added after the compile: a second automaton


def automata(keys=KEYS, later=()) -> KeyAutomata:
    found = KeyAutomata()
    for key in keys:
        found.add(key)
    found.build(seal=True)
    for key in later:
        found.add(key)
    found.build()
    return found


def rebased(per_text, bases):
    return [sorted((key, start - base, end - base) for key, start, end in hits)
            for hits, base in zip(per_text, bases)]


def test_each_texts_hits_are_its_own_scan_moved_by_where_it_starts():
    keys = automata(later=LATER)
    texts = [" a b c ", " c a ", " robot a ", " \x04 doe \x05 ", " b "]
    per_text, bases = scan_together(keys.scans(), texts)
    assert len(keys.scans()) == 2
    alone = [sorted(hit for scan in keys.scans() for hit in scan(text)) for text in texts]
    # and no hit spans two texts (the separator between them is in no key)
    assert rebased(per_text, bases) == alone
    assert all(text[start:end] == (KEYS + LATER)[key] for text, hits in zip(texts, alone)
               for key, start, end in hits)


def test_hits_reported_out_of_order_are_still_split_by_text():
    """The splitting relies on hits coming by where they end; it sorts them when they do not."""
    keys = automata()
    (scan,) = keys.scans()
    texts = [" a b ", " b c ", " a "]
    per_text, bases = scan_together([lambda text: list(reversed(scan(text)))], texts)
    assert rebased(per_text, bases) == [sorted(scan(text)) for text in texts]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "robot", "x"]), max_size=6)
                .map(lambda words: f" {' '.join(words)} " if words else ""), max_size=8))
def test_any_texts_scanned_together_hit_as_scanned_alone(texts):
    keys = automata()
    per_text, bases = scan_together(keys.scans(), texts)
    (scan,) = keys.scans()
    assert rebased(per_text, bases) == [sorted(scan(text)) for text in texts]
