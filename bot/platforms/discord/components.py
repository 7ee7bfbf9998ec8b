"""The persistent buttons of a paper: "Abstract" (answered privately with the full abstract),
👍 and 👎 (votes, shown as counts on the buttons).

They are `discord.ui.DynamicItem`s: discord.py recognises their custom ids (`paperbot:abs:<paper
id>`, `paperbot:up:<thread key>:<paper id>`, `paperbot:down:...`) on any message, so a click
works after a restart without keeping a View per message in memory. Everything comes from the
command layer through the client (`lookup_paper`, `commands`; see client.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import discord

from bot.commands.responses import Response, internal_error_response
from bot.commands.votes import DOWN, UP, Tally, VoteClick, VoteRecorded, button_label
from bot.platforms.discord.deadline import DEFER_AFTER_SECONDS, within_deadline
from bot.platforms.discord.render import (
    ABSTRACT_BUTTON_PREFIX,
    LIMITS,
    abstract_button_label,
    abstract_custom_id,
    abstract_embed,
    paper_id_of,
    read_vote_custom_id,
    vote_custom_id,
)
from bot.platforms.discord.replies import render_response

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


class AbstractButton(discord.ui.DynamicItem[discord.ui.Button],
                     template=re.escape(ABSTRACT_BUTTON_PREFIX) + r"(?P<paper_id>\S+)"):
    def __init__(self, paper_id: str, *, row: int | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=abstract_button_label(paper_id),
            style=discord.ButtonStyle.secondary,
            custom_id=abstract_custom_id(paper_id),
            row=row,
        ))
        self.paper_id = paper_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> "AbstractButton":
        return cls(match["paper_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        # The client is always ours (client.py), which asks the command layer; deferred
        # (privately) if the paper is not there in time (deadline.py).
        client = interaction.client
        found = await within_deadline(interaction, client.lookup_paper(self.paper_id),  # type: ignore[attr-defined]
                                      defer_after=getattr(client, "defer_after", DEFER_AFTER_SECONDS))
        if isinstance(found, Response):   # no longer stored, or the database is down
            answer = dict(content=render_response(found).content)
        else:
            answer = dict(embed=abstract_embed(found))
        if interaction.response.is_done():
            await interaction.edit_original_response(allowed_mentions=NO_MENTIONS, **answer)
        else:
            await interaction.response.send_message(ephemeral=True, allowed_mentions=NO_MENTIONS, **answer)


def abstract_view(paper_ids: Sequence[str]) -> discord.ui.View:
    """Abstract buttons for `paper_ids`, in rows of five (at most Discord's rows per message)."""
    per_row = LIMITS.buttons_per_row
    if len(paper_ids) > per_row * LIMITS.rows_per_message:
        raise ValueError(f"{len(paper_ids)} buttons do not fit one message")
    view = discord.ui.View(timeout=None)
    for index, paper_id in enumerate(paper_ids):
        view.add_item(AbstractButton(paper_id, row=index // per_row))
    return view


class VoteButton(discord.ui.DynamicItem[discord.ui.Button],
                 template=r"paperbot:(?P<direction>up|down):(?P<destination>\S+):(?P<paper_id>[^:\s]+)"):
    """👍 or 👎 on one paper of one thread; the label shows that way's count."""

    def __init__(self, direction: int, destination: str, paper_id: str, tally: Tally = Tally(), *,
                 row: int | None = None) -> None:
        custom_id = vote_custom_id(direction, destination, paper_id)
        if custom_id is None:
            raise ValueError(f"a vote button for {paper_id!r} in {destination!r} is over 100 characters")
        super().__init__(discord.ui.Button(label=button_label(direction, tally),
                                           style=discord.ButtonStyle.secondary,
                                           custom_id=custom_id, row=row))
        self.direction, self.destination, self.paper_id = direction, destination, paper_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> "VoteButton":
        return cls(UP if match["direction"] == "up" else DOWN, match["destination"], match["paper_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        # Acknowledge first (DEFERRED_UPDATE_MESSAGE: nothing changes for the clicker yet). If
        # Discord refuses (the interaction is already too old), the vote is NOT recorded: the
        # person was told it failed and will click again, which must not withdraw it.
        try:
            await interaction.response.defer()
        except discord.HTTPException as exc:
            log.warning("a vote click could not be acknowledged (%s); not counted", exc)
            return
        try:
            answer = await self._vote(interaction)
        except Exception:  # noqa: BLE001 - the clicker gets an apology, the log the traceback
            log.exception("a vote on %s in %s failed", self.paper_id, self.destination)
            answer = internal_error_response()
        if answer is not None:
            await _tell_privately(interaction, answer)

    async def _vote(self, interaction: discord.Interaction) -> Response | None:
        commands = interaction.client.commands  # type: ignore[attr-defined]
        thread_parent = getattr(interaction.channel, "parent_id", None)
        click = VoteClick("discord", str(interaction.user.id), self.destination, self.paper_id,
                          self.direction, str(interaction.guild_id) if interaction.guild_id else None,
                          str(thread_parent) if thread_parent else None)
        outcome = await commands.vote(click)
        if isinstance(outcome, Response):
            return outcome
        message = interaction.message
        if message is None:
            return _counted_not_shown(outcome, "Discord did not say which message it was")

        async def update() -> str | None:
            papers = voted_papers(message)
            if papers is None:
                return "that message has no vote buttons of mine"
            destination, paper_ids = papers
            tallies = await commands.vote_tallies(destination, paper_ids)
            if isinstance(tallies, Response):
                return "the counts could not be read just now"
            try:
                await interaction.edit_original_response(view=recounted_view(message, tallies))
            except discord.HTTPException as exc:
                log.warning("editing message %s after a vote failed: %s", message.id, exc)
                return f"Discord refused to update that message ({exc.status} {exc.text or exc.code})"
            return None

        problem = await commands.votes.refresh_message(("discord", message.channel.id, message.id), update)
        return _counted_not_shown(outcome, problem) if problem else None


def _counted_not_shown(outcome: VoteRecorded, why: str) -> Response:
    done = {UP: "Your 👍 is counted", DOWN: "Your 👎 is counted"}.get(outcome.vote, "Your vote is withdrawn")
    return Response(text=f"{done} (now 👍 {outcome.tally.up} · 👎 {outcome.tally.down}), but the "
                         f"buttons could not show it: {why}. They catch up with the next vote.",
                    outcome="unavailable")


async def _tell_privately(interaction: discord.Interaction, response: Response) -> None:
    try:
        await interaction.followup.send(render_response(response).content, ephemeral=True,
                                        allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not answer a vote click privately: %s", exc)


def voted_papers(message: discord.Message) -> tuple[str, list[str]] | None:
    """The thread and the papers of a message's vote buttons, or None when it has none."""
    destination, papers = None, []
    for row in message.components:
        for child in getattr(row, "children", ()):
            read = read_vote_custom_id(getattr(child, "custom_id", None) or "")
            if read is not None and read[0] == UP:
                destination = read[1]
                papers.append(read[2])
    return (destination, papers) if destination else None


def recounted_view(message: discord.Message, tallies: dict[str, Tally]) -> discord.ui.View:
    """The message's buttons, row by row as they are, with every vote label from `tallies`."""
    view = discord.ui.View(timeout=None)
    for row_number, row in enumerate(message.components):
        for child in getattr(row, "children", ()):
            custom_id = getattr(child, "custom_id", None) or ""
            vote = read_vote_custom_id(custom_id)
            paper_id = paper_id_of(custom_id)
            if vote is not None:
                direction, destination, voted = vote
                view.add_item(VoteButton(direction, destination, voted, tallies.get(voted, Tally()),
                                         row=row_number))
            elif paper_id is not None:
                view.add_item(AbstractButton(paper_id, row=row_number))
    return view


def paper_view(destination: str | None, paper_ids: Sequence[str]) -> discord.ui.View:
    """A daily-thread message's buttons: one row per paper, Abstract then 👍 and 👎 (counts
    start at zero), at most Discord's five rows. Without `destination` (or where a vote id would
    not fit), only the Abstract buttons."""
    if len(paper_ids) > LIMITS.rows_per_message:
        raise ValueError(f"{len(paper_ids)} papers do not fit one message, one row each")
    view = discord.ui.View(timeout=None)
    for row, paper_id in enumerate(paper_ids):
        view.add_item(AbstractButton(paper_id, row=row))
        if destination and all(vote_custom_id(d, destination, paper_id) for d in (UP, DOWN)):
            for direction in (UP, DOWN):
                view.add_item(VoteButton(direction, destination, paper_id, row=row))
    return view
