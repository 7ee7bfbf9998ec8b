"""The channel's own commands: subscribe, unsubscribe, list, settings and resume (DESIGN.md §6).

Changing a channel needs `ctx.can_manage`; looking does not. Also the channel lookups the chat
adapters need (numbered subscriptions for Discord's autocomplete, lifting a pause when Slack
says the bot is back), so adapters never reach into the store themselves.
"""

from __future__ import annotations

import logging

from bot.commands.context import CommandContext, CommandServices, read_as
from bot.commands.grammar import USAGE, WEEKDAY_NAMES, ChangeSettings, Subscribe, Unsubscribe, WeeklyChoice
from bot.commands.responses import (
    INVALID,
    REFUSED,
    Heading,
    Lines,
    PaperList,
    Response,
    Section,
    error_response,
)
from bot.destinations.channels import ChannelSchedule, channel_destination_key, describe_stored_query
from bot.digest.text import plural
from bot.matching import Subscription
from bot.store import ReadStore, Store
from bot.store.subscriptions import WEEKLY_OFF, ChannelRef, SubscriptionLimitReached

log = logging.getLogger(__name__)

SUBSCRIBE_PREVIEW_SHOWN = 3
PREVIEW_ID = "query"          # the matcher id of the subscribe preview
NO_SUBSCRIPTIONS_TO_REMOVE = "This channel has no subscriptions to remove."
RESUME_HINT = "Once that is fixed, /papers resume starts them again."



def settings_lines(schedule: ChannelSchedule) -> tuple[str, ...]:
    """A channel's effective settings, one readable line each."""
    if schedule.post_time is not None:
        when = f"Daily post: at {schedule.post_time:%H:%M} ({schedule.timezone})"
    else:
        when = f"Daily post: as soon as the day's papers are in (time zone {schedule.timezone})"
    types = ", ".join(schedule.types) + (" (the default)" if schedule.types_are_default else "")
    cap = (f"At most {plural(schedule.max_papers, 'paper')} a day; the rest are folded into one "
           '"more papers" message with links' if schedule.max_papers
           else "No limit on papers a day")
    empty = ("Days without matching papers: a short note" if schedule.empty_note
             else "Days without matching papers: silent")
    order = ("Paper order: by this channel's votes (👍/👎) once it has enough of them, best keyword "
             "match first until then" if schedule.paper_order == "relevance"
             else "Paper order: best keyword match first (as listed), whatever the votes")
    if schedule.paper_order_is_default:
        order += " (the default)"
    if schedule.weekly_day is None:
        weekly = "Weekly best-of: off (turn it on with /papers settings weekly on)"
    else:
        at = schedule.weekly_time.strftime("%H:%M") if schedule.weekly_time else "?"
        weekly = (f"Weekly best-of: {WEEKDAY_NAMES[schedule.weekly_day].capitalize()}s at {at} "
                  f"({schedule.timezone})")
    return (when, f"Announce types: {types}", cap, empty, order, weekly)


def describe_change(name: str, value: object) -> str:
    if name == "post_time":
        return f"daily post at {value}"
    if name == "timezone":
        return f"time zone {value}"
    if name == "types":
        return "announce types " + ", ".join(value)  # type: ignore[arg-type]
    if name == "max_papers":
        return f"at most {value} papers a day"
    if name == "paper_order":
        return "papers ordered by this channel's votes" if value == "relevance" else "papers in listing order"
    if name == "weekly_day":
        return "weekly best-of off" if value == WEEKLY_OFF else f"weekly best-of on {WEEKDAY_NAMES[value].capitalize()}s"
    if name == "weekly_time":
        return f"weekly best-of at {value}"
    return "a short note on days without matches" if value == "note" else "silent on days without matches"


