"""The `/papers` grammar (DESIGN.md §6): the text after `/papers` as a typed command.

Same on every platform. Anything that cannot be read raises `CommandError` whose text says what
was wrong and shows the command's usage line; nothing here touches the store or the matcher (a
query is kept as typed and parsed later, where the configured limits are known).
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from dataclasses import dataclass
from typing import ClassVar, Union

SETTABLE_TYPES: tuple[str, ...] = ("new", "cross", "replace")
EMPTY_DAY_CHOICES: tuple[str, ...] = ("note", "silent")
MAX_PAPERS_RANGE = (1, 100)
PAPER_ORDERS: tuple[str, ...] = ("relevance", "listing")
WEEKDAY_NAMES: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                  "sunday")
EXPORT_FORMATS: tuple[str, ...] = ("bibtex",)
EXPORT_PERIODS: tuple[str, ...] = ("week", "month")
DELIVERY_CHOICES: tuple[str, ...] = ("dm", "here", "off")

USAGE: dict[str, str] = {
    "today": "/papers today [query]",
    "subscribe": "/papers subscribe <query>",
    "unsubscribe": "/papers unsubscribe <n | all>",
    "list": "/papers list",
    "test": "/papers test <query>",
    "search": "/papers search <text>",
    "settings": "/papers settings [time HH:MM] [tz Area/City] [types new,cross,replace] [max N] "
                "[empty note|silent] [order relevance|listing] [weekly on [DAY HH:MM] | weekly off]",
    "export": "/papers export bibtex [week|month]",
    "resume": "/papers resume",
    "me": "/papers me add <query> | me remove <n | all> | me list | me deliver dm|here|off | me edit "
          "| me forget [confirm]",
    "help": "/papers help [topic]",
}
COMMAND_NAMES: tuple[str, ...] = tuple(USAGE)
HELP_TOPICS: tuple[str, ...] = (*COMMAND_NAMES, "query")
_HELP_TOPIC_ALIASES = {"queries": "query", "syntax": "query", "language": "query"}


class CommandError(ValueError):
    """Text that is not a valid `/papers` command; `str()` is a complete reply for the user."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        self.message = message
        self.usage = usage
        super().__init__(f"{message}\nUsage: {usage}" if usage else message)


# --- commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Today:
    name: ClassVar[str] = "today"
    query: str | None = None


@dataclass(frozen=True)
class Subscribe:
    name: ClassVar[str] = "subscribe"
    query: str


@dataclass(frozen=True)
class Unsubscribe:
    """`number` is the 1-based position shown by `/papers list`; None with `everything`."""

    name: ClassVar[str] = "unsubscribe"
    number: int | None = None
    everything: bool = False


@dataclass(frozen=True)
class ListSubscriptions:
    name: ClassVar[str] = "list"


@dataclass(frozen=True)
class TestQuery:
    name: ClassVar[str] = "test"
    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name
    query: str


@dataclass(frozen=True)
class Search:
    name: ClassVar[str] = "search"
    text: str


@dataclass(frozen=True)
class WeeklyChoice:
    """`weekly on [DAY HH:MM]` / `weekly off`: `day` 0..6 = Monday..Sunday and `time` HH:MM in
    the channel's time zone, None where not given (the configured default)."""

    on: bool
    day: int | None = None
    time: str | None = None


@dataclass(frozen=True)
class ChangeSettings:
    """Only the settings given are changed; none given means "show the current settings"."""

    name: ClassVar[str] = "settings"
    post_time: str | None = None        # HH:MM, zero-padded
    timezone: str | None = None         # canonical zoneinfo key
    types: tuple[str, ...] | None = None
    max_papers: int | None = None
    empty_day: str | None = None        # note | silent
    paper_order: str | None = None      # relevance | listing
    weekly: "WeeklyChoice | None" = None

    @property
    def changes(self) -> dict[str, object]:
        """The settings given, by name (`weekly` as a WeeklyChoice: the command layer fills in
        the configured day and time before storing it)."""
        values = {"post_time": self.post_time, "timezone": self.timezone, "types": self.types,
                  "max_papers": self.max_papers, "empty_day": self.empty_day,
                  "paper_order": self.paper_order, "weekly": self.weekly}
        return {key: value for key, value in values.items() if value is not None}

    @property
    def shows_only(self) -> bool:
        return not self.changes


