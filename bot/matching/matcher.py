"""All subscriptions compiled together and matched against a day's papers (DESIGN.md §4).

How a day is matched:

1. Each paper is normalised once per `match_day()` call (unless no subscription takes its
   announce type), the whole day before the scan, the whole scan before the scoring (one step
   at a time keeps each step's tables in the CPU caches): title, abstract and authors become
   token streams (`" tok tok tok "`, LaTeX
   converted to text, tokens folded, separated by single spaces; each author wrapped in
   `\\x04 ... \\x05` markers so family names can be anchored to the end of a name).
2. One Aho-Corasick automaton (`automata`) holds every term of every subscription as keys in
   the same normalised form with a space on both sides, so only whole tokens and whole phrases can
   hit. A term's word forms are more keys (see `terms` and `forms`): singular and plural of its
   last word (`" model "`, `" models "`), its compounds open and closed (`" fine tuning "`,
   `" finetuning "`), British and American spellings. The text is still scanned once.
3. The few checks the automaton cannot do run on the hits only: terms written in capitals must hit
   capital tokens (`MLLM` is not "mLLMs"), a closed compound must not be camel-case glue
   ("LanguageModel"), multi-word author names check the given name.
4. The day's title and abstract hits are counted per (paper, term) and field at once, in numpy
   (`day_scores`), and each term gets its posting: per announce type, {paper index: score} of
   the papers it hit (author and category terms, few, are scored paper by paper).
5. Each subscription's matches come from the postings (`table.resolve_all`): a one-term
   subscription's are its term's postings themselves, shared by every subscription of that
   term; "any of these terms" (`VLM, MLLM`) shares them too, plus a chunk of summed scores for
   the papers several of its terms hit; excluded terms (`"world model" -robot`) and `a AND b`
   filter or intersect them; any other query is evaluated on the hit sets of the papers one of
   its necessary terms hit. The result, a `MatchTable`, holds no record per match: hits with
   spans (computed once per (paper, term), shared) and Match records are made on request, for
   what a digest shows.

So the cost of a day grows with the papers' text and the matches found, not with the number of
subscriptions.

Updates: `add()` and `remove()` are incremental for terms, keys and the indexes (shared terms
are reference-counted); a MatchTable already made keeps what it needs and is not changed. Keys
added after the compile go to small automata of their own and removed keys stay behind, inert,
so a subscribe or unsubscribe never rebuilds the whole key set (see `automata`).

Hits carry their spans lazily (`lazy_hits`): the score counts hits per field, the spans are
computed when a match's hits are first looked at, which few of a day's million matches are.

Where each job lives: `subscriptions` (a query plus options), `terms` (term tables: automaton keys
and their checks), `automata` (the keys' automata), `papers` (a paper normalised once),
`day_scores` (a day's hits counted and scored), `routes` (how a subscription is reached and
evaluated on hit sets), `table` (a day's matches), `explain` (explanations); this module ties
them together.
"""

from __future__ import annotations

import gc
import os
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from itertools import chain, groupby, repeat
from operator import itemgetter
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from bot.models import Hit, Match, Paper
from bot.taxonomy import archive_of

from .automata import KeyAutomata, scan_together
from .day_scores import KeyTerms, RegionHits, postings_by_term, scored_pairs
from .lazy_hits import LazyHits, concatenated
from .explain import Explanation, TermReport, describe_hits, why_false
from .papers import PaperState, field_text
from .query import Term
from .routes import CompiledSubscription
from .subscriptions import DEFAULT_TYPES, Subscription
from .table import MatchTable, Postings, resolve_all
from .terms import (ABSTRACT, AUTHORS, TITLE, CompiledTerm, author_name_matches, check_failure,
                    check_holds, describe_check_failure, needs_separators, written_failure)

exhaust = deque(maxlen=0).extend  # runs an iterator to its end, in C

__all__ = ["FIELD_WEIGHTS", "CompiledMatcher", "DEFAULT_TYPES", "Explanation", "Subscription",
           "TermReport", "compile_subscriptions", "field_text"]