class ChannelCommands:
    def __init__(self, services: CommandServices) -> None:
        self.services = services

    @property
    def settings(self):
        return self.services.settings

    # -- subscribe / unsubscribe ---------------------------------------------------------------

    async def subscribe(self, ctx: CommandContext, command: Subscribe) -> Response:
        self.services.require_manager(ctx, "add subscriptions")
        query = self.services.parse_user_query(command.query, "subscribe")
        channel = ctx.channel_ref
        limit = self.settings.limits.subscriptions_per_channel

        def add(store: Store):
            existing = store.channels.list_subscriptions(channel)
            for number, row in enumerate(existing, start=1):
                if describe_stored_query(row.query) == query.describe():
                    return ("duplicate", number)
            record = store.channels.add_subscription(channel, command.query, now=store.now(), created_by=ctx.user,
                limit=limit, channel_name=ctx.channel_name)
            return record, len(existing) + 1, store.channels.get_channel_settings(channel)

        try:
            outcome = await self.services.run("adding a subscription", add)
        except SubscriptionLimitReached as exc:
            return error_response(
                f"This channel already has {exc.count} subscriptions, the most allowed "
                f"(limits.subscriptions_per_channel is {exc.limit}). Remove one first with "
                "/papers unsubscribe <n> (see /papers list), or combine queries with commas.",
                outcome=REFUSED)
        if outcome[0] == "duplicate":
            return error_response(f"This channel is already subscribed to {query.describe()} "
                                  f"(subscription {outcome[1]} in /papers list).", outcome=INVALID)
        record, number, settings_record = outcome
        latest = await self.services.latest.get()
        day, papers = latest.day, latest.papers
        schedule = self.services.effective(settings_record)
        types = record.types or schedule.types
        lines = []
        preview: tuple[Section, ...] = ()
        if day is None:
            lines.append("No day is stored yet, so I cannot say how many papers it would have "
                         "matched; the first daily post will show.")
        else:
            subscription = Subscription(PREVIEW_ID, query, types=frozenset(types))
            matches = await self.services.match_latest(latest, [subscription])
            digest = await self.services.digest(ctx.destination_key, "preview", day, matches,
                                                max_items=SUBSCRIBE_PREVIEW_SHOWN)
            lines.append(f"On the latest day, {day.isoformat()}, it would have matched "
                         f"{plural(digest.total, 'paper')} of {len(papers)}.")
            if digest.items:
                preview = (PaperList(digest.items, more=digest.truncated),)
        lines.append(f"Announce types: {', '.join(types)}. Change them with /papers settings types ...")
        text = (f"Subscribed this channel to {query.describe()} (subscription {number}). "
                + lines[0])
        return Response(
            text=text,
            sections=(Heading(f"New subscription {number}"),
                      *read_as(query),
                      Lines(tuple(lines)), *preview),
            ephemeral=False,
        )

    async def unsubscribe(self, ctx: CommandContext, command: Unsubscribe) -> Response:
        self.services.require_manager(ctx, "remove subscriptions")
        channel = ctx.channel_ref
        if command.everything:
            removed = await self.services.run(
                "removing subscriptions", lambda s: s.channels.remove_all_subscriptions(channel))
            if not removed:
                return error_response(NO_SUBSCRIPTIONS_TO_REMOVE, outcome=INVALID)
            text = (f"Removed all {plural(removed, 'subscription')} of this channel; daily posts "
                    "here stop until someone subscribes again.")
            return Response(text=text, sections=(Lines((text,)),), ephemeral=False)
        number = command.number
        assert number is not None

        def remove(store: Store):
            row = store.channels.remove_subscription(channel, number)
            return row, store.channels.count_subscriptions(channel)

        row, remaining = await self.services.run("removing a subscription", remove)
        if row is None:
            if remaining == 0:
                return error_response(NO_SUBSCRIPTIONS_TO_REMOVE, outcome=INVALID)
            numbered = "number 1" if remaining == 1 else f"numbered 1 to {remaining}"
            return error_response(f"There is no subscription {number}: this channel has "
                                  f"{plural(remaining, 'subscription')} ({numbered} in /papers "
                                  "list).", outcome=INVALID)
        text = f"Removed subscription {number} of this channel: {row.query}"
        follow = (f"{plural(remaining, 'subscription')} left"
                  + ("; the ones after it moved up by one in /papers list." if number <= remaining
                     else "."))
        return Response(text=text, sections=(Lines((text, follow)),), ephemeral=False)

    # -- list / settings -----------------------------------------------------------------------

    async def list(self, ctx: CommandContext) -> Response:
        channel, key = ctx.channel_ref, ctx.destination_key

        def read(store: ReadStore):
            return (store.channels.list_subscriptions(channel),
                    store.channels.get_channel_settings(channel),
                    store.ledger.paused_reason(key),
                    store.ledger.latest_delivery(key))

        rows, settings_record, paused, latest = await self.services.read("listing subscriptions", read)
        schedule = self.services.effective(settings_record)
        limit = self.settings.limits.subscriptions_per_channel
        sections: list[Section] = []
        if paused:
            sections.append(Lines((f"Daily posts to this channel are paused: {paused}", RESUME_HINT)))
        problem = delivery_problem(latest, paused=bool(paused))
        if problem:
            sections.append(Lines((problem,)))
        if rows:
            text = f"This channel has {plural(len(rows), 'subscription')} (at most {limit})."
            entries = tuple(
                f"{number}. {row.query}" + (f"  (types {', '.join(row.types)})" if row.types else "")
                for number, row in enumerate(rows, start=1))
            sections += [Heading(f"Subscriptions ({len(rows)} of at most {limit})"), Lines(entries)]
        else:
            text = "This channel has no subscriptions yet. Add one with /papers subscribe <query>."
            sections.append(Lines((text,)))
        sections += [Heading("Settings"), Lines(settings_lines(schedule))]
        if paused:
            text = f"Daily posts to this channel are paused ({paused}). " + text
        if problem:
            text = problem + " " + text
        return Response(text=text, sections=tuple(sections), ephemeral=True)

    async def settings_command(self, ctx: CommandContext, command: ChangeSettings) -> Response:
        channel = ctx.channel_ref
        if command.shows_only:
            # A reader connection: showing settings never waits behind delivery's ledger writes.
            record = await self.services.read(
                "reading channel settings", lambda s: s.channels.get_channel_settings(channel))
            lines = settings_lines(self.services.effective(record))
            return Response(text="This channel's settings: " + "; ".join(lines) + ".",
                            sections=(Heading("Settings"), Lines(lines),
                                      Lines((f"Change them with {USAGE['settings']}",
                                             f"Votes key: {ctx.destination_key} (a Markdown topic "
                                             f"with votes_from: {ctx.destination_key} in the "
                                             "configuration is ordered by this channel's votes)")),),
                            ephemeral=True)
        self.services.require_manager(ctx, "change this channel's settings")
        changes = self.stored_changes(command)
        record = await self.services.run(
            "changing channel settings",
            lambda s: s.channels.update_channel_settings(channel, changes, now=s.now(), updated_by=ctx.user,
                channel_name=ctx.channel_name))
        changed = ", ".join(describe_change(name, value) for name, value in changes.items())
        lines = settings_lines(self.services.effective(record))
        return Response(text=f"Settings changed: {changed}.",
                        sections=(Heading("Settings"), Lines(lines)), ephemeral=False)

    def stored_changes(self, command: ChangeSettings) -> dict[str, object]:
        """The command's settings as store columns: `weekly on` without a day (or a time) takes
        the configured default (`schedule.weekly_day` / `weekly_time`)."""
        changes = dict(command.changes)
        weekly: WeeklyChoice | None = changes.pop("weekly", None)  # type: ignore[assignment]
        if weekly is not None:
            if not weekly.on:
                changes["weekly_day"] = WEEKLY_OFF
            else:
                schedule = self.settings.schedule
                changes["weekly_day"] = (weekly.day if weekly.day is not None
                                         else schedule.weekly_day_index)
                changes["weekly_time"] = weekly.time or schedule.weekly_time
        return changes

    # -- resume --------------------------------------------------------------------------------

    async def resume(self, ctx: CommandContext) -> Response:
        """`/papers resume`: lift the pause delivery put on this channel when it lost it."""
        self.services.require_manager(ctx, "resume daily posts")
        reason = await self.lift_pause(ctx.channel_ref, f"/papers resume by {ctx.user}")
        if reason is None:
            return error_response("Daily posts to this channel are not paused; nothing to resume.",
                                  outcome=INVALID)
        text = ("Daily posts to this channel are resumed; the next daily thread comes as usual. "
                f"They had been paused: {reason}")
        return Response(text=text, sections=(Lines((text,)),), ephemeral=False)

    async def lift_pause(self, channel: ChannelRef, why: str) -> str | None:
        """Lift `channel`'s pause, if it has one; the reason it was paused for (None: it was not).
        The one way a pause ends, for `/papers resume` and platform events alike."""
        key = channel_destination_key(channel)

        def lift(store: Store) -> str | None:
            reason = store.ledger.paused_reason(key)
            if reason is not None:
                store.ledger.resume_destination(key)
            return reason

        reason = await self.services.run("resuming a channel", lift)
        if reason is not None:
            log.info("resuming daily posts to %s (%s); it was paused: %s", key, why, reason)
        return reason

    # -- lookups for the adapters --------------------------------------------------------------

    async def numbered_subscriptions(self, ctx: CommandContext) -> list[tuple[int, str]]:
        """This channel's subscriptions as `/papers list` numbers them: (number, query)."""
        channel = ctx.channel_ref
        rows = await self.services.read("listing subscriptions",
                                        lambda s: s.channels.list_subscriptions(channel))
        return [(number, row.query) for number, row in enumerate(rows, start=1)]


def delivery_problem(record, *, paused: bool = False) -> str | None:
    """What `/papers list` says about the latest day's delivery when it did not go out: given up
    (with the reason) or being retried after failures."""
    if record is None:
        return None
    if record.state == "undeliverable":
        return f"The digest of {record.day} could not be delivered: {record.last_error}."
    if record.state == "failed" and not paused:  # a paused channel says so already
        tries = "attempt" if record.attempts == 1 else "attempts"
        return (f"The digest of {record.day} has not gone out yet ({record.attempts} failed {tries}, "
                f"last error: {record.last_error}); it is retried until it is delivered.")
    return None
