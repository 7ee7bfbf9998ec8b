"""The persistent "Abstract" button: one per paper, answered privately with the full abstract.

It is a `discord.ui.DynamicItem`: discord.py recognises its custom id (`paperbot:abs:<paper id>`)
on any message, so a click works after a restart without keeping a View per message in memory.
The paper comes from the command layer through the client's `lookup_paper` (see client.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import discord

from bot.commands.responses import Response
from bot.platforms.discord.deadline import DEFER_AFTER_SECONDS, within_deadline
from bot.platforms.discord.render import (
    ABSTRACT_BUTTON_PREFIX,
    LIMITS,
    abstract_button_label,
    abstract_custom_id,
    abstract_embed,
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