# Score: a term counts once per field it hit; a few extra occurrences break ties between papers
# without ever outweighing another distinct term.
FIELD_WEIGHTS = {"title": 3.0, "abstract": 1.0, "authors": 2.0, "categories": 0.5}
_OCCURRENCE_BONUS = 0.1
_MAX_BONUS_OCCURRENCES = 5



class _ScoreTable(dict):
    """Score of a title/abstract term by how many times it occurred, for one set of fields
    (the formula of `_term_hits`, looked up in C; filled on first use of each count)."""

    def __init__(self, fields: tuple[str, ...]):
        super().__init__()
        self.fields = fields

    def __missing__(self, occurrences: int) -> float:
        if occurrences == 1:
            score = FIELD_WEIGHTS[self.fields[0]]
        else:
            score = round(sum(FIELD_WEIGHTS[f] for f in self.fields) + _OCCURRENCE_BONUS
                          * min(occurrences - 1, _MAX_BONUS_OCCURRENCES), 3)
        self[occurrences] = score
        return score


BOTH = 2  # a term found in the title and in the abstract
_SCORES = (_ScoreTable(("title",)), _ScoreTable(("abstract",)), _ScoreTable(("title", "abstract")))
# The same as arrays by occurrence count (title only, abstract only, both), for day_scores: from
# _MAX_BONUS_OCCURRENCES + 1 occurrences on, the score no longer grows.
_SCORE_TABLES = tuple(np.array([0.0] + [table[count] for count in range(1, _MAX_BONUS_OCCURRENCES + 2)])
                      for table in _SCORES)

_EMPTY_SET: frozenset = frozenset()
_set_item = dict.__setitem__
_REGION_FIELDS = ("title", "abstract", "authors")
# Papers normalised before their scan starts in the other thread: small enough that the last
# batch, whose scan nothing overlaps, is short; large enough that a batch's one scan call is long.
SCAN_BATCH_PAPERS = 200
T = TypeVar("T")

# Hit is a tuple-backed record: `_new_record(Hit, fields)` builds one in C, without
# the Python-level __new__ (spans of the hits a digest shows).
_new_record = tuple.__new__
_hit_start = itemgetter(2)  # Hit.start, read from the tuple directly


