"""Executing `/papers` commands against the store and the matcher, platform-neutral (DESIGN.md §6).

Adapters build a `CommandContext` from the platform event (who, where, whether they may manage the
channel), call `execute`, and render the `Response`. `execute` never raises for anything a user
can type: bad input, refusals and an unavailable database all come back as a Response whose
`outcome` says which; an unexpected bug is logged with its traceback and answered with an apology.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.commands.personal import PersonalKeywords
from bot.commands.grammar import (
    USAGE,
    ChangeSettings,
    Command,
    CommandError,
    Help,
    ListSubscriptions,
    Personal,
    Search,
    Subscribe,
    TestQuery,
    Today,
    Unsubscribe,
    parse_command,
)
from bot.commands.responses import (
    INTERNAL,
    INVALID,
    REFUSED,
    UNAVAILABLE,
    DigestSection,
    Heading,
    Lines,
    PaperList,
    Preformatted,
    Response,
    Section,
    error_response,
)
from bot.config import Settings
from bot.destinations.channels import (
    ChannelSchedule,
    describe_stored_query,
    channel_destination_key,
    channel_subscription,
    effective_channel_settings,
)
from bot.digest.model import Digest, DigestItem, build_digest, paper_labels
from bot.digest.text import plural
from bot.matching import Query, QueryLimits, QuerySyntaxError, Subscription, compile_subscriptions, parse_query
from bot.matching.query import Or
from bot.models import ANNOUNCE_TYPES, Match, Paper
from bot.store import AsyncStore, Store, StoreError
from bot.store import ledger
from bot.store import subscriptions as channel_store
from bot.store.papers import fts_query
from bot.store.subscriptions import ChannelRef, SubscriptionLimitReached

log = logging.getLogger(__name__)

# Replies stay short: chat messages have size limits and nobody reads 80 papers in a popup.
TODAY_SHOWN = 10
TEST_SHOWN = 5
NEAR_MISSES_SHOWN = 3
SEARCH_SHOWN = 10
SEARCH_SCANNED = 200
SUBSCRIBE_PREVIEW_SHOWN = 3

_TRIAL_ID = "query"          # the matcher id of an ad-hoc / dry-run query
_NEAR_MISS_ID = "near-miss"  # any positive term of it, any announce type


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who typed the command, where. `can_manage` is the platform's verdict on whether this person
    may change the channel's subscriptions and settings (see DESIGN.md §6)."""

    platform: str
    workspace: str
    channel: str
    user: str
    can_manage: bool
    channel_name: str | None = None

    @property
    def channel_ref(self) -> ChannelRef:
        return ChannelRef(self.platform, self.workspace, self.channel)

    @property
    def destination_key(self) -> str:
        return channel_destination_key(self.channel_ref)