@dataclass(frozen=True)
class Export:
    """`/papers export bibtex [week|month]`: the channel's 👍 papers of the period."""

    name: ClassVar[str] = "export"
    format: str = "bibtex"
    period: str = "week"


@dataclass(frozen=True)
class Resume:
    """Lift the pause delivery put on this channel after losing it (archived, bot removed)."""

    name: ClassVar[str] = "resume"


@dataclass(frozen=True)
class Personal:
    """`/papers me ...`: the typing person's own keywords."""

    name: ClassVar[str] = "me"
    action: str                 # add | remove | list | deliver | edit
    argument: str | None = None


@dataclass(frozen=True)
class ForgetVotes:
    """`/papers me forget [confirm]`: delete every 👍/👎 the typing person cast in this workspace
    (without `confirm`, only say how many there are and how to go ahead)."""

    name: ClassVar[str] = "me"
    confirmed: bool = False


@dataclass(frozen=True)
class Help:
    name: ClassVar[str] = "help"
    topic: str | None = None


Command = Union[Today, Subscribe, Unsubscribe, ListSubscriptions, TestQuery, Search,
                ChangeSettings, Resume, Personal, ForgetVotes, Help, Export]


# --- parsing ---------------------------------------------------------------------------------


def parse_command(text: str) -> Command:
    """Read the text after `/papers`. Empty text asks for help."""
    if not isinstance(text, str):
        raise CommandError(f"a command is text, not {type(text).__name__}")
    text = text.strip()
    if not text:
        return Help()
    parts = text.split(None, 1)
    head = parts[0].lower()
    rest = parts[1].strip() if len(parts) > 1 else ""
    parser = _PARSERS.get(head)
    if parser is None:
        raise _unknown_command(parts[0])
    return parser(rest)


def _unknown_command(word: str) -> CommandError:
    shown = word if len(word) <= 40 else word[:40] + "..."
    close = difflib.get_close_matches(word.lower(), COMMAND_NAMES, n=1, cutoff=0.6)
    hint = f' Did you mean "{close[0]}"?' if close else ""
    return CommandError(f'Unknown command "{shown}".{hint} Commands: {", ".join(COMMAND_NAMES)}.',
                        "/papers help")


def _needs(rest: str, command: str, what: str, example: str) -> str:
    if not rest:
        raise CommandError(f"{command} needs {what}, e.g. {example}", USAGE[command])
    return rest


def _no_arguments(rest: str, command: str) -> None:
    if rest:
        raise CommandError(f'"{command}" takes nothing after it (got "{_clip(rest)}")', USAGE[command])


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _parse_today(rest: str) -> Today:
    return Today(rest or None)


def _parse_subscribe(rest: str) -> Subscribe:
    return Subscribe(_needs(rest, "subscribe", "a query", '/papers subscribe VLM, "vision language model"'))


def _position_or_all(rest: str, command: str, usage: str,
                     list_command: str = "/papers list") -> tuple[int | None, bool]:
    words = rest.split()
    if not words:
        raise CommandError(f"{command} needs a number from {list_command}, or all", usage)
    if len(words) > 1:
        raise CommandError(f'{command} takes one number (or all), got "{_clip(rest)}"', usage)
    word = words[0].lower().lstrip("#")
    if word == "all":
        return None, True
    if not word.isascii() or not word.isdigit():
        raise CommandError(f'"{_clip(words[0])}" is not a number; use a number from {list_command}, '
                           "or all", usage)
    number = int(word)
    if number < 1:
        raise CommandError(f"numbers start at 1, as {list_command} shows them", usage)
    return number, False


def _parse_unsubscribe(rest: str) -> Unsubscribe:
    number, everything = _position_or_all(rest, "unsubscribe", USAGE["unsubscribe"])
    return Unsubscribe(number, everything)


