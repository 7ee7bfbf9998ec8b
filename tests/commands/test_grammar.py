"""The /papers grammar: what each text becomes, and what each bad text is told."""

from __future__ import annotations

import pytest

from bot.commands.grammar import (
    USAGE,
    ChangeSettings,
    CommandError,
    ForgetVotes,
    Help,
    ListSubscriptions,
    Personal,
    Resume,
    Search,
    Subscribe,
    TestQuery,
    Today,
    Unsubscribe,
    WeeklyChoice,
    Export,
    parse_command,
)

GOOD = [
    ("", Help()),
    ("   ", Help()),
    ("help", Help()),
    ("HELP settings", Help("settings")),
    ("help syntax", Help("query")),
    ("today", Today()),
    ("today   VLM, MLLM ", Today("VLM, MLLM")),
    ('subscribe "vision language model" -robot', Subscribe('"vision language model" -robot')),
    ("Subscribe\tti:transformer", Subscribe("ti:transformer")),
    ("unsubscribe 2", Unsubscribe(2)),
    ("unsubscribe #3", Unsubscribe(3)),
    ("unsubscribe ALL", Unsubscribe(None, everything=True)),
    ("list", ListSubscriptions()),
    ("test diffusion AND video", TestQuery("diffusion AND video")),
    ("search test-time scaling", Search("test-time scaling")),
    ("settings", ChangeSettings()),
    ("settings time 9:05", ChangeSettings(post_time="09:05")),
    ("settings time 23:59 tz europe/berlin", ChangeSettings(post_time="23:59", timezone="Europe/Berlin")),
    ("settings timezone America/New_York", ChangeSettings(timezone="America/New_York")),
    ("settings types replace, new", ChangeSettings(types=("new", "replace"))),
    ("settings types new ,cross,new", ChangeSettings(types=("new", "cross"))),
    ("settings types new , cross max 5", ChangeSettings(types=("new", "cross"), max_papers=5)),
    ("settings max 1", ChangeSettings(max_papers=1)),
    ("settings max 100 empty NOTE", ChangeSettings(max_papers=100, empty_day="note")),
    ("settings empty silent", ChangeSettings(empty_day="silent")),
    ("settings order Relevance", ChangeSettings(paper_order="relevance")),
    ("settings sort listing max 5", ChangeSettings(paper_order="listing", max_papers=5)),
    ("settings weekly off", ChangeSettings(weekly=WeeklyChoice(False))),
    ("settings weekly on", ChangeSettings(weekly=WeeklyChoice(True))),
    ("settings weekly on Fri 16:30", ChangeSettings(weekly=WeeklyChoice(True, 4, "16:30"))),
    ("settings weekly on monday 9:00 max 3", ChangeSettings(weekly=WeeklyChoice(True, 0, "09:00"), max_papers=3)),
    ("settings weekly on sun", ChangeSettings(weekly=WeeklyChoice(True, 6))),
    ("settings weekly on friday at 16:00", ChangeSettings(weekly=WeeklyChoice(True, 4, "16:00"))),
    ("settings weekly on fri at 9:00 time 08:00", ChangeSettings(post_time="08:00",
                                                                 weekly=WeeklyChoice(True, 4, "09:00"))),
    ("settings weekly on 08:15", ChangeSettings(weekly=WeeklyChoice(True, None, "08:15"))),
    ("settings weekly on tues order listing", ChangeSettings(paper_order="listing",
                                                             weekly=WeeklyChoice(True, 1))),
    ("export bibtex", Export("bibtex", "week")),
    ("export BibTeX month", Export("bibtex", "month")),
    ("resume", Resume()),
    ("RESUME ", Resume()),
    ("help resume", Help("resume")),
    ("me add diffusion, flow matching", Personal("add", "diffusion, flow matching")),
    ("me remove 2", Personal("remove", "2")),
    ("me remove all", Personal("remove", "all")),
    ("me list", Personal("list")),
    ("me deliver DM", Personal("deliver", "dm")),
    ("me edit", Personal("edit")),
    ("me forget", ForgetVotes(confirmed=False)),
    ("me forget CONFIRM", ForgetVotes(confirmed=True)),
]


@pytest.mark.parametrize("text, expected", GOOD, ids=[repr(t) for t, _ in GOOD])
def test_good_input_becomes_a_typed_command(text, expected):
    assert parse_command(text) == expected