class _Reply(Exception):
    """Carries a finished Response out of a helper (a bad query, a refusal)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.text)
        self.response = response


@dataclass(frozen=True, slots=True)
class _Day:
    day: date | None
    papers: list[Paper]


def _latest_day(store: Store) -> _Day:
    day = store.latest_day()
    return _Day(day, store.papers_for_day(day) if day else [])


def _match(subscriptions: Sequence[Subscription], papers: Sequence[Paper]) -> list[Match]:
    return compile_subscriptions(subscriptions).match(papers)


class CommandExecutor:
    """Runs commands with one store and one configuration (adapters keep one of these)."""

    def __init__(self, store: AsyncStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.query_limits = QueryLimits.from_settings(settings.limits)
        self.personal = PersonalKeywords(self)

    async def execute(self, ctx: CommandContext, text: str) -> Response:
        try:
            command = parse_command(text)
            return await self.run(ctx, command)
        except CommandError as exc:
            return error_response(str(exc))
        except _Reply as reply:
            return reply.response
        except StoreError as exc:
            log.warning("/papers %s in %s: store unavailable: %s", _command_word(text),
                        ctx.destination_key, exc)
            return error_response("I cannot reach my database just now, so I could not do that. "
                                  "Please try again in a minute.", outcome=UNAVAILABLE)
        except Exception:  # noqa: BLE001 - a chat command must get an answer, never a traceback
            log.exception("/papers %s in %s failed", _command_word(text), ctx.destination_key)
            return error_response("Sorry, something went wrong on my side while doing that; it has "
                                  "been logged for whoever runs paperbot.", outcome=INTERNAL)

    async def run(self, ctx: CommandContext, command: Command) -> Response:
        """Execute an already parsed command (raises _Reply / StoreError; `execute` handles them)."""
        if isinstance(command, Subscribe):
            return await self._subscribe(ctx, command)
        if isinstance(command, Unsubscribe):
            return await self._unsubscribe(ctx, command)
        if isinstance(command, ListSubscriptions):
            return await self._list(ctx)
        if isinstance(command, ChangeSettings):
            return await self._settings(ctx, command)
        if isinstance(command, Today):
            return await self._today(ctx, command)
        if isinstance(command, TestQuery):
            return await self._test(ctx, command)
        if isinstance(command, Search):
            return await self._search(command)
        if isinstance(command, Personal):
            return await self.personal.run(ctx, command)
        if isinstance(command, Help):
            return self._help(command)
        raise TypeError(f"not a /papers command: {command!r}")

    # -- shared pieces ------------------------------------------------------------------------

    def _parse_user_query(self, text: str, command: str) -> Query:
        try:
            return parse_query(text, self.query_limits)
        except QuerySyntaxError as exc:
            raise _Reply(error_response(
                f"I could not read that query: {exc}",
                sections=(Preformatted(exc.pointer(text), caption="Where:"),
                          Lines((f"Usage: {USAGE[command]}",
                                 "The query language: /papers help query")))))

    def _require_manager(self, ctx: CommandContext, action: str) -> None:
        if ctx.can_manage:
            return
        raise _Reply(error_response(f"You cannot {action} here. {self._who_may_manage(ctx.platform)}",
                                    outcome=REFUSED))

    def _who_may_manage(self, platform: str) -> str:
        if platform == "slack":
            if self.settings.slack.admins_only:
                return "On this workspace only Slack admins and owners may change a channel's papers."
            return "Only members of this channel may change its papers."
        if platform == "discord":
            role = self.settings.discord.manager_role
            extra = f" or the {role} role" if role else ""
            return f"Only members with the Manage Channels permission{extra} may change a channel's papers."
        return "Only people allowed to manage this channel may change its papers."

    async def _store(self, operation: str, fn, *args):
        return await self.store.run_operation(operation, fn, *args)

    def _effective(self, record) -> ChannelSchedule:
        return effective_channel_settings(record, self.settings.schedule)

    def _settings_lines(self, schedule: ChannelSchedule) -> tuple[str, ...]:
        if schedule.post_time is not None:
            when = f"Daily post: at {schedule.post_time:%H:%M} ({schedule.timezone})"
        else:
            when = f"Daily post: as soon as the day's papers are in (time zone {schedule.timezone})"
        types = ", ".join(schedule.types) + (" (the default)" if schedule.types_are_default else "")
        cap = (f"At most {plural(schedule.max_papers, 'paper')} a day" if schedule.max_papers
               else "No limit on papers a day")
        empty = ("Days without matching papers: a short note" if schedule.empty_note
                 else "Days without matching papers: silent")
        return (when, f"Announce types: {types}", cap, empty)

    # -- subscribe / unsubscribe / list / settings --------------------------------------------

    async def _subscribe(self, ctx: CommandContext, command: Subscribe) -> Response:
        self._require_manager(ctx, "add subscriptions")
        query = self._parse_user_query(command.query, "subscribe")
        channel = ctx.channel_ref
        limit = self.settings.limits.subscriptions_per_channel

        def add(store: Store):
            existing = channel_store.list_subscriptions(store.db, channel)
            for number, row in enumerate(existing, start=1):
                if describe_stored_query(row.query) == query.describe():
                    return ("duplicate", number)
            record = channel_store.add_subscription(
                store.db, channel, command.query, now=store.now(), created_by=ctx.user,
                limit=limit, channel_name=ctx.channel_name)
            settings = channel_store.get_channel_settings(store.db, channel)
            return record, len(existing) + 1, settings, _latest_day(store)

        try:
            outcome = await self._store("adding a subscription", add)
        except SubscriptionLimitReached as exc:
            return error_response(
                f"This channel already has {exc.count} subscriptions, the most allowed "
                f"(limits.subscriptions_per_channel is {exc.limit}). Remove one first with "
                "/papers unsubscribe <n> (see /papers list), or combine queries with commas.",
                outcome=REFUSED)
        if outcome[0] == "duplicate":
            return error_response(f"This channel is already subscribed to {query.describe()} "
                                  f"(subscription {outcome[1]} in /papers list).", outcome=INVALID)
        record, number, settings_record, latest = outcome
        schedule = self._effective(settings_record)
        types = record.types or schedule.types
        lines = []
        preview: tuple[Section, ...] = ()
        if latest.day is None:
            lines.append("No day is stored yet, so I cannot say how many papers it would have "
                         "matched; the first daily post will show.")
        else:
            subscription = Subscription(_TRIAL_ID, query, types=frozenset(types))
            matches = await asyncio.to_thread(_match, [subscription], latest.papers)
            digest = build_digest(ctx.destination_key, "preview", latest.day, matches,
                                  max_items=SUBSCRIBE_PREVIEW_SHOWN)
            lines.append(f"On the latest day, {latest.day.isoformat()}, it would have matched "
                         f"{plural(digest.total, 'paper')} of {len(latest.papers)}.")
            if digest.items:
                preview = (PaperList(digest.items, more=digest.truncated),)
        lines.append(f"Announce types: {', '.join(types)}. Change them with /papers settings types ...")
        text = (f"Subscribed this channel to {query.describe()} (subscription {number}). "
                + lines[0])
        return Response(
            text=text,
            sections=(Heading(f"New subscription {number}"),
                      Preformatted(query.describe(), caption="Read as:"),
                      Lines(tuple(lines)), *preview),
            ephemeral=False,
        )

    async def _unsubscribe(self, ctx: CommandContext, command: Unsubscribe) -> Response:
        self._require_manager(ctx, "remove subscriptions")
        channel = ctx.channel_ref
        if command.everything:
            removed = await self._store("removing subscriptions",
                                        lambda s: channel_store.remove_all_subscriptions(s.db, channel))
            if not removed:
                return error_response("This channel has no subscriptions to remove.", outcome=INVALID)
            text = (f"Removed all {plural(removed, 'subscription')} of this channel; daily posts "
                    "here stop until someone subscribes again.")
            return Response(text=text, sections=(Lines((text,)),), ephemeral=False)
        number = command.number
        assert number is not None

        def remove(store: Store):
            row = channel_store.remove_subscription(store.db, channel, number)
            return row, channel_store.count_subscriptions(store.db, channel)

        row, remaining = await self._store("removing a subscription", remove)
        if row is None:
            if remaining == 0:
                return error_response("This channel has no subscriptions to remove.", outcome=INVALID)
            numbered = "number 1" if remaining == 1 else f"numbered 1 to {remaining}"
            return error_response(f"There is no subscription {number}: this channel has "
                                  f"{plural(remaining, 'subscription')} ({numbered} in /papers "
                                  "list).", outcome=INVALID)
        text = f"Removed subscription {number} of this channel: {row.query}"
        follow = (f"{plural(remaining, 'subscription')} left"
                  + ("; the ones after it moved up by one in /papers list." if number <= remaining
                     else "."))
        return Response(text=text, sections=(Lines((text, follow)),), ephemeral=False)

    async def _list(self, ctx: CommandContext) -> Response:
        channel, key = ctx.channel_ref, ctx.destination_key

        def read(store: Store):
            return (channel_store.list_subscriptions(store.db, channel),
                    channel_store.get_channel_settings(store.db, channel),
                    ledger.paused_reason(store.db, key))

        rows, settings_record, paused = await self._store("listing subscriptions", read)
        schedule = self._effective(settings_record)
        limit = self.settings.limits.subscriptions_per_channel
        sections: list[Section] = []
        if paused:
            sections.append(Lines((f"Daily posts to this channel are paused: {paused}",
                                   "Ask whoever runs paperbot to resume them once that is fixed.")))
        if rows:
            text = f"This channel has {plural(len(rows), 'subscription')} (at most {limit})."
            entries = tuple(
                f"{number}. {row.query}" + (f"  (types {', '.join(row.types)})" if row.types else "")
                for number, row in enumerate(rows, start=1))
            sections += [Heading(f"Subscriptions ({len(rows)} of at most {limit})"), Lines(entries)]
        else:
            text = "This channel has no subscriptions yet. Add one with /papers subscribe <query>."
            sections.append(Lines((text,)))
        sections += [Heading("Settings"), Lines(self._settings_lines(schedule))]
        if paused:
            text = f"Daily posts to this channel are paused ({paused}). " + text
        return Response(text=text, sections=tuple(sections), ephemeral=True)

    async def _settings(self, ctx: CommandContext, command: ChangeSettings) -> Response:
        channel = ctx.channel_ref
        if command.shows_only:
            record = await self._store("reading channel settings",
                                       lambda s: channel_store.get_channel_settings(s.db, channel))
            lines = self._settings_lines(self._effective(record))
            return Response(text="This channel's settings: " + "; ".join(lines) + ".",
                            sections=(Heading("Settings"), Lines(lines),
                                      Lines((f"Change them with {USAGE['settings']}",))),
                            ephemeral=True)
        self._require_manager(ctx, "change this channel's settings")
        changes = command.changes
        record = await self._store(
            "changing channel settings",
            lambda s: channel_store.update_channel_settings(
                s.db, channel, changes, now=s.now(), updated_by=ctx.user,
                channel_name=ctx.channel_name))
        changed = ", ".join(_describe_change(name, value) for name, value in changes.items())
        lines = self._settings_lines(self._effective(record))
        return Response(text=f"Settings changed: {changed}.",
                        sections=(Heading("Settings"), Lines(lines)), ephemeral=False)

    # -- today / test / search ----------------------------------------------------------------

    async def _today(self, ctx: CommandContext, command: Today) -> Response:
        channel = ctx.channel_ref
        query = self._parse_user_query(command.query, "today") if command.query else None

        def read(store: Store):
            rows = [] if query else channel_store.list_subscriptions(store.db, channel)
            return rows, channel_store.get_channel_settings(store.db, channel), _latest_day(store)

        rows, settings_record, latest = await self._store("reading today's papers", read)
        if latest.day is None:
            return _no_day_yet()
        schedule = self._effective(settings_record)
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
        matches = await asyncio.to_thread(_match, subscriptions, latest.papers)
        digest = build_digest(ctx.destination_key, ctx.channel_name or ctx.channel, latest.day,
                              matches, subscriptions_text=[s.query.describe() for s in subscriptions],
                              max_items=TODAY_SHOWN)
        day = latest.day.isoformat()
        text = f"{plural(digest.total, 'paper')} of {len(latest.papers)} on {day} {what}"
        text += f"; showing the first {len(digest.items)}." if digest.truncated else "."
        sections: list[Section] = [Heading(f"Papers for {day}")]
        if query is not None:
            sections.append(Preformatted(query.describe(), caption="Read as:"))
        if digest.items:
            sections.append(DigestSection(digest))
        else:
            sections.append(Lines((f"No paper announced on {day} matched.",)))
        return Response(text=text, sections=tuple(sections), ephemeral=True)

    async def _test(self, ctx: CommandContext, command: TestQuery) -> Response:
        query = self._parse_user_query(command.query, "test")
        channel = ctx.channel_ref

        def read(store: Store):
            return channel_store.get_channel_settings(store.db, channel), _latest_day(store)

        settings_record, latest = await self._store("reading the latest day", read)
        if latest.day is None:
            return _no_day_yet()
        types = self._effective(settings_record).types
        trial = Subscription(_TRIAL_ID, query, types=frozenset(types))
        near = Subscription(_NEAR_MISS_ID, _any_positive_term(query), types=frozenset(ANNOUNCE_TYPES))
        result = await asyncio.to_thread(_dry_run, trial, near, latest.papers, ctx.destination_key,
                                         latest.day)
        day = latest.day.isoformat()
        total = result.matched.total
        text = (f"Dry run on {day}: {plural(total, 'paper')} of {len(latest.papers)} would match "
                f"{query.describe()}.")
        sections: list[Section] = [
            Heading(f"Dry run on {day}"),
            Preformatted(query.describe(), caption="Read as:"),
            Lines((f"Announce types: {', '.join(types)} (this channel's setting).",
                   f"{plural(total, 'paper')} of {len(latest.papers)} would match.")),
        ]
        if result.matched.items:
            sections.append(PaperList(result.matched.items, result.explanations,
                                      more=result.matched.truncated))
        if result.near_items:
            sections += [Heading("Near misses (a term hit, but the paper stays out)"),
                         PaperList(result.near_items, result.near_explanations,
                                   more=result.near_more)]
        return Response(text=text, sections=tuple(sections), ephemeral=True)

    async def _search(self, command: Search) -> Response:
        if fts_query(command.text) is None:
            return error_response("Nothing to search for: give words with letters or digits.\n"
                                  f"Usage: {USAGE['search']}")
        found = await self._store("searching papers",
                                  lambda s: s.search(command.text, limit=SEARCH_SCANNED))
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

    # -- help ---------------------------------------------------------------------------------

    def _help(self, command: Help) -> Response:
        if command.topic == "query":
            return Response(text="The /papers query language.",
                            sections=(Heading("Query language"), *QUERY_HELP))
        if command.topic is not None:
            name = command.topic
            return Response(text=f"Usage: {USAGE[name]}",
                            sections=(Heading(f"/papers {name}"),
                                      Preformatted(USAGE[name]),
                                      Lines(COMMAND_HELP[name] + self._manage_note(name))))
        overview = {**USAGE, "me": "/papers me add|remove|list|deliver"}
        usage = "\n".join(f"{overview[name]:<34} {COMMAND_SUMMARY[name]}" for name in USAGE
                          if name != "settings")
        usage += "\n" + USAGE["settings"]
        return Response(
            text="/papers commands: today, subscribe, unsubscribe, list, test, search, settings, "
                 "me, help. /papers help <command> for one, /papers help query for the language.",
            sections=(Heading("/papers commands"), Preformatted(usage),
                      Lines((self._who_may_manage_short(),)),
                      Heading("Query language"), *QUERY_HELP))

    def _manage_note(self, name: str) -> tuple[str, ...]:
        if name in ("subscribe", "unsubscribe", "settings"):
            return (self._who_may_manage_short(),)
        return ()

    def _who_may_manage_short(self) -> str:
        return ("Subscriptions and settings change the channel for everyone, so only people "
                "allowed to manage the channel may change them; anyone may look (list, today, "
                "test, search).")


# -- helpers outside the class (pure, testable) ----------------------------------------------


def _command_word(text: object) -> str:
    words = text.split(None, 1) if isinstance(text, str) else []
    return words[0][:20] if words else "(empty)"




def _describe_change(name: str, value: object) -> str:
    if name == "post_time":
        return f"daily post at {value}"
    if name == "timezone":
        return f"time zone {value}"
    if name == "types":
        return "announce types " + ", ".join(value)  # type: ignore[arg-type]
    if name == "max_papers":
        return f"at most {value} papers a day"
    return "a short note on days without matches" if value == "note" else "silent on days without matches"


def _no_day_yet() -> Response:
    return Response(text="No announcement day is stored yet: papers appear after the first daily "
                         "fetch from arXiv.")


def _any_positive_term(query: Query) -> Query:
    """A query hitting every paper that has any term `query` looks for (to find near misses)."""
    terms = query.positive_terms
    root = terms[0] if len(terms) == 1 else Or(tuple(terms))
    return Query(root=root, source=query.source, terms=tuple(terms))


@dataclass(frozen=True, slots=True)
class _DryRun:
    matched: Digest
    explanations: tuple[str, ...]
    near_items: tuple[DigestItem, ...]
    near_explanations: tuple[str, ...]
    near_more: int


def _dry_run(trial: Subscription, near: Subscription, papers: Sequence[Paper],
             destination: str, day: date) -> _DryRun:
    matcher = compile_subscriptions([trial, near])
    matches = matcher.match(papers)
    hits = [m for m in matches if m.subscription_id == trial.id]
    matched_ids = {m.paper.id for m in hits}
    digest = build_digest(destination, "dry run", day, hits, max_items=TEST_SHOWN)
    explanations = tuple(_explain(matcher, trial.id, item.paper) for item in digest.items)
    near_matches = [m for m in matches if m.subscription_id == near.id and m.paper.id not in matched_ids]
    near_digest = build_digest(destination, "near misses", day, near_matches,
                               max_items=NEAR_MISSES_SHOWN)
    near_explanations = tuple(_explain(matcher, trial.id, item.paper) for item in near_digest.items)
    return _DryRun(digest, explanations, near_digest.items, near_explanations, near_digest.truncated)


def _explain(matcher, subscription_id: str, paper: Paper) -> str:
    """The matcher's explanation without its first line (the reply already names the paper and
    the query); the score stays, as it decides the order."""
    explanation = matcher.explain(subscription_id, paper)
    details = [line[2:] if line.startswith("  ") else line
               for line in explanation.text().splitlines()[1:]]
    if explanation.matched:
        details.insert(0, f"score {explanation.score:g}")
    return "\n".join(details)


COMMAND_SUMMARY = {
    "today": "today's matches, privately",
    "subscribe": "add a channel subscription",
    "unsubscribe": "remove one (number from list)",
    "list": "subscriptions, settings, status",
    "test": "dry run with explanations",
    "search": "full-text search of stored papers",
    "me": "your personal keywords, privately",
    "help": "this help; help query for queries",
}

COMMAND_HELP: dict[str, tuple[str, ...]] = {
    "today": ("Shows you (only you) the latest day's papers that match this channel's "
              "subscriptions, or the query you give.",),
    "subscribe": ("Adds a subscription to this channel: every announcement day its matches are "
                  "posted here in one thread.",
                  "The reply shows how the query was read and how many papers it would have "
                  "matched on the latest day."),
    "unsubscribe": ("Removes the subscription with that number in /papers list, or all of them.",),
    "list": ("Shows this channel's numbered subscriptions, its settings, and whether daily posts "
             "are paused (and why).",),
    "test": ("A private dry run of a query on the latest day: which papers match, which terms hit "
             "where, and near misses with what kept them out.",),
    "search": ("Full-text search over the stored papers' titles, abstracts and authors; every "
               "word must appear.",),
    "settings": ("With nothing after it, shows this channel's settings. time HH:MM and tz "
                 "Area/City set when the daily thread is posted; types picks new, cross and "
                 "replace (new versions); max N caps papers a day (1 to 100); empty note|silent "
                 "decides whether a day without matches gets a short note.",),
    "me": ("Your own keywords, per workspace or server: only you can list or change them, and "
           "every reply is private. me add <query> adds one (same query language and limits), "
           "me remove <n | all>, me list shows them with your delivery.",
           "me deliver dm: one direct message per announcement day with your papers; me deliver "
           "here: a mention in this channel's daily thread with links to your papers (never your "
           "keywords); me deliver off keeps the keywords but sends nothing. me edit opens a form "
           "on Discord; on Slack, paperbot's Home tab does the same."),
    "help": ("/papers help <command> explains one command; /papers help query the query "
             "language.",),
}

QUERY_HELP: tuple[Section, ...] = (
    Preformatted(
        'VLM, MLLM, "vision language model"     any of these (comma or OR)\n'
        'diffusion AND (video OR "3D")          AND, OR, parentheses\n'
        '"world model" NOT robot   or  -robot   exclusion\n'
        'ti:transformer  abs:"test-time"  au:LeCun  cat:cs.CV  cat:cs  primary:cs.CL\n'
        "vision language model                 unquoted words form one phrase"),
    Lines((
        "Words are split at spaces, hyphens and punctuation: vision-language model = vision "
        "language model; multi-modal also matches multimodal.",
        "Terms match whole words: VLM matches VLM, VLMs and VLM-based, not LVLMs.",
        "Case is ignored, except for terms in capitals: MLLM matches only MLLM(s), not mLLMs.",
        "A plural s/es is tolerated (model matches models); accents are folded (Kästner = "
        "Kastner).",
        "Fields: ti: title, abs: abstract, au: author, cat: any category or archive, primary: "
        "primary category. Plain terms search titles and abstracts.",
        "New papers and cross-lists by default; /papers settings types new,cross,replace adds "
        "new versions, labelled as updates.",
    )),
)


async def execute(ctx: CommandContext, text: str, *, store: AsyncStore, settings: Settings) -> Response:
    """Run the `/papers` command `text` for `ctx`; always returns a Response (see CommandExecutor)."""
    return await CommandExecutor(store, settings).execute(ctx, text)
