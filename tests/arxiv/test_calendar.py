import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.arxiv.calendar import AnnouncementCalendar
from bot.config import DEFAULT_HOLIDAYS
from tests.conftest import shared_path

EASTERN = ZoneInfo("America/New_York")


def holidays_2026() -> list[date]:
    """The 2026 list exactly as arXiv publishes it in reference/arxiv/availability.md."""
    text = shared_path("reference", "arxiv", "availability.md").read_text(encoding="utf-8")
    section = text.split("### 2026 Holidays", 1)[1]
    return [date.fromisoformat(d) for d in re.findall(r"^- \w+ (\d{4}-\d{2}-\d{2})", section, re.M)]


# The 2026 holidays paperbot ships (bot/config.py); checked against arXiv's list below.
SHIPPED_2026 = [d for d in DEFAULT_HOLIDAYS if d.year == 2026]


@pytest.fixture
def calendar() -> AnnouncementCalendar:
    return AnnouncementCalendar(SHIPPED_2026)


def test_reference_lists_nine_weekday_holidays():
    days = holidays_2026()
    assert len(days) == 9
    assert all(d.weekday() < 5 for d in days)


def test_the_shipped_2026_holidays_are_arxivs():
    assert SHIPPED_2026 == holidays_2026()


def test_weekdays_are_feed_days_and_weekends_are_not():
    calendar = AnnouncementCalendar([])
    week = [date(2025, 4, 21) + timedelta(days=i) for i in range(7)]  # Mon .. Sun
    assert [calendar.is_feed_day(d) for d in week] == [True] * 5 + [False] * 2


def test_every_2026_holiday_has_no_feed(calendar):
    for holiday in holidays_2026():
        assert not calendar.is_feed_day(holiday), holiday


def test_2026_has_252_feed_days(calendar):
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    assert sum(calendar.is_feed_day(d) for d in days) == 261 - 9


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (date(2026, 1, 2), date(2026, 1, 5)),     # Friday -> Monday
        (date(2026, 1, 3), date(2026, 1, 5)),     # Saturday -> Monday
        (date(2025, 12, 31), date(2026, 1, 2)),   # New Year's Day has no feed
        (date(2026, 1, 16), date(2026, 1, 20)),   # MLK Monday skipped
        (date(2026, 6, 18), date(2026, 6, 22)),   # Juneteenth Friday skipped
        (date(2026, 7, 2), date(2026, 7, 6)),     # Independence Day (observed) Friday skipped
        (date(2026, 11, 25), date(2026, 11, 27)), # Thanksgiving Thursday skipped
        (date(2026, 12, 24), date(2026, 12, 28)), # Christmas Friday skipped
        (date(2026, 12, 28), date(2026, 12, 30)), # Tuesday 29th skipped
        (date(2026, 12, 30), date(2027, 1, 1)),   # 31st skipped; 2027 not listed
    ],
)
def test_next_feed_day_skips_weekends_and_holidays(calendar, after, expected):
    assert calendar.next_feed_day(after) == expected


def test_holidays_are_data():
    assert AnnouncementCalendar([]).next_feed_day(date(2026, 11, 25)) == date(2026, 11, 26)
    assert AnnouncementCalendar([date(2026, 11, 26)]).next_feed_day(date(2026, 11, 25)) == date(2026, 11, 27)


def test_rebuild_time_is_eastern_midnight_across_dst(calendar):
    winter = calendar.rebuild_time(date(2026, 3, 6))
    summer = calendar.rebuild_time(date(2026, 3, 9))  # DST began Sunday 8 March 2026
    assert winter.tzinfo is not None and winter.utcoffset() == timedelta(hours=-5)
    assert summer.utcoffset() == timedelta(hours=-4)
    assert (winter.hour, winter.minute) == (0, 0)
    assert summer.astimezone(timezone.utc) == datetime(2026, 3, 9, 4, 0, tzinfo=timezone.utc)
    assert calendar.rebuild_time(date(2026, 11, 2)).astimezone(timezone.utc).hour == 5


def test_announcement_time_is_the_evening_before(calendar):
    sunday_evening = calendar.announcement_time(date(2026, 4, 20))
    assert sunday_evening == datetime(2026, 4, 19, 20, 0, tzinfo=EASTERN)
    assert sunday_evening.weekday() == 6


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 4, 18, 12, 0, tzinfo=EASTERN), date(2026, 4, 17)),     # Saturday -> Friday
        (datetime(2026, 4, 19, 23, 59, tzinfo=EASTERN), date(2026, 4, 17)),    # Sunday night -> Friday
        (datetime(2026, 4, 20, 0, 0, tzinfo=EASTERN), date(2026, 4, 20)),      # Monday's rebuild
        (datetime(2026, 4, 20, 3, 59, tzinfo=timezone.utc), date(2026, 4, 17)),  # still Sunday in New York
        (datetime(2026, 4, 20, 4, 0, tzinfo=timezone.utc), date(2026, 4, 20)),
        (datetime(2026, 4, 22, 15, 0, tzinfo=EASTERN), date(2026, 4, 22)),
        (datetime(2026, 7, 3, 10, 0, tzinfo=EASTERN), date(2026, 7, 2)),       # holiday Friday
        (datetime(2026, 7, 6, 0, 1, tzinfo=EASTERN), date(2026, 7, 6)),
        (datetime(2026, 1, 1, 9, 0, tzinfo=ZoneInfo("Europe/Berlin")), date(2025, 12, 31)),
    ],
)
def test_latest_feed_day(calendar, now, expected):
    latest = calendar.latest_feed_day(now)
    assert latest == expected
    assert calendar.rebuild_time(latest) <= now


def test_latest_feed_day_refuses_naive_time(calendar):
    with pytest.raises(ValueError, match="aware"):
        calendar.latest_feed_day(datetime(2026, 4, 20, 12, 0))