def _parse_list(rest: str) -> ListSubscriptions:
    _no_arguments(rest, "list")
    return ListSubscriptions()


def _parse_test(rest: str) -> TestQuery:
    return TestQuery(_needs(rest, "test", "a query", "/papers test diffusion AND video"))


def _parse_search(rest: str) -> Search:
    return Search(_needs(rest, "search", "some words to look for", "/papers search test-time scaling"))


# -- settings --

_SETTING_KEYS = {
    "time": "time", "at": "time",
    "tz": "tz", "timezone": "tz", "zone": "tz",
    "types": "types", "type": "types",
    "max": "max",
    "empty": "empty",
    "order": "order", "sort": "order",
    "weekly": "weekly",
}
_SETTING_EXAMPLES = {"time": "time 09:00", "tz": "tz Europe/Berlin", "types": "types new,cross",
                     "max": "max 20", "empty": "empty note", "order": "order relevance",
                     "weekly": "weekly on fri 16:00"}
WEEKLY_EXAMPLE = "weekly on fri 16:00"
_HH_MM = re.compile(r"(\d{1,2}):(\d{2})\Z")


def check_post_time(value: str) -> str:
    """HH:MM on a 24-hour clock, returned zero-padded (`9:05` -> `09:05`)."""
    found = _HH_MM.match(value) if value.isascii() else None
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        raise CommandError(f'"{_clip(value)}" is not a time of day; use HH:MM on a 24-hour clock, '
                           "e.g. time 09:00", USAGE["settings"])
    return f"{int(found[1]):02d}:{found[2]}"


@functools.lru_cache(maxsize=1)
def _known_time_zones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def check_time_zone(value: str) -> str:
    """A zoneinfo key (`Europe/Berlin`), matched case-insensitively and returned canonical."""
    known = _known_time_zones()
    canonical = known.get(value.lower())
    if canonical is None:
        try:
            zoneinfo.ZoneInfo(value)
            canonical = value
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            close = difflib.get_close_matches(value.lower(), list(known), n=1, cutoff=0.75)
            hint = f' Did you mean "{known[close[0]]}"?' if close else ""
            raise CommandError(f'Unknown time zone "{_clip(value)}": use an Area/City name such as '
                               f"Europe/Berlin or America/New_York.{hint}", USAGE["settings"]) from None
    return canonical


def check_types(value: str) -> tuple[str, ...]:
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    if not names:
        raise CommandError(f"types needs at least one of {', '.join(SETTABLE_TYPES)}", USAGE["settings"])
    for name in names:
        if name not in SETTABLE_TYPES:
            raise CommandError(
                f'Unknown announce type "{_clip(name)}": choose from {", ".join(SETTABLE_TYPES)} '
                "(new papers, cross-lists from other categories, replace = new versions)",
                USAGE["settings"])
    return tuple(t for t in SETTABLE_TYPES if t in names)


def check_max_papers(value: str) -> int:
    low, high = MAX_PAPERS_RANGE
    if value.isascii() and value.isdigit() and int(value) == 0:
        raise CommandError(f"max 0 would post no papers at all: max is how many papers the daily "
                           f"thread shows ({low} to {high}; the rest are folded into one "
                           f'"more papers" message at the end). To stop daily posts, use '
                           "/papers unsubscribe all.", USAGE["settings"])
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise CommandError(f'max must be a whole number of papers from {low} to {high}, '
                           f'not "{_clip(value)}"', USAGE["settings"])
    return int(value)


def check_empty_day(value: str) -> str:
    choice = value.lower()
    if choice not in EMPTY_DAY_CHOICES:
        raise CommandError(f'empty must be "note" (post a short note on days without matching '
                           f'papers) or "silent", not "{_clip(value)}"', USAGE["settings"])
    return choice


def check_paper_order(value: str) -> str:
    choice = value.lower()
    if choice not in PAPER_ORDERS:
        raise CommandError(f'order must be "relevance" (the papers this channel\'s votes rank '
                           f'highest first, once it has enough votes) or "listing" (best keyword '
                           f'match first, as arXiv lists them), not "{_clip(value)}"', USAGE["settings"])
    return choice


