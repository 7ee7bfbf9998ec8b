"""When arXiv's listing feeds carry a new announcement (reference/arxiv/availability.md).

arXiv announces Sunday to Thursday at 20:00 US Eastern; the feeds are rebuilt at midnight Eastern,
so the feed dated D carries the announcement made the evening before D and feed days are Monday
to Friday. The pubDate of a feed is that day D (the quant-ph feed of Mon 28 Apr 2025 holds Sunday
evening's announcement).

Holidays are *feed dates*: a holiday date H means "no feed dated H", i.e. the announcement that
would have been made the evening before H is deferred to the next announcement. That is the only
reading under which arXiv's list makes sense: it names Fridays (2026-06-19, 2026-07-03,
2026-12-25), and no announcement is ever made on a Friday evening, so those entries can only
mean the Friday mailing (Thursday evening's announcement) is skipped. The empty recorded feed of
Thanksgiving 2024-11-28 agrees. The dates are data (`arxiv.holidays` in the configuration),
because arXiv adds ad-hoc deferrals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCEMENT_HOUR = 20  # Eastern, the evening before the feed date


class AnnouncementCalendar:
    """Feed days (Monday to Friday, minus holidays) and their rebuild times, in US Eastern time."""

    def __init__(self, holidays: Iterable[date] = ()) -> None:
        self.holidays: frozenset[date] = frozenset(holidays)

    def is_feed_day(self, day: date) -> bool:
        """True when the feed dated `day` carries an announcement."""
        return day.weekday() < 5 and day not in self.holidays

    def next_feed_day(self, after: date) -> date:
        """The first feed day strictly after `after`."""
        day = after + timedelta(days=1)
        while not self.is_feed_day(day):
            day += timedelta(days=1)
        return day

    def previous_feed_day(self, before: date) -> date:
        """The last feed day strictly before `before`."""
        day = before - timedelta(days=1)
        while not self.is_feed_day(day):
            day -= timedelta(days=1)
        return day

    def rebuild_time(self, day: date) -> datetime:
        """When the feed dated `day` is rebuilt: midnight America/New_York at the start of `day`."""
        return datetime.combine(day, time(0, 0), tzinfo=EASTERN)

    def announcement_time(self, day: date) -> datetime:
        """When the announcement carried by the feed dated `day` is made: 20:00 Eastern the evening
        before (Sunday 20:00 for a Monday feed)."""
        return datetime.combine(day - timedelta(days=1), time(ANNOUNCEMENT_HOUR, 0), tzinfo=EASTERN)

    def latest_feed_day(self, now: datetime) -> date:
        """The newest feed day whose rebuild time has passed at `now` (an aware datetime)."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("latest_feed_day needs an aware datetime (with a time zone)")
        today = now.astimezone(EASTERN).date()
        # The rebuild of `today` is at today's midnight, which `now` is already past.
        return today if self.is_feed_day(today) else self.previous_feed_day(today)