class CompiledMatcher:
    """Every subscription compiled together; see the module docstring for how."""

    def __init__(self, subscriptions: Iterable[Subscription] = ()):
        # Keys live in a few automata scanned one after the other: the one built at compile
        # time, then smaller ones for keys added since (see `automata`).
        self._automata = KeyAutomata()
        self._key_terms_cache: tuple[KeyTerms, KeyTerms] | None = None  # see _key_terms
        self._pid_of_key: dict[str, int] = {}
        self._key_tokens: list[int] = []
        self._key_entries: list[list[tuple[int, tuple | None]]] = []
        self._plain: tuple[list, list, list] = ([], [], [])
        self._checked: tuple[list, list, list] = ([], [], [])
        self._checked_pids: tuple[set, set, set] = (set(), set(), set())
        self._terms: list[CompiledTerm | None] = []
        self._term_id: dict[tuple, int] = {}
        self._category_terms: dict[str, list[int]] = {}
        # how many subscriptions take each announce type: papers of a type none takes are
        # not even normalised
        self._kind_users: Counter[str] = Counter()
        self._subscriptions: list[CompiledSubscription | None] = []
        # one-term subscriptions grouped by what they share (term, announce types): a day's
        # rows are looked up once per group, not once per subscription (see table.resolve_all)
        self._sharing: dict[tuple, dict[str, None]] = {}
        self._unshared: dict[str, CompiledSubscription] = {}   # the others, resolved one by one
        self._slot_of: dict[str, int] = {}
        self._free_slots: list[int] = []
        self._author_keys = 0  # no author stream is built while no term searches authors
        collecting = gc.isenabled()
        gc.disable()  # as in match(): many small objects, no cycles worth collecting meanwhile
        try:
            for subscription in subscriptions:
                self.add(subscription)
        finally:
            if collecting:
                gc.enable()
        # Built here, in the thread that compiles, not on the first match(); and sealed, so later
        # additions go to a small automaton of their own.
        self._automata.build(seal=True)
        self._key_terms()

    # -- building --

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, subscription_id: str) -> bool:
        return subscription_id in self._slot_of

    @property
    def subscription_ids(self) -> list[str]:
        return list(self._slot_of)

    def subscription(self, subscription_id: str) -> Subscription:
        return self._compiled(subscription_id).subscription

    def add(self, subscription: Subscription) -> None:
        """Add one subscription (incremental; the automaton is finalised on next use)."""
        if not isinstance(subscription, Subscription):
            raise ValueError(f"expected a Subscription, not {type(subscription).__name__}")
        if subscription.id in self._slot_of:
            raise ValueError(f'a subscription with id "{subscription.id}" is already compiled')
        term_ids = {(term.field, term.text): self._acquire_term(term)
                    for term in subscription.query.terms}
        slot = self._free_slots.pop() if self._free_slots else len(self._subscriptions)
        compiled = CompiledSubscription(subscription, slot, term_ids, self._terms)
        if slot == len(self._subscriptions):
            self._subscriptions.append(compiled)
        else:
            self._subscriptions[slot] = compiled
        self._slot_of[subscription.id] = slot
        self._kind_users.update(compiled.types)
        if compiled.shared_rows is not None:
            self._sharing.setdefault(compiled.shared_rows, {})[subscription.id] = None
        else:
            self._unshared[subscription.id] = compiled

    def remove(self, subscription_id: str) -> None:
        """Remove one subscription; terms no other subscription uses are dropped."""
        compiled = self._compiled(subscription_id)
        self._kind_users.subtract(compiled.types)
        for term_id in compiled.term_ids.values():
            self._release_term(term_id)
        self._subscriptions[compiled.slot] = None
        self._free_slots.append(compiled.slot)
        del self._slot_of[subscription_id]
        if compiled.shared_rows is not None:
            sharing = self._sharing[compiled.shared_rows]
            del sharing[subscription_id]
            if not sharing:
                del self._sharing[compiled.shared_rows]
        else:
            del self._unshared[subscription_id]

    def _compiled(self, subscription_id: str) -> CompiledSubscription:
        slot = self._slot_of.get(subscription_id)
        if slot is None:
            raise KeyError(f'no subscription "{subscription_id}" is compiled')
        return self._subscriptions[slot]

    def _acquire_term(self, term: Term) -> int:
        signature = (term.field, term.text)
        term_id = self._term_id.get(signature)
        if term_id is None:
            term_id = len(self._terms)
            compiled = CompiledTerm(term_id, term)
            self._terms.append(compiled)
            self._term_id[signature] = term_id
            if compiled.category is not None:
                self._category_terms.setdefault(f"{compiled.kind}:{compiled.category}", []).append(term_id)
            for key, check in compiled.keys:
                pid = self._pid_for(key)
                compiled.pid_checks.append((pid, check))
                self._key_entries[pid].append((term_id, check))
                self._refresh_key(pid)
            compiled.plain_pids = tuple(pid for pid, check in compiled.pid_checks if check is None)
            compiled.checked_pids = tuple((pid, check) for pid, check in compiled.pid_checks
                                          if check is not None)
            if compiled.kind == "author":
                self._author_keys += 1
        self._terms[term_id].users += 1
        return term_id

    def _release_term(self, term_id: int) -> None:
        term = self._terms[term_id]
        term.users -= 1
        if term.users:
            return
        self._terms[term_id] = None
        del self._term_id[(term.term.field, term.term.text)]
        if term.kind == "author":
            self._author_keys -= 1
        if term.category is not None:
            key = f"{term.kind}:{term.category}"
            self._category_terms[key].remove(term_id)
            if not self._category_terms[key]:
                del self._category_terms[key]
        for key, _ in term.keys:
            pid = self._pid_of_key[key]
            entries = [entry for entry in self._key_entries[pid] if entry[0] != term_id]
            self._key_entries[pid] = entries
            self._refresh_key(pid)
            # A key no term uses any more stays in its automaton, inert (no entries), and keeps
            # its id for when a term wants it again: removing it would mean rebuilding.

    def _pid_for(self, key: str) -> int:
        pid = self._pid_of_key.get(key)
        if pid is None:
            pid = self._automata.add(key)
            self._pid_of_key[key] = pid
            # tokens a key covers: " a b " has two; a prefix key " a b" (no space after) too
            self._key_tokens.append(key.count(" ") - (1 if key.endswith(" ") else 0))
            self._key_entries.append([])
            for region in range(3):
                self._plain[region].append(())
                self._checked[region].append(())
        return pid

    def _refresh_key(self, pid: int) -> None:
        self._key_terms_cache = None
        entries = self._key_entries[pid]
        for region in range(3):
            plain = tuple(term_id for term_id, check in entries
                          if check is None and region in self._terms[term_id].regions)
            checked = tuple((term_id, check) for term_id, check in entries
                            if check is not None and region in self._terms[term_id].regions)
            self._plain[region][pid] = plain
            self._checked[region][pid] = checked
            if checked:
                self._checked_pids[region].add(pid)
            else:
                self._checked_pids[region].discard(pid)

    def _finalise(self) -> None:
        """Build the automaton of the keys added since the last build (a small one: the
        compile's keys were built at once)."""
        self._automata.build()

    # -- matching --

    def match(self, papers: Iterable[Paper]) -> list[Match]:
        """Every (subscription, paper) pair that matches, as Match records grouped by paper in
        input order; callers sort a digest by (-score, paper id). For a few subscriptions; a
        day's digests use `match_day`, which makes no record per match."""
        return self.match_day(papers).all_matches()

    def match_day(self, papers: Iterable[Paper]) -> MatchTable:
        """One pass over a day's papers: per subscription the papers it matched and their
        scores, in a compact table (see `table`); hits and Match records on request."""
        self._finalise()
        # A day allocates many small acyclic objects; with the compiled tables in memory, the
        # cyclic collector's passes over them would cost more than the matching itself.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._match_day(tuple(papers))
        finally:
            if collecting:
                gc.enable()

    def _match_day(self, papers: tuple[Paper, ...]) -> MatchTable:
        count = len(papers)
        postings = Postings(count)
        by_kind = postings.by_kind
        hit_sets: list = [_EMPTY_SET] * count
        category_sets: list = [_EMPTY_SET] * count
        states: list = [None] * count
        # a paper of an announce type no subscription takes is not even normalised
        wanted = {kind for kind, users in self._kind_users.items() if users > 0}
        with_authors = self._author_keys > 0
        term_hits = self._term_hits
        self._normalise_and_scan(papers, states, wanted, with_authors)
        text_papers, text_terms, text_scores = self._text_pairs(states)
        # per paper: the title/abstract terms that hit it (pairs are sorted by paper)
        bounds = np.searchsorted(text_papers, np.arange(count + 1)).tolist()
        text_term_list = text_terms.tolist()
        kinds = {kind: code for code, kind in enumerate(sorted(wanted))}
        kind_codes = np.zeros(count, np.int64)
        # papers with the same categories satisfy the same category terms, with the same scores
        by_categories: dict[tuple[str, ...], dict[int, float]] = {}
        for index, state in enumerate(states):
            if state is None:
                continue
            hit = state.hit
            text_hit = text_term_list[bounds[index]:bounds[index + 1]]
            hit.update(text_hit)
            self._author_terms(state)
            category_scores = by_categories.get(state.paper.categories)
            if category_scores is None:
                category_scores = by_categories[state.paper.categories] = \
                    self._category_term_scores(state)
            hit.update(category_scores)
            if not hit:
                states[index] = None
                continue
            kind = state.paper.announce_type
            kind_codes[index] = kinds[kind]
            hit_sets[index] = hit
            category_sets[index] = state.category_set
            postings.kind_of[index] = kind
            if len(hit) > len(text_hit):
                # authors, categories: scored from their hits, into their postings here
                others = {term_id: category_scores.get(term_id) or term_hits(state, term_id)[1]
                          for term_id in hit.difference(text_hit)}
                exhaust(map(_set_item, map(by_kind[kind].__getitem__, others),
                            repeat(index), others.values()))
        by_code = {code: by_kind[kind] for kind, code in kinds.items()}
        for kind_code, term_id, posting in postings_by_term(text_papers, text_terms, text_scores,
                                                             kind_codes, count):
            by_code[kind_code][term_id] = posting
        rows = resolve_all(self._unshared.values(), self._sharing, postings, hit_sets,
                           category_sets)
        # what hits() needs, as of now: a later add()/remove() must not change this day's table
        terms = list(self._terms)
        slot_of = dict(self._slot_of)
        subscriptions = list(self._subscriptions)
        scored_hits = self._scored_hits

        def hits_of(subscription_id: str, index: int):
            compiled = subscriptions[slot_of[subscription_id]]
            return scored_hits(states[index], compiled.positives_in(hit_sets[index]), terms)[0]

        return MatchTable(papers, rows, hits_of)

    def _normalise_and_scan(self, papers: tuple[Paper, ...], states: list, wanted: set[str],
                            with_authors: bool) -> None:
        """A PaperState for each paper of a wanted announce type, into `states`, with every key
        hit in its regions. The papers are normalised a batch at a time, and each batch is
        scanned in another thread while the next is normalised: the automaton's search releases
        the GIL, so on a second core it costs next to nothing (a day's scans alone take a
        fifth of the matching). The scans of a batch go in one call, over its texts joined: a
        call per text would give the GIL back for each of them. With one core the day is one
        batch: normalising and scanning taking turns on it would evict each other's tables
        from the CPU caches (interleaved paper by paper, the scans took twice as long)."""
        scans = self._automata.scans()
        batch = SCAN_BATCH_PAPERS if usable_cores() > 1 else max(len(papers), 1)
        with ExitStack() as stack:
            submit = _run_now   # one batch: nothing to overlap, no thread
            if len(papers) > batch:
                submit = stack.enter_context(ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="paperbot-scan")).submit
            batches = []
            for first in range(0, len(papers), batch):
                regions = []
                for index in range(first, min(first + batch, len(papers))):
                    paper = papers[index]
                    if paper.announce_type in wanted:
                        state = states[index] = PaperState(paper, with_authors)
                        regions.extend(region for region in state.regions if region.stream)
                if regions and scans:
                    texts = [region.stream for region in regions]
                    batches.append((regions, submit(scan_together, scans, texts)))
            for regions, scanned in batches:
                hits_per_region, bases = scanned.result()
                for region, hits, base in zip(regions, hits_per_region, bases):
                    region.hits = hits
                    region.offset = base

    def _text_pairs(self, states: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(papers, terms, scores) of every title/abstract term that hit a paper of the day,
        sorted by paper (see `day_scores`): keys without a check count in numpy, the hits of
        keys with one (capitals, camel case) are checked here."""
        key_terms = self._key_terms()
        occurrences = []
        for region_index in (TITLE, ABSTRACT):
            day_hits = RegionHits([(index, state.regions[region_index].hits)
                                   for index, state in enumerate(states)
                                   if state is not None and state.regions[region_index].hits])
            papers, terms = day_hits.occurrences(key_terms[region_index])
            checked = day_hits.checked(key_terms[region_index])
            if checked:
                extra = self._checked_occurrences(states, region_index, checked)
                papers = np.concatenate([papers, np.array([p for p, _ in extra], np.int64)])
                terms = np.concatenate([terms, np.array([t for _, t in extra], np.int64)])
            occurrences.append((papers, terms))
        return scored_pairs(occurrences[0], occurrences[1], max(len(self._terms), 1),
                            _SCORE_TABLES)

    def _checked_occurrences(self, states: list, region_index: int,
                             checked: list[tuple[int, tuple[int, int, int]]]
                             ) -> list[tuple[int, int]]:
        """(paper, term) of each hit of a key with a check where the check holds: capitals must
        be capitals as written, a closed compound no camel-case glue."""
        found: list[tuple[int, int]] = []
        checks = self._checked[region_index]
        key_tokens = self._key_tokens
        # The checks' verdict on the same key written the same way ("LLM", "GPT-4") is the same
        # every time: decided once a day. (Not for checks that read the separators.)
        passing_as_written: dict[tuple[int, str], list[int]] = {}
        for index, paper_hits in groupby(checked, key=itemgetter(0)):
            region = states[index].regions[region_index]
            raw = region.raw_stream()
            if raw is not None:
                # the tokens as written are a slice of the raw stream: no token tables
                offset = region.offset
                for _, (pid, start, end) in paper_hits:
                    start -= offset
                    written = region.written_at(raw, start, end - offset)
                    passing = passing_as_written.get((pid, written))
                    if passing is None:
                        passing = []
                        remembered = True
                        tokens = written.split(" ")
                        for term_id, check in checks[pid]:
                            if needs_separators(check):
                                # rare (an established word's parts, "net-work"): read the
                                # separators; the hit's first token is counted by spaces
                                first = raw.count(" ", 0, start + 1) - 1
                                failure = check_failure(region, first, check)
                                remembered = False
                            else:
                                failure = written_failure(tokens, check)
                            if failure is None:
                                passing.append(term_id)
                        if remembered:
                            passing_as_written[pid, written] = passing
                    found.extend(zip(repeat(index), passing))
            else:
                for pid in dict.fromkeys(hit[0] for _, hit in paper_hits):
                    extra = key_tokens[pid] - 1
                    lasts = region.lasts(pid)
                    for term_id, check in checks[pid]:
                        holding = sum(check_holds(region, last - extra, check) for last in lasts)
                        found.extend(repeat((index, term_id), holding))
        return found

    def _author_terms(self, state: PaperState) -> None:
        """The author terms that hit this paper, into `state.hit` (multi-word names check the
        given name)."""
        region = state.regions[AUTHORS]
        if not region.hits:
            return
        hit = state.hit
        pids = region.pids
        hit.update(chain.from_iterable(map(self._plain[AUTHORS].__getitem__, pids)))
        checked = self._checked[AUTHORS]
        for pid in pids & self._checked_pids[AUTHORS]:
            for term_id, check in checked[pid]:
                if term_id not in hit and self._occurrences(
                        state, AUTHORS, pid, term_id, check, first_only=True):
                    hit.add(term_id)

    def _key_terms(self) -> tuple[KeyTerms, KeyTerms]:
        """The title and abstract key tables in numpy (rebuilt after keys changed)."""
        if self._key_terms_cache is None:
            self._key_terms_cache = tuple(KeyTerms(self._plain[region], self._checked_pids[region])
                                          for region in (TITLE, ABSTRACT))
        return self._key_terms_cache

    def _find_hits(self, state: PaperState, near_misses: dict | None = None) -> set[int]:
        """Ids of the terms that hit this paper (in a field the term searches)."""
        hit = state.hit
        scans = self._automata.scans()
        if scans:
            _scan_regions(state, scans)
            for region_index, region in enumerate(state.regions):
                found = region.hits
                if not found:
                    continue
                pids = region.pids
                hit.update(chain.from_iterable(map(self._plain[region_index].__getitem__, pids)))
                to_check = pids & self._checked_pids[region_index]
                if not to_check:
                    continue
                checked = self._checked[region_index]
                for pid in to_check:
                    for term_id, check in checked[pid]:
                        if term_id in hit and near_misses is None:
                            continue
                        if self._occurrences(state, region_index, pid, term_id, check, near_misses,
                                             first_only=near_misses is None):
                            hit.add(term_id)
        self._add_category_terms(state)
        return hit

    def _category_term_ids(self, state: PaperState) -> Iterator[int]:
        """The category terms (`cat:`, `primary:`) this paper's categories satisfy (a term
        satisfied by several of them comes once for each)."""
        for key in state.category_keys:
            yield from self._category_terms.get(key, ())

    def _category_term_scores(self, state: PaperState) -> dict[int, float]:
        """The category terms this paper's categories satisfy, with their scores."""
        return {term_id: self._term_hits(state, term_id)[1]
                for term_id in self._category_term_ids(state)}

    def _add_category_terms(self, state: PaperState) -> None:
        """The category terms this paper's categories satisfy, into its hits."""
        state.hit.update(self._category_term_ids(state))

    def _occurrences(self, state: PaperState, region_index: int, pid: int, term_id: int,
                     check: tuple | None, near_misses: dict | None = None,
                     first_only: bool = False, terms: list | None = None) -> list[tuple[int, int]]:
        """Spans (into the field's text) where key `pid` hit for this term, checks applied."""
        region = state.regions[region_index]
        spans = []
        for position in region.ends(pid) if region_index == AUTHORS else region.lasts(pid):
            if region_index == AUTHORS:
                author = region.author_at(position)
                if check is not None and not author_name_matches(
                        (terms or self._terms)[term_id].tokens, region.author_tokens[author]):
                    continue
                spans.append(region.author_span(author))
            else:
                last = position
                first = last - self._key_tokens[pid] + 1
                failure = None if check is None else check_failure(region, first, check)
                if failure is not None:
                    if near_misses is not None:
                        start, stop = region.span(first, last)
                        near_misses.setdefault(term_id, []).append(
                            (_REGION_FIELDS[region_index], region.text[start:stop], failure))
                    continue
                spans.append(region.span(first, last))
            if first_only:
                break
        return spans

    def _term_hits(self, state: PaperState, term_id: int, terms: list | None = None
                   ) -> tuple[tuple[Hit, ...], float]:
        """All hits of one term in one paper, with the term's share of the score (cached).
        `terms`: the term table to read (a MatchTable's snapshot; default the current one)."""
        cached = state.term_hits.get(term_id)
        if cached is not None:
            return cached
        term = (terms or self._terms)[term_id]
        hits: list[Hit] = []
        if term.category is not None:
            offset = 0
            for position, name in enumerate(state.paper.categories):
                if term.kind == "primary" and position > 0:
                    break
                if name == term.category or archive_of(name) == term.category:
                    hits.append(Hit(term.display, "categories", offset, offset + len(name)))
                offset += len(name) + 1
        elif term.kind == "author":
            for pid, check in term.pid_checks:
                if pid in state.regions[AUTHORS].pids:
                    for start, end in self._occurrences(state, AUTHORS, pid, term_id, check,
                                                        terms=terms):
                        hits.append(Hit(term.display, "authors", start, end))
        else:
            # title/abstract terms: count hits per field for the score now, spans on first look
            key_tokens = self._key_tokens
            occurrences = 0
            fields: list[str] = []
            for region_index in term.regions:
                region = state.regions[region_index]
                pids = region.pids
                if not pids:
                    continue
                found = sum(map(region.counts().get, term.plain_pids, repeat(0)))
                for pid, check in term.checked_pids:
                    if pid in pids:
                        extra = key_tokens[pid] - 1
                        for last in region.lasts(pid):
                            if check_holds(region, last - extra, check):
                                found += 1
                if found:
                    occurrences += found
                    fields.append(_REGION_FIELDS[region_index])
            if not occurrences:
                result = ((), 0.0)
            else:
                if occurrences == 1:
                    score = FIELD_WEIGHTS[fields[0]]
                else:
                    score = round(sum(FIELD_WEIGHTS[f] for f in fields) + _OCCURRENCE_BONUS
                                  * min(occurrences - 1, _MAX_BONUS_OCCURRENCES), 3)
                result = (LazyHits(_text_hits, state.regions, term, key_tokens), score)
            state.term_hits[term_id] = result
            return result
        if not hits:
            score = 0.0
        elif len(hits) == 1:
            score = FIELD_WEIGHTS[hits[0].field]
        else:
            score = sum(FIELD_WEIGHTS[f] for f in {h.field for h in hits})
            score = round(score + _OCCURRENCE_BONUS * min(len(hits) - 1, _MAX_BONUS_OCCURRENCES), 3)
        result = (tuple(hits), score)
        state.term_hits[term_id] = result
        return result

    def _scored_hits(self, state: PaperState, term_ids: Sequence[int], terms: list | None = None
                     ) -> tuple[tuple[Hit, ...], float]:
        """Hits and score of several terms of one query, in the query's order."""
        if len(term_ids) == 1:
            (term_id,) = term_ids
            return state.term_hits.get(term_id) or self._term_hits(state, term_id, terms)
        all_hits = []
        total = 0.0
        for term_id in term_ids:
            hits, score = state.term_hits.get(term_id) or self._term_hits(state, term_id, terms)
            all_hits.append(hits)
            total += score
        return concatenated(all_hits), round(total, 3)

    # -- explaining --

    def terms_hit(self, subscription_id: str, paper: Paper) -> frozenset[Term]:
        """The terms of a subscription's query that hit this paper, each in a field it searches
        (announce type and categories aside)."""
        self._finalise()
        compiled = self._compiled(subscription_id)
        hit = self._find_hits(PaperState(paper))
        return frozenset(term for term in compiled.subscription.query.terms
                         if compiled.term_ids[(term.field, term.text)] in hit)

    def explain(self, subscription_id: str, paper: Paper) -> Explanation:
        """Which terms hit in which field, or what excluded the paper."""
        self._finalise()
        compiled = self._compiled(subscription_id)
        subscription = compiled.subscription
        state = PaperState(paper)
        near_misses: dict[int, list[tuple[str, str]]] = {}
        hit = self._find_hits(state, near_misses)
        query = subscription.query
        id_of = lambda term: compiled.term_ids[(term.field, term.text)]  # noqa: E731

        def describe_term_hits(term: Term) -> str:
            hits, _ = self._term_hits(state, id_of(term))
            return describe_hits(hits, texts)

        texts = {name: field_text(paper, name) for name in ("title", "abstract", "authors", "categories")}
        reasons: list[str] = []
        if not subscription.admits_type(paper):
            reasons.append(f'announce type "{paper.announce_type}" is not selected (this '
                           f"subscription takes {', '.join(sorted(subscription.admitted_types))})")
        if not subscription.admits_categories(paper):
            reasons.append(f"not in the subscription's categories "
                           f"({', '.join(sorted(subscription.categories))}); the paper is in "
                           f"{', '.join(paper.categories) or 'no category'}")
        if not compiled.is_true(hit):
            reasons.extend(why_false(query.root, lambda term: id_of(term) in hit, describe_term_hits))
        matched = not reasons
        reports = []
        positive = set(query.positive_terms)
        for term in query.terms:
            term_id = id_of(term)
            hits = tuple(self._term_hits(state, term_id)[0]) if term_id in hit else ()
            near = tuple(describe_check_failure(field_name, seen, term.text, failure)
                         for field_name, seen, failure in dict.fromkeys(near_misses.get(term_id, ())))
            reports.append(TermReport(term.describe(), term not in positive, hits, near))
        score = self._scored_hits(state, compiled.positives_in(hit))[1] if matched else 0.0
        return Explanation(subscription_id, paper.id, query.describe(), matched, score,
                           tuple(reports), tuple(reasons), texts)


