"""`/papers me ...`: personal keywords, platform-neutral (DESIGN.md §6).

Everything here acts on the person who typed the command (`ctx.user` in `ctx.workspace`) and on
nobody else: there is no way to name another person, and every reply is ephemeral. The same
operations serve the chat forms (Slack App Home, Discord `/papers me edit` modal) through
`CommandExecutor.personal`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.commands.context import (QUERY_LANGUAGE_HINT, CommandContext, CommandReply, CommandServices, LatestDay,
                                  answer, read_as)
from bot.commands.grammar import USAGE, Personal
from bot.commands.responses import (
    INVALID,
    REFUSED,
    DigestSection,
    Heading,
    Lines,
    PaperList,
    Response,
    Section,
    error_response,
)
from bot.destinations.channels import STORED_QUERY_LIMITS, describe_stored_query
from bot.destinations.people import (PERSONAL_TYPES, personal_destination_key, personal_subscription,
                                     personal_subscription_id)
from bot.digest.model import Digest
from bot.digest.text import plural
from bot.matching import Query, QuerySyntaxError, Subscription, parse_query
from bot.models import Match
from bot.store import ReadStore, Store
from bot.store.personal import (
    PersonalDelivery,
    PersonalLimitReached,
    PersonalSubscriptionRecord,
    PersonRef,
)

log = logging.getLogger(__name__)

PREVIEW_SHOWN = 3
NO_KEYWORDS_TO_REMOVE = "You have no personal keywords to remove."
TODAY_SHOWN = 10


@dataclass(frozen=True, slots=True)
class PersonalOverview:
    """One person's keywords, delivery and (optionally) the latest day's personal matches."""

    person: PersonRef
    subscriptions: tuple[PersonalSubscriptionRecord, ...]
    delivery: PersonalDelivery
    paused: str | None
    limit: int
    day: date | None = None
    digest: Digest | None = None
    papers_that_day: int = 0


def delivery_line(delivery: PersonalDelivery, paused: str | None = None) -> str:
    if delivery.mode == "off":
        line = "Delivery: off (your keywords are kept; /papers me deliver dm or here turns it on)."
    elif delivery.mode == "here":
        where = f"#{delivery.channel_name}" if delivery.channel_name else "the channel you chose it in"
        line = (f"Delivery: a mention in the daily thread of {where}, with links to your papers "
                "(your keywords are never shown there).")
    else:
        line = "Delivery: one direct message per announcement day" + (
            "." if delivery.chosen else " (the default; /papers me deliver here|off changes it).")
    if paused and delivery.mode == "dm":
        line += f" Paused: {paused}"
    return line


class PersonalKeywords:
    def __init__(self, services: CommandServices) -> None:
        self.services = services

    @property
    def limit(self) -> int:
        return self.services.settings.limits.subscriptions_per_user

    async def _store(self, operation: str, fn):
        return await self.services.run(operation, fn)

    async def run(self, ctx: CommandContext, command: Personal) -> Response:
        if command.action == "add":
            return await self.add(ctx, command.argument or "")
        if command.action == "remove":
            return await self.remove(ctx, command.argument or "")
        if command.action == "list":
            return self.list_response(await self.overview(ctx, with_matches=False))
        if command.action == "deliver":
            return await self.deliver(ctx, command.argument or "")
        if command.action == "edit":
            return Response(text="/papers me edit opens a form on Discord. On Slack, open paperbot's "
                                 "Home tab to edit your keywords; here, /papers me add and me remove "
                                 "work everywhere.")
        raise ValueError(f"unknown personal action {command.action!r}")

    # -- reading ------------------------------------------------------------------------------

    async def overview(self, ctx: CommandContext, *, with_matches: bool = True) -> PersonalOverview:
        """`ctx`'s person's keywords, delivery and (`with_matches`) latest personal matches
        (raises StoreError when the store is down; `home_overview` answers instead)."""
        return (await self._overview(ctx, with_matches=with_matches))[0]

    async def _overview(self, ctx: CommandContext, *,
                        with_matches: bool = True) -> tuple[PersonalOverview, list[Match], LatestDay | None]:
        """`overview`, with every match of the person's keywords over the latest day (under
        their `personal_subscription_id`s) and that day: all read on reader connections, the day
        from the latest-day cache, matched on the command worker."""
        person = ctx.person
        key = personal_destination_key(person)

        def read(store: ReadStore):
            return (store.people.list_personal(person), store.people.get_delivery(person),
                    store.ledger.paused_reason(key))

        rows, delivery, paused = await self.services.read("reading your keywords", read)
        day, papers, latest, matches = None, (), None, []
        if with_matches and rows:
            latest = await self.services.latest.get()
            day, papers = latest.day, latest.papers
        digest = None
        if latest is not None and day is not None:
            subscriptions = []
            for row in rows:
                try:
                    subscriptions.append(personal_subscription(row, STORED_QUERY_LIMITS))
                except (QuerySyntaxError, ValueError):
                    continue
            matches = await self.services.match_latest(latest, subscriptions)
            # In the order of the person's direct message: their own votes' stored model.
            order = await self.services.learned_order(key, latest, matches) if matches else None
            digest = await self.services.digest(key, "your papers", day, matches,
                                                max_items=TODAY_SHOWN, order=order)
        overview = PersonalOverview(person, tuple(rows), delivery, paused, self.limit, day, digest,
                                    len(papers))
        return overview, matches, latest

    def list_response(self, view: PersonalOverview) -> Response:
        sections: list[Section] = []
        if view.subscriptions:
            text = (f"You have {plural(len(view.subscriptions), 'personal subscription')} "
                    f"(at most {view.limit}); only you can see them.")
            sections += [Heading(f"Your keywords ({len(view.subscriptions)} of at most {view.limit})"),
                         Lines(tuple(f"{n}. {row.query}" for n, row in
                                     enumerate(view.subscriptions, start=1)))]
        else:
            text = "You have no personal keywords yet. Add some with /papers me add <query>."
            sections.append(Lines((text,)))
        line = delivery_line(view.delivery, view.paused)
        sections.append(Lines((line,)))
        if view.paused and view.delivery.mode == "dm":
            text = f"Your direct messages are paused: {view.paused} " + text
            sections.append(Lines(("Once that is fixed, /papers me deliver dm resumes them.",)))
        if view.digest is not None and view.day is not None:
            sections.append(Heading(f"Your papers for {view.day.isoformat()}"))
            sections.append(DigestSection(view.digest) if view.digest.items else
                            Lines((f"None of the {view.papers_that_day} papers matched.",)))
        return Response(text=text, sections=tuple(sections), ephemeral=True)

    # -- for forms and the Slack Home tab -------------------------------------------------------

    async def home_overview(self, ctx: CommandContext) -> PersonalOverview | Response:
        """`overview` for a form or Home tab: the overview, or a Response saying why not."""
        async def work() -> PersonalOverview | Response:
            return await self.overview(ctx)
        return await answer("reading your keywords", work())

    async def add_from_form(self, ctx: CommandContext,
                            text: str) -> tuple[Response, PersonalOverview | Response]:
        """A form's "Add keywords" (the Slack Home tab): the answer to the addition, and the
        overview the form shows next (or a Response saying why it cannot be read).

        The latest day is matched ONCE for both: the new keyword's preview is its share of the
        overview's matches, not a matcher pass of its own. Only the addition itself uses the
        writer; the rest is read on reader connections, so a queue of delivery's ledger writes
        delays a submission by one write, not three."""
        saved: list[tuple[Query, PersonalSubscriptionRecord, int, PersonalDelivery]] = []

        async def save() -> Response | None:
            query = self._parse(text)
            outcome = await self._save(ctx, query, text)
            if isinstance(outcome, Response):
                return outcome
            saved.append((query, *outcome))
            return None

        refused = await answer("adding a keyword", save())

        async def show() -> tuple[PersonalOverview, list[Match], LatestDay | None]:
            return await self._overview(ctx)

        shown = await answer("reading your keywords", show())
        view = shown if isinstance(shown, Response) else shown[0]
        if refused is not None:
            return refused, view
        query, record, number, delivery = saved[0]
        if isinstance(shown, Response):   # saved, but the day cannot be read just now: no preview
            return await self._added(ctx.person, query, number, delivery, None, []), view
        _, matches, latest = shown
        own = personal_subscription_id(record.id)
        return await self._added(ctx.person, query, number, delivery, latest,
                                 [m for m in matches if m.subscription_id == own]), view

    async def form_text(self, ctx: CommandContext) -> str | Response:
        """`ctx`'s person's keywords as an edit form shows them (one query per line), or a
        Response saying why they cannot be read just now."""
        async def work() -> str | Response:
            person = ctx.person
            rows = await self.services.read("reading your keywords",
                                            lambda s: s.people.list_personal(person))
            return queries_text(rows)
        return await answer("reading your keywords", work())

    # -- changing -----------------------------------------------------------------------------

    def _parse(self, text: str) -> Query:
        return self.services.parse_user_query(text, "me")

    def check(self, text: str) -> Response | None:
        """Only read `text` as a query (no database): the error a form shows under its field
        before it answers the platform (Slack waits 3 s), or None when the query reads."""
        try:
            self._parse(text)
        except CommandReply as reply:
            return reply.response
        return None

    async def add(self, ctx: CommandContext, text: str) -> Response:
        """`/papers me add`: add one query (always returns a Response; a form that shows the
        overview next uses `add_from_form`)."""
        return await answer("adding a keyword", self._add(ctx, text))

    async def _add(self, ctx: CommandContext, text: str) -> Response:
        query = self._parse(text)
        outcome = await self._save(ctx, query, text)
        if isinstance(outcome, Response):
            return outcome
        record, number, delivery = outcome
        latest = await self.services.latest.get()
        matches: list[Match] = []
        if latest.day is not None:
            subscription = Subscription("preview", query, types=frozenset(PERSONAL_TYPES))
            matches = await self.services.match_latest(latest, [subscription])
        return await self._added(ctx.person, query, number, delivery, latest, matches)

    async def _save(self, ctx: CommandContext, query: Query, text: str,
                    ) -> tuple[PersonalSubscriptionRecord, int, PersonalDelivery] | Response:
        """Store `text` (read as `query`) as one more keyword of `ctx`'s person, on the writer:
        the new row, its number and the person's delivery, or the refusal (a duplicate, the
        limit reached)."""
        person = ctx.person
        limit = self.limit

        def add(store: Store):
            existing = store.people.list_personal(person)
            for number, row in enumerate(existing, start=1):
                if describe_stored_query(row.query) == query.describe():
                    return ("duplicate", number)
            record = store.people.add_personal(person, text, now=store.now(), limit=limit)
            return record, len(existing) + 1, store.people.get_delivery(person)

        try:
            outcome = await self._store("adding a personal subscription", add)
        except PersonalLimitReached as exc:
            return error_response(
                f"You already have {exc.count} personal subscriptions, the most allowed "
                f"(limits.subscriptions_per_user is {exc.limit}). Remove one with /papers me "
                "remove <n> (see /papers me list), or combine queries with commas.", outcome=REFUSED)
        if outcome[0] == "duplicate":
            return error_response(f"You already follow {query.describe()} (number {outcome[1]} in "
                                  "/papers me list).", outcome=INVALID)
        return outcome

    async def _added(self, person: PersonRef, query: Query, number: int, delivery: PersonalDelivery,
               latest: LatestDay | None, matches: Sequence[Match]) -> Response:
        """The answer to an addition: how the query reads and, when a day is stored, what it
        would have matched on it (`matches`: the new keyword's own)."""
        lines = []
        preview: tuple[Section, ...] = ()
        if latest is not None and latest.day is not None:
            digest = await self.services.digest(personal_destination_key(person), "preview",
                                                latest.day, list(matches), max_items=PREVIEW_SHOWN)
            lines.append(f"On the latest day, {latest.day.isoformat()}, it would have matched "
                         f"{plural(digest.total, 'paper')} of {len(latest.papers)}.")
            if digest.items:
                preview = (PaperList(digest.items, more=digest.truncated),)
        lines.append(delivery_line(delivery))
        text = f"Added to your personal keywords: {query.describe()} (number {number})."
        return Response(text=text, sections=(
            Heading(f"Personal keyword {number}"), *read_as(query),
            Lines(tuple(lines)), *preview), ephemeral=True)

    async def remove(self, ctx: CommandContext, argument: str) -> Response:
        person = ctx.person
        if argument == "all":
            removed = await self._store("removing your keywords",
                                        lambda s: s.people.remove_all_personal(person))
            if not removed:
                return error_response(NO_KEYWORDS_TO_REMOVE)
            return Response(text=f"Removed all {plural(removed, 'personal subscription')} of yours.")
        number = int(argument)

        def remove(store: Store):
            row = store.people.remove_personal(person, number)
            return row, store.people.count_personal(person)

        row, remaining = await self._store("removing a keyword", remove)
        if row is None:
            if remaining == 0:
                return error_response(NO_KEYWORDS_TO_REMOVE)
            return error_response(f"There is no number {number}: you have "
                                  f"{plural(remaining, 'personal subscription')} (see /papers me list).")
        return Response(text=f"Removed your personal keyword {number}: {row.query} "
                             f"({remaining} left).")

    async def remove_by_id(self, ctx: CommandContext, row_id: int) -> Response:
        """A Remove button: only ever one of the clicking person's own rows."""
        return await answer("removing a keyword", self._remove_by_id(ctx.person, row_id))

    async def _remove_by_id(self, person: PersonRef, row_id: int) -> Response:
        row = await self._store("removing a keyword",
                                lambda s: s.people.remove_personal_by_id(person, row_id))
        if row is None:
            return error_response("That keyword is already gone.")
        return Response(text=f"Removed your personal keyword: {row.query}")

    async def deliver(self, ctx: CommandContext, mode: str) -> Response:
        person = ctx.person
        key = personal_destination_key(person)

        def change(store: Store):
            delivery = store.people.set_delivery(person, mode, now=store.now(),
                                                   channel=ctx.channel if mode == "here" else None,
                                                   channel_name=ctx.channel_name)
            if mode == "dm":
                # Choosing dm again is how a person says "my DMs are open now".
                store.ledger.resume_destination(key)
            return delivery, store.people.count_personal(person)

        delivery, count = await self._store("changing your delivery", change)
        if mode == "dm":
            text = "Your personal matches now come as one direct message per announcement day."
        elif mode == "here":
            text = ("Each announcement day you will be mentioned in this channel's daily thread, "
                    "with links to your matching papers; your keywords stay private.")
        else:
            text = "Personal delivery is off; your keywords are kept."
        lines = [text]
        if not count and mode != "off":
            lines.append("You have no keywords yet: add some with /papers me add <query>.")
        return Response(text=text, sections=(Lines(tuple(lines)),), ephemeral=True)

    async def replace_all(self, ctx: CommandContext, text: str) -> Response:
        """A form's submission: one query per line becomes the whole list (nothing saved when
        any line is bad or there are too many)."""
        return await answer("saving your keywords", self._replace_all(ctx, text))

    async def _replace_all(self, ctx: CommandContext, text: str) -> Response:
        person = ctx.person
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        problems = []
        for number, line in enumerate(lines, start=1):
            try:
                parse_query(line, self.services.query_limits)
            except QuerySyntaxError as exc:
                problems.append(f"line {number}: {exc}")
        if problems:
            return error_response("Nothing was saved: " + "; ".join(problems),
                                  sections=(Lines((f"Usage: {USAGE['me']}", QUERY_LANGUAGE_HINT)),))
        if len(lines) > self.limit:
            return error_response(f"Nothing was saved: {len(lines)} lines, but at most {self.limit} "
                                  "personal subscriptions are allowed "
                                  "(limits.subscriptions_per_user).", outcome=REFUSED)
        unique = list(dict.fromkeys(lines))
        await self._store("saving your keywords", lambda s: s.people.add_many_personal(person, unique, now=s.now(), limit=self.limit, replace=True))
        if not unique:
            return Response(text="Your personal keywords are now empty.")
        return Response(text=f"Saved {plural(len(unique), 'personal keyword')}.",
                        sections=(Lines(tuple(f"{n}. {q}" for n, q in enumerate(unique, start=1))),))




def queries_text(rows: Sequence[PersonalSubscriptionRecord]) -> str:
    """The list as a form shows it: one query per line."""
    return "\n".join(row.query for row in rows)
