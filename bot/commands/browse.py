"""Looking at papers without changing anything: today, test and search (DESIGN.md §6), and the
paper behind an Abstract button. Anyone may; every answer is private.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from bot.commands.context import CommandContext, CommandServices, DayMatch, read_as, subscriptions_key
from bot.commands.grammar import USAGE, Search, TestQuery, Today
from bot.commands.responses import (
    DigestSection,
    Heading,
    Lines,
    PaperList,
    Response,
    Section,
    error_response,
    missing_paper_response,
)
from bot.destinations import RELEVANCE
from bot.destinations.channels import channel_subscription
from bot.digest.model import Digest, DigestItem, build_digest, paper_labels
from bot.digest.text import plural
from bot.matching import Explanation, QuerySyntaxError, Subscription
from bot.matching.near_misses import PROBE_ID, near_miss_questions, near_misses_among
from bot.models import Paper
from bot.store import ReadStore, StoreError
from bot.store.papers import fts_query

log = logging.getLogger(__name__)

# Replies stay short: chat messages have size limits and nobody reads 80 papers in a popup.
TODAY_SHOWN = 10
TEST_SHOWN = 5
SEARCH_SHOWN = 10
SEARCH_SCANNED = 200
# A search is bounded so it cannot hold a database connection for long (issue 14: 487 characters
# of a repeated common word took 9 s): by its length, its number of words, and a time budget
# after which SQLite is interrupted. Real searches are a few words.
SEARCH_MAX_CHARACTERS = 200
SEARCH_MAX_WORDS = 12
SEARCH_BUDGET_SECONDS = 2.0
MAX_PAPER_ID = 64             # longer ids (from a button) are not arXiv's

_TRIAL_ID = "query"          # the matcher id of an ad-hoc / dry-run query



def no_day_yet() -> Response:
    return Response(text="No announcement day is stored yet: papers appear after the first daily "
                         "fetch from arXiv.")


class BrowseCommands:
    def __init__(self, services: CommandServices) -> None:
        self.services = services

    async def today(self, ctx: CommandContext, command: Today) -> Response:
        channel = ctx.channel_ref
        query = self.services.parse_user_query(command.query, "today") if command.query else None

        def read(store: ReadStore):
            rows = [] if query else store.channels.list_subscriptions(channel)
            return rows, store.channels.get_channel_settings(channel)

        rows, settings_record = await self.services.read("reading today's papers", read)
        latest = await self.services.latest.get()
        if latest.day is None:
            return no_day_yet()
        schedule = self.services.effective(settings_record)
        if query is not None:
            subscriptions = [Subscription(_TRIAL_ID, query, types=frozenset(schedule.types))]
            what = f"match {query.describe()}"
        else:
            if not rows:
                return Response(text="This channel has no subscriptions yet. Try /papers today "
                                     "<query> for a private look, or /papers subscribe <query>.")
            subscriptions = []
            for row in rows:
                try:
                    subscriptions.append(channel_subscription(row, schedule.types))
                except (QuerySyntaxError, ValueError):
                    log.warning("stored subscription %s no longer parses: %r", row.id, row.query)
            what = "match this channel's subscriptions"
        matches = await self.services.match_latest(latest, subscriptions)
        # The channel's own day is shown as its daily thread shows it: in the learned order of
        # the channel's votes (the stored model that ordered the thread), at most its `max`.
        # A private look at a query keeps the match order (the model knows the channel's taste,
        # not this query's).
        order, shown, thread_max = None, TODAY_SHOWN, None
        if query is None:
            if schedule.paper_order == RELEVANCE:
                order = await self.services.learned_order(ctx.destination_key, latest, matches)
            thread_max = schedule.max_papers
            if thread_max is not None:
                shown = min(shown, thread_max)
        digest = await self.services.digest(
            ctx.destination_key, ctx.channel_name or ctx.channel, latest.day, matches,
            subscriptions_text=[s.query.describe() for s in subscriptions], max_items=shown,
            order=order)
        day = latest.day.isoformat()
        text = f"{plural(digest.total, 'paper')} of {len(latest.papers)} on {day} {what}"
        first = "top" if order else "first"
        text += f"; showing the {first} {len(digest.items)}." if digest.truncated else "."
        sections: list[Section] = [Heading(f"Papers for {day}")]
        if query is not None:
            sections += read_as(query)
        notes = []
        if order:
            notes.append("Ordered as the daily thread: by what this channel's 👍/👎 votes taught "
                         "(/papers settings order listing keeps the match order).")
        if thread_max is not None and digest.total > thread_max:
            notes.append(f"The daily thread shows the first {plural(thread_max, 'paper')} (this "
                         f"channel's max) and folds the other {digest.total - thread_max} into one "
                         '"more papers" message with links.')
        if notes:
            sections.append(Lines(tuple(notes)))
        if digest.items:
            sections.append(DigestSection(digest))
        else:
            sections.append(Lines((f"No paper announced on {day} matched.",)))
        return Response(text=text, sections=tuple(sections), ephemeral=True)

    async def test(self, ctx: CommandContext, command: TestQuery) -> Response:
        query = self.services.parse_user_query(command.query, "test")
        channel = ctx.channel_ref

        settings_record = await self.services.read(
            "reading the channel's settings", lambda s: s.channels.get_channel_settings(channel))
        latest = await self.services.latest.get()
        if latest.day is None:
            return no_day_yet()
        types = self.services.effective(settings_record).types
        trial = Subscription(_TRIAL_ID, query, types=frozenset(types))
        # with what the near misses are found from, in the same matcher pass
        asked = [trial, *near_miss_questions(trial)]
        day_match = await self.services.match_latest_explained(latest, asked)
        result = await self.services.worker.compute(
            ("dry run", latest.version, subscriptions_key(asked), ctx.destination_key),
            lambda: self.services.worker.run(_dry_run, trial, day_match, ctx.destination_key,
                                             latest.day))
        day = latest.day.isoformat()
        total = result.matched.total
        text = (f"Dry run on {day}: {plural(total, 'paper')} of {len(latest.papers)} would match "
                f"{query.describe()}.")
        sections: list[Section] = [
            Heading(f"Dry run on {day}"),
            *read_as(query),
            Lines((f"Announce types: {', '.join(types)} (this channel's setting).",
                   f"{plural(total, 'paper')} of {len(latest.papers)} would match.")),
        ]
        if result.matched.items:
            sections.append(PaperList(result.matched.items, result.explanations,
                                      more=result.matched.truncated))
        for group in result.near_groups:
            sections += [Heading(f"Near misses: {group.title}"),
                         PaperList(group.items, group.explanations, more=group.more)]
        return Response(text=text, sections=tuple(sections), ephemeral=True)

    async def search(self, command: Search) -> Response:
        text = command.text
        if len(text) > SEARCH_MAX_CHARACTERS:
            return error_response(f"That search is {len(text)} characters long; searches take at "
                                  f"most {SEARCH_MAX_CHARACTERS}. Use a few distinctive words.\n"
                                  f"Usage: {USAGE['search']}")
        if len(text.split()) > SEARCH_MAX_WORDS:
            return error_response(f"That search has {len(text.split())} words; searches take at most "
                                  f"{SEARCH_MAX_WORDS} (every word must appear, so a few distinctive "
                                  f"ones find the most).\nUsage: {USAGE['search']}")
        if fts_query(text) is None:
            return error_response("Nothing to search for: give words with letters or digits.\n"
                                  f"Usage: {USAGE['search']}")
        try:
            # On a reader connection (never the writer's), interrupted past its budget.
            found = await self.services.read("searching papers",
                                             lambda s: s.papers.search(text, limit=SEARCH_SCANNED),
                                             budget=SEARCH_BUDGET_SECONDS)
        except StoreError as exc:
            if exc.reason != "interrupted":
                raise
            log.info("search stopped after %.0f s: %r", SEARCH_BUDGET_SECONDS, text)
            return error_response(f'Searching for "{text}" took too long, so I stopped it. Try '
                                  "fewer or more distinctive words (very common words such as "
                                  '"the" match nearly every paper).')
        shown = found[:SEARCH_SHOWN]
        more = len(found) - len(shown)
        at_least = "at least " if len(found) >= SEARCH_SCANNED else ""
        if not found:
            return Response(text=f'No stored paper matches "{command.text}".',
                            sections=(Lines(("Search looks at titles, abstracts and authors of the "
                                             "papers stored so far; every word must appear.",)),))
        items = tuple(DigestItem(paper=paper, labels=paper_labels(paper)) for paper in shown)
        text = f'{at_least}{plural(len(found), "stored paper")} match "{command.text}"'
        text += f"; showing the best {len(shown)}." if more else "."
        return Response(text=text[0].upper() + text[1:],
                        sections=(Heading(f'Search: {command.text}'), PaperList(items, more=more)))

    async def paper(self, paper_id: str) -> Paper | Response:
        """The stored paper behind an Abstract button, or a Response saying why it cannot be
        shown (no longer stored: its arXiv link; raises StoreError when the store is down)."""
        paper_id = paper_id.strip()[:MAX_PAPER_ID]
        found = await self.services.read("reading a paper", lambda s: s.papers.get_many([paper_id]))
        return found.get(paper_id) or missing_paper_response(paper_id)


@dataclass(frozen=True, slots=True)
class _NearMissGroup:
    """Papers a term of the query hit that stay out for one reason (excluded by a NOT term,
    missing one side of an AND, ...): the ones shown, with their explanations."""

    title: str
    items: tuple[DigestItem, ...]
    explanations: tuple[str, ...]
    more: int


@dataclass(frozen=True, slots=True)
class _DryRun:
    matched: Digest
    explanations: tuple[str, ...]
    near_groups: tuple[_NearMissGroup, ...]


def _dry_run(trial: Subscription, day_match: DayMatch, destination: str, day: date) -> _DryRun:
    matches = day_match.matches
    hits = [m for m in matches if m.subscription_id == trial.id]
    digest = build_digest(destination, "dry run", day, hits, max_items=TEST_SHOWN)
    explanations = tuple(_explained(day_match.explain(trial.id, item.paper)) for item in digest.items)
    # The papers a term of the query hit (in any field, of any announce type) that it does not
    # match: grouped by why they stay out, up to five in turn from each group. Only the few
    # papers shown become digest items (their hits' spans are worked out).
    near_misses = near_misses_among(trial, matches, day_match.explain)
    shown = {miss.paper.id for miss in near_misses.items}
    near_items = {item.paper.id: item for item in build_digest(
        destination, "near misses", day,
        [m for m in matches if m.subscription_id == PROBE_ID and m.paper.id in shown]).items}
    groups = []
    for group in near_misses.groups:
        groups.append(_NearMissGroup(
            group.title, tuple(near_items[miss.paper.id] for miss in group.items),
            tuple(_explained(miss.explanation) for miss in group.items),
            group.total - len(group.items)))
    return _DryRun(digest, explanations, tuple(groups))


def _explained(explanation: Explanation) -> str:
    """The matcher's explanation without its first line (the reply already names the paper and
    the query); the score stays, as it decides the order."""
    details = [line[2:] if line.startswith("  ") else line
               for line in explanation.text().splitlines()[1:]]
    if explanation.matched:
        details.insert(0, f"score {explanation.score:g}")
    return "\n".join(details)
