"""👍/👎 on the papers of daily threads and personal digests, and `/papers me forget`,
platform-neutral (issue 17).

A vote button carries the destination (the thread's ledger key: `slack:T1:C1`,
`discord-dm:G1:U1`) and the paper id; a click is one `VoteClick`. Clicking 👍 votes up, clicking it
again withdraws, clicking 👎 after 👍 switches: the toggle is decided on the database thread from
the person's stored vote, so double clicks and two people at once are all counted. Labels show
counts only ("👍 3"); who voted is never shown to anyone.

Adapters update the message after a vote through `refresh_message(...)`, which reads `tallies()`
and edits one message at a time: the last update of a message carries the counts of every vote
committed before it, whatever order the clicks arrive in, and a burst of clicks on one message
costs fewer edits than clicks (an update already showing a vote makes that vote's own update
unnecessary).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.commands.context import CommandContext, CommandServices, answer
from bot.commands.grammar import ForgetVotes
from bot.commands.responses import INVALID, REFUSED, Response, error_response
from bot.destinations.destination import destination_parts
from bot.destinations.people import personal_destination_key
from bot.digest.text import plural
from bot.store import ReadStore, Store
from bot.store.personal import PersonRef
from bot.store.votes import DOWN, UP, VoteCounts

log = logging.getLogger(__name__)

__all__ = ["DOWN", "UP", "PaperVotes", "Tally", "VoteClick", "VoteRecorded", "button_label",
           "destination_parts"]

THUMBS = {UP: "👍", DOWN: "👎"}
MESSAGES_KEPT = 2048
T = TypeVar("T")

NOT_OURS = "That vote button is not one of mine, so I did not count it."
OTHER_THREAD = ("That vote button belongs to another thread than the one it was clicked in, so I "
                "did not count it.")
UNKNOWN_PAPER = ("I have no record of posting arXiv:{paper} in this thread (my records of it may "
                 "have been reset), so I did not count this vote. Nothing else changed.")
VOTE_NOT_SAVED = ("I cannot reach my database just now, so your vote was not counted. Please "
                  "click again in a minute.")


@dataclass(frozen=True, slots=True)
class Tally:
    """A paper's counts in one destination: all anyone is ever shown of its votes."""

    up: int = 0
    down: int = 0

    def of(self, direction: int) -> int:
        return self.up if direction == UP else self.down


def button_label(direction: int, tally: Tally) -> str:
    """"👍 3", or just "👍" while nobody voted that way."""
    count = tally.of(direction)
    return f"{THUMBS[direction]} {count}" if count else THUMBS[direction]


def _tally(counts: VoteCounts | None) -> Tally:
    return Tally(counts.up, counts.down) if counts is not None else Tally()


@dataclass(frozen=True, slots=True)
class VoteClick:
    """One click on a vote button. `workspace` and `channel` are where the platform says it was
    clicked (Slack: team and channel; Discord: the server, None in a direct message; channel None
    when the platform does not say which channel the thread belongs to)."""

    platform: str
    user: str
    destination: str
    paper_id: str
    direction: int
    workspace: str | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class VoteRecorded:
    """The clicker's vote now (UP, DOWN or None when withdrawn) and the paper's counts."""

    paper_id: str
    vote: int | None
    tally: Tally


@dataclass(eq=False)
class _MessageState:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    requested: int = 0   # votes recorded on this message so far (tickets)
    shown: int = 0       # the tickets the last finished update covered


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.text)
        self.response = response