BAD = [
    # (text, a fragment of the message, the usage line shown)
    ("subscibe VLM", 'Unknown command "subscibe". Did you mean "subscribe"?', "/papers help"),
    ("frobnicate", 'Unknown command "frobnicate". Commands: today, subscribe', "/papers help"),
    ("subscribe", "subscribe needs a query, e.g. /papers subscribe VLM", USAGE["subscribe"]),
    ("test   ", "test needs a query", USAGE["test"]),
    ("search", "search needs some words to look for", USAGE["search"]),
    ("unsubscribe", "unsubscribe needs a number from /papers list, or all", USAGE["unsubscribe"]),
    ("unsubscribe two", '"two" is not a number; use a number from /papers list, or all', USAGE["unsubscribe"]),
    ("unsubscribe 0", "numbers start at 1, as /papers list shows them", USAGE["unsubscribe"]),
    ("unsubscribe 1 2", 'unsubscribe takes one number (or all), got "1 2"', USAGE["unsubscribe"]),
    ("unsubscribe ²", '"²" is not a number', USAGE["unsubscribe"]),
    ("list all", '"list" takes nothing after it (got "all")', USAGE["list"]),
    ("resume now", '"resume" takes nothing after it (got "now")', USAGE["resume"]),
    ("settings time 24:00", '"24:00" is not a time of day; use HH:MM on a 24-hour clock', USAGE["settings"]),
    ("settings time 9", '"9" is not a time of day', USAGE["settings"]),
    ("settings time 09:60", '"09:60" is not a time of day', USAGE["settings"]),
    ("settings time ٠٩:٠٠", "is not a time of day", USAGE["settings"]),
    ("settings time", '"time" needs a value, e.g. time 09:00', USAGE["settings"]),
    ("settings tz Europe/Berln", 'Unknown time zone "Europe/Berln": use an Area/City name such as '
                                 'Europe/Berlin or America/New_York. Did you mean "Europe/Berlin"?',
     USAGE["settings"]),
    ("settings tz ../etc/passwd", 'Unknown time zone "../etc/passwd"', USAGE["settings"]),
    ("settings tz America", 'Unknown time zone "America"', USAGE["settings"]),
    ("settings types new,updates", 'Unknown announce type "updates": choose from new, cross, replace',
     USAGE["settings"]),
    ("settings types ,", "types needs at least one of new, cross, replace", USAGE["settings"]),
    ("settings max 0", "max 0 would post no papers at all", USAGE["settings"]),
    ("settings max 101", 'not "101"', USAGE["settings"]),
    ("settings max ten", 'not "ten"', USAGE["settings"]),
    ("settings empty loud", 'empty must be "note" (post a short note on days without matching papers) '
                            'or "silent", not "loud"', USAGE["settings"]),
    ("settings order random", 'order must be "relevance"', USAGE["settings"]),
    ("settings order", '"order" needs a value, e.g. order relevance', USAGE["settings"]),
    ("settings weekly", '"weekly" needs a value, e.g. weekly on fri 16:00', USAGE["settings"]),
    ("settings weekly maybe", 'weekly takes "on" (optionally with a day and a time, e.g. weekly on fri '
                              '16:00) or "off", not "maybe"', USAGE["settings"]),
    ("settings weekly on funday 16:00", '"funday" is not a day of the week: use mon, tue, wed, thu, fri, '
                                        'sat or sun (or the full name), e.g. weekly on fri 16:00',
     USAGE["settings"]),
    ("settings weekly on fri 25:00", '"25:00" is not a time of day for the weekly post: use HH:MM on a '
                                     '24-hour clock, e.g. weekly on fri 16:00', USAGE["settings"]),
    ("settings weekly on fri 4pm", '"4pm" is not a time of day for the weekly post', USAGE["settings"]),
    ("settings weekly on weekly off", '"weekly" is given twice', USAGE["settings"]),
    ("export", "export needs a format: /papers export bibtex [week|month]", USAGE["export"]),
    ("export ris", 'Unknown export format "ris": the format is bibtex', USAGE["export"]),
    ("export bibtex year", 'Unknown period "year": export the last week or month', USAGE["export"]),
    ("export bibtex week now", "export takes a format and a period", USAGE["export"]),
    ("settings color blue", 'Unknown setting "color": settings are time, tz, types, max, empty, order '
                            'and weekly',
     USAGE["settings"]),
    ("settings max 5 max 6", '"max" is given twice', USAGE["settings"]),
    ("me", "me needs an action: add, remove, list, deliver, edit or forget", USAGE["me"]),
    ("me edit now", "\"me edit\" takes nothing after it", USAGE["me"]),
    ("me add", "add needs keywords", USAGE["me"]),
    ("me remove", "me remove needs a number from /papers me list, or all", USAGE["me"]),
    ("me list x", '"me list" takes nothing after it', USAGE["me"]),
    ("me deliver email", "me deliver takes dm (direct message), here", USAGE["me"]),
    ("me forgot", 'Unknown "me" action "forgot": use add, remove, list, deliver, edit or forget', USAGE["me"]),
    ("me forget everything", '"me forget" takes only the word confirm after it (got "everything")', USAGE["me"]),
    ("help frobnicate", 'No help on "frobnicate". Topics: today, subscribe', USAGE["help"]),
]


@pytest.mark.parametrize("text, message, usage", BAD, ids=[repr(t) for t, _, _ in BAD])
def test_bad_input_says_what_is_wrong_and_shows_the_usage(text, message, usage):
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    error = caught.value
    assert message in error.message
    assert error.usage == usage
    assert str(error) == f"{error.message}\nUsage: {usage}"


def test_long_words_are_clipped_in_messages():
    with pytest.raises(CommandError) as caught:
        parse_command("x" * 5000)
    assert len(str(caught.value)) < 300


def test_settings_without_arguments_only_shows():
    assert parse_command("settings").shows_only
    changed = parse_command("settings max 5 tz UTC")
    assert not changed.shows_only
    assert changed.changes == {"timezone": "UTC", "max_papers": 5}


def test_query_text_is_kept_exactly_as_typed():
    # Quotes (also Slack's curly ones) and operators belong to the query parser, later.
    text = "subscribe \u201cworld model\u201d NOT  robot"
    assert parse_command(text) == Subscribe("\u201cworld model\u201d NOT  robot")
