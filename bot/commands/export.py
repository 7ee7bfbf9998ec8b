"""`/papers export bibtex [week|month]`: the channel's 👍 papers of the period as BibTeX.

A paper counts when it was voted on in this channel during the period (the last 7 or 30 days)
and has more 👍 than 👎 there now (all its votes counted, also older ones). The reply carries the
entries as an `Attachment`: a .bib file where the platform allows uploads, code blocks otherwise.
"""

from __future__ import annotations

from datetime import timedelta

from bot.commands.context import CommandContext, CommandServices
from bot.commands.grammar import Export
from bot.commands.responses import INVALID, Attachment, Lines, Response, error_response
from bot.digest.bibtex import bibtex, split_entries
from bot.digest.text import plural
from bot.store import ReadStore

PERIOD_DAYS = {"week": 7, "month": 30}
MAX_EXPORTED = 500   # a month of a very busy channel; a bigger file helps nobody in chat


class ExportCommands:
    def __init__(self, services: CommandServices) -> None:
        self.services = services

    async def export(self, ctx: CommandContext, command: Export) -> Response:
        key, days = ctx.destination_key, PERIOD_DAYS[command.period]

        def read(store: ReadStore):
            now = store.now()
            voted = store.votes.for_destination(key, since=now - timedelta(days=days))
            ids = list(dict.fromkeys(vote.paper_id for vote in voted))
            counts = store.votes.counts(key, ids)
            liked = [pid for pid in ids if counts.get(pid) and counts[pid].up > counts[pid].down]
            # Most 👍 first (net), then the most recently voted on.
            order = {pid: position for position, pid in enumerate(reversed(ids))}
            liked.sort(key=lambda pid: (-(counts[pid].up - counts[pid].down), order[pid]))
            liked = liked[:MAX_EXPORTED]
            return now, liked, store.papers.get_many(liked)

        now, liked, papers = await self.services.read("reading this channel's votes", read)
        period = f"the last {command.period}" if command.period == "week" else "the last 30 days"
        found = [papers[pid] for pid in liked if pid in papers]
        if not found:
            return error_response(
                f"No paper here has more 👍 than 👎 from votes in {period}, so there is nothing to "
                "export yet. Vote with the 👍 button on papers in the daily thread"
                + (", or try /papers export bibtex month." if command.period == "week" else "."),
                outcome=INVALID)
        filename = f"paperbot-{_safe(ctx.channel_name or ctx.channel)}-{command.period}-{now.date().isoformat()}.bib"
        text = (f"{plural(len(found), 'paper')} with more 👍 than 👎 in this channel, from votes in "
                f"{period}, as BibTeX ({filename}).")
        return Response(text=text, sections=(Lines((text,)),), ephemeral=False,
                        attachment=Attachment(filename, bibtex(found), title=f"👍 papers, {period}",
                                              pieces=split_entries))


def _safe(name: str) -> str:
    cleaned = "".join(char if char.isalnum() or char in "-_" else "-" for char in name.lstrip("#"))
    return cleaned.strip("-")[:40] or "channel"