class PaperVotes:
    """`CommandExecutor.votes`: casting votes from buttons, counts for labels, `me forget`."""

    def __init__(self, services: CommandServices) -> None:
        self.services = services
        self._messages: OrderedDict[Hashable, _MessageState] = OrderedDict()

    # -- buttons ------------------------------------------------------------------------------

    def voter(self, click: VoteClick) -> PersonRef:
        """Who voted: the clicker, in the workspace of the thread (a Discord direct message has
        no server of its own; the digest's key names it)."""
        parts = destination_parts(click.destination)
        if parts is None or parts[0] != click.platform:
            raise _Refused(error_response(NOT_OURS, outcome=INVALID))
        _, direct, workspace, address = parts
        if click.workspace and click.workspace != workspace:
            raise _Refused(error_response(OTHER_THREAD, outcome=REFUSED))
        if direct and address != click.user:
            # Only the person a direct message went to can see its buttons.
            raise _Refused(error_response(OTHER_THREAD, outcome=REFUSED))
        if not direct and click.channel and click.channel != address:
            raise _Refused(error_response(OTHER_THREAD, outcome=REFUSED))
        return PersonRef(click.platform, workspace, click.user)

    async def vote(self, click: VoteClick) -> VoteRecorded | Response:
        """Record the click (vote, switch or withdraw) and return the outcome, or a Response to
        show the clicker privately instead (a button not of this thread, a paper this thread
        never had, the database unreachable: nothing is changed then)."""
        if click.direction not in THUMBS:
            return error_response(NOT_OURS, outcome=INVALID)
        try:
            voter = self.voter(click)
        except _Refused as refused:
            return refused.response
        destination, paper_id, direction = click.destination, click.paper_id, click.direction

        def toggle(store: Store) -> tuple[int | None, VoteCounts] | None:
            # One writer operation: the person's stored vote decides the toggle, so a double
            # click cannot vote twice and concurrent voters are all counted.
            if not store.ledger.was_delivered(destination, paper_id):
                return None
            current = store.votes.vote_of(destination, paper_id, voter)
            new = None if current == direction else direction
            return new, store.votes.cast(destination, paper_id, voter, new, now=store.now())

        async def work() -> VoteRecorded | Response:
            outcome = await self.services.run("recording a vote", toggle)
            if outcome is None:
                return error_response(UNKNOWN_PAPER.format(paper=paper_id[:64]), outcome=INVALID)
            new, counts = outcome
            return VoteRecorded(paper_id, new, _tally(counts))

        result = await answer(f"vote on {paper_id[:64]} in {destination[:80]}", work())
        if isinstance(result, Response) and result.outcome == "unavailable":
            return error_response(VOTE_NOT_SAVED, outcome=result.outcome)
        return result

    async def tallies(self, destination: str, paper_ids: Iterable[str]) -> dict[str, Tally] | Response:
        """The counts of `paper_ids` in `destination` (every one of them, zero when unvoted), read
        on a reader connection."""
        ids = list(dict.fromkeys(paper_ids))

        async def work() -> dict[str, Tally]:
            counts = await self.services.read("counting votes",
                                              lambda r: r.votes.counts(destination, ids))
            return {paper_id: _tally(counts.get(paper_id)) for paper_id in ids}

        return await answer(f"vote counts in {destination[:80]}", work())

    async def refresh_message(self, key: Hashable, update: Callable[[], Awaitable[T]]) -> T | None:
        """Run `update()` (read `tallies`, then edit the chat message `key` names) for a vote
        just recorded, one update of a message at a time: the update that runs last read the
        counts after every vote before it. An update is skipped (None) when one that started
        after this vote was recorded has already finished: it showed this vote too."""
        state = self._message(key)
        state.requested += 1
        ticket = state.requested
        async with state.lock:
            if state.shown >= ticket:
                return None
            covered = state.requested   # every vote counted so far is committed: update reads them
            result = await update()
            state.shown = max(state.shown, covered)
            return result

    def _message(self, key: Hashable) -> _MessageState:
        state = self._messages.get(key)
        if state is None:
            state = self._messages[key] = _MessageState()
            while len(self._messages) > MESSAGES_KEPT:
                oldest, held = next(iter(self._messages.items()))
                if held.lock.locked():
                    break
                del self._messages[oldest]
        else:
            self._messages.move_to_end(key)
        return state

    # -- /papers me forget --------------------------------------------------------------------

    async def forget(self, ctx: CommandContext, command: ForgetVotes) -> Response:
        person = ctx.person
        if not command.confirmed:
            count = await self.services.read("counting your votes",
                                             lambda r: _count_votes(r, person))
            if not count:
                return Response(text="You have no votes stored in this workspace, so there is "
                                     "nothing to forget.")
            return Response(text=(
                f"You have cast {plural(count, 'vote')} in this workspace (👍/👎 on papers in "
                "daily threads and in your direct messages). Only counts are ever shown; nobody "
                "can see who voted. To delete all of them, and the ranking learned from your "
                "own votes, run /papers me forget confirm. This cannot be undone."))

        def forget(store: Store) -> int:
            removed = store.votes.forget_person(person)
            store.votes.delete_model(personal_destination_key(person))
            return removed

        removed = await self.services.run("forgetting your votes", forget)
        if not removed:
            return Response(text="You had no votes stored in this workspace; nothing was deleted.")
        return Response(text=(
            f"Deleted {plural(removed, 'vote')} of yours in this workspace, and the ranking "
            "learned from them for your direct messages. Channel rankings learn only from the "
            "votes that are stored, so yours stop counting when they are next trained. Counts "
            "already shown on buttons change the next time someone votes on that paper."))


def _count_votes(store: ReadStore, person: PersonRef) -> int:
    return len(store.votes.by_person(person))