_DAY_ALIASES = {name[:length]: index for index, name in enumerate(WEEKDAY_NAMES) for length in (2, 3)}
_DAY_ALIASES.update({name: index for index, name in enumerate(WEEKDAY_NAMES)})
_DAY_ALIASES.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})


def weekday_index(word: str) -> int | None:
    """`mon`, `Monday`, `fri`, `Fri.`, `sundays` -> 0..6; None if it is no day name."""
    word = word.lower().rstrip(".,")
    index = _DAY_ALIASES.get(word)
    if index is None and word.endswith("s"):
        index = _DAY_ALIASES.get(word[:-1])
    return index


def check_weekday(value: str) -> int:
    index = weekday_index(value)
    if index is None:
        raise CommandError(f'"{_clip(value)}" is not a day of the week: use mon, tue, wed, thu, fri, '
                           f"sat or sun (or the full name), e.g. {WEEKLY_EXAMPLE}", USAGE["settings"])
    return index


def _check_weekly_time(value: str) -> str:
    try:
        return check_post_time(value)
    except CommandError:
        raise CommandError(f'"{_clip(value)}" is not a time of day for the weekly post: use HH:MM on '
                           f"a 24-hour clock, e.g. {WEEKLY_EXAMPLE}", USAGE["settings"]) from None


def _read_weekly(words: list[str], position: int) -> tuple[WeeklyChoice, int]:
    """`weekly on [DAY] [HH:MM]` or `weekly off` from `words[position]` (the word after
    `weekly`); returns the choice and the position after it."""
    switch = words[position].lower()
    position += 1
    if switch in ("off", "no", "stop"):
        return WeeklyChoice(False), position
    if switch not in ("on", "yes"):
        raise CommandError(f'weekly takes "on" (optionally with a day and a time, e.g. '
                           f'{WEEKLY_EXAMPLE}) or "off", not "{_clip(words[position - 1])}"',
                           USAGE["settings"])
    day = time = None
    if position < len(words) and _SETTING_KEYS.get(words[position].lower()) is None:
        word = words[position]
        if ":" in word or word[:1].isdigit():
            time = _check_weekly_time(word)
        else:
            day = check_weekday(word)
        position += 1
        if (day is not None and position + 1 < len(words) and words[position].lower() == "at"
                and words[position + 1][:1].isdigit()):
            position += 1   # "weekly on fri at 16:00": this `at` belongs to the weekly time
        if day is not None and position < len(words) and _SETTING_KEYS.get(words[position].lower()) is None:
            time = _check_weekly_time(words[position])
            position += 1
    return WeeklyChoice(True, day, time), position


def _parse_settings(rest: str) -> ChangeSettings:
    words = rest.split()
    values: dict[str, str] = {}
    weekly: WeeklyChoice | None = None
    position = 0
    while position < len(words):
        word = words[position]
        key = _SETTING_KEYS.get(word.lower())
        if key is None:
            raise CommandError(f'Unknown setting "{_clip(word)}": settings are time, tz, types, max, '
                               "empty, order and weekly", USAGE["settings"])
        if key in values or (key == "weekly" and weekly is not None):
            raise CommandError(f'"{key}" is given twice', USAGE["settings"])
        if position + 1 >= len(words):
            raise CommandError(f'"{key}" needs a value, e.g. {_SETTING_EXAMPLES[key]}', USAGE["settings"])
        if key == "weekly":
            weekly, position = _read_weekly(words, position + 1)
            continue
        value = words[position + 1]
        position += 2
        # "types new, cross" is one value: a list continues while a comma joins its words.
        while key == "types" and position < len(words) and (
                value.endswith(",") or words[position].startswith(",")):
            value += words[position]
            position += 1
        values[key] = value
    return ChangeSettings(
        post_time=check_post_time(values["time"]) if "time" in values else None,
        timezone=check_time_zone(values["tz"]) if "tz" in values else None,
        types=check_types(values["types"]) if "types" in values else None,
        max_papers=check_max_papers(values["max"]) if "max" in values else None,
        empty_day=check_empty_day(values["empty"]) if "empty" in values else None,
        paper_order=check_paper_order(values["order"]) if "order" in values else None,
        weekly=weekly,
    )


