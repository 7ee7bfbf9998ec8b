"""The weekly best-of of a channel (`/papers settings weekly on`), platform-neutral.

One message a week: the papers of the week with the most net 👍 in this channel, then the
best-ranked papers the channel received that week that nobody voted on (ranked by the channel's
learned relevance when there is one, else by how well they matched). Renderers (Slack, Discord)
only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.digest.model import AnnounceCounts, Digest, DigestItem
from bot.models import Paper

WEEKLY_KEY_SUFFIX = "#weekly"


def weekly_key(destination_key: str) -> str:
    """The ledger key of a channel's weekly best-of (`slack:T1:C1#weekly`): its own delivery
    rows, one per week, apart from the channel's daily threads."""
    return destination_key + WEEKLY_KEY_SUFFIX


@dataclass(frozen=True, slots=True)
class VotedPaper:
    paper: Paper
    up: int
    down: int

    @property
    def net(self) -> int:
        return self.up - self.down


@dataclass(frozen=True, slots=True)
class WeeklyBestOf:
    """One channel's week. `first_day`..`last_day` is the week covered (local dates, inclusive);
    `voted` holds the most-voted papers (net 👍 > 0, best first); `unvoted` the best-ranked papers
    nobody voted on; `ranked_by_votes` says whether `unvoted` is in the learned order (else in
    the order the papers matched)."""

    destination: str               # the weekly ledger key (`weekly_key`)
    title: str                     # the channel's name
    first_day: date
    last_day: date
    voted: tuple[VotedPaper, ...] = ()
    unvoted: tuple[Paper, ...] = ()
    ranked_by_votes: bool = False
    received: int = 0              # papers the channel received that week

    @property
    def is_empty(self) -> bool:
        return not self.voted and not self.unvoted

    @property
    def papers(self) -> tuple[Paper, ...]:
        return tuple(v.paper for v in self.voted) + self.unvoted

    @property
    def span(self) -> str:
        """`2025-04-14 – 2025-04-20`."""
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"

    def as_digest(self) -> Digest:
        """The week as a Digest, for the delivery runner (its ledger row, its retries): the day
        is the week's last day, the items its papers."""
        papers = self.papers
        return Digest(destination=self.destination, title=self.title, day=self.last_day,
                      items=tuple(DigestItem(paper=paper) for paper in papers),
                      counts=AnnounceCounts.of(papers))