def _run_now(function: Callable[..., T], *args) -> Future[T]:
    """`function(*args)` run here, as a finished Future (an executor's submit, without one)."""
    future: Future[T] = Future()
    future.set_result(function(*args))
    return future


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity, which `taskset` and pinning set)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _scan_regions(state: PaperState, scans: list) -> None:
    """Every key hit in each region of a paper, as (key id, start, end) in its stream, into
    `region.hits`."""
    for region in state.regions:
        stream = region.stream
        if stream:
            if len(scans) == 1:
                region.hits = scans[0](stream)
            else:
                region.hits = list(chain.from_iterable(scan(stream) for scan in scans))


def _text_hits(regions: tuple, term: CompiledTerm, key_tokens: list[int]) -> list[Hit]:
    """All hits of a title/abstract term in one paper, with spans, in text order per field.
    (Given the paper's regions, not its PaperState: the state caches LazyHits, no cycle.)"""
    hits: list[Hit] = []
    display = term.display
    for region_index in term.regions:
        region = regions[region_index]
        pids = region.pids
        if not pids:
            continue
        field_name = _REGION_FIELDS[region_index]
        found_before = len(hits)
        keys_found = 0
        for pid, check in term.pid_checks:
            if pid not in pids:
                continue
            keys_found += 1
            _, starts, stops = region.tables()
            extra = key_tokens[pid] - 1
            for last in region.lasts(pid):
                if check is None or check_holds(region, last - extra, check):
                    hits.append(_new_record(
                        Hit, (display, field_name, starts[last - extra], stops[last])))
        if keys_found > 1 and len(hits) - found_before > 1:
            # each key's hits are in text order; several keys (plurals, compounds) merge
            hits[found_before:] = sorted(hits[found_before:], key=_hit_start)
    return hits


def compile_subscriptions(subscriptions: Iterable[Subscription]) -> CompiledMatcher:
    """Compile every subscription into one matcher (see CompiledMatcher.add/remove for updates)."""
    return CompiledMatcher(subscriptions)