def _parse_export(rest: str) -> Export:
    words = rest.lower().split()
    if not words:
        raise CommandError("export needs a format: /papers export bibtex [week|month] exports this "
                           "channel's 👍 papers of the last week or month as BibTeX", USAGE["export"])
    if words[0] not in EXPORT_FORMATS:
        raise CommandError(f'Unknown export format "{_clip(words[0])}": the format is bibtex, e.g. '
                           "/papers export bibtex month", USAGE["export"])
    if len(words) > 2:
        raise CommandError(f'export takes a format and a period, got "{_clip(rest)}"', USAGE["export"])
    period = words[1] if len(words) > 1 else "week"
    period = {"weekly": "week", "monthly": "month", "7d": "week", "30d": "month"}.get(period, period)
    if period not in EXPORT_PERIODS:
        raise CommandError(f'Unknown period "{_clip(words[1])}": export the last week or month, e.g. '
                           "/papers export bibtex month", USAGE["export"])
    return Export(words[0], period)


def _parse_resume(rest: str) -> Resume:
    _no_arguments(rest, "resume")
    return Resume()


# -- me, help --

_ME_ACTIONS = "add, remove, list, deliver, edit or forget"


def _parse_me(rest: str) -> Personal | ForgetVotes:
    parts = rest.split(None, 1)
    if not parts:
        raise CommandError(f"me needs an action: {_ME_ACTIONS}", USAGE["me"])
    action = parts[0].lower()
    argument = parts[1].strip() if len(parts) > 1 else ""
    if action == "add":
        return Personal("add", _needs_personal(argument, "add needs keywords, e.g. /papers me add diffusion"))
    if action == "remove":
        number, everything = _position_or_all(argument, "me remove", USAGE["me"], "/papers me list")
        return Personal("remove", "all" if everything else str(number))
    if action == "list":
        if argument:
            raise CommandError(f'"me list" takes nothing after it (got "{_clip(argument)}")', USAGE["me"])
        return Personal("list")
    if action == "edit":
        if argument:
            raise CommandError(f'"me edit" takes nothing after it (got "{_clip(argument)}")', USAGE["me"])
        return Personal("edit")
    if action == "deliver":
        choice = argument.lower()
        if choice not in DELIVERY_CHOICES:
            raise CommandError('me deliver takes dm (direct message), here (mentions in this '
                               'channel\'s daily thread) or off', USAGE["me"])
        return Personal("deliver", choice)
    if action == "forget":
        if argument and argument.lower() != "confirm":
            raise CommandError(f'"me forget" takes only the word confirm after it (got '
                               f'"{_clip(argument)}")', USAGE["me"])
        return ForgetVotes(confirmed=bool(argument))
    raise CommandError(f'Unknown "me" action "{_clip(parts[0])}": use {_ME_ACTIONS}', USAGE["me"])


def _needs_personal(argument: str, message: str) -> str:
    if not argument:
        raise CommandError(message, USAGE["me"])
    return argument


def _parse_help(rest: str) -> Help:
    if not rest:
        return Help()
    topic = rest.split()[0].lower()
    topic = _HELP_TOPIC_ALIASES.get(topic, topic)
    if topic not in HELP_TOPICS or len(rest.split()) > 1:
        raise CommandError(f'No help on "{_clip(rest)}". Topics: {", ".join(HELP_TOPICS)}.',
                           USAGE["help"])
    return Help(topic)


_PARSERS = {
    "today": _parse_today,
    "subscribe": _parse_subscribe,
    "unsubscribe": _parse_unsubscribe,
    "list": _parse_list,
    "test": _parse_test,
    "search": _parse_search,
    "settings": _parse_settings,
    "resume": _parse_resume,
    "export": _parse_export,
    "me": _parse_me,
    "help": _parse_help,
}
